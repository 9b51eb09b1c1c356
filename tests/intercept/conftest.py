"""Fixtures for the intercept library: one build per session, conf files, the library."""

from __future__ import annotations

import importlib.util
import sys
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from orbit_globus.native import InterceptLibrary, library_path
from tests.intercept.confs import ConfDir
from tests.intercept.targets import HashServer
from tests.intercept.tunnels import Tunnel, open_tunnel

ROOT = Path(__file__).resolve().parents[2]


def load_build_module():  # type: ignore[no-untyped-def]
    """libintercept/build.py is a script, not a package: load it by path."""
    spec = importlib.util.spec_from_file_location(
        "libintercept_build", ROOT / "libintercept" / "build.py"
    )
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("libintercept_build", module)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="session")
def build_module():  # type: ignore[no-untyped-def]
    return load_build_module()


@pytest.fixture(scope="session")
def built_library(build_module) -> Path:  # type: ignore[no-untyped-def]
    """The host library, built once (kept when up to date; concurrent builds rename atomically)."""
    build_module.build("host")
    return library_path()


@pytest.fixture(scope="session")
def native(build_module) -> InterceptLibrary:  # type: ignore[no-untyped-def]
    """The test library (core + gsi_test_* entry points), built once."""
    return InterceptLibrary(build_module.build_test_library("host"))


@pytest.fixture
def confs(tmp_path: Path) -> Iterator[ConfDir]:
    yield ConfDir.create(tmp_path / "streams")


@pytest.fixture
def tunnel_id() -> str:
    return str(uuid.uuid4())


@pytest.fixture
def hash_server() -> Iterator[HashServer]:
    server = HashServer()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def tunnels(built_library: Path, confs: ConfDir) -> Iterator[Callable[..., Tunnel]]:
    """Factory: open_tunnel(...) with cleanup of every access point it started."""
    opened: list[Tunnel] = []

    def make(target: tuple[str, int], **kwargs: object) -> Tunnel:
        tunnel = open_tunnel(built_library, confs, target, **kwargs)  # type: ignore[arg-type]
        opened.append(tunnel)
        return tunnel

    try:
        yield make
    finally:
        for tunnel in opened:
            tunnel.ap.stop()
