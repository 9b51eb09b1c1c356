#!/usr/bin/env bash
# Run the Python-level tests again on each further CPython (default 3.12 and 3.13) that
# pyenv or the system provides; a version that is not installed is reported and skipped.
# The main interpreter runs the whole suite in .ci/run; these legs re-run what depends on
# the Python version (CLI, protocol, simulator, plugin), each in its own .venv-X.Y.
# The legs run side by side: much of a leg's time is spent waiting on its subprocesses
# and installs, which the other leg fills.
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

logs=$(mktemp -d)
trap 'rm -rf "$logs"' EXIT
versions=()
pids=()
for v in ${@:-3.12 3.13}; do
  if ! python=$(find_python "$v"); then
    echo "python-matrix: Python $v not found, skipped"
    continue
  fi
  echo "python-matrix: installing Python $v ($python)"
  PYTHON=$python VENV=.venv-$v bash scripts/install.sh >/dev/null
  # Its tests start at once, beside the next version's install.
  # The 1,000-connection volume test exercises the relay, not the interpreter: main leg only.
  ".venv-$v/bin/pytest" -n 2 -q -p no:cacheprovider \
    tests/lan tests/cli tests/streams tests/sim tests/transfer \
    --ignore=tests/sim/streams/test_volume.py >"$logs/$v" 2>&1 &
  versions+=("$v")
  pids+=($!)
done
status=0
for i in "${!versions[@]}"; do
  leg=0
  wait "${pids[$i]}" || leg=$?
  echo "python-matrix: Python ${versions[$i]}, exit status $leg"
  cat "$logs/${versions[$i]}"
  [ "$leg" -eq 0 ] || status=1
done
exit $status
