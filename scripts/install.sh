#!/usr/bin/env bash
# Install everything orbit-globus needs on a Debian/Ubuntu machine: the system programs the
# tests and the demo drive, a virtual environment in .venv with the package (editable) and
# its test tools, and the intercept library built by zig for this machine (and aarch64).
set -euo pipefail
cd "$(dirname "$0")/.."

SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"

# Debian package -> a file it provides; only missing ones are installed.
declare -A wanted=(
  [netcat-openbsd]=/bin/nc.openbsd
  [netcat-traditional]=/bin/nc.traditional
  [ncat]=/usr/bin/ncat
  [curl]=/usr/bin/curl
  [socat]=/usr/bin/socat
  [stunnel4]=/usr/bin/stunnel4
  [iperf3]=/usr/bin/iperf3
  [iproute2]=/usr/sbin/ip
  [telnet]=/usr/bin/telnet
  [binutils]=/usr/bin/readelf
  [qemu-user]=/usr/bin/qemu-aarch64
  [libc6-arm64-cross]=/usr/aarch64-linux-gnu/lib/libc.so.6
  [dpkg-dev]=/usr/bin/dpkg-architecture
  [valgrind]=/usr/bin/valgrind
  [clang]=/usr/bin/clang # the fuzz targets and the sanitizer build (libintercept/fuzz)
  [libssl-dev]=/usr/include/openssl/ssl.h # bench_tunnel.py's native TLS relay
)
missing=()
for pkg in "${!wanted[@]}"; do
  [ -e "${wanted[$pkg]}" ] || missing+=("$pkg")
done
# libFuzzer and the sanitizer runtimes of Debian's clang (a separate package since clang 14)
fuzzer_lib=libclang_rt.fuzzer-$(uname -m).a
if ! [ -x /usr/bin/clang ] || ! [ -f "$(clang -print-file-name="$fuzzer_lib")" ]; then
  missing+=(libclang-rt-dev)
fi
if [ ${#missing[@]} -gt 0 ]; then
  echo "installing system packages: ${missing[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
fi

# PYTHON picks the interpreter and VENV the environment's folder (CI makes one per version).
PYTHON=${PYTHON:-python3}
VENV=${VENV:-.venv}
[ -x "$VENV/bin/python" ] || "$PYTHON" -m venv "$VENV"
"$VENV/bin/python" -m pip install -q --upgrade pip
"$VENV/bin/python" -m pip install -q -e '.[test]'
if [ -f libintercept/build.py ]; then
  "$VENV/bin/python" libintercept/build.py all
  "$VENV/bin/python" sim/streams/native/build.py # the simulator's native TLS relay loop
fi
echo "orbit-globus installed in $(pwd)/$VENV"
