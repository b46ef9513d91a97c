"""CreateRoute, GetRoute(s), UpdateRoute, DeleteRoute and DeleteRouteRequestParameter."""

from __future__ import annotations

import re
from typing import Any

import pytest

from tests.helpers import status

ACCOUNT = "000000000000"
FUNCTION = "arn:aws:lambda:us-east-1:000000000000:function:pets"
HEADER = "route.request.header.x-user"
QUERY = "route.request.querystring.page"


def lambda_integration(client: Any, api_id: str) -> str:
    return str(
        client.create_integration(
            ApiId=api_id,
            IntegrationType="AWS_PROXY",
            IntegrationUri=FUNCTION,
            PayloadFormatVersion="2.0",
        )["IntegrationId"]
    )


# CreateRoute


def test_create_route_answers_201_with_defaults(client: Any, api_id: str) -> None:
    route = client.create_route(ApiId=api_id, RouteKey="GET /pets")
    assert status(route) == 201
    assert route["RouteKey"] == "GET /pets"
    assert route["AuthorizationType"] == "NONE"
    assert route["ApiKeyRequired"] is False
    assert re.fullmatch(r"[a-z0-9]+", route["RouteId"])
    assert "Target" not in route


@pytest.mark.parametrize(
    "route_key",
    ["$default", "GET /", "ANY /pets/{id}", "GET /files/{proxy+}", "POST /a/b-c/d.e_f~g"],
)
def test_valid_http_route_keys_are_accepted(client: Any, api_id: str, route_key: str) -> None:
    assert client.create_route(ApiId=api_id, RouteKey=route_key)["RouteKey"] == route_key


@pytest.mark.parametrize(
    "route_key",
    [
        "GET /pets/",
        "FOO /x",
        "GET pets",
        "GET /{proxy+}/x",
        "get /pets",
        "GET  /pets",
        "GET /pets//cats",
        "GET /pets/{id",
        "GET /pets/x{id}",
        "$connect",
    ],
)
def test_invalid_http_route_keys_are_rejected(client: Any, api_id: str, route_key: str) -> None:
    message = re.escape(f"The route key '{route_key}' is invalid")
    with pytest.raises(client.exceptions.BadRequestException, match=message):
        client.create_route(ApiId=api_id, RouteKey=route_key)


@pytest.mark.parametrize("route_key", ["$connect", "$disconnect", "$default", "sendmessage"])
def test_websocket_route_keys_are_accepted(client: Any, ws_id: str, route_key: str) -> None:
    assert client.create_route(ApiId=ws_id, RouteKey=route_key)["RouteKey"] == route_key


def test_unknown_dollar_websocket_route_key_is_rejected(client: Any, ws_id: str) -> None:
    with pytest.raises(client.exceptions.BadRequestException, match=re.escape("'$bogus'")):
        client.create_route(ApiId=ws_id, RouteKey="$bogus")


def test_duplicate_route_key_is_a_conflict(client: Any, api_id: str) -> None:
    client.create_route(ApiId=api_id, RouteKey="GET /pets")
    with pytest.raises(client.exceptions.ConflictException, match="GET /pets") as caught:
        client.create_route(ApiId=api_id, RouteKey="GET /pets")
    assert status(caught.value.response) == 409


def test_same_route_key_in_two_apis_is_fine(client: Any, api_id: str) -> None:
    other = client.create_api(Name="other", ProtocolType="HTTP")["ApiId"]
    client.create_route(ApiId=api_id, RouteKey="GET /pets")
    assert client.create_route(ApiId=other, RouteKey="GET /pets")["RouteKey"] == "GET /pets"


def test_route_on_unknown_api_is_not_found(client: Any) -> None:
    message = re.escape(f"Invalid API identifier specified {ACCOUNT}:abcdefghij")
    with pytest.raises(client.exceptions.NotFoundException, match=message):
        client.create_route(ApiId="abcdefghij", RouteKey="GET /pets")


def test_route_target_names_an_existing_integration(client: Any, api_id: str) -> None:
    integration_id = lambda_integration(client, api_id)
    route = client.create_route(
        ApiId=api_id, RouteKey="GET /pets", Target=f"integrations/{integration_id}"
    )
    assert route["Target"] == f"integrations/{integration_id}"


def test_route_target_to_an_unknown_integration_is_not_found(client: Any, api_id: str) -> None:
    with pytest.raises(client.exceptions.NotFoundException, match="Integration identifier"):
        client.create_route(ApiId=api_id, RouteKey="GET /pets", Target="integrations/abc1234")


def test_route_target_of_another_form_is_rejected(client: Any, api_id: str) -> None:
    with pytest.raises(client.exceptions.BadRequestException, match="integrations/"):
        client.create_route(ApiId=api_id, RouteKey="GET /pets", Target="lambda/abc1234")


def test_jwt_route_without_authorizer_id_is_rejected(client: Any, api_id: str) -> None:
    with pytest.raises(client.exceptions.BadRequestException, match="AuthorizerId"):
        client.create_route(ApiId=api_id, RouteKey="GET /pets", AuthorizationType="JWT")


def test_jwt_route_with_unknown_authorizer_is_not_found(client: Any, api_id: str) -> None:
    with pytest.raises(client.exceptions.NotFoundException, match="Authorizer identifier"):
        client.create_route(
            ApiId=api_id, RouteKey="GET /pets", AuthorizationType="JWT", AuthorizerId="abc123"
        )


def jwt_authorizer(client: Any, api_id: str) -> str:
    return str(
        client.create_authorizer(
            ApiId=api_id,
            Name="jwt",
            AuthorizerType="JWT",
            IdentitySource=["$request.header.Authorization"],
            JwtConfiguration={"Issuer": "https://issuer.example", "Audience": ["pets"]},
        )["AuthorizerId"]
    )


def test_jwt_route_with_an_authorizer_and_scopes(client: Any, api_id: str) -> None:
    authorizer_id = jwt_authorizer(client, api_id)
    route = client.create_route(
        ApiId=api_id,
        RouteKey="GET /pets",
        AuthorizationType="JWT",
        AuthorizerId=authorizer_id,
        AuthorizationScopes=["pets/read"],
    )
    assert (route["AuthorizationType"], route["AuthorizerId"]) == ("JWT", authorizer_id)
    assert route["AuthorizationScopes"] == ["pets/read"]


def test_custom_route_with_a_jwt_authorizer_is_rejected(client: Any, api_id: str) -> None:
    authorizer_id = jwt_authorizer(client, api_id)
    with pytest.raises(client.exceptions.BadRequestException, match="REQUEST"):
        client.create_route(
            ApiId=api_id,
            RouteKey="GET /pets",
            AuthorizationType="CUSTOM",
            AuthorizerId=authorizer_id,
        )


def test_update_route_to_none_authorization_drops_authorizer_and_scopes(
    client: Any, api_id: str
) -> None:
    authorizer_id = jwt_authorizer(client, api_id)
    route_id = client.create_route(
        ApiId=api_id,
        RouteKey="GET /pets",
        AuthorizationType="JWT",
        AuthorizerId=authorizer_id,
        AuthorizationScopes=["pets/read"],
    )["RouteId"]
    answer = client.update_route(ApiId=api_id, RouteId=route_id, AuthorizationType="NONE")
    assert answer["AuthorizationType"] == "NONE"
    assert "AuthorizerId" not in answer
    assert "AuthorizationScopes" not in answer


def test_iam_route_needs_no_authorizer(client: Any, api_id: str) -> None:
    route = client.create_route(ApiId=api_id, RouteKey="GET /pets", AuthorizationType="AWS_IAM")
    assert route["AuthorizationType"] == "AWS_IAM"


def test_authorization_scopes_without_jwt_are_rejected(client: Any, api_id: str) -> None:
    with pytest.raises(client.exceptions.BadRequestException, match="AuthorizationScopes"):
        client.create_route(ApiId=api_id, RouteKey="GET /pets", AuthorizationScopes=["read"])


def test_jwt_is_not_an_authorization_type_of_websocket_apis(client: Any, ws_id: str) -> None:
    with pytest.raises(client.exceptions.BadRequestException, match="JWT"):
        client.create_route(
            ApiId=ws_id, RouteKey="$connect", AuthorizationType="JWT", AuthorizerId="abc123"
        )


def test_websocket_authorization_only_on_connect(client: Any, ws_id: str) -> None:
    with pytest.raises(client.exceptions.BadRequestException, match=re.escape("$connect")):
        client.create_route(ApiId=ws_id, RouteKey="sendmessage", AuthorizationType="AWS_IAM")
    route = client.create_route(ApiId=ws_id, RouteKey="$connect", AuthorizationType="AWS_IAM")
    assert route["AuthorizationType"] == "AWS_IAM"


def test_unknown_authorization_type_is_rejected_by_the_server(raw_client: Any, api_id: str) -> None:
    with pytest.raises(raw_client.exceptions.BadRequestException, match="enum value set"):
        raw_client.create_route(ApiId=api_id, RouteKey="GET /pets", AuthorizationType="OPEN")


def test_request_parameters_are_stored(client: Any, ws_id: str) -> None:
    parameters = {HEADER: {"Required": True}, QUERY: {"Required": False}}
    route = client.create_route(ApiId=ws_id, RouteKey="$connect", RequestParameters=parameters)
    assert route["RequestParameters"] == parameters
    got = client.get_route(ApiId=ws_id, RouteId=route["RouteId"])
    assert got["RequestParameters"] == parameters


def test_request_parameter_with_a_bad_key_is_rejected(client: Any, ws_id: str) -> None:
    with pytest.raises(
        client.exceptions.BadRequestException, match=re.escape("route.request.path.x")
    ):
        client.create_route(
            ApiId=ws_id,
            RouteKey="$connect",
            RequestParameters={"route.request.path.x": {"Required": True}},
        )


# GetRoute / GetRoutes


def test_get_route_answers_what_create_answered(client: Any, api_id: str) -> None:
    created = client.create_route(ApiId=api_id, RouteKey="GET /pets", OperationName="listPets")
    got = client.get_route(ApiId=api_id, RouteId=created["RouteId"])
    assert status(got) == 200
    created.pop("ResponseMetadata")
    got.pop("ResponseMetadata")
    assert got == created


def test_get_unknown_route_is_not_found(client: Any, api_id: str) -> None:
    with pytest.raises(
        client.exceptions.NotFoundException, match="Invalid Route identifier specified abc1234"
    ):
        client.get_route(ApiId=api_id, RouteId="abc1234")


def test_get_route_of_unknown_api_names_the_api(client: Any) -> None:
    message = re.escape(f"Invalid API identifier specified {ACCOUNT}:abcdefghij")
    with pytest.raises(client.exceptions.NotFoundException, match=message):
        client.get_route(ApiId="abcdefghij", RouteId="abc1234")


def test_get_routes_lists_and_pages(client: Any, api_id: str) -> None:
    keys = ["GET /a", "GET /b", "GET /c"]
    for key in keys:
        client.create_route(ApiId=api_id, RouteKey=key)
    first = client.get_routes(ApiId=api_id, MaxResults="2")
    second = client.get_routes(ApiId=api_id, MaxResults="2", NextToken=first["NextToken"])
    assert [r["RouteKey"] for r in first["Items"] + second["Items"]] == keys
    assert "NextToken" not in second
    assert len(client.get_routes(ApiId=api_id)["Items"]) == 3


# UpdateRoute


def test_update_route_changes_the_key(client: Any, api_id: str) -> None:
    route_id = client.create_route(ApiId=api_id, RouteKey="GET /pets")["RouteId"]
    answer = client.update_route(ApiId=api_id, RouteId=route_id, RouteKey="POST /pets")
    assert status(answer) == 200
    assert answer["RouteKey"] == "POST /pets"
    assert client.get_route(ApiId=api_id, RouteId=route_id)["RouteKey"] == "POST /pets"


def test_update_route_keeps_members_not_given(client: Any, api_id: str) -> None:
    integration_id = lambda_integration(client, api_id)
    target = f"integrations/{integration_id}"
    route_id = client.create_route(ApiId=api_id, RouteKey="GET /pets", Target=target)["RouteId"]
    client.update_route(ApiId=api_id, RouteId=route_id, OperationName="list")
    route = client.get_route(ApiId=api_id, RouteId=route_id)
    assert (route["RouteKey"], route["Target"], route["OperationName"]) == (
        "GET /pets",
        target,
        "list",
    )


def test_update_route_to_a_taken_key_is_a_conflict(client: Any, api_id: str) -> None:
    client.create_route(ApiId=api_id, RouteKey="GET /a")
    route_id = client.create_route(ApiId=api_id, RouteKey="GET /b")["RouteId"]
    with pytest.raises(client.exceptions.ConflictException):
        client.update_route(ApiId=api_id, RouteId=route_id, RouteKey="GET /a")
    assert client.get_route(ApiId=api_id, RouteId=route_id)["RouteKey"] == "GET /b"


def test_update_route_to_its_own_key_is_fine(client: Any, api_id: str) -> None:
    route_id = client.create_route(ApiId=api_id, RouteKey="GET /a")["RouteId"]
    answer = client.update_route(ApiId=api_id, RouteId=route_id, RouteKey="GET /a")
    assert answer["RouteKey"] == "GET /a"


def test_update_route_with_an_invalid_key_is_rejected(client: Any, api_id: str) -> None:
    route_id = client.create_route(ApiId=api_id, RouteKey="GET /a")["RouteId"]
    with pytest.raises(client.exceptions.BadRequestException, match="invalid"):
        client.update_route(ApiId=api_id, RouteId=route_id, RouteKey="GET /a/")
    assert client.get_route(ApiId=api_id, RouteId=route_id)["RouteKey"] == "GET /a"


def test_update_route_to_an_unknown_integration_is_not_found(client: Any, api_id: str) -> None:
    route_id = client.create_route(ApiId=api_id, RouteKey="GET /a")["RouteId"]
    with pytest.raises(client.exceptions.NotFoundException, match="Integration identifier"):
        client.update_route(ApiId=api_id, RouteId=route_id, Target="integrations/zzz9999")


def test_update_unknown_route_is_not_found(client: Any, api_id: str) -> None:
    with pytest.raises(client.exceptions.NotFoundException, match="Route identifier"):
        client.update_route(ApiId=api_id, RouteId="abc1234", RouteKey="GET /a")


# DeleteRoute


def test_delete_route_answers_204_and_forgets_it(client: Any, api_id: str) -> None:
    route_id = client.create_route(ApiId=api_id, RouteKey="GET /a")["RouteId"]
    assert status(client.delete_route(ApiId=api_id, RouteId=route_id)) == 204
    assert client.get_routes(ApiId=api_id)["Items"] == []
    with pytest.raises(client.exceptions.NotFoundException, match="Route identifier"):
        client.get_route(ApiId=api_id, RouteId=route_id)


def test_deleted_route_key_can_be_created_again(client: Any, api_id: str) -> None:
    route_id = client.create_route(ApiId=api_id, RouteKey="GET /a")["RouteId"]
    client.delete_route(ApiId=api_id, RouteId=route_id)
    assert client.create_route(ApiId=api_id, RouteKey="GET /a")["RouteId"] != route_id


def test_delete_unknown_route_is_not_found(client: Any, api_id: str) -> None:
    with pytest.raises(client.exceptions.NotFoundException, match="Route identifier"):
        client.delete_route(ApiId=api_id, RouteId="abc1234")


# DeleteRouteRequestParameter


def test_delete_route_request_parameter_removes_only_that_one(client: Any, ws_id: str) -> None:
    parameters = {HEADER: {"Required": True}, QUERY: {"Required": False}}
    route_id = client.create_route(ApiId=ws_id, RouteKey="$connect", RequestParameters=parameters)[
        "RouteId"
    ]
    answer = client.delete_route_request_parameter(
        ApiId=ws_id, RouteId=route_id, RequestParameterKey=HEADER
    )
    assert status(answer) == 204
    route = client.get_route(ApiId=ws_id, RouteId=route_id)
    assert route["RequestParameters"] == {QUERY: {"Required": False}}


def test_delete_route_request_parameter_twice_is_not_found(client: Any, ws_id: str) -> None:
    route_id = client.create_route(
        ApiId=ws_id, RouteKey="$connect", RequestParameters={HEADER: {"Required": True}}
    )["RouteId"]
    client.delete_route_request_parameter(ApiId=ws_id, RouteId=route_id, RequestParameterKey=HEADER)
    with pytest.raises(client.exceptions.NotFoundException, match=re.escape(HEADER)):
        client.delete_route_request_parameter(
            ApiId=ws_id, RouteId=route_id, RequestParameterKey=HEADER
        )


def test_delete_unknown_route_request_parameter_is_not_found(client: Any, ws_id: str) -> None:
    route_id = client.create_route(
        ApiId=ws_id, RouteKey="$connect", RequestParameters={HEADER: {"Required": True}}
    )["RouteId"]
    with pytest.raises(client.exceptions.NotFoundException, match=re.escape(QUERY)):
        client.delete_route_request_parameter(
            ApiId=ws_id, RouteId=route_id, RequestParameterKey=QUERY
        )
    route = client.get_route(ApiId=ws_id, RouteId=route_id)
    assert route["RequestParameters"] == {HEADER: {"Required": True}}


def test_delete_request_parameter_of_unknown_route_is_not_found(client: Any, ws_id: str) -> None:
    with pytest.raises(client.exceptions.NotFoundException, match="Route identifier"):
        client.delete_route_request_parameter(
            ApiId=ws_id, RouteId="abc1234", RequestParameterKey=HEADER
        )


def test_delete_request_parameter_redeploys_auto_deploy_stages(client: Any, ws_id: str) -> None:
    route_id = client.create_route(
        ApiId=ws_id, RouteKey="$connect", RequestParameters={HEADER: {"Required": True}}
    )["RouteId"]
    stage = client.create_stage(ApiId=ws_id, StageName="prod", AutoDeploy=True)
    client.delete_route_request_parameter(ApiId=ws_id, RouteId=route_id, RequestParameterKey=HEADER)
    after = client.get_stage(ApiId=ws_id, StageName="prod")["DeploymentId"]
    assert after != stage["DeploymentId"]
