"""What the build produces: for x86_64 and aarch64, the right ELF machine, nothing newer
than GLIBC_2.17, no library beyond libc (+libdl/libpthread), only the intended exports.
And the aarch64 build really runs: under qemu-aarch64 a zig-built aarch64 client with the
aarch64 library preloaded completes the handshake with the native access-point stub."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.intercept.conftest import ROOT
from tests.intercept.targets import reply_for
from tests.intercept.tunnels import FAKE_PORT

MACHINES = {"x86_64": "Advanced Micro Devices X86-64", "aarch64": "AArch64"}
ALLOWED_NEEDED = {"libc.so.6", "libdl.so.2", "libpthread.so.0"}
HOOKS = {
    "accept",
    "accept4",
    "bind",
    "connect",
    "freeaddrinfo",
    "getaddrinfo",
    "gethostbyname",
    "gethostbyname2",
    "gethostbyname2_r",
    "gethostbyname_r",
}
QEMU = shutil.which("qemu-aarch64")
AARCH64_SYSROOT = Path("/usr/aarch64-linux-gnu")


def readelf(*args: str) -> str:
    return subprocess.run(
        ["readelf", "-W", *args], capture_output=True, text=True, check=True
    ).stdout


@pytest.fixture(scope="module")
def artifacts(build_module, tmp_path_factory) -> dict[str, Path]:  # type: ignore[no-untyped-def]
    out = tmp_path_factory.mktemp("lib")
    return {path.parent.name: path for path in build_module.build("all", out)}


@pytest.mark.parametrize("arch", sorted(MACHINES))
def test_elf_machine_and_soname(artifacts: dict[str, Path], arch: str) -> None:
    assert MACHINES[arch] in readelf("-h", str(artifacts[arch]))
    assert "Library soname: [libglobus_streams_client.so.0]" in readelf("-d", str(artifacts[arch]))


@pytest.mark.parametrize("arch", sorted(MACHINES))
def test_glibc_217_and_needed(artifacts: dict[str, Path], arch: str) -> None:
    path = str(artifacts[arch])
    versions = {
        tuple(int(p) for p in v.split("."))
        for v in re.findall(r"GLIBC_([0-9.]+)", readelf("-V", path))
    }
    assert versions and max(versions) <= (2, 17)
    needed = set(re.findall(r"\(NEEDED\)\s+Shared library: \[(.+?)\]", readelf("-d", path)))
    assert "libc.so.6" in needed and needed <= ALLOWED_NEEDED


def exported_symbols(library: Path) -> set[str]:
    exported = set()
    for line in readelf("--dyn-syms", str(library)).splitlines():
        fields = line.split()
        if len(fields) >= 8 and fields[4] in ("GLOBAL", "WEAK") and fields[6] != "UND":
            exported.add(fields[7].split("@")[0])
    return exported


@pytest.mark.parametrize("arch", sorted(MACHINES))
def test_installed_library_exports_only_the_hooks(artifacts: dict[str, Path], arch: str) -> None:
    assert exported_symbols(artifacts[arch]) == HOOKS
    nm = subprocess.run(
        ["nm", "-D", "--defined-only", str(artifacts[arch])],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert {line.split()[-1] for line in nm.splitlines() if " T " in line} == HOOKS


def test_test_library_carries_the_test_api_and_no_hook(build_module, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    exported = exported_symbols(build_module.build_test_library("host", tmp_path))
    assert "gsi_test_conf_meaning" in exported and "globus_streams_version" in exported
    assert not exported & HOOKS  # loading it never interposes anything


def test_cli_builds_into_out(build_module, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    assert build_module.main(["host", "--out", str(tmp_path)]) == 0
    assert (tmp_path / build_module.host_arch() / "libglobus_streams_client.so.0").is_file()


@pytest.mark.skipif(
    QEMU is None or not (AARCH64_SYSROOT / "lib").is_dir(),
    reason="qemu-aarch64 or the aarch64 glibc sysroot is not installed",
)
def test_aarch64_client_handshakes_under_qemu(  # type: ignore[no-untyped-def]
    artifacts, build_module, tunnels, hash_server, tmp_path
) -> None:
    client = build_module.build_program(
        "aarch64", [ROOT / "libintercept" / "tests" / "tiny_client.c"], tmp_path / "tiny_client"
    )
    tunnel = tunnels(hash_server.address)
    env = {k: v for k, v in tunnel.env.items() if k != "LD_PRELOAD"}  # qemu itself is x86_64
    data = b"from an aarch64 program " * 4096
    argv = [
        str(QEMU),
        "-L",
        str(AARCH64_SYSROOT),
        "-E",
        f"LD_PRELOAD={artifacts['aarch64']}",
        str(client),
        tunnel.name,
        str(FAKE_PORT),
    ]
    result = subprocess.run(
        argv, input=data, env=env, capture_output=True, timeout=120, check=False
    )
    assert result.returncode == 0, result.stderr.decode()
    assert result.stdout == reply_for(data)
    assert [o.status for o in tunnel.ap.outcomes] == [0]  # the GSLA handshake ran
    assert b"connected through the access point" in result.stderr


def test_setup_hook_style_build(tmp_path: Path) -> None:
    """setup.py runs build.py with runpy and calls build("host", <package>/_lib)."""
    import runpy

    built = runpy.run_path(str(ROOT / "libintercept" / "build.py"))["build"]("host", tmp_path)
    assert [p.name for p in built] == ["libglobus_streams_client.so.0"]
    assert built[0].parent.parent == tmp_path
