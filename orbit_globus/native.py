"""The intercept library, libglobus_streams_client.so.0, and its test build.

``library_path()`` finds the library built for this machine inside the package (the
launcher preloads that file); it exports only the libc calls it intercepts.

``InterceptLibrary`` loads the *test library* (``libglobus_streams_test.so``: the same C
core plus the ``gsi_test_*`` entry points, built from the source tree by
``libintercept/build.py --test-library`` and never installed) for tests and tools:
version, SHA-256/HMAC, the C GSLA machines (sans-IO, or run over a socket), conf parsing
and meanings, contact parsing, lookup and refresh. Loading it with ctypes never
intercepts anything in this process: only LD_PRELOAD does.
"""

from __future__ import annotations

import ctypes
import enum
import os
import platform
import runpy
import socket
import uuid
from pathlib import Path

from orbit_globus.lan import Role, Status

LIBRARY_NAME = "libglobus_streams_client.so.0"
LIB_DIR = Path(__file__).resolve().parent / "_lib"
BUILD_HINT = "python libintercept/build.py host (or pip install .)"
# The test library exists only next to the sources (a checkout or an editable install).
BUILD_SCRIPT = Path(__file__).resolve().parent.parent / "libintercept" / "build.py"
_ARCH_ALIASES = {"amd64": "x86_64", "arm64": "aarch64"}
_MAX_MESSAGE = 72


def machine_arch() -> str:
    machine = platform.machine().lower()
    return _ARCH_ALIASES.get(machine, machine)


def library_path(arch: str | None = None) -> Path:
    """The built library for ``arch`` (default: this machine)."""
    arch = arch or machine_arch()
    path = LIB_DIR / arch / LIBRARY_NAME
    if not path.is_file():
        raise FileNotFoundError(
            f"no intercept library for {arch} at {path}; build it: {BUILD_HINT}"
        )
    return path


def library_for_tests() -> Path:
    """The test library for this machine, built (or found up to date) from the sources."""
    if not BUILD_SCRIPT.is_file():
        raise FileNotFoundError(
            f"the test library is built from the source tree ({BUILD_SCRIPT} is missing)"
        )
    build = runpy.run_path(str(BUILD_SCRIPT))
    try:
        return Path(build["build_test_library"]("host"))
    except build["BuildError"] as exc:
        raise OSError(f"cannot build the test library: {exc}") from None


class MachineState(enum.IntEnum):
    """Mirror of ``enum gsla_state`` in libintercept/src/core/gsla.h."""

    SEND_HELLO = 0
    AWAIT_HELLO = 1
    AWAIT_CHALLENGE = 2
    AWAIT_RESPONSE = 3
    AWAIT_RESULT = 4
    ESTABLISHED = 5
    REFUSED = 6


class Refusal(enum.IntEnum):
    """Mirror of ``enum gsla_refusal``: who ended a refused handshake."""

    NOT_REFUSED = 0
    REFUSED_BY_PEER = 1
    PEER_MISBEHAVED = 2
    REFUSED_PEER = 3


def _id_text(value: uuid.UUID | str | None) -> bytes:
    return b"" if value is None else str(uuid.UUID(str(value))).encode()


def _nonce(value: bytes | None) -> bytes | None:
    if value is not None and len(value) != 32:
        raise ValueError("a nonce is 32 bytes")
    return value


class NativeHandshake:
    """One C GSLA machine (client or server). The secret stays inside the library."""

    def __init__(self, lib: ctypes.CDLL, handle: int, role: str) -> None:
        self._lib = lib
        self._handle = ctypes.c_void_p(handle)
        self.role = role

    def __repr__(self) -> str:
        return f"NativeHandshake({self.role}, state={self.state.name})"

    def __enter__(self) -> NativeHandshake:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        if self._handle:
            self._lib.gsi_test_free(self._handle)
            self._handle = ctypes.c_void_p()

    def start(self) -> bytes:
        out = ctypes.create_string_buffer(_MAX_MESSAGE)
        size = self._lib.gsi_test_start(self._handle, out)
        return out.raw[:size]

    @property
    def bytes_needed(self) -> int:
        return int(self._lib.gsi_test_needed(self._handle))

    @property
    def state(self) -> MachineState:
        return MachineState(self._lib.gsi_test_state(self._handle))

    @property
    def status(self) -> Status:
        return Status(self._lib.gsi_test_status(self._handle))

    @property
    def refusal(self) -> Refusal:
        return Refusal(self._lib.gsi_test_refusal(self._handle))

    def receive(self, data: bytes) -> bytes:
        out = ctypes.create_string_buffer(_MAX_MESSAGE)
        out_len = ctypes.c_size_t(0)
        self._lib.gsi_test_receive(self._handle, data, len(data), out, ctypes.byref(out_len))
        return out.raw[: out_len.value]

    def run(self, sock: socket.socket | int, timeout: float) -> int:
        """Run to the end over a socket; 0 or an errno value (ECONNREFUSED, ETIMEDOUT...)."""
        fd = sock if isinstance(sock, int) else sock.fileno()
        return int(self._lib.gsi_test_run_fd(self._handle, fd, int(timeout * 1000)))


class InterceptLibrary:
    """The test library loaded with ctypes (no interception happens in this process)."""

    def __init__(self, path: str | os.PathLike[str] | None = None) -> None:
        self.path = Path(path) if path is not None else library_for_tests()
        self._lib = ctypes.CDLL(str(self.path))
        self._declare()

    def _declare(self) -> None:
        lib, c = self._lib, ctypes
        vp, sz, cp, i = c.c_void_p, c.c_size_t, c.c_char_p, c.c_int
        signatures = {
            "globus_streams_version": (cp, []),
            "gsi_test_sha256": (None, [cp, sz, cp]),
            "gsi_test_hmac_sha256": (None, [cp, sz, cp, sz, cp]),
            "gsi_test_ct_equal": (i, [cp, cp, sz]),
            "gsi_test_client_new": (vp, [cp, cp, cp, i, cp]),
            "gsi_test_server_new": (vp, [cp, cp, cp, cp]),
            "gsi_test_start": (sz, [vp, cp]),
            "gsi_test_needed": (sz, [vp]),
            "gsi_test_receive": (i, [vp, cp, sz, cp, c.POINTER(sz)]),
            "gsi_test_status": (i, [vp]),
            "gsi_test_refusal": (i, [vp]),
            "gsi_test_state": (i, [vp]),
            "gsi_test_free": (None, [vp]),
            "gsi_test_run_fd": (i, [vp, i, i]),
            "gsi_test_conf_get": (i, [cp, cp, cp, sz]),
            "gsi_test_contact": (i, [cp, cp, sz]),
            "gsi_test_contact_lookup": (i, [cp, cp, sz, i]),
            "gsi_test_contact_parse": (i, [cp, cp, sz]),
            "gsi_test_contact_refresh": (i, [cp, cp, cp, sz]),
            "gsi_test_conf_meaning": (i, [cp, c.c_longlong, cp, sz]),
            "gsi_test_conf_cache_region": (None, [c.POINTER(vp), c.POINTER(sz)]),
        }
        for name, (restype, argtypes) in signatures.items():
            function = getattr(lib, name)
            function.restype = restype
            function.argtypes = argtypes

    def version(self) -> str:
        return self._lib.globus_streams_version().decode()

    def sha256(self, data: bytes) -> bytes:
        out = ctypes.create_string_buffer(32)
        self._lib.gsi_test_sha256(data, len(data), out)
        return out.raw

    def hmac_sha256(self, key: bytes, data: bytes) -> bytes:
        out = ctypes.create_string_buffer(32)
        self._lib.gsi_test_hmac_sha256(key, len(key), data, len(data), out)
        return out.raw

    def ct_equal(self, a: bytes, b: bytes) -> bool:
        if len(a) != len(b):
            return False
        return bool(self._lib.gsi_test_ct_equal(a, b, len(a)))

    def client(
        self,
        *,
        tunnel_id: uuid.UUID | str,
        secret: str,
        secret_id: uuid.UUID | str | None = None,
        role: Role = Role.APPLICATION,
        nonce: bytes | None = None,
    ) -> NativeHandshake:
        handle = self._lib.gsi_test_client_new(
            _id_text(tunnel_id), _id_text(secret_id), secret.encode(), int(role), _nonce(nonce)
        )
        if not handle:
            raise ValueError("the library refused the handshake parameters")
        return NativeHandshake(self._lib, handle, "client")

    def server(
        self,
        *,
        tunnel_id: uuid.UUID | str,
        secret: str,
        secret_id: uuid.UUID | str | None = None,
        nonce: bytes | None = None,
    ) -> NativeHandshake:
        """A server that knows one tunnel and its current secret (like ``lookup_for``)."""
        handle = self._lib.gsi_test_server_new(
            _id_text(tunnel_id), _id_text(secret_id), secret.encode(), _nonce(nonce)
        )
        if not handle:
            raise ValueError("the library refused the handshake parameters")
        return NativeHandshake(self._lib, handle, "server")

    def conf_get(self, path: str | os.PathLike[str], key: str) -> str:
        """The value of ``key`` as the C conf reader sees it; OSError when it refuses."""
        out = ctypes.create_string_buffer(4096)
        code = self._lib.gsi_test_conf_get(os.fsencode(path), key.encode(), out, len(out))
        if code:
            raise OSError(code, f"{os.strerror(code)}: {key} in {path}")
        return out.value.decode()

    def contact(self, tunnel_id: uuid.UUID | str) -> str:
        """The access point address connect() would use now (may run the CLI)."""
        out = ctypes.create_string_buffer(128)
        code = self._lib.gsi_test_contact(_id_text(tunnel_id), out, len(out))
        if code:
            raise OSError(code, f"{os.strerror(code)}: contact of tunnel {tunnel_id}")
        return out.value.decode()

    def contact_lookup(self, tunnel_id: uuid.UUID | str, timeout: float = 15.0) -> str:
        """Run ``$GLOBUS_STREAMS_CLI environment contact-lookup`` the way the library does."""
        out = ctypes.create_string_buffer(512)
        code = self._lib.gsi_test_contact_lookup(
            _id_text(tunnel_id), out, len(out), int(timeout * 1000)
        )
        if code:
            raise OSError(code, f"{os.strerror(code)}: contact-lookup {tunnel_id}")
        return out.value.decode()

    def contact_parse(self, text: str) -> str:
        """The C contact parser: the address formatted back; ValueError when refused."""
        out = ctypes.create_string_buffer(128)
        if self._lib.gsi_test_contact_parse(text.encode(), out, len(out)):
            raise ValueError(f"the C parser refuses {text!r}")
        return out.value.decode()

    def contact_refresh(self, tunnel_id: uuid.UUID | str, refused: str) -> str:
        """What connect() retries with after ``refused`` refused it (may run the CLI)."""
        out = ctypes.create_string_buffer(128)
        code = self._lib.gsi_test_contact_refresh(
            _id_text(tunnel_id), refused.encode(), out, len(out)
        )
        if code:
            raise OSError(code, f"{os.strerror(code)}: refresh of tunnel {tunnel_id}")
        return out.value.decode()

    def conf_meaning(self, tunnel_id: uuid.UUID | str, now: int) -> dict[str, str]:
        """What the C reader makes of the tunnel's conf (in $GLOBUS_STREAMS_DIR)."""
        out = ctypes.create_string_buffer(8192)
        code = self._lib.gsi_test_conf_meaning(_id_text(tunnel_id), now, out, len(out))
        if code:
            raise OSError(code, f"{os.strerror(code)}: conf of tunnel {tunnel_id}")
        lines = out.value.decode().split("\n")  # values may hold \r and other breaks
        return dict(line.split("=", 1) for line in lines if line)

    def conf_cache_region(self) -> tuple[int, int]:
        """Address and size of the C reader's parsed-conf cache."""
        start, size = ctypes.c_void_p(), ctypes.c_size_t()
        self._lib.gsi_test_conf_cache_region(ctypes.byref(start), ctypes.byref(size))
        return start.value or 0, size.value


__all__ = [
    "BUILD_HINT",
    "LIBRARY_NAME",
    "InterceptLibrary",
    "MachineState",
    "NativeHandshake",
    "Refusal",
    "library_path",
    "machine_arch",
    "library_for_tests",
]
