#!/usr/bin/env bash
# globus-streams-launch.sh [-d] [-l FILE] [-p PORT] TUNNEL_ID COMMAND [ARGS...]
#
# Runs COMMAND with the Globus Streams intercept library preloaded and the environment it
# reads (SPEC 3.3). The conf is never read here: the package's own helper
# (python -m orbit_globus.streams.conf_query, see its docstring for the contract) decides
# role, port and expiry with the same reader as the CLI and launch().
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
The tunnel must be initialized on this machine first:
  initiator side: globus-streams environment initialize TUNNEL_ID
  listener side:  globus-streams environment initialize --listener-contact-string HOST:PORT TUNNEL_ID

  -d             debug output from the intercept library on stderr
  -l FILE        debug output to FILE instead
  -p PORT        listener side: the port COMMAND listens on (default: from the conf's
                 listener_contact_string)
  -h, --help     this help
  -V, --version  the version of the orbit-globus package this launcher belongs to

The conf directory is \$GLOBUS_STREAMS_DIR, else ~/.globus/streams. The listener side
needs no globus-streams command at run time; the initiator side runs it to refresh the
access point's contact (\$GLOBUS_STREAMS_CLI, else the one installed with this launcher or
on PATH). To see why a tunnel connection fails: globus-streams doctor TUNNEL_ID -- COMMAND
EOF
}

# --- the package's own Python --------------------------------------------------------------
script_dir=$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")" && pwd)

# Where orbit_globus can be imported from without an installed CLI: the copy shipped beside
# this launcher (.deb, tarball), or the package this launcher sits in (orbit_globus/scripts/).
if [ -f "$script_dir/../python/orbit_globus/streams/conf_query.py" ]; then
    package_root=$(cd "$script_dir/../python" && pwd)
elif [ -f "$script_dir/../streams/conf_query.py" ]; then
    package_root=$(cd "$script_dir/../.." && pwd)
else
    package_root=
fi

cli_candidates() {  # the globus-streams the launcher would use, best first
    [ -n "${GLOBUS_STREAMS_CLI:-}" ] && printf '%s\n' "$GLOBUS_STREAMS_CLI"
    [ -x "$script_dir/globus-streams" ] && printf '%s\n' "$script_dir/globus-streams"
    command -v globus-streams 2>/dev/null
}

find_python() {  # the interpreter of the installed CLI (its #! line), else python3
    local cli first interpreter
    while IFS= read -r cli; do
        [ -f "$cli" ] && IFS= read -r first <"$cli" 2>/dev/null || continue
        case "$first" in '#!'*) ;; *) continue ;; esac
        first=${first#??}
        first=${first#"${first%%[! ]*}"}  # leading spaces
        interpreter=${first%% *}
        case "$interpreter" in */python*) [ -x "$interpreter" ] && { printf '%s' "$interpreter"; return 0; } ;; esac
    done < <(cli_candidates)
    [ -x "$script_dir/python3" ] && { printf '%s' "$script_dir/python3"; return 0; }
    command -v python3
}

# Runs the helper: sys.path[0] (the current directory for -c) becomes the package root or
# goes, so that a folder named orbit_globus where the user stands cannot shadow the package.
BOOTSTRAP='import sys
prog, root = sys.argv[1:3]
if sys.version_info < (3, 11):
    sys.exit(f"{prog}: error: {sys.executable} is Python {sys.version.split()[0]}; the launcher needs Python 3.11 or later (install python3 or the orbit-globus package)")
sys.path[:1] = [root] if root else []
try:
    from orbit_globus.streams.conf_query import main
except ImportError as err:
    sys.exit(f"{prog}: error: {sys.executable} cannot import the orbit-globus package ({err}); install it with pip")
sys.exit(main(["--prog", prog, *sys.argv[3:]]))'

conf_query() {
    local python
    python=$(find_python) || die "no python3 found; the launcher needs Python 3.11 or later to read the conf"
    # -E: the application's PYTHONPATH/PYTHONHOME are not the package's. -S when the package
    # root is known: no site-packages needed, a faster start.
    "$python" -E ${package_root:+-S} -c "$BOOTSTRAP" "$PROG" "$package_root" "$@"
}

# --- options -----------------------------------------------------------------------------
debug=0
log_file=
port=
while getopts ':dl:p:hV-:' opt; do
    if [ "$opt" = - ]; then  # a long option: --NAME
        case "$OPTARG" in
            help) opt=h ;;
            version) opt=V ;;
            *) die "unknown option --$OPTARG (see --help)" 2 ;;
        esac
    fi
    case "$opt" in
        d) debug=1 ;;
        l) log_file=$OPTARG ;;
        p) port=$OPTARG ;;
        h) usage; exit 0 ;;
        V)
            version=$(conf_query --version) || exit $?
            printf '%s (orbit-globus) %s\n' "$PROG" "${version#version=}"
            exit 0
            ;;
        :) die "option -$OPTARG needs a value (see --help)" 2 ;;
        *) die "unknown option -$OPTARG (see --help)" 2 ;;
    esac
done
shift $((OPTIND - 1))
[ $# -ge 1 ] || die "missing TUNNEL_ID and COMMAND (see --help)" 2
[ $# -ge 2 ] || die "missing COMMAND to run (see --help)" 2
tunnel_arg=$1
shift

# --- what the conf says (one reader: the package's) ---------------------------------------
arch=$(uname -m)
case "$arch" in arm64) arch=aarch64 ;; amd64) arch=x86_64 ;; esac
library=$script_dir/../_lib/$arch/$LIB_NAME  # the package layout, the .deb's and the tarball's
find_library=
[ -f "$library" ] || find_library=--library  # installed elsewhere: the package knows where
plan=$(conf_query ${port:+--port "$port"} --command "$1" $find_library "$tunnel_arg") || exit $?
tunnel_id= conf_dir= role= package_library= package_cli=
while IFS= read -r line; do
    value=${line#*=}
    case "$line" in
        tunnel_id=*) tunnel_id=$value ;;
        conf_dir=*) conf_dir=$value ;;
        role=*) role=$value ;;
        port=*) port=$value ;;
        library=*) package_library=$value ;;
        cli=*) package_cli=$value ;;
    esac
done <<<"$plan"
[ -n "$tunnel_id" ] && [ -n "$conf_dir" ] && [ -n "$role" ] \
    || die "the orbit-globus package gave no launch plan; reinstall it"

# --- the library and the CLI -------------------------------------------------------------
[ -f "$library" ] || library=$package_library
[ -n "$library" ] && [ -f "$library" ] \
    || die "intercept library for $arch not found in the installed package; build it with: python libintercept/build.py host"
library=$(readlink -f "$library")

cli=${GLOBUS_STREAMS_CLI:-}
[ -n "$cli" ] || cli=$(cli_candidates | head -n 1)
[ -n "$cli" ] || cli=$package_cli
if [ -z "$cli" ] && [ "$role" != listener ]; then
    die "globus-streams is not on PATH; the initiator side runs it to refresh the access point's contact: install orbit-globus (pip) or set GLOBUS_STREAMS_CLI"
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
if [ -n "$cli" ]; then  # the listener side never runs it
    export GLOBUS_STREAMS_CLI=$cli
fi
if [ "$debug" = 1 ] || [ -n "$log_file" ]; then
    export GLOBUS_STREAMS_DEBUG=1
fi
if [ -n "$log_file" ]; then
    case "$log_file" in /*) ;; *) log_file=$PWD/$log_file ;; esac
    export GLOBUS_STREAMS_LOG=$log_file
fi
export LD_PRELOAD=$library${LD_PRELOAD:+ $LD_PRELOAD}

exec "$@"
