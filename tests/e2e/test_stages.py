"""CreateStage, GetStage(s), UpdateStage, DeleteStage, DeleteAccessLogSettings,
DeleteRouteSettings, ResetAuthorizersCache, and auto-deploy."""

from __future__ import annotations

import re
from typing import Any

import pytest

from tests.helpers import status

ACCOUNT = "000000000000"
FUNCTION = "arn:aws:lambda:us-east-1:000000000000:function:pets"
LOG_GROUP = "arn:aws:logs:us-east-1:000000000000:log-group:access-logs"
ACCESS_LOGS = {"DestinationArn": LOG_GROUP, "Format": "$context.requestId $context.status"}
EXECUTION_LOGS_HTTP = "Execution logs are not supported on protocolType HTTP"
SUCCESS = re.compile(r"Successfully deployed stage with deployment ID '([a-z0-9]+)'")


def add_route(client: Any, api_id: str, route_key: str = "GET /pets") -> str:
    return str(client.create_route(ApiId=api_id, RouteKey=route_key)["RouteId"])


# CreateStage


def test_create_http_stage_answers_201_with_defaults(client: Any, api_id: str) -> None:
    stage = client.create_stage(ApiId=api_id, StageName="prod")
    assert status(stage) == 201
    assert stage["StageName"] == "prod"
    assert stage["AutoDeploy"] is False
    assert stage["DefaultRouteSettings"] == {"DetailedMetricsEnabled": False}
    assert stage["RouteSettings"] == {}
    assert stage["StageVariables"] == {}
    assert stage["Tags"] == {}
    assert "DeploymentId" not in stage
    assert "CreatedDate" in stage
    assert "LastUpdatedDate" in stage


def test_websocket_stage_default_route_settings_include_logging(client: Any, ws_id: str) -> None:
    stage = client.create_stage(ApiId=ws_id, StageName="prod")
    assert stage["DefaultRouteSettings"] == {
        "DataTraceEnabled": False,
        "DetailedMetricsEnabled": False,
        "LoggingLevel": "OFF",
    }


def test_default_stage_is_allowed_on_http_apis(client: Any, api_id: str) -> None:
    assert client.create_stage(ApiId=api_id, StageName="$default")["StageName"] == "$default"
    assert client.get_stage(ApiId=api_id, StageName="$default")["StageName"] == "$default"


def test_default_stage_is_refused_on_websocket_apis(client: Any, ws_id: str) -> None:
    with pytest.raises(client.exceptions.BadRequestException, match=re.escape("$default")):
        client.create_stage(ApiId=ws_id, StageName="$default")


@pytest.mark.parametrize("name", ["has space", "$prod", "a/b", "x" * 129])
def test_invalid_stage_names_are_rejected(raw_client: Any, api_id: str, name: str) -> None:
    with pytest.raises(raw_client.exceptions.BadRequestException):
        raw_client.create_stage(ApiId=api_id, StageName=name)


def test_duplicate_stage_is_a_conflict(client: Any, api_id: str) -> None:
    client.create_stage(ApiId=api_id, StageName="prod")
    with pytest.raises(client.exceptions.ConflictException, match="Stage prod already exists"):
        client.create_stage(ApiId=api_id, StageName="prod")


def test_stage_on_unknown_api_is_not_found(client: Any) -> None:
    message = re.escape(f"Invalid API identifier specified {ACCOUNT}:abcdefghij")
    with pytest.raises(client.exceptions.NotFoundException, match=message):
        client.create_stage(ApiId="abcdefghij", StageName="prod")


def test_create_stage_keeps_description_variables_and_tags(client: Any, api_id: str) -> None:
    stage = client.create_stage(
        ApiId=api_id,
        StageName="prod",
        Description="production",
        StageVariables={"backend": "https://example.com/v1"},
        Tags={"team": "blue"},
    )
    got = client.get_stage(ApiId=api_id, StageName="prod")
    for answer in (stage, got):
        assert answer["Description"] == "production"
        assert answer["StageVariables"] == {"backend": "https://example.com/v1"}
        assert answer["Tags"] == {"team": "blue"}


def test_create_stage_rejects_reserved_tag_keys(client: Any, api_id: str) -> None:
    with pytest.raises(client.exceptions.BadRequestException, match="aws:"):
        client.create_stage(ApiId=api_id, StageName="prod", Tags={"aws:x": "y"})


def test_create_stage_with_unknown_deployment_is_not_found(client: Any, api_id: str) -> None:
    with pytest.raises(client.exceptions.NotFoundException, match="Deployment identifier"):
        client.create_stage(ApiId=api_id, StageName="prod", DeploymentId="abc123")


def test_create_stage_pointing_at_a_deployment(client: Any, api_id: str) -> None:
    add_route(client, api_id)
    deployment_id = client.create_deployment(ApiId=api_id)["DeploymentId"]
    stage = client.create_stage(ApiId=api_id, StageName="prod", DeploymentId=deployment_id)
    assert stage["DeploymentId"] == deployment_id


# Access log settings


def test_access_log_settings_are_kept(client: Any, api_id: str) -> None:
    stage = client.create_stage(ApiId=api_id, StageName="prod", AccessLogSettings=ACCESS_LOGS)
    assert stage["AccessLogSettings"] == ACCESS_LOGS
    assert client.get_stage(ApiId=api_id, StageName="prod")["AccessLogSettings"] == ACCESS_LOGS


def test_access_log_format_may_use_the_extended_request_id(client: Any, api_id: str) -> None:
    settings = {"DestinationArn": LOG_GROUP, "Format": "$context.extendedRequestId"}
    stage = client.create_stage(ApiId=api_id, StageName="prod", AccessLogSettings=settings)
    assert stage["AccessLogSettings"] == settings


def test_access_log_destination_must_be_a_log_group(client: Any, api_id: str) -> None:
    settings = {**ACCESS_LOGS, "DestinationArn": "arn:aws:s3:::bucket"}
    with pytest.raises(client.exceptions.BadRequestException, match="arn:aws:s3:::bucket"):
        client.create_stage(ApiId=api_id, StageName="prod", AccessLogSettings=settings)


@pytest.mark.parametrize("log_format", ["$context.status", "$context.requestIdentity"])
def test_access_log_format_must_include_the_request_id(
    client: Any, api_id: str, log_format: str
) -> None:
    settings = {"DestinationArn": LOG_GROUP, "Format": log_format}
    with pytest.raises(client.exceptions.BadRequestException, match="requestId"):
        client.create_stage(ApiId=api_id, StageName="prod", AccessLogSettings=settings)


def test_delete_access_log_settings_removes_them(client: Any, api_id: str) -> None:
    client.create_stage(ApiId=api_id, StageName="prod", AccessLogSettings=ACCESS_LOGS)
    answer = client.delete_access_log_settings(ApiId=api_id, StageName="prod")
    assert status(answer) == 204
    assert "AccessLogSettings" not in client.get_stage(ApiId=api_id, StageName="prod")


def test_delete_access_log_settings_of_unknown_stage_is_not_found(client: Any, api_id: str) -> None:
    with pytest.raises(
        client.exceptions.NotFoundException, match="Invalid stage identifier specified prod"
    ):
        client.delete_access_log_settings(ApiId=api_id, StageName="prod")


def test_delete_access_log_settings_of_the_default_stage(client: Any, api_id: str) -> None:
    client.create_stage(ApiId=api_id, StageName="$default", AccessLogSettings=ACCESS_LOGS)
    client.delete_access_log_settings(ApiId=api_id, StageName="$default")
    assert "AccessLogSettings" not in client.get_stage(ApiId=api_id, StageName="$default")


# Route settings and execution logging


@pytest.mark.parametrize("level", ["ERROR", "INFO", "OFF"])
def test_websocket_stage_accepts_logging_levels(client: Any, ws_id: str, level: str) -> None:
    add_route(client, ws_id, "$connect")
    stage = client.create_stage(
        ApiId=ws_id,
        StageName="prod",
        DefaultRouteSettings={"LoggingLevel": level, "DataTraceEnabled": True},
        RouteSettings={"$connect": {"LoggingLevel": level}},
    )
    assert stage["DefaultRouteSettings"]["LoggingLevel"] == level
    assert stage["DefaultRouteSettings"]["DataTraceEnabled"] is True
    got = client.get_stage(ApiId=ws_id, StageName="prod")
    assert got["RouteSettings"]["$connect"]["LoggingLevel"] == level


def test_unknown_logging_level_is_rejected_by_the_server(raw_client: Any, ws_id: str) -> None:
    with pytest.raises(raw_client.exceptions.BadRequestException, match="enum value set"):
        raw_client.create_stage(
            ApiId=ws_id, StageName="prod", DefaultRouteSettings={"LoggingLevel": "DEBUG"}
        )


def test_http_stage_rejects_logging_level_in_default_route_settings(
    client: Any, api_id: str
) -> None:
    with pytest.raises(client.exceptions.BadRequestException, match=EXECUTION_LOGS_HTTP):
        client.create_stage(
            ApiId=api_id, StageName="prod", DefaultRouteSettings={"LoggingLevel": "INFO"}
        )


def test_http_stage_rejects_logging_level_in_route_settings(client: Any, api_id: str) -> None:
    add_route(client, api_id)
    with pytest.raises(client.exceptions.BadRequestException, match=EXECUTION_LOGS_HTTP):
        client.create_stage(
            ApiId=api_id, StageName="prod", RouteSettings={"GET /pets": {"LoggingLevel": "ERROR"}}
        )


def test_http_stage_rejects_data_trace(client: Any, api_id: str) -> None:
    client.create_stage(ApiId=api_id, StageName="prod")
    with pytest.raises(client.exceptions.BadRequestException, match=EXECUTION_LOGS_HTTP):
        client.update_stage(
            ApiId=api_id, StageName="prod", DefaultRouteSettings={"DataTraceEnabled": True}
        )


def test_route_settings_must_name_an_existing_route(client: Any, api_id: str) -> None:
    with pytest.raises(client.exceptions.NotFoundException, match="GET /nothing"):
        client.create_stage(
            ApiId=api_id,
            StageName="prod",
            RouteSettings={"GET /nothing": {"ThrottlingBurstLimit": 5}},
        )


def test_throttling_route_settings_are_kept(client: Any, api_id: str) -> None:
    add_route(client, api_id)
    settings = {"ThrottlingBurstLimit": 10, "ThrottlingRateLimit": 2.5}
    stage = client.create_stage(
        ApiId=api_id,
        StageName="prod",
        DefaultRouteSettings=settings,
        RouteSettings={"GET /pets": {"ThrottlingBurstLimit": 1}},
    )
    assert stage["DefaultRouteSettings"] == {"DetailedMetricsEnabled": False, **settings}
    assert stage["RouteSettings"] == {"GET /pets": {"ThrottlingBurstLimit": 1}}


def test_negative_throttling_is_rejected(client: Any, api_id: str) -> None:
    with pytest.raises(client.exceptions.BadRequestException, match="ThrottlingRateLimit"):
        client.create_stage(
            ApiId=api_id, StageName="prod", DefaultRouteSettings={"ThrottlingRateLimit": -1.0}
        )


def test_delete_route_settings_with_a_path_route_key(client: Any, api_id: str) -> None:
    add_route(client, api_id, "GET /pets/{id}")
    add_route(client, api_id, "ANY /files/{proxy+}")
    client.create_stage(
        ApiId=api_id,
        StageName="prod",
        RouteSettings={
            "GET /pets/{id}": {"ThrottlingBurstLimit": 5},
            "ANY /files/{proxy+}": {"ThrottlingBurstLimit": 6},
        },
    )
    answer = client.delete_route_settings(ApiId=api_id, StageName="prod", RouteKey="GET /pets/{id}")
    assert status(answer) == 204
    route_settings = client.get_stage(ApiId=api_id, StageName="prod")["RouteSettings"]
    assert route_settings == {"ANY /files/{proxy+}": {"ThrottlingBurstLimit": 6}}


def test_delete_route_settings_of_a_greedy_route_key(client: Any, api_id: str) -> None:
    add_route(client, api_id, "ANY /files/{proxy+}")
    client.create_stage(
        ApiId=api_id,
        StageName="prod",
        RouteSettings={"ANY /files/{proxy+}": {"ThrottlingBurstLimit": 6}},
    )
    client.delete_route_settings(ApiId=api_id, StageName="prod", RouteKey="ANY /files/{proxy+}")
    assert client.get_stage(ApiId=api_id, StageName="prod")["RouteSettings"] == {}


def test_delete_route_settings_of_a_websocket_dollar_key(client: Any, ws_id: str) -> None:
    add_route(client, ws_id, "$connect")
    client.create_stage(
        ApiId=ws_id, StageName="prod", RouteSettings={"$connect": {"LoggingLevel": "INFO"}}
    )
    client.delete_route_settings(ApiId=ws_id, StageName="prod", RouteKey="$connect")
    assert client.get_stage(ApiId=ws_id, StageName="prod")["RouteSettings"] == {}


def test_delete_route_settings_not_set_is_not_found(client: Any, api_id: str) -> None:
    add_route(client, api_id)
    client.create_stage(ApiId=api_id, StageName="prod")
    with pytest.raises(client.exceptions.NotFoundException, match="GET /pets"):
        client.delete_route_settings(ApiId=api_id, StageName="prod", RouteKey="GET /pets")


def test_delete_route_settings_of_unknown_stage_is_not_found(client: Any, api_id: str) -> None:
    with pytest.raises(client.exceptions.NotFoundException, match="stage identifier"):
        client.delete_route_settings(ApiId=api_id, StageName="prod", RouteKey="GET /pets")


# Stage variables


def test_stage_variable_with_a_bad_name_is_rejected(client: Any, api_id: str) -> None:
    with pytest.raises(client.exceptions.BadRequestException, match="bad-name"):
        client.create_stage(ApiId=api_id, StageName="prod", StageVariables={"bad-name": "x"})


def test_stage_variable_with_a_bad_value_is_rejected(client: Any, api_id: str) -> None:
    with pytest.raises(client.exceptions.BadRequestException, match="'v'"):
        client.create_stage(ApiId=api_id, StageName="prod", StageVariables={"v": "has space"})


def test_empty_stage_variable_is_rejected_on_create(client: Any, api_id: str) -> None:
    with pytest.raises(client.exceptions.BadRequestException, match="'v'"):
        client.create_stage(ApiId=api_id, StageName="prod", StageVariables={"v": ""})


def test_more_than_100_stage_variables_are_rejected(client: Any, api_id: str) -> None:
    variables = {f"v{n}": "x" for n in range(101)}
    with pytest.raises(client.exceptions.BadRequestException, match="100"):
        client.create_stage(ApiId=api_id, StageName="prod", StageVariables=variables)


# GetStage / GetStages


def test_get_stage_answers_what_create_answered(client: Any, api_id: str) -> None:
    created = client.create_stage(ApiId=api_id, StageName="prod", Description="d")
    got = client.get_stage(ApiId=api_id, StageName="prod")
    assert status(got) == 200
    created.pop("ResponseMetadata")
    got.pop("ResponseMetadata")
    assert got == created


def test_get_unknown_stage_is_not_found(client: Any, api_id: str) -> None:
    with pytest.raises(
        client.exceptions.NotFoundException, match="Invalid stage identifier specified prod"
    ):
        client.get_stage(ApiId=api_id, StageName="prod")


def test_get_stages_lists_in_creation_order(client: Any, api_id: str) -> None:
    for name in ("dev", "prod", "$default"):
        client.create_stage(ApiId=api_id, StageName=name)
    answer = client.get_stages(ApiId=api_id)
    assert status(answer) == 200
    assert [s["StageName"] for s in answer["Items"]] == ["dev", "prod", "$default"]


# UpdateStage


def test_update_stage_changes_given_members_only(client: Any, api_id: str) -> None:
    client.create_stage(
        ApiId=api_id, StageName="prod", Description="d", AccessLogSettings=ACCESS_LOGS
    )
    answer = client.update_stage(ApiId=api_id, StageName="prod", Description="new")
    assert status(answer) == 200
    assert answer["Description"] == "new"
    assert answer["AccessLogSettings"] == ACCESS_LOGS


def test_update_stage_merges_default_route_settings(client: Any, ws_id: str) -> None:
    client.create_stage(
        ApiId=ws_id,
        StageName="prod",
        DefaultRouteSettings={"LoggingLevel": "INFO", "ThrottlingBurstLimit": 10},
    )
    answer = client.update_stage(
        ApiId=ws_id, StageName="prod", DefaultRouteSettings={"ThrottlingRateLimit": 5.0}
    )
    assert answer["DefaultRouteSettings"] == {
        "DataTraceEnabled": False,
        "DetailedMetricsEnabled": False,
        "LoggingLevel": "INFO",
        "ThrottlingBurstLimit": 10,
        "ThrottlingRateLimit": 5.0,
    }


def test_update_stage_merges_route_settings_per_route(client: Any, api_id: str) -> None:
    add_route(client, api_id, "GET /a")
    add_route(client, api_id, "GET /b")
    client.create_stage(
        ApiId=api_id, StageName="prod", RouteSettings={"GET /a": {"ThrottlingBurstLimit": 1}}
    )
    answer = client.update_stage(
        ApiId=api_id,
        StageName="prod",
        RouteSettings={
            "GET /a": {"ThrottlingRateLimit": 2.0},
            "GET /b": {"DetailedMetricsEnabled": True},
        },
    )
    assert answer["RouteSettings"] == {
        "GET /a": {"ThrottlingBurstLimit": 1, "ThrottlingRateLimit": 2.0},
        "GET /b": {"DetailedMetricsEnabled": True},
    }


def test_update_stage_logging_level_on_websocket_route_settings(client: Any, ws_id: str) -> None:
    add_route(client, ws_id, "sendmessage")
    client.create_stage(ApiId=ws_id, StageName="prod")
    answer = client.update_stage(
        ApiId=ws_id, StageName="prod", RouteSettings={"sendmessage": {"LoggingLevel": "ERROR"}}
    )
    assert answer["RouteSettings"] == {"sendmessage": {"LoggingLevel": "ERROR"}}


def test_update_stage_merges_stage_variables(client: Any, api_id: str) -> None:
    client.create_stage(ApiId=api_id, StageName="prod", StageVariables={"a": "1", "b": "2"})
    answer = client.update_stage(
        ApiId=api_id, StageName="prod", StageVariables={"b": "20", "c": "3"}
    )
    assert answer["StageVariables"] == {"a": "1", "b": "20", "c": "3"}


def test_update_stage_empty_variable_removes_it(client: Any, api_id: str) -> None:
    client.create_stage(ApiId=api_id, StageName="prod", StageVariables={"a": "1", "b": "2"})
    client.update_stage(ApiId=api_id, StageName="prod", StageVariables={"a": ""})
    assert client.get_stage(ApiId=api_id, StageName="prod")["StageVariables"] == {"b": "2"}


def test_update_stage_rejects_a_bad_access_log_format(client: Any, api_id: str) -> None:
    client.create_stage(ApiId=api_id, StageName="prod")
    with pytest.raises(client.exceptions.BadRequestException, match="requestId"):
        client.update_stage(
            ApiId=api_id,
            StageName="prod",
            AccessLogSettings={"DestinationArn": LOG_GROUP, "Format": "$context.status"},
        )
    assert "AccessLogSettings" not in client.get_stage(ApiId=api_id, StageName="prod")


def test_update_stage_route_settings_for_unknown_route_is_not_found(
    client: Any, api_id: str
) -> None:
    client.create_stage(ApiId=api_id, StageName="prod")
    with pytest.raises(client.exceptions.NotFoundException, match="GET /x"):
        client.update_stage(
            ApiId=api_id, StageName="prod", RouteSettings={"GET /x": {"ThrottlingBurstLimit": 1}}
        )


def test_update_stage_points_it_at_another_deployment(client: Any, api_id: str) -> None:
    add_route(client, api_id)
    first = client.create_deployment(ApiId=api_id)["DeploymentId"]
    second = client.create_deployment(ApiId=api_id)["DeploymentId"]
    client.create_stage(ApiId=api_id, StageName="prod", DeploymentId=first)
    answer = client.update_stage(ApiId=api_id, StageName="prod", DeploymentId=second)
    assert answer["DeploymentId"] == second


def test_update_stage_to_unknown_deployment_is_not_found(client: Any, api_id: str) -> None:
    client.create_stage(ApiId=api_id, StageName="prod")
    with pytest.raises(client.exceptions.NotFoundException, match="Deployment identifier"):
        client.update_stage(ApiId=api_id, StageName="prod", DeploymentId="abc123")


def test_update_unknown_stage_is_not_found(client: Any, api_id: str) -> None:
    with pytest.raises(client.exceptions.NotFoundException, match="stage identifier"):
        client.update_stage(ApiId=api_id, StageName="prod", Description="d")


# DeleteStage and ResetAuthorizersCache


def test_delete_stage_answers_204_and_forgets_it(client: Any, api_id: str) -> None:
    client.create_stage(ApiId=api_id, StageName="prod")
    assert status(client.delete_stage(ApiId=api_id, StageName="prod")) == 204
    assert client.get_stages(ApiId=api_id)["Items"] == []
    with pytest.raises(client.exceptions.NotFoundException, match="stage identifier"):
        client.get_stage(ApiId=api_id, StageName="prod")


def test_delete_unknown_stage_is_not_found(client: Any, api_id: str) -> None:
    with pytest.raises(client.exceptions.NotFoundException, match="stage identifier"):
        client.delete_stage(ApiId=api_id, StageName="prod")


def test_reset_authorizers_cache_answers_204(client: Any, api_id: str) -> None:
    client.create_stage(ApiId=api_id, StageName="prod")
    assert status(client.reset_authorizers_cache(ApiId=api_id, StageName="prod")) == 204


def test_reset_authorizers_cache_of_unknown_stage_is_not_found(client: Any, api_id: str) -> None:
    with pytest.raises(client.exceptions.NotFoundException, match="stage identifier"):
        client.reset_authorizers_cache(ApiId=api_id, StageName="prod")


# Auto-deploy


def deployment_of(client: Any, api_id: str, stage: str = "prod") -> str:
    return str(client.get_stage(ApiId=api_id, StageName=stage)["DeploymentId"])


def test_auto_deploy_stage_is_deployed_when_created(client: Any, api_id: str) -> None:
    add_route(client, api_id)
    stage = client.create_stage(ApiId=api_id, StageName="prod", AutoDeploy=True)
    match = SUCCESS.fullmatch(stage["LastDeploymentStatusMessage"])
    assert match is not None
    assert match[1] == stage["DeploymentId"]
    deployment = client.get_deployment(ApiId=api_id, DeploymentId=stage["DeploymentId"])
    assert deployment["AutoDeployed"] is True


def test_auto_deploy_without_routes_records_the_failure(client: Any, api_id: str) -> None:
    stage = client.create_stage(ApiId=api_id, StageName="prod", AutoDeploy=True)
    assert "DeploymentId" not in stage
    assert stage["LastDeploymentStatusMessage"] == (
        "Deployment attempt failed: Unable to deploy API because no routes exist in this API"
    )
    assert client.get_deployments(ApiId=api_id)["Items"] == []


def test_auto_deploy_follows_route_changes(client: Any, api_id: str) -> None:
    client.create_stage(ApiId=api_id, StageName="prod", AutoDeploy=True)
    route_id = add_route(client, api_id)
    first = deployment_of(client, api_id)
    client.update_route(ApiId=api_id, RouteId=route_id, RouteKey="POST /pets")
    second = deployment_of(client, api_id)
    assert second != first
    stage = client.get_stage(ApiId=api_id, StageName="prod")
    assert stage["LastDeploymentStatusMessage"] == (
        f"Successfully deployed stage with deployment ID '{second}'"
    )


def test_auto_deploy_follows_integration_changes(client: Any, api_id: str) -> None:
    add_route(client, api_id)
    client.create_stage(ApiId=api_id, StageName="prod", AutoDeploy=True)
    before = deployment_of(client, api_id)
    integration_id = client.create_integration(
        ApiId=api_id,
        IntegrationType="AWS_PROXY",
        IntegrationUri=FUNCTION,
        PayloadFormatVersion="2.0",
    )["IntegrationId"]
    middle = deployment_of(client, api_id)
    client.update_integration(ApiId=api_id, IntegrationId=integration_id, TimeoutInMillis=1000)
    after = deployment_of(client, api_id)
    assert len({before, middle, after}) == 3


def test_auto_deploy_after_the_last_route_is_deleted_keeps_the_old_deployment(
    client: Any, api_id: str
) -> None:
    route_id = add_route(client, api_id)
    client.create_stage(ApiId=api_id, StageName="prod", AutoDeploy=True)
    before = deployment_of(client, api_id)
    client.delete_route(ApiId=api_id, RouteId=route_id)
    stage = client.get_stage(ApiId=api_id, StageName="prod")
    assert stage["DeploymentId"] == before
    assert stage["LastDeploymentStatusMessage"].startswith("Deployment attempt failed")


def test_stage_without_auto_deploy_is_not_redeployed(client: Any, api_id: str) -> None:
    add_route(client, api_id)
    deployment_id = client.create_deployment(ApiId=api_id)["DeploymentId"]
    client.create_stage(ApiId=api_id, StageName="prod", DeploymentId=deployment_id)
    add_route(client, api_id, "GET /other")
    assert deployment_of(client, api_id) == deployment_id
    assert len(client.get_deployments(ApiId=api_id)["Items"]) == 1


def test_turning_auto_deploy_on_deploys(client: Any, api_id: str) -> None:
    add_route(client, api_id)
    client.create_stage(ApiId=api_id, StageName="prod")
    answer = client.update_stage(ApiId=api_id, StageName="prod", AutoDeploy=True)
    assert answer["AutoDeploy"] is True
    assert SUCCESS.fullmatch(answer["LastDeploymentStatusMessage"])
    assert answer["DeploymentId"]
