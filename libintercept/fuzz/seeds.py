"""The seed corpora of the fuzz targets, made from tests/data/lan-auth-vectors.json (a copy
of shared/lan-auth-vectors.json) and the confs the intercept tests write.

`python libintercept/fuzz/fuzz.py seeds` rewrites libintercept/fuzz/corpus/ from here; the
input layouts are described at the top of each fuzz_<target>.c.
"""

from __future__ import annotations

import json
import shutil
import sys
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
VECTORS = ROOT / "tests" / "data" / "lan-auth-vectors.json"
TUNNEL = "0e8a675b-6b84-4220-89e4-a6a7a0d823fb"  # fuzz_route's tunnel

# fuzz_gsla: flags, and per-message operations (pass, xor, replace, set one byte, drop).
OTHER_SECRET, OTHER_TUNNEL, NEWER_SECRET, NO_SECRET_ID = 1, 2, 4, 8
PASS, XOR, REPLACE, SET, DROP = 0, 1, 2, 3, 4
HELLO, CHALLENGE, RESPONSE, RESULT = range(4)


def _vectors() -> list[dict[str, object]]:
    return json.loads(VECTORS.read_text())["vectors"]


def _gsla_header(v: dict[str, object], flags: int = 0) -> bytes:
    secret = str(v["lan_secret"]).encode()
    return (
        bytes([flags, len(secret)])
        + secret
        + uuid.UUID(str(v["tunnel_id"])).bytes
        + uuid.UUID(str(v["lan_secret_id"])).bytes
        + bytes.fromhex(str(v["client_nonce"]))
        + bytes.fromhex(str(v["server_nonce"]))
        + bytes([int(v["role"]) - 1])  # type: ignore[call-overload]
    )


def _ops(**by_message: bytes) -> bytes:
    """Operations for the four messages; unnamed ones pass untouched."""
    names = ("hello", "challenge", "response", "result")
    return b"".join(by_message.get(name, bytes([PASS])) for name in names)


def gsla_seeds() -> Iterator[tuple[str, bytes]]:
    vectors = _vectors()
    refusal = next(v for v in vectors if "lan_secret" not in v)
    for i, v in enumerate(x for x in vectors if "lan_secret" in x):
        head = _gsla_header(v)
        yield f"v{i}-untouched", head
        wrong = bytes([REPLACE]) + bytes.fromhex(str(v["wrong_secret_response"]))
        yield f"v{i}-wrong-secret-response", head + _ops(response=wrong)
        refused = bytes([REPLACE]) + bytes.fromhex(str(refusal["challenge"]))
        yield f"v{i}-refusing-challenge", head + _ops(challenge=refused)
        failed = bytes([REPLACE]) + bytes.fromhex(str(v["result_auth_failed"]))
        yield f"v{i}-result-auth-failed", head + _ops(result=failed)
        yield f"v{i}-response-reserved", head + _ops(response=bytes([SET, 6, 1]))
        yield f"v{i}-result-reserved", head + _ops(result=bytes([SET, 7, 1]))
        yield f"v{i}-challenge-reserved", head + _ops(challenge=bytes([SET, 6, 1]))
        yield f"v{i}-hello-bit", head + _ops(hello=bytes([XOR]) + bytes(20) + b"\x01")
        yield f"v{i}-drop-result", head + _ops(result=bytes([DROP]))
        for name, flag in [
            ("other-secret", OTHER_SECRET),
            ("other-tunnel", OTHER_TUNNEL),
            ("newer-secret", NEWER_SECRET),
            ("no-secret-id", NO_SECRET_ID),
        ]:
            yield f"v{i}-{name}", _gsla_header(v, flag)


CONTACTS = [
    "127.0.0.1:443",
    "192.0.2.10:50000",
    "[::1]:8443",
    "[fe80::1]:443",
    "[::ffff:192.0.2.1]:1",
    "[2001:db8::1]:65535",
    # SPEC 3.1 refuses these: IPv6 without brackets, loose ports.
    "fe80::1:443",
    "10.0.0.1: 80",
    "10.0.0.1:+80",
    "10.0.0.1:0080",
    "10.0.0.1:65536",
    "10.0.0.1:0",
    "[10.0.0.1]:80",
    "host.example:80",
]


def contact_seeds() -> Iterator[tuple[str, bytes]]:
    for i, text in enumerate(CONTACTS):
        yield f"text-{i:02d}", b"\x00" + text.encode()
    yield "address-v4", b"\x01\x01\xbb\x00" + bytes([192, 0, 2, 1])
    yield "address-v6", b"\x01\x20\xfb\x01" + bytes.fromhex("20010db8000000000000000000000001")
    yield "address-mapped", b"\x01\x00\x50\x01" + bytes(10) + b"\xff\xff\x7f\x00\x00\x01"


def _test_confs() -> Iterator[tuple[str, bytes]]:
    """The initiator and listener confs that tests/intercept writes."""
    sys.path.insert(0, str(ROOT))
    from tests.intercept.confs import ConfDir  # noqa: PLC0415 (needs the repository on the path)

    with tempfile.TemporaryDirectory() as tmp:
        confs = ConfDir.create(Path(tmp) / "streams")
        tid, sid = str(uuid.UUID(int=7)), uuid.UUID(int=8)
        yield "initiator", confs.initiator(tid, "127.0.0.1:7000", "s3cr3t==", sid).read_bytes()
        yield (
            "initiator-v6-names",
            confs.initiator(
                tid, "[::1]:7000", "k=v=", sid, ttl=0, globus_contact="db.example:5432,[::1]:80"
            ).read_bytes(),
        )
        yield "listener", confs.listener(tid, "s3cr3t==", sid, "127.0.0.1:9000").read_bytes()


EDGE_CONFS = {
    "crlf": "role=initiator\r\nlankey=abc\r\nconnector_contact_string=127.0.0.1:1\r\n",
    "equals-in-value": "role=initiator\nlankey=a=b==\nconnector_contact_string=1.2.3.4:5\n",
    "duplicate-keys": "role=listener\nlankey=one\nlankey=two\nrole=initiator\n",
    "comments-blank": "# a comment\n\n  role = initiator\n\tlankey=x\n",
    "empty-values": "role=initiator\nlankey=\nlankey_id=\nupdate_time=\n",
    "ttl-huge": "role=initiator\nconnector_contact_string=1.2.3.4:5\n"
    "connector_contact_string_ttl=1e303\nupdate_time=99999999999999999999\n",
    "ttl-inf-nan": "role=initiator\nconnector_contact_string_ttl=inf\nupdate_time=nan\n",
    "ttl-hex-negative": "role=initiator\nconnector_contact_string_ttl=0x10\nupdate_time=-5\n",
    "not-key-value": "role=initiator\njust words\n",
    "unknown-keys": "role=initiator\nfuture_key=1\nfake_port=4000\n",
    "bad-uuid": "role=initiator\nlankey_id=not-a-uuid\n",
    "no-newline-at-end": "role=initiator\nlankey=tail",
}


def conf_seeds() -> Iterator[tuple[str, bytes]]:
    yield from _test_confs()
    for name, text in EDGE_CONFS.items():
        yield name, text.encode()


def route_seeds() -> Iterator[tuple[str, bytes]]:
    def seed(tunnels: str, names: str, name: str, service: str = "") -> bytes:
        return f"{tunnels}\n{names}\n{name}\n{service}".encode()

    other = str(uuid.UUID(int=5))
    yield "globus-name", seed("", "", f"globus.{TUNNEL}")
    yield "globus-name-upper-dot", seed("", "", f"GLOBUS.{TUNNEL.upper()}.")
    yield "contact-name", seed(TUNNEL, "db.example:5432", "db.example")
    yield "contact-name-case-dot", seed(f"{other},{TUNNEL}", "a:1, DB.example:2", "db.EXAMPLE.")
    yield "contact-v6", seed(TUNNEL, "[::1]:80,[fe80::2]:443", "fe80::2")
    yield "contact-not-listed", seed(other, "db.example:5432", "db.example")
    yield "contact-empty-item", seed(TUNNEL, "a:1,,b:2", "b")
    yield "other-name", seed(TUNNEL, "db.example:5432", "example.org")
    yield "contact-port", seed(TUNNEL, "db.example:5432", "db.example", "5432")
    yield "contact-other-port", seed(TUNNEL, "db.example:5432", "db.example", "80")
    yield "contact-no-port", seed(TUNNEL, "db.example, web:80 ", "db.example", "0080")


def env_seeds() -> Iterator[tuple[str, bytes]]:
    values = [
        ("default", "10000", TUNNEL),
        ("zero", "0", ""),
        ("negative", "-5", "not-a-uuid"),
        ("too-large", "3600001", TUNNEL.upper()),
        ("spaces", " 5", f" {TUNNEL}"),
        ("float", "1e3", TUNNEL[:-1]),
        ("max", "3600000", TUNNEL + "x"),
    ]
    for name, timeout, listener in values:
        yield name, f"{timeout}\n{listener}".encode()


def cli_output_seeds() -> Iterator[tuple[str, bytes]]:
    outputs = {
        "v4": b"127.0.0.1:7000\n",
        "v6-crlf": b"[::1]:7000\r\n",
        "two-lines": b"192.0.2.1:443\nwarning: something\n",
        "no-newline": b"10.0.0.1:1",
        "empty": b"",
        "blank-line-first": b"\n127.0.0.1:7000\n",
        "nul-inside": b"127.0.0\x00.1:7000\n",
        "unbracketed-v6": b"fe80::1:443\n",
        "long-line": b"1" * 400 + b"\n",
    }
    yield from outputs.items()
    # 65 bytes (64n + 1): the target also runs these through a real child process
    yield "spawned-v4", b"127.0.0.1:7000\n".ljust(65, b"#")
    yield "spawned-empty", b"\n".ljust(65, b"#")


SEEDS = {
    "fuzz_gsla": gsla_seeds,
    "fuzz_contact": contact_seeds,
    "fuzz_conf": conf_seeds,
    "fuzz_route": route_seeds,
    "fuzz_env": env_seeds,
    "fuzz_cli_output": cli_output_seeds,
}


def write_all(corpus: Path) -> dict[str, int]:
    """Rewrites corpus/<target>/ for every target; returns the seed count per target."""
    counts = {}
    for target, make in SEEDS.items():
        folder = corpus / target
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir(parents=True)
        for name, data in make():
            (folder / name).write_bytes(data)
        counts[target] = sum(1 for _ in folder.iterdir())
    return counts
