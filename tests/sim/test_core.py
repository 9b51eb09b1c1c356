"""Unit tests of the request-handling core: Router, Request, ApiError, Clock."""

from __future__ import annotations

import json

import pytest

from orbit_sim.core.clock import Clock
from orbit_sim.core.http import ApiError, Request, Response, Router


def _noop(sim: object, request: Request) -> dict[str, str]:
    return dict(request.params)


def test_router_matches_params_static_and_trailing_slash() -> None:
    router = Router()
    router.add("GET", "/v2/tunnels/{tunnel_id}/events", _noop)
    router.add("GET", "/v2/tunnels", _noop, name="list")
    route, params = router.match("GET", "/v2/tunnels/abc/events/")
    assert params == {"tunnel_id": "abc"} and route.name == "_noop"
    route, params = router.match("get", "/v2/tunnels/")
    assert route.name == "list" and params == {}


def test_router_params_are_percent_decoded() -> None:
    router = Router()
    router.add("GET", "/bookmarks/{name}", _noop)
    assert router.match("GET", "/bookmarks/a%20b%2Fc")[1] == {"name": "a b/c"}


def test_router_404_and_405() -> None:
    router = Router()
    router.add("GET", "/x/{id}", _noop)
    with pytest.raises(ApiError) as caught:
        router.match("DELETE", "/x/1")
    assert caught.value.status == 405
    with pytest.raises(ApiError) as caught:
        router.match("GET", "/x/1/more")
    assert caught.value.status == 404


def test_router_params_do_not_cross_segments_or_regex() -> None:
    router = Router()
    router.add("GET", "/a.b/{id}", _noop)
    with pytest.raises(ApiError):
        router.match("GET", "/aXb/1")
    assert router.match("GET", "/a.b/1")[1] == {"id": "1"}


def test_api_error_body_is_globus_style() -> None:
    request = Request.from_url_parts("GET", "/v0.10/task/1", "", {}, b"", service="transfer")
    response = ApiError(404, "TaskNotFound", "no such task").to_response(request)
    assert response.status == 404 and response.content_type == "application/json"
    doc = json.loads(response.body)
    assert doc == {
        "code": "TaskNotFound",
        "message": "no such task",
        "request_id": request.request_id,
        "resource": "/v0.10/task/1",
    }


def test_jsonapi_error_keeps_the_flat_fields_and_adds_errors() -> None:
    request = Request.from_url_parts("GET", "/v2/tunnels", "", {}, b"", service="transfer")
    doc = json.loads(
        ApiError(502, "ExternalError.X", "down").to_response(request, jsonapi=True).body
    )
    assert doc["code"] == "ExternalError.X"
    assert doc["errors"] == [
        {"status": "502", "code": "ExternalError", "title": "ExternalError.X", "detail": "down"}
    ]


def test_request_parsing_and_bearer() -> None:
    request = Request.from_url_parts(
        "post",
        "/p",
        "a=1&a=2&b=",
        {"Authorization": "Bearer  tok ", "Content-Type": "application/json"},
        '{"k": 1}',
    )
    assert request.method == "POST"
    assert request.arg("a") == "2" and request.arg("b") == "" and request.arg("c", "d") == "d"
    assert request.bearer_token == "tok"
    assert request.headers["content-type"] == "application/json"
    assert request.json() == {"k": 1}
    assert "tok" not in repr(request)


@pytest.mark.parametrize("body", [b"", b"{not json", b"[1]"])
def test_bad_json_bodies_are_400(body: bytes) -> None:
    request = Request.from_url_parts("POST", "/p", "", {}, body)
    with pytest.raises(ApiError) as caught:
        request.json_object()
    assert caught.value.status == 400


def test_int_arg_bounds() -> None:
    request = Request.from_url_parts("GET", "/p", "limit=5000&offset=x", {}, b"")
    with pytest.raises(ApiError, match="between"):
        request.int_arg("limit", 10, minimum=1, maximum=1000)
    with pytest.raises(ApiError, match="Invalid value"):
        request.int_arg("offset", 0)
    assert request.int_arg("missing", 7) == 7


def test_response_json_and_repr() -> None:
    response = Response.json({"secret": "s3cret"}, status=201, headers={"X": "1"})
    assert response.status == 201 and response.headers["X"] == "1"
    assert "s3cret" not in repr(response)


def test_virtual_clock_moves_only_on_advance_and_notifies() -> None:
    clock = Clock("virtual", start=1000.0)
    seen: list[float] = []
    clock.on_advance(seen.append)
    assert clock.now() == 1000.0
    assert clock.advance(5) == 1005.0
    assert seen == [1005.0] and clock.now() == 1005.0
    with pytest.raises(ValueError):
        clock.advance(-1)
    with pytest.raises(ValueError):
        Clock("sideways")  # type: ignore[arg-type]


def test_real_clock_advance_keeps_an_offset() -> None:
    clock = Clock("real")
    before = clock.now()
    clock.advance(3600)
    assert clock.now() >= before + 3600
