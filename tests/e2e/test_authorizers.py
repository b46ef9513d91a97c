"""CreateAuthorizer, GetAuthorizer(s), UpdateAuthorizer and DeleteAuthorizer."""

from __future__ import annotations

import re
from typing import Any

import pytest

from tests.helpers import body, status

ACCOUNT = "000000000000"
FUNCTION = "arn:aws:lambda:us-east-1:000000000000:function:auth"
URI = f"arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/{FUNCTION}/invocations"
ROLE = "arn:aws:iam::000000000000:role/apigateway-invoke"
ISSUER = "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_abc123"
JWT: dict[str, Any] = {
    "AuthorizerType": "JWT",
    "IdentitySource": ["$request.header.Authorization"],
    "JwtConfiguration": {"Audience": ["client-1"], "Issuer": ISSUER},
    "Name": "jwt",
}
LAMBDA: dict[str, Any] = {
    "AuthorizerType": "REQUEST",
    "AuthorizerUri": URI,
    "AuthorizerPayloadFormatVersion": "2.0",
    "IdentitySource": ["$request.header.Authorization"],
    "Name": "lambda",
}


# CreateAuthorizer: HTTP APIs


def test_create_jwt_authorizer_answers_201(client: Any, api_id: str) -> None:
    created = client.create_authorizer(ApiId=api_id, **JWT)
    assert status(created) == 201
    assert re.fullmatch(r"[a-z0-9]{6}", created["AuthorizerId"])
    assert body(created) == {**JWT, "AuthorizerId": created["AuthorizerId"]}


def test_create_lambda_authorizer_keeps_every_member(client: Any, api_id: str) -> None:
    created = client.create_authorizer(
        ApiId=api_id,
        **LAMBDA,
        EnableSimpleResponses=True,
        AuthorizerResultTtlInSeconds=300,
        AuthorizerCredentialsArn=ROLE,
    )
    assert status(created) == 201
    assert created["AuthorizerUri"] == URI
    assert created["AuthorizerPayloadFormatVersion"] == "2.0"
    assert created["EnableSimpleResponses"] is True
    assert created["AuthorizerResultTtlInSeconds"] == 300
    assert created["AuthorizerCredentialsArn"] == ROLE


def test_lambda_authorizer_without_ttl_shows_no_ttl(client: Any, api_id: str) -> None:
    created = client.create_authorizer(ApiId=api_id, **LAMBDA)
    assert "AuthorizerResultTtlInSeconds" not in created
    assert "JwtConfiguration" not in created


def test_lambda_authorizer_without_caching_takes_no_identity_source(
    client: Any, api_id: str
) -> None:
    created = client.create_authorizer(
        ApiId=api_id, **{**LAMBDA, "IdentitySource": []}, AuthorizerResultTtlInSeconds=0
    )
    assert created["IdentitySource"] == []


@pytest.mark.parametrize("version", ["1.0", "2.0"])
def test_lambda_identity_sources_are_selection_expressions_for_both_versions(
    client: Any, api_id: str, version: str
) -> None:
    sources = [
        "$request.header.X-Token",
        "$request.querystring.token",
        "$context.routeKey",
        "$stageVariables.tenant",
    ]
    created = client.create_authorizer(
        ApiId=api_id,
        **{**LAMBDA, "IdentitySource": sources, "AuthorizerPayloadFormatVersion": version},
    )
    assert created["IdentitySource"] == sources


def test_jwt_authorizer_reads_a_query_string_token(client: Any, api_id: str) -> None:
    jwt = {**JWT, "IdentitySource": ["$request.querystring.token"]}
    assert client.create_authorizer(ApiId=api_id, **jwt)["IdentitySource"] == jwt["IdentitySource"]


def test_lambda_authorizer_without_payload_version_gets_aws_message(
    client: Any, api_id: str
) -> None:
    request = {k: v for k, v in LAMBDA.items() if k != "AuthorizerPayloadFormatVersion"}
    message = "AuthorizerPayloadFormatVersion is a required parameter for REQUEST authorizer"
    with pytest.raises(client.exceptions.BadRequestException, match=message) as caught:
        client.create_authorizer(ApiId=api_id, **request)
    assert caught.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"JwtConfiguration": None}, "JwtConfiguration"),
        ({"JwtConfiguration": {"Issuer": ISSUER}}, "Audience"),
        ({"JwtConfiguration": {"Audience": ["a"]}}, "Issuer"),
        ({"JwtConfiguration": {"Issuer": ISSUER, "Audience": [f"a{i}" for i in range(51)]}}, "50"),
        ({"IdentitySource": ["$request.header.A", "$request.header.B"]}, "exactly one"),
        ({"IdentitySource": ["$context.routeKey"]}, "exactly one"),
        ({"IdentitySource": []}, "exactly one"),
        ({"AuthorizerUri": URI}, "AuthorizerUri is supported only for REQUEST"),
        ({"AuthorizerResultTtlInSeconds": 60}, "AuthorizerResultTtlInSeconds is supported"),
    ],
)
def test_jwt_authorizer_rules(
    client: Any, api_id: str, changes: dict[str, Any], message: str
) -> None:
    request = {k: v for k, v in {**JWT, **changes}.items() if v is not None}
    with pytest.raises(client.exceptions.BadRequestException, match=message):
        client.create_authorizer(ApiId=api_id, **request)


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"AuthorizerUri": None}, "AuthorizerUri is a required parameter"),
        ({"AuthorizerUri": FUNCTION}, "Invalid authorizer URI"),
        ({"AuthorizerUri": "https://example.com/auth"}, "Invalid authorizer URI"),
        ({"AuthorizerPayloadFormatVersion": "3.0"}, "3.0 is not supported"),
        (
            {"AuthorizerPayloadFormatVersion": "1.0", "EnableSimpleResponses": True},
            "EnableSimpleResponses is supported only with AuthorizerPayloadFormatVersion 2.0",
        ),
        ({"IdentitySource": [], "AuthorizerResultTtlInSeconds": 300}, "caching is enabled"),
        ({"IdentitySource": ["route.request.header.Auth"]}, "Invalid identity source"),
        ({"IdentitySource": ["$request.body.token"]}, "Invalid identity source"),
        ({"JwtConfiguration": JWT["JwtConfiguration"]}, "supported only for JWT"),
        ({"AuthorizerCredentialsArn": "arn:aws:iam::1:user/x"}, "Invalid role ARN"),
    ],
)
def test_lambda_authorizer_rules(
    client: Any, api_id: str, changes: dict[str, Any], message: str
) -> None:
    request = {k: v for k, v in {**LAMBDA, **changes}.items() if v is not None}
    with pytest.raises(client.exceptions.BadRequestException, match=re.escape(message)):
        client.create_authorizer(ApiId=api_id, **request)


def test_ttl_above_an_hour_is_refused_by_the_model(raw_client: Any, api_id: str) -> None:
    with pytest.raises(raw_client.exceptions.BadRequestException, match="3600"):
        raw_client.create_authorizer(ApiId=api_id, **LAMBDA, AuthorizerResultTtlInSeconds=3601)


def test_identity_source_is_required_by_the_model(raw_client: Any, api_id: str) -> None:
    request = {k: v for k, v in JWT.items() if k != "IdentitySource"}
    with pytest.raises(raw_client.exceptions.BadRequestException, match="identitySource"):
        raw_client.create_authorizer(ApiId=api_id, **request)


def test_create_authorizer_on_unknown_api_is_404(client: Any) -> None:
    message = f"Invalid API identifier specified {ACCOUNT}:nope"
    with pytest.raises(client.exceptions.NotFoundException, match=message):
        client.create_authorizer(ApiId="nope", **JWT)


# CreateAuthorizer: WebSocket APIs


def test_websocket_lambda_authorizer_uses_route_expressions(client: Any, ws_id: str) -> None:
    sources = ["route.request.header.Auth", "route.request.querystring.token"]
    created = client.create_authorizer(
        ApiId=ws_id,
        AuthorizerType="REQUEST",
        AuthorizerUri=URI,
        IdentitySource=sources,
        Name="connect",
    )
    assert status(created) == 201
    assert created["IdentitySource"] == sources
    assert "AuthorizerPayloadFormatVersion" not in created


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"AuthorizerResultTtlInSeconds": 300}, "cannot be set for WEBSOCKET protocol Apis."),
        ({"AuthorizerPayloadFormatVersion": "2.0"}, "cannot be set for WEBSOCKET protocol Apis."),
        ({"EnableSimpleResponses": True}, "cannot be set for WEBSOCKET protocol Apis."),
        ({"IdentitySource": ["$request.header.Auth"]}, "Invalid identity source"),
        ({"AuthorizerUri": None}, "AuthorizerUri is a required parameter"),
    ],
)
def test_websocket_authorizer_rules(
    client: Any, ws_id: str, changes: dict[str, Any], message: str
) -> None:
    request = {
        "AuthorizerType": "REQUEST",
        "AuthorizerUri": URI,
        "IdentitySource": ["route.request.header.Auth"],
        "Name": "connect",
        **changes,
    }
    request = {k: v for k, v in request.items() if v is not None}
    with pytest.raises(client.exceptions.BadRequestException, match=re.escape(message)):
        client.create_authorizer(ApiId=ws_id, **request)


def test_websocket_apis_take_no_jwt_authorizer(client: Any, ws_id: str) -> None:
    with pytest.raises(client.exceptions.BadRequestException, match="JWT is not supported"):
        client.create_authorizer(ApiId=ws_id, **JWT)


# GetAuthorizer, GetAuthorizers


def test_get_authorizer_answers_what_create_answered(client: Any, api_id: str) -> None:
    created = client.create_authorizer(ApiId=api_id, **JWT)
    got = client.get_authorizer(ApiId=api_id, AuthorizerId=created["AuthorizerId"])
    assert status(got) == 200
    assert body(got) == body(created)


def test_get_unknown_authorizer_is_404(client: Any, api_id: str) -> None:
    message = "Invalid Authorizer identifier specified nope12"
    with pytest.raises(client.exceptions.NotFoundException, match=message) as caught:
        client.get_authorizer(ApiId=api_id, AuthorizerId="nope12")
    assert caught.value.response["ResponseMetadata"]["HTTPStatusCode"] == 404


def test_get_authorizers_lists_in_creation_order_and_pages(client: Any, api_id: str) -> None:
    first = client.create_authorizer(ApiId=api_id, **JWT)["AuthorizerId"]
    second = client.create_authorizer(ApiId=api_id, **LAMBDA)["AuthorizerId"]
    listed = client.get_authorizers(ApiId=api_id)
    assert status(listed) == 200
    assert [a["AuthorizerId"] for a in listed["Items"]] == [first, second]
    page = client.get_authorizers(ApiId=api_id, MaxResults="1")
    assert [a["AuthorizerId"] for a in page["Items"]] == [first]
    rest = client.get_authorizers(ApiId=api_id, MaxResults="1", NextToken=page["NextToken"])
    assert [a["AuthorizerId"] for a in rest["Items"]] == [second]
    assert "NextToken" not in rest


# UpdateAuthorizer


def test_update_authorizer_changes_only_what_is_given(client: Any, api_id: str) -> None:
    created = client.create_authorizer(ApiId=api_id, **JWT)
    updated = client.update_authorizer(
        ApiId=api_id, AuthorizerId=created["AuthorizerId"], Name="renamed"
    )
    assert status(updated) == 200
    assert body(updated) == {**body(created), "Name": "renamed"}


def test_update_jwt_configuration_merges_fields(client: Any, api_id: str) -> None:
    authorizer_id = client.create_authorizer(ApiId=api_id, **JWT)["AuthorizerId"]
    updated = client.update_authorizer(
        ApiId=api_id, AuthorizerId=authorizer_id, JwtConfiguration={"Audience": ["client-2"]}
    )
    assert updated["JwtConfiguration"] == {"Audience": ["client-2"], "Issuer": ISSUER}


def test_update_to_another_type_drops_the_old_members(client: Any, api_id: str) -> None:
    authorizer_id = client.create_authorizer(ApiId=api_id, **JWT)["AuthorizerId"]
    updated = client.update_authorizer(
        ApiId=api_id,
        AuthorizerId=authorizer_id,
        AuthorizerType="REQUEST",
        AuthorizerUri=URI,
        AuthorizerPayloadFormatVersion="1.0",
    )
    assert updated["AuthorizerType"] == "REQUEST"
    assert "JwtConfiguration" not in updated


def test_update_with_empty_credentials_removes_the_role(client: Any, api_id: str) -> None:
    created = client.create_authorizer(ApiId=api_id, **LAMBDA, AuthorizerCredentialsArn=ROLE)
    updated = client.update_authorizer(
        ApiId=api_id, AuthorizerId=created["AuthorizerId"], AuthorizerCredentialsArn=""
    )
    assert "AuthorizerCredentialsArn" not in updated


def test_invalid_update_is_refused_and_changes_nothing(client: Any, api_id: str) -> None:
    created = client.create_authorizer(ApiId=api_id, **LAMBDA)
    with pytest.raises(client.exceptions.BadRequestException, match="EnableSimpleResponses"):
        client.update_authorizer(
            ApiId=api_id,
            AuthorizerId=created["AuthorizerId"],
            AuthorizerPayloadFormatVersion="1.0",
            EnableSimpleResponses=True,
        )
    got = client.get_authorizer(ApiId=api_id, AuthorizerId=created["AuthorizerId"])
    assert body(got) == body(created)


def test_update_unknown_authorizer_is_404(client: Any, api_id: str) -> None:
    with pytest.raises(client.exceptions.NotFoundException, match="Authorizer identifier"):
        client.update_authorizer(ApiId=api_id, AuthorizerId="nope12", Name="x")


# DeleteAuthorizer


def test_delete_authorizer_answers_204(client: Any, api_id: str) -> None:
    authorizer_id = client.create_authorizer(ApiId=api_id, **JWT)["AuthorizerId"]
    assert status(client.delete_authorizer(ApiId=api_id, AuthorizerId=authorizer_id)) == 204
    with pytest.raises(client.exceptions.NotFoundException):
        client.get_authorizer(ApiId=api_id, AuthorizerId=authorizer_id)


def test_delete_unknown_authorizer_is_404(client: Any, api_id: str) -> None:
    with pytest.raises(client.exceptions.NotFoundException, match="nope12"):
        client.delete_authorizer(ApiId=api_id, AuthorizerId="nope12")


def test_route_uses_a_jwt_authorizer_which_then_cannot_be_deleted(client: Any, api_id: str) -> None:
    authorizer_id = client.create_authorizer(ApiId=api_id, **JWT)["AuthorizerId"]
    route = client.create_route(
        ApiId=api_id,
        RouteKey="GET /pets",
        AuthorizationType="JWT",
        AuthorizerId=authorizer_id,
        AuthorizationScopes=["pets:read"],
    )
    assert route["AuthorizerId"] == authorizer_id
    message = "Cannot delete authorizer 'jwt', is referenced in route: GET /pets"
    with pytest.raises(client.exceptions.ConflictException, match=message) as caught:
        client.delete_authorizer(ApiId=api_id, AuthorizerId=authorizer_id)
    assert caught.value.response["ResponseMetadata"]["HTTPStatusCode"] == 409
    client.update_route(ApiId=api_id, RouteId=route["RouteId"], AuthorizationType="NONE")
    assert status(client.delete_authorizer(ApiId=api_id, AuthorizerId=authorizer_id)) == 204


def test_route_with_custom_authorization_uses_a_lambda_authorizer(client: Any, api_id: str) -> None:
    authorizer_id = client.create_authorizer(ApiId=api_id, **LAMBDA)["AuthorizerId"]
    route = client.create_route(
        ApiId=api_id, RouteKey="$default", AuthorizationType="CUSTOM", AuthorizerId=authorizer_id
    )
    assert route["AuthorizationType"] == "CUSTOM"
    with pytest.raises(client.exceptions.ConflictException, match="route: \\$default"):
        client.delete_authorizer(ApiId=api_id, AuthorizerId=authorizer_id)


# Auto-deploy and cascade


def test_authorizer_changes_redeploy_auto_deploying_stages(client: Any, api_id: str) -> None:
    client.create_route(ApiId=api_id, RouteKey="GET /pets")
    first = client.create_stage(ApiId=api_id, StageName="prod", AutoDeploy=True)["DeploymentId"]
    authorizer_id = client.create_authorizer(ApiId=api_id, **JWT)["AuthorizerId"]
    second = client.get_stage(ApiId=api_id, StageName="prod")["DeploymentId"]
    client.update_authorizer(ApiId=api_id, AuthorizerId=authorizer_id, Name="renamed")
    third = client.get_stage(ApiId=api_id, StageName="prod")["DeploymentId"]
    client.delete_authorizer(ApiId=api_id, AuthorizerId=authorizer_id)
    fourth = client.get_stage(ApiId=api_id, StageName="prod")["DeploymentId"]
    assert len({first, second, third, fourth}) == 4
    deployments = client.get_deployments(ApiId=api_id)["Items"]
    assert {d["DeploymentId"] for d in deployments} == {first, second, third, fourth}
    assert all(d["AutoDeployed"] for d in deployments)


def test_deleting_the_api_deletes_its_authorizers(client: Any, api_id: str) -> None:
    authorizer_id = client.create_authorizer(ApiId=api_id, **JWT)["AuthorizerId"]
    client.delete_api(ApiId=api_id)
    with pytest.raises(client.exceptions.NotFoundException, match="Invalid API identifier"):
        client.get_authorizer(ApiId=api_id, AuthorizerId=authorizer_id)
    with pytest.raises(client.exceptions.NotFoundException, match="Invalid API identifier"):
        client.get_authorizers(ApiId=api_id)
