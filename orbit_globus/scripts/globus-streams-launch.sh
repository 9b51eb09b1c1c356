#!/usr/bin/env bash
# globus-streams-launch.sh [-d] [-l FILE] [-p PORT] TUNNEL_ID COMMAND [ARGS...]
#
# Runs COMMAND with the Globus Streams intercept library preloaded and the environment it
# reads (SPEC 3.3). Pure shell on purpose: starting a program should not cost a Python
# start-up unless the library has to be located through the installed package.
set -u

PROG=globus-streams-launch.sh
LIB_NAME=libglobus_streams_client.so.0

die() {
    printf '%s: error: %s\n' "$PROG" "$1" >&2
    exit "${2:-1}"
}

usage() {
    cat <<EOF
usage: $PROG [-d] [-l FILE] [-p PORT] TUNNEL_ID COMMAND [ARGS...]

Run COMMAND so that its connections use the Globus Streams tunnel TUNNEL_ID.
  -d       debug output from the intercept library on stderr
  -l FILE  debug output to FILE instead
  -p PORT  listener side: the port COMMAND listens on (default: from the conf's
           listener_contact_string)
  -h       this help
EOF
}

debug=0
log_file=
port=
while getopts ':dl:p:h' opt; do
    case "$opt" in
        d) debug=1 ;;
        l) log_file=$OPTARG ;;
        p) port=$OPTARG ;;
        h) usage; exit 0 ;;
        :) die "option -$OPTARG needs a value (see -h)" 2 ;;
        *) die "unknown option -$OPTARG (see -h)" 2 ;;
    esac
done
shift $((OPTIND - 1))
[ $# -ge 1 ] || die "missing TUNNEL_ID and COMMAND (see -h)" 2
[ $# -ge 2 ] || die "missing COMMAND to run (see -h)" 2
tunnel_id=$(printf '%s' "$1" | tr 'A-F' 'a-f')
shift

uuid_re='^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$'
[[ $tunnel_id =~ $uuid_re ]] || die "bad tunnel id '$tunnel_id': expected a UUID" 2
if [ -n "$port" ]; then
    [[ $port =~ ^[0-9]+$ ]] && [ "$port" -ge 1 ] && [ "$port" -le 65535 ] \
        || die "bad port '$port': expected 1-65535" 2
fi

# --- the conf --------------------------------------------------------------------------
conf_dir=${GLOBUS_STREAMS_DIR:-${HOME:-}/.globus/streams}
case "$conf_dir" in /*) ;; *) conf_dir=$PWD/$conf_dir ;; esac
conf=$conf_dir/$tunnel_id.conf
if [ ! -e "$conf" ]; then
    die "tunnel $tunnel_id is not initialized here (no $conf); run 'globus-streams environment initialize $tunnel_id' on the initiator side or 'globus-streams environment initialize --listener-contact-string HOST:PORT $tunnel_id' on the listener side"
fi
[ -L "$conf" ] && die "refusing $conf: it is a symbolic link"
[ -O "$conf" ] || die "refusing $conf: owned by another user"
mode=$(stat -c '%a' "$conf" 2>/dev/null) || die "cannot read $conf"
if [ $((8#$mode & 8#077)) -ne 0 ]; then
    die "refusing $conf: mode $(printf '%04o' $((8#$mode))) lets group or others access it (it holds a LAN secret; run: chmod 600 $conf)"
fi
[ -r "$conf" ] || die "cannot read $conf"

conf_value() {  # the value of key $1: split at the first '=', last occurrence wins
    local line value=
    while IFS= read -r line || [ -n "$line" ]; do
        case "$line" in "$1="*) value=${line#*=} ;; esac
    done <"$conf"
    printf '%s' "$value"
}

role=$(conf_value role)
if [ -z "$port" ] && [ "$role" = listener ]; then
    listener_contact=$(conf_value listener_contact_string)
    [ -n "$listener_contact" ] \
        || die "$conf has no listener_contact_string; pass the listening port with -p PORT"
    port=${listener_contact##*:}
    [[ $port =~ ^[0-9]+$ ]] || die "bad listener_contact_string '$listener_contact' in $conf"
fi

# --- the library and the CLI -------------------------------------------------------------
script_dir=$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")" && pwd)
arch=$(uname -m)
case "$arch" in arm64) arch=aarch64 ;; amd64) arch=x86_64 ;; esac

find_cli() {
    if [ -x "$script_dir/globus-streams" ]; then
        printf '%s' "$script_dir/globus-streams"
    else
        command -v globus-streams
    fi
}
cli=${GLOBUS_STREAMS_CLI:-$(find_cli)}
[ -n "$cli" ] || die "globus-streams is not on PATH; reinstall the orbit-globus package"

find_library() {
    local candidate package_dir python
    # 1. run from the package itself: orbit_globus/scripts/ -> orbit_globus/_lib/<arch>/
    candidate=$script_dir/../_lib/$arch/$LIB_NAME
    [ -f "$candidate" ] && { printf '%s' "$candidate"; return 0; }
    # 2. installed on PATH: ask the Python that runs the CLI where the package is
    python=$(head -n 1 "$cli" 2>/dev/null | sed -n 's/^#! *\([^ ]*\).*/\1/p')
    [ -x "$python" ] || python=python3
    # From /, so that a folder named orbit_globus in the current directory cannot shadow the
    # installed package.
    package_dir=$(cd / && "$python" -c 'import os, orbit_globus; print(os.path.dirname(orbit_globus.__file__))' 2>/dev/null) \
        || return 1
    candidate=$package_dir/_lib/$arch/$LIB_NAME
    [ -f "$candidate" ] && { printf '%s' "$candidate"; return 0; }
    return 1
}
library=$(find_library) \
    || die "intercept library for $arch not found in the installed package; build it with: python libintercept/build.py host"
library=$(readlink -f "$library")

# --- warn about programs the library cannot see into ------------------------------------
program=$(command -v -- "$1" 2>/dev/null || true)
if [ -n "$program" ] && [ -f "$program" ] && [ "$(head -c 4 "$program" 2>/dev/null | tr -d '\0')" = $'\x7fELF' ]; then
    if command -v readelf >/dev/null 2>&1; then
        readelf -lW "$program" 2>/dev/null | grep -q 'INTERP' \
            || printf '%s: warning: %s is statically linked; its connections cannot be intercepted\n' "$PROG" "$program" >&2
    fi
fi

# --- the environment (SPEC 3.3) ----------------------------------------------------------
if [ -n "$port" ]; then
    export "GLOBUS_STREAMS_INTERCEPT_PORT_$port=$tunnel_id"
fi
case ",${GLOBUS_STREAMS_TUNNELS:-}," in
    *",$tunnel_id,"*) ;;
    ",,") GLOBUS_STREAMS_TUNNELS=$tunnel_id ;;
    *) GLOBUS_STREAMS_TUNNELS=$GLOBUS_STREAMS_TUNNELS,$tunnel_id ;;
esac
export GLOBUS_STREAMS_TUNNELS
export GLOBUS_STREAMS_DIR=$conf_dir
export GLOBUS_STREAMS_CLI=$cli
if [ "$debug" = 1 ] || [ -n "$log_file" ]; then
    export GLOBUS_STREAMS_DEBUG=1
fi
if [ -n "$log_file" ]; then
    case "$log_file" in /*) ;; *) log_file=$PWD/$log_file ;; esac
    export GLOBUS_STREAMS_LOG=$log_file
fi
export LD_PRELOAD=$library${LD_PRELOAD:+ $LD_PRELOAD}

exec "$@"
