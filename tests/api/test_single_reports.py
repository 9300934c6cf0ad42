"""The fast path of ``POST /api/v1/events`` (api/single_reports.py) answers every request
exactly as the FastAPI route does, and is the one that answers."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from typing import Any

import orjson
import pytest

from battrace.api.app import BattraceAPI
from battrace.api.single_reports import answer_single, is_single_report
from battrace.services.tokens import create_token, revoke_token
from tests.api.conftest import ApiWorld

PATH = "/api/v1/events"
Request = tuple[dict[str, str], bytes]


@pytest.fixture
def app(api: ApiWorld) -> Iterator[BattraceAPI]:
    found = api.client.app
    assert isinstance(found, BattraceAPI)
    fast = found.single_reports
    assert fast is not None
    yield found
    found.single_reports = fast


def _json(api: ApiWorld, data: Any, headers: dict[str, str]) -> Request:
    return {**headers, "Content-Type": "application/json"}, orjson.dumps(data)


def _event(api: ApiWorld, name: str = "maker") -> Request:
    return _json(api, api.new_battery_event(), api.auth(name))


def _as_other(api: ApiWorld, extra: dict[str, str]) -> Request:
    event = api.new_battery_event()  # the maker's event, sent with another firm's token
    return _json(api, event, {**api.auth("other"), **extra})


CASES: dict[str, Callable[[ApiWorld], Request]] = {
    "anonymous": lambda w: ({"Content-Type": "application/json"}, b"{}"),
    "not bearer": lambda w: ({"Authorization": "Basic abc"}, b"{}"),
    "short token": lambda w: ({"Authorization": "Bearer btk_short"}, b"{}"),
    "unknown token, bad body": lambda w: (
        {"Authorization": "Bearer btk_" + "A" * 43, "Content-Type": "application/json"},
        b"{not json",
    ),
    "bad json": lambda w: ({**w.auth("maker"), "Content-Type": "application/json"}, b"{x"),
    "not json": lambda w: ({**w.auth("maker"), "Content-Type": "text/plain"}, b"{}"),
    "array": lambda w: _json(w, [w.new_battery_event()], w.auth("maker")),
    "nul in text": lambda w: _json(w, {**w.new_battery_event(), "ref": "a\x00b"}, w.auth("maker")),
    "as another firm": lambda w: _as_other(w, {}),
    "as another firm, bad key": lambda w: _as_other(w, {"Idempotency-Key": "bad key"}),
    "bad key": lambda w: _json(
        w, w.new_battery_event(), {**w.auth("maker"), "Idempotency-Key": " "}
    ),
    "bad signature header": lambda w: _json(
        w, w.new_battery_event(), {**w.auth("maker"), "Battrace-Signature": "nonsense"}
    ),
    "unknown type": lambda w: _json(
        w, {**w.new_battery_event(), "type": "teleported"}, w.auth("maker")
    ),
    "too large": lambda w: _json(w, {"ref": "x" * 2_000_000}, w.auth("maker")),
}


def _answer(api: ApiWorld, request: Request) -> tuple[int, Any]:
    headers, body = request
    answer = api.client.post(PATH, content=body, headers=headers)
    data = answer.json()
    if answer.status_code >= 400:
        assert answer.headers["content-type"] == "application/json"
        return answer.status_code, {k: data["error"][k] for k in ("code", "field", "rule")}
    return answer.status_code, set(data)


@pytest.mark.parametrize("case", sorted(CASES))
def test_fast_path_answers_as_the_route_does(api: ApiWorld, app: BattraceAPI, case: str) -> None:
    fast = _answer(api, CASES[case](api))
    app.single_reports = None  # now the FastAPI route answers
    routed = _answer(api, CASES[case](api))
    assert fast == routed
    assert fast[0] >= 400


def test_fast_path_accepts_as_the_route_does(api: ApiWorld, app: BattraceAPI) -> None:
    answers = []
    for fast in (True, False):
        if not fast:
            app.single_reports = None
        answer = api.client.post(PATH, json=api.new_battery_event(), headers=api.auth("maker"))
        assert answer.status_code == 201
        stored = api.client.get(answer.headers["Location"], headers=api.auth("maker"))
        assert stored.status_code == 200
        assert answer.json() == stored.json()  # the answer is the event as stored
        answers.append(set(answer.json()))
    assert answers[0] == answers[1]


def test_fast_path_replays_an_idempotent_request(api: ApiWorld) -> None:
    headers = {**api.auth("maker"), "Idempotency-Key": "fast-1"}
    event = api.new_battery_event()
    first = api.client.post(PATH, json=event, headers=headers)
    again = api.client.post(PATH, json=event, headers=headers)
    assert (first.status_code, again.status_code) == (201, 201)
    assert again.json() == first.json()
    assert again.headers["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in first.headers
    assert again.headers["Location"] == first.headers["Location"]
    other = api.client.post(PATH, json=api.new_battery_event(), headers=headers)
    assert other.status_code == 409
    assert other.json()["error"]["rule"] == "idempotency_key_reuse"


def test_a_revoked_token_is_refused_at_once(api: ApiWorld) -> None:
    made, token = create_token(api.store, api.ids["maker"])
    headers = {"Authorization": f"Bearer {token}"}
    assert api.client.post(PATH, json=api.new_battery_event(), headers=headers).status_code == 201
    revoke_token(api.store, made.token_id)
    refused = api.client.post(PATH, json=api.new_battery_event(), headers=headers)
    assert refused.status_code == 401
    assert refused.json()["error"]["rule"] == "token"


def test_the_fast_path_answers_before_the_route(
    api: ApiWorld, app: BattraceAPI, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def broken(request: object) -> None:
        raise RuntimeError("the route was called")

    monkeypatch.setattr("battrace.api.event_routes.report_single", broken)
    fast = api.client.post(PATH, json=api.new_battery_event(), headers=api.auth("maker"))
    assert fast.status_code == 201
    app.single_reports = None
    with pytest.raises(RuntimeError, match="the route was called"):  # the test client re-raises
        api.client.post(PATH, json=api.new_battery_event(), headers=api.auth("maker"))


@pytest.mark.parametrize(
    ("method", "path", "expected"),
    [
        ("POST", PATH, True),
        ("GET", PATH, False),
        ("POST", PATH + "/batch", False),
        ("POST", PATH + "/", False),
        ("PUT", PATH, False),
    ],
)
def test_only_single_reports_take_the_fast_path(method: str, path: str, expected: bool) -> None:
    assert is_single_report({"type": "http", "method": method, "path": path}) is expected
    assert not is_single_report({"type": "websocket", "method": method, "path": path})


def test_a_client_that_leaves_gets_nothing_and_logs_nothing(
    api: ApiWorld, caplog: pytest.LogCaptureFixture
) -> None:
    sent: list[Any] = []
    token = api.tokens["maker"]
    scope = {
        "type": "http",
        "method": "POST",
        "path": PATH,
        "query_string": b"",
        "headers": [(b"authorization", f"Bearer {token}".encode())],
        "app": api.client.app,
    }

    async def receive() -> dict[str, Any]:
        return {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    with caplog.at_level("ERROR", logger="battrace.api"):
        asyncio.run(answer_single(scope, receive, send))
    assert sent == []
    assert not caplog.records
