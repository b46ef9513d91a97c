"""What the data plane serves: stages compiled when first looked up, and refreshed per API."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest

from propylon.control.context import Call
from propylon.control.plane import ControlPlane, written_api
from propylon.execute import deployed as deployed_module
from propylon.execute.deployed import CompiledStage, DeployedApis, Stages
from propylon.settings import Settings
from propylon.store import Key, MemoryStore, Record

FUNCTION = "arn:aws:lambda:us-east-1:000000000000:function:hello"
SCOPE: Key = ("000000000000", "us-east-1")


class ReadLog(MemoryStore):
    """A memory store that remembers the keys read through ``get`` and ``children``."""

    def __init__(self) -> None:
        super().__init__()
        self.read: list[Key] = []

    def get(self, key: Key) -> Record | None:
        self.read.append(key)
        return super().get(key)

    def children(self, parent: Key, kind: str) -> list[Record]:
        self.read.append(parent + (kind,))
        return super().children(parent, kind)


class Harness:
    """A control plane whose writes refresh the data plane's ``DeployedApis``, as in app.py."""

    def __init__(self) -> None:
        self.store = ReadLog()
        self.deployed = DeployedApis(self.store)
        self.deployed.refresh()
        self.control = ControlPlane(
            Settings(in_memory=True), self.store, after_write=self.deployed.refresh
        )
        self.runner = asyncio.Runner()

    def request(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        data = json.dumps(body).encode() if body is not None else b""
        reply = self.runner.run(self.control.handle(method, path, "", {}, data))
        assert reply.status < 300, reply.body
        return json.loads(reply.body) if reply.body else None

    def quick_api(self, name: str = "quick") -> str:
        """A quick-created HTTP API: one ``$default`` route and an auto-deploying ``$default``
        stage with its first deployment."""
        body = {"name": name, "protocolType": "HTTP", "target": FUNCTION}
        api_id: str = self.request("POST", "/v2/apis", body)["apiId"]
        return api_id

    def stages(self, api_id: str) -> Stages:
        api = self.deployed.get(api_id)
        assert api is not None
        assert isinstance(api.stages, Stages)
        return api.stages

    def close(self) -> None:
        self.runner.close()
        self.control.close()


@pytest.fixture
def harness() -> Iterator[Harness]:
    opened = Harness()
    yield opened
    opened.close()


@pytest.fixture
def compiled(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The name of each stage compiled, in order."""
    names: list[str] = []
    compile_stage = deployed_module.compile_stage

    def counting(stage: Record, snapshot: Record) -> CompiledStage:
        names.append(stage["StageName"])
        return compile_stage(stage, snapshot)

    monkeypatch.setattr(deployed_module, "compile_stage", counting)
    return names


def test_a_stage_is_compiled_only_when_first_looked_up(
    harness: Harness, compiled: list[str]
) -> None:
    stages = harness.stages(harness.quick_api())
    assert list(stages) == ["$default"]
    assert compiled == []
    assert not stages.is_compiled("$default")
    first = stages["$default"]
    assert compiled == ["$default"]
    assert stages["$default"] is first
    assert "$default" in stages
    assert compiled == ["$default"]
    match = first.routes.match("GET", "/anything")
    assert match is not None
    assert match.route_key == "$default"


def test_refresh_reads_no_snapshot(harness: Harness) -> None:
    api_id = harness.quick_api()
    harness.store.read.clear()
    harness.deployed.refresh()
    assert harness.deployed.get(api_id) is not None
    assert [key for key in harness.store.read if "snapshots" in key] == []


def test_a_new_deployment_is_compiled_anew(harness: Harness) -> None:
    api_id = harness.quick_api()
    before = harness.stages(api_id)["$default"]
    integration = harness.request("GET", f"/v2/apis/{api_id}/integrations")["items"][0]
    target = f"integrations/{integration['integrationId']}"
    harness.request("POST", f"/v2/apis/{api_id}/routes", {"routeKey": "GET /b", "target": target})
    after = harness.stages(api_id)["$default"]
    assert after is not before
    assert after.snapshot is not before.snapshot
    before_match, after_match = before.routes.match("GET", "/b"), after.routes.match("GET", "/b")
    assert before_match is not None
    assert before_match.route_key == "$default"
    assert after_match is not None
    assert after_match.route_key == "GET /b"


def test_an_updated_stage_is_compiled_anew(harness: Harness) -> None:
    api_id = harness.quick_api()
    before = harness.stages(api_id)["$default"]
    path = f"/v2/apis/{api_id}/stages/$default"
    harness.request("PATCH", path, {"stageVariables": {"color": "blue"}})
    after = harness.stages(api_id)["$default"]
    assert before.stage_variables == {}
    assert after.stage_variables == {"color": "blue"}
    assert after.snapshot is before.snapshot


def test_an_unchanged_api_keeps_its_compiled_stages_across_a_full_refresh(
    harness: Harness, compiled: list[str]
) -> None:
    api_id = harness.quick_api()
    api = harness.deployed.get(api_id)
    stage = harness.stages(api_id)["$default"]
    harness.deployed.refresh()
    assert harness.deployed.get(api_id) is api
    assert harness.stages(api_id)["$default"] is stage
    assert compiled == ["$default"]


def test_a_deleted_stage_is_no_longer_served(harness: Harness) -> None:
    api_id = harness.quick_api()
    assert "$default" in harness.stages(api_id)
    harness.request("DELETE", f"/v2/apis/{api_id}/stages/$default")
    stages = harness.stages(api_id)
    assert "$default" not in stages
    assert list(stages) == []


def test_a_deleted_api_is_no_longer_served(harness: Harness) -> None:
    gone, kept = harness.quick_api("gone"), harness.quick_api("kept")
    harness.request("DELETE", f"/v2/apis/{gone}")
    assert harness.deployed.get(gone) is None
    assert harness.deployed.get(kept) is not None


def test_a_write_to_one_api_leaves_every_other_api_as_it_was(
    harness: Harness, compiled: list[str]
) -> None:
    changed, other = harness.quick_api("changed"), harness.quick_api("other")
    other_api = harness.deployed.get(other)
    other_stage = harness.stages(other)["$default"]
    changed_stage = harness.stages(changed)["$default"]
    harness.store.read.clear()
    harness.request("PATCH", f"/v2/apis/{changed}/stages/$default", {"stageVariables": {"v": "1"}})
    assert harness.deployed.get(other) is other_api
    assert harness.stages(other)["$default"] is other_stage
    assert harness.stages(changed)["$default"] is not changed_stage
    assert compiled == ["$default", "$default", "$default"]  # other, changed, changed again
    assert not [key for key in harness.store.read if other in key]  # not even walked


def test_a_stage_whose_snapshot_is_missing_is_not_served(harness: Harness) -> None:
    api_id = harness.quick_api()
    api_key = SCOPE + ("apis", api_id)
    stage = harness.store.get(api_key + ("stages", "$default"))
    assert stage is not None
    harness.store.delete(api_key + ("snapshots", stage["DeploymentId"]))
    harness.deployed.refresh(api_key)
    stages = harness.stages(api_id)
    assert "$default" not in stages
    with pytest.raises(KeyError):
        stages["$default"]


def test_a_reset_outside_any_api_refreshes_every_api(harness: Harness) -> None:
    first, second = harness.quick_api("first"), harness.quick_api("second")
    harness.runner.run(harness.control.reset())
    assert harness.deployed.get(first) is None
    assert harness.deployed.get(second) is None


def test_a_full_refresh_takes_up_changes_to_every_api(harness: Harness) -> None:
    first, second = harness.quick_api("first"), harness.quick_api("second")
    stage_key = SCOPE + ("apis", first, "stages", "$default")
    stage = harness.store.get(stage_key)
    assert stage is not None
    harness.store.put(stage_key, {**stage, "StageVariables": {"v": "2"}})
    harness.store.delete(SCOPE + ("apis", second))
    harness.deployed.refresh()
    assert harness.stages(first)["$default"].stage_variables == {"v": "2"}
    assert harness.deployed.get(second) is None


def test_refreshing_an_api_key_of_another_region_leaves_the_api(harness: Harness) -> None:
    api_id = harness.quick_api()
    api = harness.deployed.get(api_id)
    harness.deployed.refresh(("000000000000", "eu-west-1", "apis", api_id))
    assert harness.deployed.get(api_id) is api


def test_an_imported_api_is_taken_up_from_the_write_output(harness: Harness) -> None:
    document = {
        "openapi": "3.0.1",
        "info": {"title": "imported", "version": "1"},
        "paths": {"/pets": {"get": {"responses": {"200": {"description": "ok"}}}}},
    }
    created = harness.request("PUT", "/v2/apis", {"body": json.dumps(document)})
    api = harness.deployed.get(created["apiId"])
    assert api is not None
    assert api.protocol == "HTTP"


def call(region: str = "us-east-1") -> Call:
    return Call("000000000000", region, MemoryStore(), Settings(in_memory=True), datetime.now(UTC))


def test_a_write_is_under_the_api_its_input_names() -> None:
    key = written_api(call(), {"ApiId": "abc", "StageName": "s"}, None)
    assert key == ("000000000000", "us-east-1", "apis", "abc")


def test_a_created_api_is_named_by_the_write_output() -> None:
    key = written_api(call("eu-west-1"), {"Name": "n"}, {"ApiId": "new", "Name": "n"})
    assert key == ("000000000000", "eu-west-1", "apis", "new")


def test_a_write_naming_no_api_may_have_changed_any() -> None:
    assert written_api(call(), {"ResourceArn": "arn:x", "Tags": {}}, None) is None
    assert written_api(call(), {"DomainName": "example.com"}, {"DomainName": "x"}) is None
