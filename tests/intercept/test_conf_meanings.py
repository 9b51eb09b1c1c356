"""One meaning of the conf (SPEC 3.1/3.2): the same table of conf texts read by the C
reader (the intercept library, through its test build) and by the Python reader
(orbit_globus.streams.conf, used by the CLI), each row with the meaning both must give:
every key, empty, absent and duplicate keys, CRLF, `=` in values, huge and non-numeric
numbers, and what makes a conf garbled."""

from __future__ import annotations

import os
import uuid

import pytest

from orbit_globus.native import InterceptLibrary
from orbit_globus.streams.conf import TunnelConf
from orbit_globus.streams.errors import StreamsError
from tests.intercept.confs import ConfDir

NOW = 2_000_000_000
SECRET_ID = "5a1b1c1d-0000-4000-8000-000000000001"
CLAMP = str(10**12)
BASE = {
    "role": "initiator",
    "lankey": "k3y==",
    "lankey_id": SECRET_ID,
    "connector_contact_string": "127.0.0.1:5000",
    "update_time": str(NOW - 10),
    "connector_contact_string_ttl": "60",
    "tunnel_expiration_time": str(NOW + 100),
    "globus_contact": "a.example:1,b.example:2",
}
MEANING = {
    "role": "initiator",
    "lankey": "k3y==",
    "lankey_id": SECRET_ID,
    "contact": "127.0.0.1:5000",
    "update_time": str(NOW - 10),
    "contact_ttl": "60",
    "tunnel_expiration_time": str(NOW + 100),
    "globus_contact": "a.example:1,b.example:2",
    "fresh": "1",
}
GARBLED = "garbled"


def text(newline: str = "\n", **changes: str | None) -> str:
    """BASE with keys changed (None: the line is left out)."""
    values = {**BASE, **changes}
    return "".join(f"{k}={v}{newline}" for k, v in values.items() if v is not None)


def ttl_row(value: str, ttl: str, fresh: str = "1") -> tuple[str, str, dict[str, str]]:
    return (
        f"ttl {value!r}",
        text(connector_contact_string_ttl=value),
        {"contact_ttl": ttl, "fresh": fresh},
    )


ROWS: list[tuple[str, str, dict[str, str] | str]] = [
    ("every key", text(), {}),
    ("listener", text(role="listener"), {"role": "listener"}),
    ("CRLF line ends", text(newline="\r\n"), {}),
    ("no newline at the end", text().rstrip("\n"), {}),
    (
        "= in values",
        text(lankey="a=b==", globus_contact="x=y:1"),
        {"lankey": "a=b==", "globus_contact": "x=y:1"},
    ),
    ("values kept byte for byte", text(lankey=" k \t"), {"lankey": " k \t"}),
    ("a lone CR inside a value", text(lankey="a\rb"), {"lankey": "a\rb"}),
    ("form feed and FS inside a value", text(lankey="a\x0cb\x1cc"), {"lankey": "a\x0cb\x1cc"}),
    ("keys trimmed of spaces and tabs", " \trole \t=initiator\n" + text(role=None), {}),
    (
        "blank, comment and unknown lines",
        "\n  \n# role=listener\n\t# x\nfuture_key=1\n" + text(),
        {},
    ),
    ("upper-case lankey_id", text(lankey_id=SECRET_ID.upper()), {}),
    (
        "duplicate keys: the last wins",
        text() + "connector_contact_string=10.0.0.1:1\n",
        {"contact": "10.0.0.1:1"},
    ),
    (
        "duplicate TTL, the last empty",
        text() + "connector_contact_string_ttl=\n",
        {"contact_ttl": "60"},
    ),
    (
        "every value empty",
        text(**{k: "" for k in BASE if k != "role"}),
        {
            "lankey": "",
            "lankey_id": "",
            "contact": "",
            "update_time": "absent",
            "contact_ttl": "60",
            "tunnel_expiration_time": "absent",
            "globus_contact": "",
            "fresh": "0",
        },
    ),
    (
        "every optional key absent",
        text(**{k: None for k in BASE if k != "role"}),
        {
            "lankey": "",
            "lankey_id": "",
            "contact": "",
            "update_time": "absent",
            "contact_ttl": "60",
            "tunnel_expiration_time": "absent",
            "globus_contact": "",
            "fresh": "0",
        },
    ),
    ttl_row("0", "0", fresh="0"),  # 0: always fetch
    ("ttl absent: 60 s", text(connector_contact_string_ttl=None), {"contact_ttl": "60"}),
    (
        "ttl absent, contact 61 s old",
        text(connector_contact_string_ttl=None, update_time=str(NOW - 61)),
        {"contact_ttl": "60", "update_time": str(NOW - 61), "fresh": "0"},
    ),
    ttl_row("5", "5", fresh="0"),
    ttl_row("1e303", "60"),
    ttl_row("inf", "60"),
    ttl_row("nan", "60"),
    ttl_row("0x10", "60"),
    ttl_row("-5", "60"),
    ttl_row("+5", "60"),
    ttl_row(" 5", "60"),
    ttl_row("5 ", "60"),
    ttl_row("4_2", "60"),
    ttl_row("\u0665", "60"),  # an Arabic-Indic digit
    ttl_row("99999999999999999999999999", CLAMP),
    ("update_time absent", text(update_time=None), {"update_time": "absent", "fresh": "0"}),
    ("update_time 12.5", text(update_time="12.5"), {"update_time": "absent", "fresh": "0"}),
    ("huge update_time", text(update_time="9" * 30), {"update_time": CLAMP}),
    ("huge expiration", text(tunnel_expiration_time="9" * 30), {"tunnel_expiration_time": CLAMP}),
    ("a line that is not key=value", text() + "not a pair\n", GARBLED),
    ("a line with an empty key", text() + " =x\n", GARBLED),
    ("a NUL byte", text(lankey="a\0b"), GARBLED),
]


def python_meaning(conf: TunnelConf, now: int) -> dict[str, str]:
    def number(value: int | None) -> str:
        return "absent" if value is None else str(value)

    return {
        "role": conf.role or "",
        "lankey": conf.lankey,
        "lankey_id": str(uuid.UUID(conf.lankey_id)) if conf.lankey_id else "",
        "contact": conf.connector_contact_string or "",
        "update_time": number(conf.update_time),
        "contact_ttl": str(conf.effective_contact_ttl),
        "tunnel_expiration_time": number(conf.tunnel_expiration_time),
        "globus_contact": conf.get("globus_contact") or "",
        "fresh": "1" if conf.contact_is_fresh(now) else "0",
    }


def read_python(confs: ConfDir, tunnel_id: str) -> dict[str, str] | str:
    try:
        return python_meaning(TunnelConf.load(tunnel_id, confs.path), NOW)
    except StreamsError:
        return GARBLED


def read_c(native: InterceptLibrary, tunnel_id: str) -> dict[str, str] | str:
    try:
        return native.conf_meaning(tunnel_id, NOW)
    except OSError:
        return GARBLED


@pytest.fixture
def conf_dir(confs: ConfDir, monkeypatch: pytest.MonkeyPatch) -> ConfDir:
    monkeypatch.setenv("GLOBUS_STREAMS_DIR", str(confs.path))
    return confs


@pytest.mark.parametrize(("content", "expected"), [r[1:] for r in ROWS], ids=[r[0] for r in ROWS])
@pytest.mark.parametrize("reader", ["C", "Python"])
def test_conf_meaning(
    native: InterceptLibrary,
    conf_dir: ConfDir,
    reader: str,
    content: str,
    expected: dict[str, str] | str,
) -> None:  # type: ignore[no-untyped-def]
    tunnel_id = str(uuid.uuid4())
    conf_dir.write_raw(tunnel_id, content.encode())
    seen = read_c(native, tunnel_id) if reader == "C" else read_python(conf_dir, tunnel_id)
    assert seen == (expected if expected == GARBLED else {**MEANING, **expected})


def test_fifo_at_the_conf_path_is_refused_by_both(
    native: InterceptLibrary, conf_dir: ConfDir
) -> None:
    tunnel_id = str(uuid.uuid4())
    os.mkfifo(conf_dir.file(tunnel_id), 0o600)
    assert read_c(native, tunnel_id) == GARBLED
    assert read_python(conf_dir, tunnel_id) == GARBLED
