"""The C conf reader (SPEC 3.1) through ctypes: key=value split at the first '=', private
files only, garbled files refused with a clear errno."""

from __future__ import annotations

import ctypes
import errno
import uuid
from pathlib import Path

import pytest

from orbit_globus.native import InterceptLibrary
from tests.intercept.confs import ConfDir


def test_values_split_at_first_equals(native: InterceptLibrary, confs: ConfDir) -> None:
    path = confs.write_raw(
        "t", "role=initiator\nlankey=abc==def=\r\nglobus_contact=a:1,b:2\nunknown_key=kept\n"
    )
    assert native.conf_get(path, "lankey") == "abc==def="
    assert native.conf_get(path, "role") == "initiator"
    assert native.conf_get(path, "globus_contact") == "a:1,b:2"
    assert native.conf_get(path, "unknown_key") == "kept"


def test_empty_value_and_missing_key(native: InterceptLibrary, confs: ConfDir) -> None:
    path = confs.write_raw("t", "lankey=\n")
    assert native.conf_get(path, "lankey") == ""
    with pytest.raises(OSError) as caught:
        native.conf_get(path, "lankey_id")
    assert caught.value.errno == errno.ENODATA


@pytest.mark.parametrize("mode", [0o640, 0o604, 0o620, 0o602, 0o660])
def test_group_or_other_access_refused(native: InterceptLibrary, confs: ConfDir, mode: int) -> None:
    path = confs.write_raw("t", "lankey=secret\n", mode=mode)
    with pytest.raises(OSError) as caught:
        native.conf_get(path, "lankey")
    assert caught.value.errno == errno.EACCES
    assert "secret" not in str(caught.value)


@pytest.mark.parametrize("text", [b"no equals sign here\n", b"=value without key\n", b"a=b\x00c\n"])
def test_garbled_refused(native: InterceptLibrary, confs: ConfDir, text: bytes) -> None:
    path = confs.write_raw("t", text)
    with pytest.raises(OSError) as caught:
        native.conf_get(path, "a")
    assert caught.value.errno == errno.EINVAL


def test_missing_and_oversized(native: InterceptLibrary, confs: ConfDir) -> None:
    with pytest.raises(OSError) as caught:
        native.conf_get(confs.path / "absent.conf", "role")
    assert caught.value.errno == errno.ENOENT
    path = confs.write_raw("big", "x=" + "y" * 70000 + "\n")
    with pytest.raises(OSError) as caught:
        native.conf_get(path, "x")
    assert caught.value.errno == errno.EFBIG


def test_contact_from_conf(native: InterceptLibrary, confs: ConfDir, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    tid = str(uuid.uuid4())
    confs.initiator(tid, "127.0.0.1:6000", "s", uuid.uuid4())
    monkeypatch.setenv("GLOBUS_STREAMS_DIR", str(confs.path))
    assert native.contact(tid) == "127.0.0.1:6000"
    confs.file(tid).chmod(0o644)
    with pytest.raises(OSError) as caught:
        native.contact(tid)
    assert caught.value.errno == errno.EACCES


def test_same_reading_as_the_python_conf_module(native: InterceptLibrary, confs: ConfDir) -> None:
    """Blank and comment lines skipped, keys trimmed, values kept byte for byte."""
    path = confs.write_raw(
        "t", "\n   \n# comment=1\n  # indented comment\n role =listener\nk= v \n"
    )
    assert native.conf_get(path, "role") == "listener"
    assert native.conf_get(path, "k") == " v "
    with pytest.raises(OSError):
        native.conf_get(path, "# comment")


def test_symlinked_conf_refused(native: InterceptLibrary, confs: ConfDir) -> None:
    real = confs.write_raw("real", "role=initiator\n")
    link = confs.path / "link.conf"
    link.symlink_to(real)
    with pytest.raises(OSError) as caught:
        native.conf_get(link, "role")
    assert caught.value.errno == errno.EACCES


def _mapping_flags(address: int) -> set[str]:
    """The VmFlags of the mapping that holds `address` in this process."""
    inside = False
    for line in Path("/proc/self/smaps").read_text().splitlines():
        head = line.split()[0]
        if "-" in head and ":" not in head:
            start, end = (int(part, 16) for part in head.split("-"))
            inside = start <= address < end
        elif inside and line.startswith("VmFlags:"):
            return set(line.split()[1:])
    raise AssertionError(f"no mapping holds {address:#x}")


def test_parsed_conf_cache_kept_out_of_core_dumps_and_wiped(
    native: InterceptLibrary, confs: ConfDir, monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("GLOBUS_STREAMS_DIR", str(confs.path))
    tid, first, second = str(uuid.uuid4()), "FIRST-secret-" * 3, "2nd"
    confs.initiator(tid, "127.0.0.1:6000", first, uuid.uuid4())
    assert native.conf_meaning(tid, 0)["lankey"] == first
    start, size = native.conf_cache_region()
    assert size > 0 and "dd" in _mapping_flags(start)  # MADV_DONTDUMP
    cache = lambda: ctypes.string_at(start, size)  # noqa: E731
    assert first.encode() in cache()  # the cache really holds it (the check can fail)
    confs.initiator(tid, "127.0.0.1:6000", second, uuid.uuid4())  # shorter secret
    assert native.conf_meaning(tid, 0)["lankey"] == second
    assert b"FIRST-secret" not in cache()
    confs.file(tid).unlink()
    with pytest.raises(OSError):
        native.conf_meaning(tid, 0)
    assert b"127.0.0.1:6000" not in cache()  # the whole entry is gone
