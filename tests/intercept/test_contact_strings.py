"""Contact strings (SPEC 3.1): one table read by the C parser (the library's test build)
and by the Python one (orbit_globus.streams.contact); both accept exactly the same
numeric contacts: brackets around IPv6, plain decimal ports 1-65535."""

from __future__ import annotations

import pytest

from orbit_globus.native import InterceptLibrary
from orbit_globus.streams.contact import parse_host_port
from orbit_globus.streams.errors import StreamsError

ACCEPTED = {
    "127.0.0.1:80": ("127.0.0.1", 80),
    "10.1.2.3:1": ("10.1.2.3", 1),
    "192.0.2.1:65535": ("192.0.2.1", 65535),
    "[::1]:443": ("::1", 443),
    "[fe80::1]:8080": ("fe80::1", 8080),
    "[2001:db8::7]:22": ("2001:db8::7", 22),
}
REFUSED = [
    "fe80::1:443",  # IPv6 without brackets
    "::1:443",
    "127.0.0.1: 80",
    "127.0.0.1:+80",
    "127.0.0.1:0080",
    "127.0.0.1:-1",
    "127.0.0.1:0",
    "127.0.0.1:65536",
    "127.0.0.1:99999999999",
    "127.0.0.1:80 ",
    " 127.0.0.1:80",
    "127.0.0.1:",
    ":80",
    "127.0.0.1",
    "[::1]",
    "[::1]:",
    "[127.0.0.1]:80",
    "[::1:80",
    "::1]:80",
    "[]:80",
    "127.0.0.1:\u0668\u0660",  # Arabic-Indic digits
    "127.0.0.1:\u00b2",  # superscript two
    "127.0.0.1:8e1",
    "127.0.0.1:0x50",
]


@pytest.mark.parametrize(("text", "expected"), ACCEPTED.items())
def test_accepted_by_both(native: InterceptLibrary, text: str, expected: tuple[str, int]) -> None:
    assert parse_host_port(text) == expected
    assert native.contact_parse(text) == text


@pytest.mark.parametrize("text", REFUSED)
def test_refused_by_both(native: InterceptLibrary, text: str) -> None:
    with pytest.raises(StreamsError) as caught:
        parse_host_port(text)
    assert "\n" not in str(caught.value)
    with pytest.raises(ValueError):
        native.contact_parse(text)
