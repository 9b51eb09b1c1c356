"""Tunnel configuration files (SPEC 3.1): `<dir>/<tunnel_id>.conf`, `key=value` per line.

The directory is 0700 and the file 0600; a file that group or others can access is refused.
Writes are atomic (temporary file in the same directory, fsync, rename) and keep keys this
version does not know, so an older CLI never drops what a newer one wrote.

The text means the same here as in the intercept library's C reader (libintercept
core/conf.h; tests/intercept/test_conf_meanings.py runs one table against both): lines
split at "\n" with one trailing "\r" dropped, keys trimmed of spaces and tabs, values
kept byte for byte, blank and "#" lines skipped, a NUL byte refused, the last of
duplicate keys wins. Numbers are plain ASCII digits, clamped to NUMBER_MAX; any other text
counts as absent. connector_contact_string_ttl: 0 = always fetch, absent = 60 s.
"""

from __future__ import annotations

import contextlib
import os
import stat
import tempfile
import time
import uuid
from collections.abc import Iterator, Mapping
from pathlib import Path

from .errors import StreamsError

DIR_ENV = "GLOBUS_STREAMS_DIR"
DEFAULT_DIR = "~/.globus/streams"
SUFFIX = ".conf"

ROLE_INITIATOR = "initiator"
ROLE_LISTENER = "listener"

# Written in this order; unknown keys follow in the order they were read.
KNOWN_KEYS = (
    "role",
    "lankey",
    "lankey_id",
    "endpoint_id",
    "connector_contact_string",
    "update_time",
    "connector_contact_string_ttl",
    "fake_port",
    "globus_contact",
    "listener_contact_string",
    "tunnel_expiration_time",
)
SECRET_KEYS = frozenset({"lankey"})
DEFAULT_CONTACT_TTL = 60
NUMBER_MAX = 10**12  # about 31,700 years in seconds, as in the C reader
_BLANKS = " \t"
MASK = "********"

ConfValue = str | int | None


def canonical_uuid(value: str | uuid.UUID, what: str = "id") -> str:
    """`value` as a lower-case UUID string; anything else is a one-line error."""
    try:
        return str(uuid.UUID(str(value).strip()))
    except ValueError:
        raise StreamsError(f"bad {what} {str(value)!r}: expected a UUID") from None


def canonical_tunnel_id(tunnel_id: str | uuid.UUID) -> str:
    """The tunnel id as a lower-case UUID string (it names a file, so nothing else passes)."""
    return canonical_uuid(tunnel_id, "tunnel id")


def conf_dir(base_dir: str | os.PathLike[str] | None = None) -> Path:
    """`base_dir`, else `$GLOBUS_STREAMS_DIR`, else `~/.globus/streams` (not created here)."""
    chosen = base_dir or os.environ.get(DIR_ENV) or DEFAULT_DIR
    return Path(os.path.expanduser(chosen)).absolute()


def ensure_conf_dir(directory: Path) -> Path:
    """Create `directory` (and missing parents) with mode 0700."""
    if not directory.is_dir():
        try:
            directory.mkdir(mode=0o700, parents=True, exist_ok=True)
            directory.chmod(0o700)  # mkdir's mode is filtered by the umask
        except OSError as err:
            raise StreamsError(f"cannot create {directory}: {err.strerror}") from None
    return directory


def conf_path(tunnel_id: str | uuid.UUID, base_dir: str | os.PathLike[str] | None = None) -> Path:
    return conf_dir(base_dir) / f"{canonical_tunnel_id(tunnel_id)}{SUFFIX}"


def parse_conf_text(text: str, *, source: str = "conf") -> dict[str, str]:
    """Parse `key=value` lines, splitting at the first `=`; blank and `#` lines are skipped."""
    if "\0" in text:
        raise StreamsError(f"{source}: holds a NUL byte")
    values: dict[str, str] = {}
    for number, raw in enumerate(text.split("\n"), start=1):
        line = raw[:-1] if raw.endswith("\r") else raw
        stripped = line.lstrip(_BLANKS)
        if not stripped or stripped.startswith("#"):
            continue
        key, sep, value = stripped.partition("=")
        key = key.rstrip(_BLANKS)
        if not sep or not key:
            raise StreamsError(f"{source}: line {number} is not key=value")
        values[key] = value
    return values


def format_conf_text(values: Mapping[str, str]) -> str:
    ordered = [k for k in KNOWN_KEYS if k in values] + [k for k in values if k not in KNOWN_KEYS]
    return "".join(f"{key}={values[key]}\n" for key in ordered)


def _refuse_loose_file(path: Path, st: os.stat_result) -> None:
    if not stat.S_ISREG(st.st_mode):
        raise StreamsError(f"refusing {path}: not a regular file")
    if st.st_uid != os.geteuid():
        raise StreamsError(f"refusing {path}: owned by another user (uid {st.st_uid})")
    if st.st_mode & 0o077:
        mode = stat.S_IMODE(st.st_mode)
        raise StreamsError(
            f"refusing {path}: mode {mode:04o} lets group or others access it "
            f"(it holds a LAN secret; run: chmod 600 {path})"
        )


def read_conf_file(path: Path) -> dict[str, str]:
    """Read and parse `path`, refusing files that are not private to this user."""
    try:
        # O_NONBLOCK: a FIFO at the path is refused below instead of blocking here.
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC | os.O_NONBLOCK)
    except FileNotFoundError:
        raise
    except OSError as err:
        raise StreamsError(f"cannot read {path}: {err.strerror}") from None
    # newline="": the text as written; lines are split at "\n" only, as in C.
    with os.fdopen(fd, "r", encoding="utf-8", newline="") as handle:
        _refuse_loose_file(path, os.fstat(handle.fileno()))
        try:
            text = handle.read()
        except UnicodeDecodeError:
            raise StreamsError(f"cannot read {path}: not UTF-8 text") from None
    return parse_conf_text(text, source=str(path))


def write_conf_file(path: Path, values: Mapping[str, str]) -> None:
    """Atomically replace `path` with `values` (mode 0600, fsynced, then renamed)."""
    for key, value in values.items():
        if "\n" in value or "\r" in value or "\n" in key or "=" in key:
            raise StreamsError(f"cannot write {key!r} to {path.name}: bad characters")
    ensure_conf_dir(path.parent)
    fd, tmp_name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            os.fchmod(handle.fileno(), 0o600)
            handle.write(format_conf_text(values))
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp_name, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp_name)
        raise
    _fsync_dir(path.parent)


def _fsync_dir(directory: Path) -> None:
    # The rename is only durable once the directory entry is on disk.
    with contextlib.suppress(OSError):
        dir_fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)


def _int_or_none(text: str | None) -> int | None:
    """Plain ASCII digits, clamped; anything else (signs, spaces, exponents) is absent."""
    if not text or not (text.isascii() and text.isdigit()):
        return None
    return min(int(text), NUMBER_MAX)


class TunnelConf:
    """One tunnel's conf: the raw key/value pairs plus typed accessors.

    `values` keeps every key in file order, unknown ones included. The repr never shows
    the LAN secret.
    """

    def __init__(self, tunnel_id: str, path: Path, values: dict[str, str] | None = None) -> None:
        self.tunnel_id = tunnel_id
        self.path = path
        self.values: dict[str, str] = dict(values or {})

    # -- loading and saving ------------------------------------------------------------

    @classmethod
    def new(
        cls, tunnel_id: str | uuid.UUID, base_dir: str | os.PathLike[str] | None = None
    ) -> TunnelConf:
        tid = canonical_tunnel_id(tunnel_id)
        return cls(tid, conf_path(tid, base_dir))

    @classmethod
    def load(
        cls, tunnel_id: str | uuid.UUID, base_dir: str | os.PathLike[str] | None = None
    ) -> TunnelConf:
        """Read an existing conf; a missing one is a `StreamsError` naming the fix."""
        tid = canonical_tunnel_id(tunnel_id)
        path = conf_path(tid, base_dir)
        try:
            values = read_conf_file(path)
        except FileNotFoundError:
            raise StreamsError(
                f"tunnel {tid} is not initialized here (no {path}); run: "
                f"globus-streams environment initialize {tid}"
            ) from None
        return cls(tid, path, values)

    @classmethod
    def load_if_exists(
        cls, tunnel_id: str | uuid.UUID, base_dir: str | os.PathLike[str] | None = None
    ) -> TunnelConf | None:
        tid = canonical_tunnel_id(tunnel_id)
        path = conf_path(tid, base_dir)
        try:
            return cls(tid, path, read_conf_file(path))
        except FileNotFoundError:
            return None

    def exists(self) -> bool:
        return self.path.exists()

    def save(self) -> None:
        write_conf_file(self.path, self.values)

    def remove(self) -> None:
        with contextlib.suppress(FileNotFoundError):
            self.path.unlink()

    # -- generic access ----------------------------------------------------------------

    def get(self, key: str) -> str | None:
        value = self.values.get(key)
        return value if value else None

    def set(self, **updates: ConfValue) -> None:
        """Set keys; `None` writes an empty value (the key stays, as the format shows)."""
        for key, value in updates.items():
            self.values[key] = "" if value is None else str(value)

    def masked(self) -> dict[str, str]:
        """All values with the secrets masked, in file order (for `show`)."""
        ordered = format_conf_text(self.values).splitlines()
        out: dict[str, str] = {}
        for line in ordered:
            key, _, value = line.partition("=")
            out[key] = MASK if key in SECRET_KEYS and value else value
        return out

    def __repr__(self) -> str:
        return f"TunnelConf({self.tunnel_id!r}, role={self.role!r}, path={str(self.path)!r})"

    # -- typed accessors ---------------------------------------------------------------

    @property
    def role(self) -> str | None:
        return self.get("role")

    @property
    def is_listener(self) -> bool:
        return self.role == ROLE_LISTENER

    @property
    def lankey(self) -> str:
        return self.values.get("lankey", "")

    @property
    def lankey_id(self) -> str | None:
        return self.get("lankey_id")

    @property
    def endpoint_id(self) -> str | None:
        return self.get("endpoint_id")

    @property
    def connector_contact_string(self) -> str | None:
        return self.get("connector_contact_string")

    @property
    def update_time(self) -> int | None:
        return _int_or_none(self.get("update_time"))

    @property
    def contact_ttl(self) -> int | None:
        return _int_or_none(self.get("connector_contact_string_ttl"))

    @property
    def fake_port(self) -> int | None:
        return _int_or_none(self.get("fake_port"))

    @property
    def globus_contacts(self) -> list[str]:
        return [c.strip() for c in (self.get("globus_contact") or "").split(",") if c.strip()]

    @property
    def listener_contact_string(self) -> str | None:
        return self.get("listener_contact_string")

    @property
    def tunnel_expiration_time(self) -> int | None:
        return _int_or_none(self.get("tunnel_expiration_time"))

    # -- derived -----------------------------------------------------------------------

    @property
    def effective_contact_ttl(self) -> int:
        """The TTL in force: the conf's, else the default (an absent TTL is not 0)."""
        ttl = self.contact_ttl
        return DEFAULT_CONTACT_TTL if ttl is None else ttl

    def contact_is_fresh(self, now: float | None = None) -> bool:
        """True when the initiator contact exists and its TTL has not passed (a TTL of 0:
        never fresh, the contact is always fetched)."""
        updated = self.update_time
        if not self.connector_contact_string or updated is None:
            return False
        return (time.time() if now is None else now) < updated + self.effective_contact_ttl

    def is_expired(self, now: float | None = None) -> bool:
        expires = self.tunnel_expiration_time
        return expires is not None and (time.time() if now is None else now) >= expires


def iter_confs(base_dir: str | os.PathLike[str] | None = None) -> Iterator[str]:
    """Tunnel ids that have a conf file in the directory (unreadable names are skipped)."""
    directory = conf_dir(base_dir)
    if not directory.is_dir():
        return
    for entry in sorted(directory.iterdir()):
        if entry.suffix != SUFFIX or entry.name.startswith("."):
            continue
        try:
            yield canonical_tunnel_id(entry.stem)
        except StreamsError:
            continue
