"""Bad input over the real broker: a 4xx with a one-line detail, never a 500 or a traceback."""

from __future__ import annotations

import json

import pytest

from .orbit_stack import ENDPOINT


@pytest.fixture
def raw(runtime, globus):
    """Send raw requests to the plugin through the runtime (as any radical.orbit client can)."""

    def send(method: str, path: str, body: bytes = b"") -> tuple[int, dict]:
        path = path.replace("SID", globus.sid)
        reply = runtime.call(ENDPOINT, method, f"/globus/{path}", body=body)
        return reply.status_code, reply.json()

    return send


def js(value) -> bytes:
    return json.dumps(value).encode()


CASES = [
    # malformed bodies
    ("POST", "submit/SID", b"{not json"),
    ("POST", "submit/SID", b"[1, 2]"),
    ("POST", "submit/SID", b"\xff\xfe"),
    ("POST", "ls/SID", b""),
    ("POST", "register_session", b"{oops"),
    ("POST", "register_session", js({"access_token": 42})),
    ("POST", "register_session", js({"refresh_token": "r"})),  # no client_id
    ("POST", "register_session", js({"sid": ["x"]})),
    ("POST", "register_session", js({"lifetime": "forever"})),
    # missing or mistyped fields
    ("POST", "submit/SID", js({"source": "a", "destination": "b"})),
    ("POST", "submit/SID", js({"source": "a", "destination": "b", "items": "x"})),
    ("POST", "submit/SID", js({"source": "a", "destination": "b", "items": []})),
    ("POST", "submit/SID", js({"source": "a", "destination": "b", "items": ["/a", "/b"]})),
    ("POST", "submit/SID", js({"source": "a", "destination": "b", "items": [{"source": "/a"}]})),
    ("POST", "submit/SID", js({"source": 1, "destination": "b", "items": [{}]})),
    ("POST", "submit/SID", js({"items": [{"source": "/a", "destination": "/b"}], "bogus": 1})),
    ("POST", "delete/SID", js({"collection": "c"})),
    ("POST", "delete/SID", js({"collection": "c", "paths": [3]})),
    ("POST", "mkdir/SID", js({"collection": "c"})),
    ("POST", "rename/SID", js({"collection": "c", "oldpath": "/a"})),
    ("POST", "stat/SID", js({"collection": "c"})),
    ("POST", "ls/SID", js({"collection": "c", "limit": "many"})),
    ("POST", "ls/SID", js({"collection": "c", "show_hidden": "maybe"})),
    ("POST", "wait/SID/some-task", js({"timeout": -1})),
    ("POST", "wait/SID/some-task", js({"timeout": "soon"})),
    ("POST", "endpoint_search/SID", js({"limit": "x"})),
    ("POST", "endpoint_search/SID", js({"nonsense": True})),
    ("GET", "tasks/SID?limit=lots", b""),
    # unknown session, unknown task
    ("GET", "tasks/session.nope", b""),
    ("POST", "ls/session.nope", js({"collection": "c"})),
    ("POST", "unregister_session/session.nope", b""),
    ("GET", "task/SID/00000000-0000-0000-0000-000000000000", b""),
    ("POST", "cancel/SID/00000000-0000-0000-0000-000000000000", b""),
    ("POST", "wait/SID/00000000-0000-0000-0000-000000000000", js({"timeout": 1})),
]


def test_bad_input_is_a_4xx_with_a_one_line_detail(raw):
    answers = {}
    for method, path, body in CASES:
        status, reply = raw(method, path, body)
        answers[(method, path, body)] = (status, reply)
        assert 400 <= status < 500, (method, path, body, status, reply)
        detail = reply["detail"]
        assert isinstance(detail, str) and detail and "\n" not in detail
        assert "Traceback" not in json.dumps(reply)
    # the unknown ones name what is unknown
    assert answers[("GET", "tasks/session.nope", b"")][0] == 404
    unknown_task = answers[("GET", "task/SID/00000000-0000-0000-0000-000000000000", b"")]
    assert unknown_task[0] == 404
