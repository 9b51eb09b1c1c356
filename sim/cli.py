"""`orbit-sim`: `serve` runs the simulator (SPEC 5.3); `demo` shows it working (5.6)."""

from __future__ import annotations

import signal
import sys
import threading
from collections.abc import Sequence
from typing import Any

import click

from orbit_sim.fault_cli import fault
from orbit_sim.faults import parse_fault_spec
from orbit_sim.stack import running_simulator


def _parse_faults(specs: Sequence[str]) -> list[Any]:
    faults = []
    for spec in specs:
        try:
            faults.append(parse_fault_spec(spec))
        except (ValueError, TypeError) as err:
            raise click.BadParameter(f"{spec!r}: {err}", param_hint="--fault") from None
    return faults


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="orbit-globus", prog_name="orbit-sim")
def cli() -> None:
    """orbit-sim: a stateful fake of Globus Auth, Transfer and GCS with stream access points."""


@cli.command()
@click.option(
    "--host",
    default="127.0.0.1",
    show_default=True,
    help="Address the services and the stream access points listen on. Keep the default "
    "when both sides of a tunnel run on this machine; give an address the other machines "
    "reach (e.g. a private LAN address) to run the initiator and the listener elsewhere.",
)
@click.option(
    "--port",
    default=0,
    type=click.IntRange(0, 65535),
    show_default=True,
    help="Port of the Auth, Transfer and control API server (0: any free port). The GCS "
    "managers and the access points take free ports of their own on the same address.",
)
@click.option(
    "--env-file",
    type=click.Path(dir_okay=False, writable=True),
    help="Write the client's environment here as shell export lines, mode 0600 (service "
    "URLs, CA, client id and secret, access point and collection ids); default: a file in "
    "the server's private state directory, named on stderr.",
)
@click.option(
    "--lan-auth",
    type=click.Choice(["required", "disabled"]),
    default="required",
    show_default=True,
    help="Whether the access points secure LAN connections (GSLA v1).",
)
@click.option(
    "--wan-tls/--no-wan-tls",
    default=True,
    show_default=True,
    help="Mutually authenticated TLS between the access points (the WAN leg); "
    "--no-wan-tls carries it in plain TCP, for speed tests.",
)
@click.option(
    "--clock",
    type=click.Choice(["real", "virtual"]),
    default="real",
    show_default=True,
    help="real: tunnels expire and tasks progress with wall time; virtual: time moves only "
    "when the control API advances it ($ORBIT_SIM_URL/clock/advance).",
)
@click.option(
    "--fault",
    "fault_specs",
    multiple=True,
    metavar="SPEC",
    help="A fault active from the start, kind:key=value,... (e.g. latency:leg=2,ms=50); "
    "repeatable.",
)
def serve(
    host: str,
    port: int,
    env_file: str | None,
    lan_auth: str,
    wan_tls: bool,
    clock: str,
    fault_specs: tuple[str, ...],
) -> None:
    """Serve Auth, Transfer, GCS, the control API and the stream access points until
    SIGINT/SIGTERM."""
    faults = _parse_faults(fault_specs)
    stop = threading.Event()
    previous = {
        signum: signal.signal(signum, lambda *_: stop.set())
        for signum in (signal.SIGINT, signal.SIGTERM)
    }
    try:
        _serve_until(stop, host, port, env_file, lan_auth, wan_tls, clock, faults)
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)


def _serve_until(
    stop: threading.Event,
    host: str,
    port: int,
    env_file: str | None,
    lan_auth: str,
    wan_tls: bool,
    clock: str,
    faults: list[Any],
) -> None:
    """Start the simulator and its servers, write the env file, wait for `stop`."""
    server = running_simulator(
        clock=clock,
        lan_auth=lan_auth == "required",
        wan_tls=wan_tls,
        faults=faults,
        host=host,
        port=port,
    )
    try:
        handle = server.__enter__()
    except OSError as err:
        raise click.ClickException(f"cannot listen on {host}:{port}: {err.strerror}") from None
    try:
        # The env holds the client secret: it goes to a 0600 file, never to the terminal.
        written = handle.write_env_file(env_file or handle.state_dir / "orbit-sim.env")
        click.echo(
            f"orbit-sim serving on {handle.base_url} ({clock} clock, stream gateway); "
            f"env file: {written}; SIGINT/SIGTERM stops it",
            err=True,
        )
        stop.wait()
    finally:
        server.__exit__(None, None, None)


cli.add_command(fault)


@cli.command()
@click.option(
    "--size-mib",
    default=256,
    show_default=True,
    type=click.IntRange(1, 65536),
    help="How much random data nc streams through the tunnel.",
)
def demo(size_mib: int) -> None:
    """Run real nc and curl through a simulated tunnel and verify every byte (SPEC 5.6)."""
    from orbit_sim.demo import DemoFailed, run_demo

    try:
        ok = run_demo(size_mib)
    except (DemoFailed, RuntimeError, OSError) as err:
        raise click.ClickException(str(err)) from None
    if not ok:
        raise click.ClickException("data did not arrive intact")


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point; returns the exit status (0 on success)."""
    try:
        result = cli.main(
            args=list(argv) if argv is not None else None,
            prog_name="orbit-sim",
            standalone_mode=False,
        )
    except click.exceptions.Exit as exit_:
        return exit_.exit_code
    except click.ClickException as err:
        err.show()
        return err.exit_code
    except click.Abort:
        click.echo("Aborted.", err=True)
        return 1
    return result if isinstance(result, int) else 0


if __name__ == "__main__":
    sys.exit(main())
