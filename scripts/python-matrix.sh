#!/usr/bin/env bash
# The Python-level tests again on further CPythons (default 3.12 and 3.13), each in its own
# .venv-X.Y, from pyenv or the system; a version that is not installed is reported and
# skipped. The main interpreter runs the whole suite in .ci/run; these legs re-run what
# depends on the Python version (CLI, protocol, simulator, plugin).
#
#   scripts/python-matrix.sh install [VERSION...]   make or update each version's venv
#   scripts/python-matrix.sh test [VERSION...]      run each installed version's tests
#
# CI installs while the main suite runs, and tests the versions side by side: much of a
# leg's time is spent waiting on its subprocesses, which the other leg fills.
set -euo pipefail
cd "$(dirname "$0")/.."

find_python() {
  local version=$1 candidate
  for candidate in "$(pyenv root 2>/dev/null)"/versions/"$version".*/bin/python"$version" \
    "$(command -v "python$version" || true)"; do
    [ -x "$candidate" ] && { echo "$candidate"; return 0; }
  done
  return 1
}

install() {
  local v python
  for v in "$@"; do
    if ! python=$(find_python "$v"); then
      echo "python-matrix: Python $v not found, skipped"
      continue
    fi
    echo "python-matrix: installing Python $v ($python)"
    PYTHON=$python VENV=.venv-$v bash scripts/install.sh >/dev/null
  done
}

run_tests() {
  local logs v i leg status=0 versions=() pids=()
  logs=$(mktemp -d)
  for v in "$@"; do
    if ! [ -x ".venv-$v/bin/pytest" ]; then
      echo "python-matrix: no .venv-$v (Python $v not installed), skipped"
      continue
    fi
    # Tests of relay volume and of C programs (the 1,000-connection volume test, the
    # C client's GiB, the benchmark's C relay, the revision comparison script) exercise
    # the relay, not the interpreter: main leg only. The native relay loop's tests stay:
    # it reads CPython's own SSL object.
    ".venv-$v/bin/pytest" -n 2 -q -p no:cacheprovider \
      tests/lan tests/cli tests/streams tests/sim tests/transfer \
      --ignore=tests/sim/streams/test_volume.py \
      --ignore=tests/sim/streams/test_native_client.py \
      --ignore=tests/sim/streams/test_native_relay_reference.py \
      --ignore=tests/sim/streams/test_compare_revisions_smoke.py >"$logs/$v" 2>&1 &
    versions+=("$v")
    pids+=($!)
  done
  for i in "${!versions[@]}"; do
    leg=0
    wait "${pids[$i]}" || leg=$?
    echo "python-matrix: Python ${versions[$i]}, exit status $leg"
    cat "$logs/${versions[$i]}"
    [ "$leg" -eq 0 ] || status=1
  done
  rm -rf "$logs"
  return $status
}

command=${1:-}
shift || true
[ $# -gt 0 ] || set -- 3.12 3.13
case $command in
  install) install "$@" ;;
  test) run_tests "$@" ;;
  *)
    echo "usage: $0 install|test [VERSION...]" >&2
    exit 2
    ;;
esac
