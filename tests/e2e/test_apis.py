"""CreateApi, GetApi(s), UpdateApi, DeleteApi and DeleteCorsConfiguration through boto3."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlsplit

import pytest

from tests.helpers import status

ACCOUNT = "000000000000"
FUNCTION = "arn:aws:lambda:us-east-1:000000000000:function:pets"
WEBSOCKET = {"ProtocolType": "WEBSOCKET", "RouteSelectionExpression": "$request.body.action"}
CORS = {
    "AllowOrigins": ["https://example.com"],
    "AllowMethods": ["GET", "POST"],
    "AllowHeaders": ["authorization"],
    "ExposeHeaders": ["x-request-id"],
    "MaxAge": 300,
    "AllowCredentials": True,
}


def missing_api(api_id: str) -> str:
    return re.escape(f"Invalid API identifier specified {ACCOUNT}:{api_id}")


# CreateApi


def test_create_http_api_answers_201_with_defaults(client: Any) -> None:
    api = client.create_api(Name="pets", ProtocolType="HTTP", Description="d", Version="1")
    assert status(api) == 201
    assert api["Name"] == "pets"
    assert api["ProtocolType"] == "HTTP"
    assert api["RouteSelectionExpression"] == "$request.method $request.path"
    assert api["ApiKeySelectionExpression"] == "$request.header.x-api-key"
    assert api["DisableExecuteApiEndpoint"] is False
    assert api["Description"] == "d"
    assert api["Version"] == "1"
    assert api["Tags"] == {}
    assert "CreatedDate" in api


def test_api_id_is_ten_lowercase_letters_or_digits(client: Any) -> None:
    ids = {client.create_api(Name=f"a{n}", ProtocolType="HTTP")["ApiId"] for n in range(5)}
    assert len(ids) == 5
    assert all(re.fullmatch(r"[a-z0-9]{10}", api_id) for api_id in ids)


def test_http_api_endpoint_names_the_api_on_the_server_port(client: Any, url: str) -> None:
    api = client.create_api(Name="pets", ProtocolType="HTTP")
    port = urlsplit(url).port
    assert api["ApiEndpoint"] == f"http://{api['ApiId']}.execute-api.localhost:{port}"


def test_websocket_api_has_ws_endpoint_and_its_own_defaults(client: Any, url: str) -> None:
    api = client.create_api(Name="chat", **WEBSOCKET)
    port = urlsplit(url).port
    assert api["ApiEndpoint"] == f"ws://{api['ApiId']}.execute-api.localhost:{port}"
    assert api["RouteSelectionExpression"] == "$request.body.action"
    assert api["ApiKeySelectionExpression"] == "$request.header.x-api-key"
    assert api["DisableSchemaValidation"] is False


def test_websocket_api_without_route_selection_expression_is_rejected(client: Any) -> None:
    with pytest.raises(client.exceptions.BadRequestException, match="RouteSelectionExpression"):
        client.create_api(Name="chat", ProtocolType="WEBSOCKET")


def test_http_api_accepts_the_documented_route_selection_expression(client: Any) -> None:
    api = client.create_api(
        Name="pets",
        ProtocolType="HTTP",
        RouteSelectionExpression="${request.method} ${request.path}",
    )
    assert api["RouteSelectionExpression"] == "$request.method $request.path"


def test_http_api_rejects_another_route_selection_expression(client: Any) -> None:
    with pytest.raises(client.exceptions.BadRequestException, match="route selection"):
        client.create_api(
            Name="pets", ProtocolType="HTTP", RouteSelectionExpression="$request.body.action"
        )


def test_create_api_without_name_is_rejected_by_the_server(raw_client: Any) -> None:
    with pytest.raises(raw_client.exceptions.BadRequestException, match="'name'"):
        raw_client.create_api(ProtocolType="HTTP")


def test_create_api_with_unknown_protocol_is_rejected(raw_client: Any) -> None:
    with pytest.raises(raw_client.exceptions.BadRequestException, match="enum value set"):
        raw_client.create_api(Name="x", ProtocolType="REST")


def test_create_api_keeps_its_tags(client: Any) -> None:
    api = client.create_api(Name="pets", ProtocolType="HTTP", Tags={"team": "blue"})
    assert api["Tags"] == {"team": "blue"}
    assert client.get_api(ApiId=api["ApiId"])["Tags"] == {"team": "blue"}


def test_create_api_rejects_reserved_tag_keys(client: Any) -> None:
    with pytest.raises(client.exceptions.BadRequestException, match="aws:"):
        client.create_api(Name="pets", ProtocolType="HTTP", Tags={"aws:owner": "me"})
    assert client.get_apis()["Items"] == []


# CORS


def test_cors_configuration_is_stored_and_returned(client: Any) -> None:
    api = client.create_api(Name="pets", ProtocolType="HTTP", CorsConfiguration=CORS)
    assert api["CorsConfiguration"] == CORS
    assert client.get_api(ApiId=api["ApiId"])["CorsConfiguration"] == CORS


def test_cors_with_credentials_and_any_origin_is_rejected(client: Any) -> None:
    cors = {"AllowOrigins": ["*"], "AllowCredentials": True}
    with pytest.raises(client.exceptions.BadRequestException, match="AllowCredentials"):
        client.create_api(Name="pets", ProtocolType="HTTP", CorsConfiguration=cors)


def test_cors_with_an_unknown_method_is_rejected(client: Any) -> None:
    cors = {"AllowOrigins": ["*"], "AllowMethods": ["FETCH"]}
    with pytest.raises(client.exceptions.BadRequestException, match="FETCH"):
        client.create_api(Name="pets", ProtocolType="HTTP", CorsConfiguration=cors)


def test_cors_is_refused_on_websocket_apis(client: Any) -> None:
    with pytest.raises(client.exceptions.BadRequestException, match="CORS"):
        client.create_api(Name="chat", CorsConfiguration={"AllowOrigins": ["*"]}, **WEBSOCKET)


def test_update_api_with_credentials_and_any_origin_is_rejected(client: Any) -> None:
    api_id = client.create_api(Name="pets", ProtocolType="HTTP")["ApiId"]
    cors = {"AllowOrigins": ["*"], "AllowCredentials": True}
    with pytest.raises(client.exceptions.BadRequestException, match="AllowCredentials"):
        client.update_api(ApiId=api_id, CorsConfiguration=cors)
    assert "CorsConfiguration" not in client.get_api(ApiId=api_id)


def test_delete_cors_configuration_removes_it(client: Any) -> None:
    api_id = client.create_api(Name="pets", ProtocolType="HTTP", CorsConfiguration=CORS)["ApiId"]
    answer = client.delete_cors_configuration(ApiId=api_id)
    assert status(answer) == 204
    assert "CorsConfiguration" not in client.get_api(ApiId=api_id)


def test_delete_cors_configuration_of_unknown_api_is_not_found(client: Any) -> None:
    with pytest.raises(client.exceptions.NotFoundException, match=missing_api("abcdefghij")):
        client.delete_cors_configuration(ApiId="abcdefghij")


# GetApi / GetApis


def test_get_api_answers_what_create_answered(client: Any) -> None:
    created = client.create_api(Name="pets", ProtocolType="HTTP", Description="d")
    got = client.get_api(ApiId=created["ApiId"])
    assert status(got) == 200
    created.pop("ResponseMetadata")
    got.pop("ResponseMetadata")
    assert got == created


def test_get_unknown_api_is_not_found_with_the_aws_message(client: Any) -> None:
    with pytest.raises(client.exceptions.NotFoundException, match=missing_api("abcdefghij")) as e:
        client.get_api(ApiId="abcdefghij")
    assert status(e.value.response) == 404


def test_get_apis_lists_in_creation_order(client: Any) -> None:
    names = ["a", "b", "c"]
    for name in names:
        client.create_api(Name=name, ProtocolType="HTTP")
    answer = client.get_apis()
    assert status(answer) == 200
    assert [api["Name"] for api in answer["Items"]] == names
    assert all("ApiEndpoint" in api for api in answer["Items"])
    assert "NextToken" not in answer


def test_get_apis_pages_with_max_results_and_next_token(client: Any) -> None:
    for n in range(5):
        client.create_api(Name=f"api{n}", ProtocolType="HTTP")
    first = client.get_apis(MaxResults="2")
    second = client.get_apis(MaxResults="2", NextToken=first["NextToken"])
    third = client.get_apis(MaxResults="2", NextToken=second["NextToken"])
    pages = [first, second, third]
    assert [[api["Name"] for api in page["Items"]] for page in pages] == [
        ["api0", "api1"],
        ["api2", "api3"],
        ["api4"],
    ]
    assert "NextToken" not in third


def test_get_apis_paginator_walks_every_page(client: Any) -> None:
    for n in range(5):
        client.create_api(Name=f"api{n}", ProtocolType="HTTP")
    pages = client.get_paginator("get_apis").paginate(PaginationConfig={"PageSize": 2})
    assert [api["Name"] for page in pages for api in page["Items"]] == [f"api{n}" for n in range(5)]


def test_get_apis_with_a_bad_token_is_rejected(client: Any) -> None:
    with pytest.raises(client.exceptions.BadRequestException, match="pagination token"):
        client.get_apis(NextToken="not-a-token")


def test_get_apis_with_zero_max_results_is_rejected(client: Any) -> None:
    with pytest.raises(client.exceptions.BadRequestException, match="MaxResults"):
        client.get_apis(MaxResults="0")


# UpdateApi


def test_update_api_changes_given_members_only(client: Any) -> None:
    api_id = client.create_api(Name="pets", ProtocolType="HTTP", Description="d")["ApiId"]
    answer = client.update_api(ApiId=api_id, Name="cats", DisableExecuteApiEndpoint=True)
    assert status(answer) == 200
    got = client.get_api(ApiId=api_id)
    assert (got["Name"], got["Description"], got["DisableExecuteApiEndpoint"]) == (
        "cats",
        "d",
        True,
    )
    assert got["ProtocolType"] == "HTTP"


def test_update_api_replaces_cors_configuration(client: Any) -> None:
    api_id = client.create_api(Name="pets", ProtocolType="HTTP", CorsConfiguration=CORS)["ApiId"]
    client.update_api(ApiId=api_id, CorsConfiguration={"AllowOrigins": ["https://a.example"]})
    cors = client.get_api(ApiId=api_id)["CorsConfiguration"]
    assert cors == {"AllowOrigins": ["https://a.example"]}


def test_update_unknown_api_is_not_found(client: Any) -> None:
    with pytest.raises(client.exceptions.NotFoundException, match=missing_api("abcdefghij")):
        client.update_api(ApiId="abcdefghij", Name="x")


def test_update_api_target_on_an_api_not_quick_created_is_rejected(client: Any) -> None:
    api_id = client.create_api(Name="pets", ProtocolType="HTTP")["ApiId"]
    with pytest.raises(client.exceptions.BadRequestException, match="quick-created"):
        client.update_api(ApiId=api_id, Target=FUNCTION)


def test_update_websocket_api_route_selection_expression(client: Any) -> None:
    api_id = client.create_api(Name="chat", **WEBSOCKET)["ApiId"]
    client.update_api(ApiId=api_id, RouteSelectionExpression="$request.body.type")
    assert client.get_api(ApiId=api_id)["RouteSelectionExpression"] == "$request.body.type"


# Quick create


def only(items: list[dict[str, Any]]) -> dict[str, Any]:
    assert len(items) == 1
    return items[0]


def test_quick_create_with_a_function_makes_a_lambda_proxy_integration(client: Any) -> None:
    api_id = client.create_api(Name="q", ProtocolType="HTTP", Target=FUNCTION)["ApiId"]
    integration = only(client.get_integrations(ApiId=api_id)["Items"])
    assert integration["IntegrationType"] == "AWS_PROXY"
    assert integration["PayloadFormatVersion"] == "2.0"
    assert integration["IntegrationUri"] == FUNCTION
    assert integration["ApiGatewayManaged"] is True


def test_quick_create_makes_a_default_route_to_the_integration(client: Any) -> None:
    api_id = client.create_api(Name="q", ProtocolType="HTTP", Target=FUNCTION)["ApiId"]
    integration = only(client.get_integrations(ApiId=api_id)["Items"])
    route = only(client.get_routes(ApiId=api_id)["Items"])
    assert route["RouteKey"] == "$default"
    assert route["Target"] == f"integrations/{integration['IntegrationId']}"
    assert route["ApiGatewayManaged"] is True


def test_quick_create_makes_an_auto_deployed_default_stage(client: Any) -> None:
    api_id = client.create_api(Name="q", ProtocolType="HTTP", Target=FUNCTION)["ApiId"]
    stage = only(client.get_stages(ApiId=api_id)["Items"])
    deployment = only(client.get_deployments(ApiId=api_id)["Items"])
    assert stage["StageName"] == "$default"
    assert stage["AutoDeploy"] is True
    assert stage["ApiGatewayManaged"] is True
    assert stage["DeploymentId"] == deployment["DeploymentId"]
    assert deployment["AutoDeployed"] is True


def test_quick_create_with_a_url_makes_an_http_proxy_for_any_method(client: Any) -> None:
    api_id = client.create_api(
        Name="q", ProtocolType="HTTP", Target="https://example.com/pets", RouteKey="GET /pets"
    )["ApiId"]
    integration = only(client.get_integrations(ApiId=api_id)["Items"])
    assert integration["IntegrationType"] == "HTTP_PROXY"
    assert integration["IntegrationMethod"] == "ANY"
    assert integration["IntegrationUri"] == "https://example.com/pets"
    assert only(client.get_routes(ApiId=api_id)["Items"])["RouteKey"] == "GET /pets"


def test_quick_create_response_does_not_echo_target(client: Any) -> None:
    api = client.create_api(Name="q", ProtocolType="HTTP", Target=FUNCTION)
    assert "Target" not in api
    assert "RouteKey" not in api


def test_route_key_without_target_is_rejected(client: Any) -> None:
    with pytest.raises(client.exceptions.BadRequestException, match="Target"):
        client.create_api(Name="q", ProtocolType="HTTP", RouteKey="GET /pets")


def test_quick_create_is_refused_on_websocket_apis(client: Any) -> None:
    with pytest.raises(client.exceptions.BadRequestException, match="Quick create"):
        client.create_api(Name="chat", Target=FUNCTION, **WEBSOCKET)


def test_quick_create_with_an_invalid_target_leaves_no_api_behind(client: Any) -> None:
    with pytest.raises(client.exceptions.BadRequestException):
        client.create_api(Name="q", ProtocolType="HTTP", Target="not a url")
    assert client.get_apis()["Items"] == []


def test_quick_create_with_an_invalid_route_key_leaves_no_api_behind(client: Any) -> None:
    with pytest.raises(client.exceptions.BadRequestException, match="route key"):
        client.create_api(Name="q", ProtocolType="HTTP", Target=FUNCTION, RouteKey="GET /pets/")
    assert client.get_apis()["Items"] == []


def test_update_api_target_repoints_the_managed_integration(client: Any) -> None:
    api_id = client.create_api(Name="q", ProtocolType="HTTP", Target=FUNCTION)["ApiId"]
    other = "arn:aws:lambda:us-east-1:000000000000:function:other"
    client.update_api(ApiId=api_id, Target=other)
    assert only(client.get_integrations(ApiId=api_id)["Items"])["IntegrationUri"] == other


def test_update_api_route_key_renames_the_managed_route(client: Any) -> None:
    api_id = client.create_api(Name="q", ProtocolType="HTTP", Target=FUNCTION)["ApiId"]
    client.update_api(ApiId=api_id, RouteKey="POST /orders")
    assert only(client.get_routes(ApiId=api_id)["Items"])["RouteKey"] == "POST /orders"


def test_update_api_target_redeploys_the_default_stage(client: Any) -> None:
    api_id = client.create_api(Name="q", ProtocolType="HTTP", Target=FUNCTION)["ApiId"]
    before = client.get_stage(ApiId=api_id, StageName="$default")["DeploymentId"]
    client.update_api(ApiId=api_id, RouteKey="GET /pets")
    after = client.get_stage(ApiId=api_id, StageName="$default")["DeploymentId"]
    assert after != before


def test_quick_create_passes_credentials_to_the_integration(client: Any) -> None:
    role = "arn:aws:iam::000000000000:role/invoker"
    api_id = client.create_api(Name="q", ProtocolType="HTTP", Target=FUNCTION, CredentialsArn=role)[
        "ApiId"
    ]
    assert only(client.get_integrations(ApiId=api_id)["Items"])["CredentialsArn"] == role


def test_update_api_credentials_reach_the_managed_integration(client: Any) -> None:
    role = "arn:aws:iam::000000000000:role/invoker"
    api_id = client.create_api(Name="q", ProtocolType="HTTP", Target=FUNCTION)["ApiId"]
    client.update_api(ApiId=api_id, CredentialsArn=role)
    integration = only(client.get_integrations(ApiId=api_id)["Items"])
    assert (integration["CredentialsArn"], integration["IntegrationUri"]) == (role, FUNCTION)


def test_cors_changes_redeploy_auto_deploy_stages(client: Any) -> None:
    api_id = client.create_api(Name="q", ProtocolType="HTTP", Target=FUNCTION)["ApiId"]
    first = client.get_stage(ApiId=api_id, StageName="$default")["DeploymentId"]
    client.update_api(ApiId=api_id, CorsConfiguration={"AllowOrigins": ["https://a.example"]})
    second = client.get_stage(ApiId=api_id, StageName="$default")["DeploymentId"]
    client.delete_cors_configuration(ApiId=api_id)
    third = client.get_stage(ApiId=api_id, StageName="$default")["DeploymentId"]
    assert len({first, second, third}) == 3


def test_update_api_with_an_invalid_route_key_changes_nothing(client: Any) -> None:
    api_id = client.create_api(Name="q", ProtocolType="HTTP", Target=FUNCTION)["ApiId"]
    with pytest.raises(client.exceptions.BadRequestException, match="route key"):
        client.update_api(ApiId=api_id, Name="renamed", RouteKey="GET pets")
    assert client.get_api(ApiId=api_id)["Name"] == "q"
    assert only(client.get_routes(ApiId=api_id)["Items"])["RouteKey"] == "$default"


def test_update_api_route_key_taken_by_another_route_is_a_conflict(client: Any) -> None:
    api_id = client.create_api(Name="q", ProtocolType="HTTP", Target=FUNCTION)["ApiId"]
    client.create_route(ApiId=api_id, RouteKey="GET /taken")
    with pytest.raises(client.exceptions.ConflictException):
        client.update_api(ApiId=api_id, Name="renamed", RouteKey="GET /taken")
    assert client.get_api(ApiId=api_id)["Name"] == "q"


# DeleteApi


def test_delete_api_answers_204_and_forgets_it(client: Any) -> None:
    api_id = client.create_api(Name="pets", ProtocolType="HTTP")["ApiId"]
    assert status(client.delete_api(ApiId=api_id)) == 204
    assert client.get_apis()["Items"] == []
    with pytest.raises(client.exceptions.NotFoundException, match=missing_api(api_id)):
        client.get_api(ApiId=api_id)


def test_delete_api_cascades_to_its_children(client: Any) -> None:
    api_id = client.create_api(Name="q", ProtocolType="HTTP", Target=FUNCTION)["ApiId"]
    route_id = client.get_routes(ApiId=api_id)["Items"][0]["RouteId"]
    client.delete_api(ApiId=api_id)
    with pytest.raises(client.exceptions.NotFoundException, match=missing_api(api_id)):
        client.get_route(ApiId=api_id, RouteId=route_id)
    with pytest.raises(client.exceptions.NotFoundException, match=missing_api(api_id)):
        client.get_stages(ApiId=api_id)


def test_delete_api_leaves_other_apis_alone(client: Any) -> None:
    doomed = client.create_api(Name="a", ProtocolType="HTTP")["ApiId"]
    kept = client.create_api(Name="b", ProtocolType="HTTP")["ApiId"]
    client.delete_api(ApiId=doomed)
    assert [api["ApiId"] for api in client.get_apis()["Items"]] == [kept]


def test_delete_unknown_api_is_not_found(client: Any) -> None:
    with pytest.raises(client.exceptions.NotFoundException, match=missing_api("abcdefghij")):
        client.delete_api(ApiId="abcdefghij")
