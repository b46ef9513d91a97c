"""Route responses and integration responses: create, get, list, update and delete."""

from __future__ import annotations

import re
from typing import Any

import pytest

from tests.helpers import body, status

ACCOUNT = "000000000000"
ERRORS = "/4\\d{2}/"


@pytest.fixture
def route_id(client: Any, ws_id: str) -> str:
    return str(client.create_route(ApiId=ws_id, RouteKey="sendmessage")["RouteId"])


@pytest.fixture
def integration_id(client: Any, ws_id: str) -> str:
    created = client.create_integration(
        ApiId=ws_id, IntegrationType="MOCK", RequestTemplates={"$default": '{"statusCode": 200}'}
    )
    return str(created["IntegrationId"])


@pytest.fixture
def http_api(client: Any) -> tuple[str, str, str]:
    api_id = client.create_api(Name="pets", ProtocolType="HTTP")["ApiId"]
    route = client.create_route(ApiId=api_id, RouteKey="GET /pets")["RouteId"]
    integration = client.create_integration(
        ApiId=api_id,
        IntegrationType="HTTP_PROXY",
        IntegrationMethod="GET",
        IntegrationUri="https://example.com/pets",
    )["IntegrationId"]
    return api_id, route, integration


# Route responses


def test_create_route_response_answers_201(client: Any, ws_id: str, route_id: str) -> None:
    client.create_model(ApiId=ws_id, Name="Reply", Schema="{}")
    created = client.create_route_response(
        ApiId=ws_id,
        RouteId=route_id,
        RouteResponseKey="$default",
        ModelSelectionExpression="$default",
        ResponseModels={"$default": "Reply"},
        ResponseParameters={"route.response.header.x-id": {"Required": False}},
    )
    assert status(created) == 201
    assert re.fullmatch(r"[a-z0-9]{6}", created["RouteResponseId"])
    assert body(created) == {
        "RouteResponseId": created["RouteResponseId"],
        "RouteResponseKey": "$default",
        "ModelSelectionExpression": "$default",
        "ResponseModels": {"$default": "Reply"},
        "ResponseParameters": {"route.response.header.x-id": {"Required": False}},
    }


def test_default_is_the_only_route_response_key(client: Any, ws_id: str, route_id: str) -> None:
    with pytest.raises(client.exceptions.BadRequestException, match="only supported key"):
        client.create_route_response(ApiId=ws_id, RouteId=route_id, RouteResponseKey="ok")


def test_a_route_has_one_route_response_per_key(client: Any, ws_id: str, route_id: str) -> None:
    client.create_route_response(ApiId=ws_id, RouteId=route_id, RouteResponseKey="$default")
    message = "RouteResponse with key \\$default already exists for this Route"
    with pytest.raises(client.exceptions.ConflictException, match=message) as caught:
        client.create_route_response(ApiId=ws_id, RouteId=route_id, RouteResponseKey="$default")
    assert caught.value.response["ResponseMetadata"]["HTTPStatusCode"] == 409


def test_each_route_has_its_own_route_responses(client: Any, ws_id: str, route_id: str) -> None:
    other = client.create_route(ApiId=ws_id, RouteKey="join")["RouteId"]
    client.create_route_response(ApiId=ws_id, RouteId=route_id, RouteResponseKey="$default")
    client.create_route_response(ApiId=ws_id, RouteId=other, RouteResponseKey="$default")
    listed = client.get_route_responses(ApiId=ws_id, RouteId=other)["Items"]
    assert len(listed) == 1


def test_response_models_must_exist(client: Any, ws_id: str, route_id: str) -> None:
    with pytest.raises(client.exceptions.BadRequestException, match="model Missing"):
        client.create_route_response(
            ApiId=ws_id,
            RouteId=route_id,
            RouteResponseKey="$default",
            ResponseModels={"$default": "Missing"},
        )


def test_http_apis_have_no_route_responses(client: Any, http_api: tuple[str, str, str]) -> None:
    api_id, route, _ = http_api
    with pytest.raises(client.exceptions.BadRequestException, match="only for WebSocket APIs"):
        client.create_route_response(ApiId=api_id, RouteId=route, RouteResponseKey="$default")


def test_route_response_under_unknown_route_is_404(client: Any, ws_id: str) -> None:
    with pytest.raises(
        client.exceptions.NotFoundException, match="Invalid Route identifier specified nope123"
    ):
        client.create_route_response(ApiId=ws_id, RouteId="nope123", RouteResponseKey="$default")


def test_get_route_response_and_list(client: Any, ws_id: str, route_id: str) -> None:
    created = client.create_route_response(
        ApiId=ws_id, RouteId=route_id, RouteResponseKey="$default"
    )
    got = client.get_route_response(
        ApiId=ws_id, RouteId=route_id, RouteResponseId=created["RouteResponseId"]
    )
    assert status(got) == 200
    assert body(got) == body(created)
    listed = client.get_route_responses(ApiId=ws_id, RouteId=route_id)
    assert status(listed) == 200
    assert listed["Items"] == [body(created)]


def test_get_unknown_route_response_is_404(client: Any, ws_id: str, route_id: str) -> None:
    message = "Invalid RouteResponse identifier specified nope12"
    with pytest.raises(client.exceptions.NotFoundException, match=message):
        client.get_route_response(ApiId=ws_id, RouteId=route_id, RouteResponseId="nope12")


def test_update_route_response(client: Any, ws_id: str, route_id: str) -> None:
    response_id = client.create_route_response(
        ApiId=ws_id, RouteId=route_id, RouteResponseKey="$default"
    )["RouteResponseId"]
    updated = client.update_route_response(
        ApiId=ws_id,
        RouteId=route_id,
        RouteResponseId=response_id,
        ModelSelectionExpression="$request.body.type",
    )
    assert status(updated) == 200
    assert updated["ModelSelectionExpression"] == "$request.body.type"
    assert updated["RouteResponseKey"] == "$default"
    with pytest.raises(client.exceptions.BadRequestException, match="only supported key"):
        client.update_route_response(
            ApiId=ws_id, RouteId=route_id, RouteResponseId=response_id, RouteResponseKey="ok"
        )


def test_delete_route_response_answers_204(client: Any, ws_id: str, route_id: str) -> None:
    response_id = client.create_route_response(
        ApiId=ws_id, RouteId=route_id, RouteResponseKey="$default"
    )["RouteResponseId"]
    deleted = client.delete_route_response(
        ApiId=ws_id, RouteId=route_id, RouteResponseId=response_id
    )
    assert status(deleted) == 204
    assert client.get_route_responses(ApiId=ws_id, RouteId=route_id)["Items"] == []
    with pytest.raises(client.exceptions.NotFoundException):
        client.delete_route_response(ApiId=ws_id, RouteId=route_id, RouteResponseId=response_id)


def test_deleting_the_route_deletes_its_route_responses(
    client: Any, ws_id: str, route_id: str
) -> None:
    response_id = client.create_route_response(
        ApiId=ws_id, RouteId=route_id, RouteResponseKey="$default"
    )["RouteResponseId"]
    client.delete_route(ApiId=ws_id, RouteId=route_id)
    with pytest.raises(client.exceptions.NotFoundException, match="Route identifier"):
        client.get_route_response(ApiId=ws_id, RouteId=route_id, RouteResponseId=response_id)


# Integration responses


def test_create_integration_response_answers_201(
    client: Any, ws_id: str, integration_id: str
) -> None:
    created = client.create_integration_response(
        ApiId=ws_id,
        IntegrationId=integration_id,
        IntegrationResponseKey=ERRORS,
        ContentHandlingStrategy="CONVERT_TO_TEXT",
        ResponseTemplates={"$default": '{"error": "$input.path(\'$.message\')"}'},
        TemplateSelectionExpression="${integration.response.statuscode}",
        ResponseParameters={
            "method.response.header.x-status": "integration.response.header.x-status",
            "method.response.header.x-error": "integration.response.body.error.code",
            "method.response.header.x-static": "'fixed'",
        },
    )
    assert status(created) == 201
    assert re.fullmatch(r"[a-z0-9]{6}", created["IntegrationResponseId"])
    assert created["IntegrationResponseKey"] == ERRORS
    assert created["ContentHandlingStrategy"] == "CONVERT_TO_TEXT"
    assert created["TemplateSelectionExpression"] == "${integration.response.statuscode}"
    assert set(created["ResponseParameters"]) == {
        "method.response.header.x-status",
        "method.response.header.x-error",
        "method.response.header.x-static",
    }


@pytest.mark.parametrize("key", ["200", "/(unclosed/", "//", "4xx/", "$other"])
def test_integration_response_key_is_default_or_a_pattern(
    client: Any, ws_id: str, integration_id: str, key: str
) -> None:
    with pytest.raises(client.exceptions.BadRequestException, match="integration response key"):
        client.create_integration_response(
            ApiId=ws_id, IntegrationId=integration_id, IntegrationResponseKey=key
        )


@pytest.mark.parametrize(
    "parameters",
    [
        {"integration.response.header.x": "integration.response.header.x"},
        {"method.response.header.x": "route.request.header.x"},
        {"method.response.header.x": "unquoted"},
    ],
)
def test_integration_response_parameters_follow_the_model(
    client: Any, ws_id: str, integration_id: str, parameters: dict[str, str]
) -> None:
    with pytest.raises(client.exceptions.BadRequestException, match="mapping expression"):
        client.create_integration_response(
            ApiId=ws_id,
            IntegrationId=integration_id,
            IntegrationResponseKey="$default",
            ResponseParameters=parameters,
        )


def test_content_handling_strategy_is_an_enum(
    raw_client: Any, ws_id: str, integration_id: str
) -> None:
    with pytest.raises(raw_client.exceptions.BadRequestException, match="CONVERT_TO_BINARY"):
        raw_client.create_integration_response(
            ApiId=ws_id,
            IntegrationId=integration_id,
            IntegrationResponseKey="$default",
            ContentHandlingStrategy="CONVERT",
        )


def test_integration_response_keys_are_unique(client: Any, ws_id: str, integration_id: str) -> None:
    client.create_integration_response(
        ApiId=ws_id, IntegrationId=integration_id, IntegrationResponseKey="$default"
    )
    other = client.create_integration_response(
        ApiId=ws_id, IntegrationId=integration_id, IntegrationResponseKey=ERRORS
    )["IntegrationResponseId"]
    message = "IntegrationResponse with key \\$default already exists for this Integration"
    with pytest.raises(client.exceptions.ConflictException, match=message):
        client.create_integration_response(
            ApiId=ws_id, IntegrationId=integration_id, IntegrationResponseKey="$default"
        )
    with pytest.raises(client.exceptions.ConflictException):
        client.update_integration_response(
            ApiId=ws_id,
            IntegrationId=integration_id,
            IntegrationResponseId=other,
            IntegrationResponseKey="$default",
        )


def test_http_apis_have_no_integration_responses(
    client: Any, http_api: tuple[str, str, str]
) -> None:
    api_id, _, integration = http_api
    with pytest.raises(client.exceptions.BadRequestException, match="only for WebSocket APIs"):
        client.create_integration_response(
            ApiId=api_id, IntegrationId=integration, IntegrationResponseKey="$default"
        )


def test_integration_response_under_unknown_integration_is_404(client: Any, ws_id: str) -> None:
    message = "Invalid Integration identifier specified nope123"
    with pytest.raises(client.exceptions.NotFoundException, match=message):
        client.get_integration_responses(ApiId=ws_id, IntegrationId="nope123")


def test_get_update_and_list_integration_responses(
    client: Any, ws_id: str, integration_id: str
) -> None:
    ids = {"ApiId": ws_id, "IntegrationId": integration_id}
    created = client.create_integration_response(**ids, IntegrationResponseKey="$default")
    response_id = created["IntegrationResponseId"]
    got = client.get_integration_response(**ids, IntegrationResponseId=response_id)
    assert status(got) == 200
    assert body(got) == body(created)
    updated = client.update_integration_response(
        **ids, IntegrationResponseId=response_id, ResponseTemplates={"$default": "$input.body"}
    )
    assert status(updated) == 200
    assert updated["ResponseTemplates"] == {"$default": "$input.body"}
    assert updated["IntegrationResponseKey"] == "$default"
    listed = client.get_integration_responses(**ids)
    assert status(listed) == 200
    assert listed["Items"] == [body(updated)]


def test_get_unknown_integration_response_is_404(
    client: Any, ws_id: str, integration_id: str
) -> None:
    message = "Invalid IntegrationResponse identifier specified nope12"
    with pytest.raises(client.exceptions.NotFoundException, match=message):
        client.get_integration_response(
            ApiId=ws_id, IntegrationId=integration_id, IntegrationResponseId="nope12"
        )


def test_delete_integration_response_answers_204(
    client: Any, ws_id: str, integration_id: str
) -> None:
    ids = {"ApiId": ws_id, "IntegrationId": integration_id}
    response_id = client.create_integration_response(**ids, IntegrationResponseKey="$default")[
        "IntegrationResponseId"
    ]
    deleted = client.delete_integration_response(**ids, IntegrationResponseId=response_id)
    assert status(deleted) == 204
    with pytest.raises(client.exceptions.NotFoundException):
        client.get_integration_response(**ids, IntegrationResponseId=response_id)


# Auto-deploy


def test_response_changes_redeploy_auto_deploying_stages(
    client: Any, ws_id: str, route_id: str, integration_id: str
) -> None:
    def current() -> str:
        return str(client.get_stage(ApiId=ws_id, StageName="prod")["DeploymentId"])

    first = client.create_stage(ApiId=ws_id, StageName="prod", AutoDeploy=True)["DeploymentId"]
    client.create_route_response(ApiId=ws_id, RouteId=route_id, RouteResponseKey="$default")
    second = current()
    client.create_integration_response(
        ApiId=ws_id, IntegrationId=integration_id, IntegrationResponseKey="$default"
    )
    third = current()
    assert len({first, second, third}) == 3
