"""The native TLS relay loop (`tls_relay.c`) through ctypes.

`load()` gives a `NativeLoop`, or None when the library is not built or this
interpreter's ssl module cannot lend its SSL objects (then the relays stay in Python).
The loop works on the very SSL object of an `ssl.SSLObject`: CPython keeps the pointer in
its `_ssl._SSLSocket` right after the object header and the socket weakref, followed by
its context. Both are checked against each other and against OpenSSL before any use.
"""

from __future__ import annotations

import ctypes
import logging
import ssl

from orbit_globus.native import machine_arch

from .build import library_path

log = logging.getLogger(__name__)

# orbit_relay_run's results
ERROR = -1
STOPPED = 10
PLAIN_EOF = 11
TLS_EOF = 12
ENDED_IN = 13

_POINTER = ctypes.sizeof(ctypes.c_void_p)
# PyObject_HEAD, then `PyObject *Socket; SSL *ssl; PySSLContext *ctx;` (Modules/_ssl.c)
_SSL_OFFSET = 2 * _POINTER + _POINTER
_CTX_OFFSET = _SSL_OFFSET + _POINTER
# PyObject_HEAD, then `SSL_CTX *ctx;`
_SSL_CTX_OFFSET = 2 * _POINTER


class RelayState(ctypes.Structure):
    """struct relay_state in tls_relay.c."""

    _fields_ = [
        ("frame_left", ctypes.c_uint32),
        ("header_got", ctypes.c_uint32),
        ("header", ctypes.c_uint8 * 4),
        ("ended_in", ctypes.c_uint32),
        ("pending_off", ctypes.c_uint32),
        ("pending_len", ctypes.c_uint32),
        ("error", ctypes.c_int32),
        ("bytes_in", ctypes.c_uint64),
        ("bytes_out", ctypes.c_uint64),
    ]


def loaded_libssl() -> str | None:
    """The path of the libssl this process has loaded (the ssl module's)."""
    try:
        with open("/proc/self/maps") as maps:
            for line in maps:
                path = line.split(maxsplit=5)[-1].strip()
                if "/libssl.so" in path:
                    return path
    except OSError:
        pass
    return None


class NativeLoop:
    """The library, bound to the libssl the ssl module uses."""

    def __init__(self, lib: ctypes.CDLL, libssl: ctypes.CDLL) -> None:
        self._run = lib.orbit_relay_run
        self._run.restype = ctypes.c_int
        self._run.argtypes = [
            ctypes.c_void_p,
            ctypes.c_int,
            ctypes.c_int,
            ctypes.c_int,
            ctypes.c_void_p,
            ctypes.c_void_p,
            ctypes.c_uint32,
            ctypes.POINTER(RelayState),
        ]
        self._ssl_ctx_of = libssl.SSL_get_SSL_CTX
        self._ssl_ctx_of.restype = ctypes.c_void_p
        self._ssl_ctx_of.argtypes = [ctypes.c_void_p]

    def ssl_pointer(self, tls: ssl.SSLObject) -> int | None:
        """The SSL* inside `tls`, or None when the object does not look as expected."""
        inner = getattr(tls, "_sslobj", None)
        context = getattr(inner, "context", None)
        if inner is None or not isinstance(context, ssl.SSLContext):
            return None
        pointer = ctypes.c_void_p.from_address(id(inner) + _SSL_OFFSET).value
        owner = ctypes.c_void_p.from_address(id(inner) + _CTX_OFFSET).value
        if not pointer or owner != id(context):
            return None
        ssl_ctx = ctypes.c_void_p.from_address(id(context) + _SSL_CTX_OFFSET).value
        if not ssl_ctx or self._ssl_ctx_of(pointer) != ssl_ctx:
            return None
        return pointer

    def run(
        self,
        ssl_pointer: int,
        plain_fd: int,
        tls_fd: int,
        stop_fd: int,
        buf_in: bytearray,
        buf_out: bytearray,
        state: RelayState,
    ) -> int:
        """Relay until Python must take over (the GIL is released meanwhile)."""
        size = min(len(buf_in), len(buf_out))
        into = (ctypes.c_char * len(buf_in)).from_buffer(buf_in)
        out = (ctypes.c_char * len(buf_out)).from_buffer(buf_out)
        try:
            return self._run(
                ssl_pointer,
                plain_fd,
                tls_fd,
                stop_fd,
                ctypes.addressof(into),
                ctypes.addressof(out),
                size,
                ctypes.byref(state),
            )
        finally:
            del into, out  # release the bytearrays' exports


def load() -> NativeLoop | None:
    path = library_path(machine_arch())
    libssl_path = loaded_libssl()
    if not path.exists() or libssl_path is None:
        why = "not built" if libssl_path else "no libssl loaded"
        log.debug("native TLS relay not available (%s)", why)
        return None
    try:
        lib = ctypes.CDLL(str(path))
        libssl = ctypes.CDLL(libssl_path)
    except OSError as exc:
        log.debug("native TLS relay not loaded: %s", exc)
        return None
    lib.orbit_relay_init.argtypes = [ctypes.c_char_p]
    if lib.orbit_relay_init(libssl_path.encode()) != 0:
        log.debug("native TLS relay: %s lacks a function it needs", libssl_path)
        return None
    return NativeLoop(lib, libssl)
