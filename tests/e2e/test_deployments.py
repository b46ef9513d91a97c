"""CreateDeployment, GetDeployment(s), UpdateDeployment and DeleteDeployment."""

from __future__ import annotations

import re
from typing import Any

import pytest

from tests.helpers import body, status

ACCOUNT = "000000000000"
NO_ROUTES = "Unable to deploy API because no routes exist in this API"


@pytest.fixture
def api_id(client: Any) -> str:
    api_id = str(client.create_api(Name="pets", ProtocolType="HTTP")["ApiId"])
    client.create_route(ApiId=api_id, RouteKey="GET /pets")
    return api_id


# CreateDeployment


def test_create_deployment_answers_201(client: Any, api_id: str) -> None:
    deployment = client.create_deployment(ApiId=api_id, Description="first")
    assert status(deployment) == 201
    assert re.fullmatch(r"[a-z0-9]+", deployment["DeploymentId"])
    assert deployment["DeploymentStatus"] == "DEPLOYED"
    assert deployment["AutoDeployed"] is False
    assert deployment["Description"] == "first"
    assert "CreatedDate" in deployment


def test_each_deployment_gets_its_own_id(client: Any, api_id: str) -> None:
    first = client.create_deployment(ApiId=api_id)["DeploymentId"]
    second = client.create_deployment(ApiId=api_id)["DeploymentId"]
    assert first != second


def test_deployment_of_an_api_without_routes_is_rejected(client: Any) -> None:
    empty = client.create_api(Name="empty", ProtocolType="HTTP")["ApiId"]
    with pytest.raises(client.exceptions.BadRequestException, match=NO_ROUTES):
        client.create_deployment(ApiId=empty)
    assert client.get_deployments(ApiId=empty)["Items"] == []


def test_deployment_of_unknown_api_is_not_found(client: Any) -> None:
    message = re.escape(f"Invalid API identifier specified {ACCOUNT}:abcdefghij")
    with pytest.raises(client.exceptions.NotFoundException, match=message):
        client.create_deployment(ApiId="abcdefghij")


def test_deployment_with_stage_name_repoints_the_stage(client: Any, api_id: str) -> None:
    first = client.create_deployment(ApiId=api_id)["DeploymentId"]
    client.create_stage(ApiId=api_id, StageName="prod", DeploymentId=first)
    second = client.create_deployment(ApiId=api_id, StageName="prod")["DeploymentId"]
    assert client.get_stage(ApiId=api_id, StageName="prod")["DeploymentId"] == second


def test_deployment_with_stage_name_leaves_other_stages_alone(client: Any, api_id: str) -> None:
    client.create_stage(ApiId=api_id, StageName="prod")
    client.create_stage(ApiId=api_id, StageName="dev")
    client.create_deployment(ApiId=api_id, StageName="prod")
    assert "DeploymentId" not in client.get_stage(ApiId=api_id, StageName="dev")


def test_deployment_without_stage_name_moves_no_stage(client: Any, api_id: str) -> None:
    client.create_stage(ApiId=api_id, StageName="prod")
    client.create_deployment(ApiId=api_id)
    assert "DeploymentId" not in client.get_stage(ApiId=api_id, StageName="prod")


def test_deployment_to_unknown_stage_is_not_found(client: Any, api_id: str) -> None:
    with pytest.raises(
        client.exceptions.NotFoundException, match="Invalid stage identifier specified prod"
    ):
        client.create_deployment(ApiId=api_id, StageName="prod")
    assert client.get_deployments(ApiId=api_id)["Items"] == []


def test_deployment_to_the_default_stage(client: Any, api_id: str) -> None:
    client.create_stage(ApiId=api_id, StageName="$default")
    deployment_id = client.create_deployment(ApiId=api_id, StageName="$default")["DeploymentId"]
    assert client.get_stage(ApiId=api_id, StageName="$default")["DeploymentId"] == deployment_id


# GetDeployment / GetDeployments


def test_get_deployment_answers_what_create_answered(client: Any, api_id: str) -> None:
    created = client.create_deployment(ApiId=api_id, Description="d")
    got = client.get_deployment(ApiId=api_id, DeploymentId=created["DeploymentId"])
    assert status(got) == 200
    assert body(got) == body(created)


def test_get_unknown_deployment_is_not_found(client: Any, api_id: str) -> None:
    with pytest.raises(
        client.exceptions.NotFoundException, match="Invalid Deployment identifier specified abc123"
    ):
        client.get_deployment(ApiId=api_id, DeploymentId="abc123")


def test_get_deployments_lists_in_creation_order_and_pages(client: Any, api_id: str) -> None:
    ids = [client.create_deployment(ApiId=api_id)["DeploymentId"] for _ in range(3)]
    answer = client.get_deployments(ApiId=api_id)
    assert status(answer) == 200
    assert [d["DeploymentId"] for d in answer["Items"]] == ids
    page = client.get_deployments(ApiId=api_id, MaxResults="2")
    assert [d["DeploymentId"] for d in page["Items"]] == ids[:2]
    rest = client.get_deployments(ApiId=api_id, NextToken=page["NextToken"])
    assert [d["DeploymentId"] for d in rest["Items"]] == ids[2:]


def test_get_deployments_of_unknown_api_is_not_found(client: Any) -> None:
    with pytest.raises(client.exceptions.NotFoundException, match="API identifier"):
        client.get_deployments(ApiId="abcdefghij")


# UpdateDeployment


def test_update_deployment_changes_the_description(client: Any, api_id: str) -> None:
    deployment_id = client.create_deployment(ApiId=api_id, Description="old")["DeploymentId"]
    answer = client.update_deployment(ApiId=api_id, DeploymentId=deployment_id, Description="new")
    assert status(answer) == 200
    assert answer["Description"] == "new"
    assert answer["DeploymentId"] == deployment_id
    got = client.get_deployment(ApiId=api_id, DeploymentId=deployment_id)
    assert got["Description"] == "new"
    assert got["DeploymentStatus"] == "DEPLOYED"


def test_update_unknown_deployment_is_not_found(client: Any, api_id: str) -> None:
    with pytest.raises(client.exceptions.NotFoundException, match="Deployment identifier"):
        client.update_deployment(ApiId=api_id, DeploymentId="abc123", Description="d")


# DeleteDeployment


def test_delete_deployment_answers_204_and_forgets_it(client: Any, api_id: str) -> None:
    deployment_id = client.create_deployment(ApiId=api_id)["DeploymentId"]
    answer = client.delete_deployment(ApiId=api_id, DeploymentId=deployment_id)
    assert status(answer) == 204
    assert client.get_deployments(ApiId=api_id)["Items"] == []
    with pytest.raises(client.exceptions.NotFoundException, match="Deployment identifier"):
        client.get_deployment(ApiId=api_id, DeploymentId=deployment_id)


def test_delete_deployment_in_use_by_a_stage_is_refused(client: Any, api_id: str) -> None:
    client.create_stage(ApiId=api_id, StageName="prod")
    deployment_id = client.create_deployment(ApiId=api_id, StageName="prod")["DeploymentId"]
    with pytest.raises(client.exceptions.BadRequestException, match="stages"):
        client.delete_deployment(ApiId=api_id, DeploymentId=deployment_id)
    assert client.get_deployment(ApiId=api_id, DeploymentId=deployment_id)["DeploymentId"]


def test_delete_deployment_once_the_stage_moved_on(client: Any, api_id: str) -> None:
    client.create_stage(ApiId=api_id, StageName="prod")
    old = client.create_deployment(ApiId=api_id, StageName="prod")["DeploymentId"]
    new = client.create_deployment(ApiId=api_id, StageName="prod")["DeploymentId"]
    client.delete_deployment(ApiId=api_id, DeploymentId=old)
    assert [d["DeploymentId"] for d in client.get_deployments(ApiId=api_id)["Items"]] == [new]


def test_delete_deployment_once_the_stage_is_deleted(client: Any, api_id: str) -> None:
    client.create_stage(ApiId=api_id, StageName="prod")
    deployment_id = client.create_deployment(ApiId=api_id, StageName="prod")["DeploymentId"]
    client.delete_stage(ApiId=api_id, StageName="prod")
    assert status(client.delete_deployment(ApiId=api_id, DeploymentId=deployment_id)) == 204


def test_delete_unknown_deployment_is_not_found(client: Any, api_id: str) -> None:
    with pytest.raises(client.exceptions.NotFoundException, match="Deployment identifier"):
        client.delete_deployment(ApiId=api_id, DeploymentId="abc123")
