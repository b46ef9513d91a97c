"""The control-plane door: reads wait for writes in flight, and kept answers end at a write."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest

from propylon.control import plane as plane_module
from propylon.control.plane import ControlPlane
from propylon.settings import Settings
from propylon.store import MemoryStore

CREATE = json.dumps(
    {
        "name": "quick",
        "protocolType": "HTTP",
        "target": "arn:aws:lambda:us-east-1:000000000000:function:hello",
    }
).encode()


def plane() -> ControlPlane:
    return ControlPlane(Settings(in_memory=True), MemoryStore())


async def get(control: ControlPlane, path: str) -> Any:
    reply = await control.handle("GET", path, "", {}, b"")
    assert reply.status == 200
    return json.loads(reply.body)


def test_a_read_issued_during_a_write_sees_the_whole_write() -> None:
    async def scenario() -> tuple[Any, Any]:
        control = plane()
        try:
            write = asyncio.ensure_future(control.handle("POST", "/v2/apis", "", {}, CREATE))
            await asyncio.sleep(0)  # the write is now on the writer thread
            apis = await get(control, "/v2/apis")
            created = json.loads((await write).body)
            routes = await get(control, f"/v2/apis/{created['apiId']}/routes")
            return apis, routes
        finally:
            control.close()

    apis, routes = asyncio.run(scenario())
    assert [item["name"] for item in apis["items"]] == ["quick"]
    assert [item["routeKey"] for item in routes["items"]] == ["$default"]


def test_a_kept_read_answer_ends_with_the_next_write() -> None:
    async def scenario() -> tuple[Any, Any, Any]:
        control = plane()
        try:
            before = await get(control, "/v2/apis")
            again = await get(control, "/v2/apis")
            await control.handle("POST", "/v2/apis", "", {}, CREATE)
            after = await get(control, "/v2/apis")
            return before, again, after
        finally:
            control.close()

    before, again, after = asyncio.run(scenario())
    assert before == again == {"items": []}
    assert len(after["items"]) == 1


def test_kept_answers_are_per_region() -> None:
    west = {
        "authorization": "AWS4-HMAC-SHA256 Credential=AK/20260101/eu-west-1/apigateway/aws4_request"
    }

    async def scenario() -> tuple[Any, Any]:
        control = plane()
        try:
            await control.handle("POST", "/v2/apis", "", west, CREATE)
            reply = await control.handle("GET", "/v2/apis", "", west, b"")
            return json.loads(reply.body), await get(control, "/v2/apis")
        finally:
            control.close()

    in_west, in_east = asyncio.run(scenario())
    assert len(in_west["items"]) == 1
    assert in_east == {"items": []}


def test_kept_answers_are_bounded_by_their_size(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(plane_module, "_READ_CACHE_BYTES", 1000)

    async def scenario() -> tuple[list[Any], int]:
        control = plane()
        try:
            created = [await control.handle("POST", "/v2/apis", "", {}, CREATE) for _ in range(6)]
            paths = [f"/v2/apis/{json.loads(reply.body)['apiId']}" for reply in created]
            answers = [await get(control, path) for path in paths + paths]
            return answers, sum(len(reply.body) for reply in control._reads.values())
        finally:
            control.close()

    answers, kept = asyncio.run(scenario())
    assert answers[:6] == answers[6:]
    assert 0 < kept <= 1000
