"""Contact strings and the Transfer documents they come from (globus-sdk's own fixtures)."""

from __future__ import annotations

import pytest

from orbit_globus.streams.contact import format_host_port, parse_host_port
from orbit_globus.streams.errors import StreamsError
from orbit_globus.streams.tunnel_doc import Tunnel, access_point_host_endpoint


@pytest.mark.parametrize(
    "text, expected",
    [
        ("10.0.2.164:8888", ("10.0.2.164", 8888)),
        ("myhost.com:443", ("myhost.com", 443)),
        ("[::1]:7000", ("::1", 7000)),
        ("[fe80::1]:1", ("fe80::1", 1)),
    ],
)
def test_parse_host_port(text, expected):
    assert parse_host_port(text) == expected
    assert parse_host_port(format_host_port(*expected)) == expected


@pytest.mark.parametrize(
    "text",
    ["host", "host:", ":80", "host:0", "host:65536", "::1:80", "h:x", " [fe80::1]:1 ", "h:0080"],
)
def test_bad_host_port_is_one_line(text):
    with pytest.raises(StreamsError) as info:
        parse_host_port(text, what="--globus-contact")
    assert "--globus-contact" in str(info.value) and "\n" not in str(info.value)


def test_format_brackets_ipv6_only():
    assert format_host_port("::1", 5) == "[::1]:5"
    assert format_host_port("127.0.0.1", 5) == "127.0.0.1:5"


def sdk_fixture(name: str) -> dict:
    from globus_sdk.testing.registry import get_response_set

    return get_response_set(name).lookup("default").json


def test_sdk_tunnel_fixture_awaiting_listener_has_no_contact():
    from globus_sdk import TransferClient

    doc = sdk_fixture(TransferClient.get_tunnel)
    tunnel = Tunnel.from_doc(doc)
    assert tunnel.state == "AWAITING_LISTENER"
    assert tunnel.initiator_contact is None  # never "None:None"
    assert tunnel.lifetime_mins == 360 and not tunnel.finished
    assert tunnel.initiator_ap == doc["data"]["relationships"]["initiator"]["data"]["id"]


def test_active_tunnel_contact_and_ipv6():
    doc = {
        "data": {
            "id": "t",
            "attributes": {
                "state": "ACTIVE",
                "initiator_ip_address": "::1",
                "initiator_port": 4000,
                "listener_ip_address": "10.0.0.1",
                "listener_port": "8888",
            },
        }
    }
    tunnel = Tunnel.from_doc(doc)
    assert tunnel.initiator_contact == "[::1]:4000"
    assert tunnel.listener_contact == "10.0.0.1:8888"
    doc["data"]["attributes"]["state"] = "STOPPING"
    stopping = Tunnel.from_doc(doc)
    assert stopping.initiator_contact is None and stopping.finished


def test_sdk_access_point_fixture_names_its_host_endpoint():
    from globus_sdk import TransferClient

    doc = sdk_fixture(TransferClient.get_stream_access_point)
    assert access_point_host_endpoint(doc) == "d6428474-c308-4a2d-8a86-d377915d978b"
    with pytest.raises(StreamsError, match="ENDPOINT_ID"):
        access_point_host_endpoint({"data": {"id": "x", "relationships": {}}})
