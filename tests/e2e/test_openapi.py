from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from botocore.exceptions import ClientError

DATA = Path(__file__).parent.parent / "data" / "openapi"
LAMBDA = "arn:aws:lambda:us-east-1:000000000000:function"


def body(name: str) -> str:
    return (DATA / name).read_text()


def document(paths: dict[str, Any], **extra: Any) -> str:
    return json.dumps(
        {"openapi": "3.0.1", "info": {"title": "Tiny", "version": "1"}, "paths": paths, **extra}
    )


def http_operation(uri: str = "https://example.com/", **extra: Any) -> dict[str, Any]:
    integration = {"type": "http_proxy", "httpMethod": "ANY", "uri": uri}
    return {
        "x-amazon-apigateway-integration": {**integration, "payloadFormatVersion": "1.0"},
        **extra,
    }


def routes_by_key(client: Any, api_id: str) -> dict[str, dict[str, Any]]:
    return {r["RouteKey"]: r for r in client.get_routes(ApiId=api_id)["Items"]}


def integration_of(client: Any, api_id: str, route: dict[str, Any]) -> dict[str, Any]:
    integration_id = route["Target"].removeprefix("integrations/")
    found: dict[str, Any] = client.get_integration(ApiId=api_id, IntegrationId=integration_id)
    return found


def error_of(call: Any, **kwargs: Any) -> tuple[str, str]:
    with pytest.raises(ClientError) as caught:
        call(**kwargs)
    error = caught.value.response["Error"]
    return error["Code"], error["Message"]


def export(client: Any, api_id: str, output: str = "JSON", **kwargs: Any) -> dict[str, Any]:
    answer = client.export_api(ApiId=api_id, Specification="OAS30", OutputType=output, **kwargs)
    text = answer["body"].read().decode()
    loaded: dict[str, Any] = json.loads(text) if output == "JSON" else yaml.safe_load(text)
    return loaded


# -- import -------------------------------------------------------------------------------------


def test_import_yaml_builds_routes_integrations_and_api_settings(client: Any) -> None:
    api = client.import_api(Body=body("bookshop.yaml"))
    assert (api["Name"], api["Version"], api["ProtocolType"]) == ("Bookshop", "3", "HTTP")
    assert api["Description"] == "Books, reviews and a catalogue proxy."
    assert api["DisableExecuteApiEndpoint"] is True
    assert api["CorsConfiguration"] == {
        "AllowOrigins": ["*"],
        "AllowMethods": ["GET", "POST"],
        "MaxAge": 300,
    }
    routes = routes_by_key(client, api["ApiId"])
    assert set(routes) == {"GET /books", "POST /books", "GET /books/{isbn}/reviews", "GET /"}
    assert routes["GET /books"]["OperationName"] == "ListBooks"
    books = integration_of(client, api["ApiId"], routes["GET /books"])
    assert books["IntegrationType"] == "AWS_PROXY"
    assert books["IntegrationUri"] == f"{LAMBDA}:books"
    assert books["PayloadFormatVersion"] == "2.0"
    reviews = integration_of(client, api["ApiId"], routes["GET /books/{isbn}/reviews"])
    assert reviews["PayloadFormatVersion"] == "1.0"
    assert reviews["TimeoutInMillis"] == 8000
    home = integration_of(client, api["ApiId"], routes["GET /"])
    assert (home["IntegrationType"], home["IntegrationMethod"]) == ("HTTP_PROXY", "GET")


def test_import_json_reads_http_proxy_settings(client: Any) -> None:
    api_id = client.import_api(Body=body("petstore.json"))["ApiId"]
    route = routes_by_key(client, api_id)["GET /pets/{petId}"]
    integration = integration_of(client, api_id, route)
    assert integration["IntegrationUri"] == "https://backend.example.com/pets/{petId}"
    assert integration["TimeoutInMillis"] == 5000
    assert integration["RequestParameters"] == {"append:header.x-source": "propylon"}
    assert integration["ResponseParameters"] == {"404": {"overwrite:statuscode": "410"}}


def test_import_resolves_aws_variables_and_stores_lambda_uris_as_function_arns(
    client: Any,
) -> None:
    api_id = client.import_api(Body=body("petstore.json"))["ApiId"]
    route = routes_by_key(client, api_id)["POST /pets"]
    assert integration_of(client, api_id, route)["IntegrationUri"] == f"{LAMBDA}:create-pet"


def test_any_method_is_an_any_route_and_is_default_route_the_default_route(client: Any) -> None:
    api_id = client.import_api(Body=body("petstore.json"))["ApiId"]
    routes = routes_by_key(client, api_id)
    assert "ANY /owners/{proxy+}" in routes
    fallback = integration_of(client, api_id, routes["$default"])
    assert fallback["IntegrationUri"] == f"{LAMBDA}:fallback"


def test_import_reads_tags_from_tag_value(client: Any) -> None:
    api = client.import_api(Body=body("petstore.json"))
    assert api["Tags"] == {"team": "pets", "public": ""}


def test_components_integrations_are_shared_by_reference_and_kept_when_unused(
    client: Any,
) -> None:
    api = client.import_api(Body=body("integrations.json"))
    routes = routes_by_key(client, api["ApiId"])
    targets = {key: route["Target"] for key, route in routes.items()}
    assert targets["GET /orders"] == targets["POST /orders"] == targets["GET /orders/{orderId}"]
    assert targets["POST /checkout"] != targets["GET /orders"]
    uris = {i["IntegrationUri"] for i in client.get_integrations(ApiId=api["ApiId"])["Items"]}
    assert uris == {
        f"{LAMBDA}:orders",
        f"{LAMBDA}:spare",
        "https://checkout.example.com/checkout",
    }
    assert any("passthroughBehavior" in line for line in api["ImportInfo"])


def test_aws_proxy_without_payload_format_version_gets_2_0(client: Any) -> None:
    operation = {"x-amazon-apigateway-integration": {"type": "aws_proxy", "uri": f"{LAMBDA}:f"}}
    api_id = client.import_api(Body=document({"/f": {"get": operation}}))["ApiId"]
    route = routes_by_key(client, api_id)["GET /f"]
    assert integration_of(client, api_id, route)["PayloadFormatVersion"] == "2.0"


# -- base path ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("mode", "expected"),
    [
        (None, {"GET /books", "GET /"}),
        ("ignore", {"GET /books", "GET /"}),
        ("prepend", {"GET /shop/v2/books", "GET /shop/v2"}),
        ("split", {"GET /v2/books", "GET /v2"}),
    ],
)
def test_basepath_modes_read_the_server_url_path(
    client: Any, mode: str | None, expected: set[str]
) -> None:
    kwargs = {"Basepath": mode} if mode else {}
    api_id = client.import_api(Body=body("bookshop.yaml"), **kwargs)["ApiId"]
    assert expected <= set(routes_by_key(client, api_id))


def test_basepath_server_variable_is_prepended_but_not_to_the_default_route(client: Any) -> None:
    api_id = client.import_api(Body=body("petstore.json"), Basepath="prepend")["ApiId"]
    keys = set(routes_by_key(client, api_id))
    assert {"GET /v1/pets", "ANY /v1/owners/{proxy+}", "$default"} <= keys


def test_unknown_basepath_mode_is_refused(client: Any) -> None:
    code, message = error_of(client.import_api, Body=body("bookshop.yaml"), Basepath="strip")
    assert code == "BadRequestException"
    assert "ignore, prepend, split" in message


# -- warnings -----------------------------------------------------------------------------------


def test_warnings_are_listed_and_the_rest_is_imported(client: Any) -> None:
    api = client.import_api(Body=body("warnings.json"))
    warnings = "\n".join(api["Warnings"])
    for expected in (
        "x-amazon-apigateway-api-key-source",
        "x-amazon-apigateway-request-validators",
        "x-amazon-apigateway-request-validator ",
        "integration type aws is not supported",
        "POST /reports: the operation has no x-amazon-apigateway-integration",
        "TRACE",
        "components.securitySchemes.api_key",
    ):
        assert expected in warnings
    routes = routes_by_key(client, api["ApiId"])
    assert set(routes) == {"GET /health", "GET /reports", "POST /reports", "GET /admin"}
    assert "Target" not in routes["GET /reports"]
    assert routes["GET /admin"]["AuthorizationType"] == "NONE"


def test_fail_on_warnings_refuses_the_import_and_creates_nothing(client: Any) -> None:
    code, message = error_of(client.import_api, Body=body("warnings.json"), FailOnWarnings=True)
    assert code == "BadRequestException"
    assert message.startswith("Warnings found during import:")
    assert "integration type aws is not supported" in message
    assert client.get_apis()["Items"] == []


def test_fail_on_warnings_imports_a_clean_document(client: Any) -> None:
    api = client.import_api(Body=body("bookshop.yaml"), FailOnWarnings=True)
    assert "Warnings" not in api
    assert len(routes_by_key(client, api["ApiId"])) == 4


# -- errors -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('{"openapi": "3.0.1", "info": ', "Unable to parse the definition as JSON or YAML"),
        ("openapi: 3.0.1\ninfo: [unclosed", "Unable to parse the definition as JSON or YAML"),
        ('["openapi", "3.0.1"]', "must be a JSON or YAML object"),
        ("just some words", "must be a JSON or YAML object"),
        ('{"swagger": "2.0", "info": {"title": "t"}, "paths": {}}', "only OpenAPI 3.0"),
        ('{"openapi": "3.1.0", "info": {"title": "t"}, "paths": {}}', "Unsupported OpenAPI"),
        ('{"openapi": "3.0.1", "info": {"title": "t"}}', "must have a paths object"),
        ('{"openapi": "3.0.1", "info": {}, "paths": {}}', "info.title is required"),
    ],
)
def test_malformed_bodies_are_refused(client: Any, text: str, expected: str) -> None:
    code, message = error_of(client.import_api, Body=text)
    assert code == "BadRequestException"
    assert expected in message
    assert client.get_apis()["Items"] == []


def test_unsupported_importexport_version_is_refused(client: Any) -> None:
    text = document({}, **{"x-amazon-apigateway-importexport-version": "2.0"})
    code, message = error_of(client.import_api, Body=text)
    assert (code, "the only supported version is 1.0" in message) == ("BadRequestException", True)


def test_unresolvable_integration_reference_is_refused(client: Any) -> None:
    ref = {"$ref": "#/components/x-amazon-apigateway-integrations/missing"}
    text = document({"/a": {"get": {"x-amazon-apigateway-integration": ref}}})
    code, message = error_of(client.import_api, Body=text)
    assert code == "BadRequestException"
    assert "Unable to resolve reference" in message


def test_a_route_the_model_refuses_names_its_route_and_leaves_no_api(client: Any) -> None:
    paths = {
        "/fine": {"get": http_operation()},
        "/broken": {"get": http_operation(uri="not a url")},
    }
    code, message = error_of(client.import_api, Body=document(paths))
    assert code == "BadRequestException"
    assert message.startswith("GET /broken x-amazon-apigateway-integration:")
    assert client.get_apis()["Items"] == []


def test_integration_values_are_checked_against_the_model(client: Any) -> None:
    operation = http_operation()
    operation["x-amazon-apigateway-integration"]["timeoutInMillis"] = "soon"
    code, message = error_of(client.import_api, Body=document({"/a": {"get": operation}}))
    assert code == "BadRequestException"
    assert "timeoutInMillis" in message


def test_an_invalid_route_path_is_refused(client: Any) -> None:
    code, message = error_of(
        client.import_api, Body=document({"/a/{rest+}/b": {"get": http_operation()}})
    )
    assert code == "BadRequestException"
    assert "route key 'GET /a/{rest+}/b' is invalid" in message


# -- re-import ----------------------------------------------------------------------------------


def test_reimport_replaces_the_definition_and_keeps_id_and_stages(client: Any) -> None:
    api_id = client.import_api(Body=body("bookshop.yaml"))["ApiId"]
    deployment = client.create_deployment(ApiId=api_id)["DeploymentId"]
    client.create_stage(ApiId=api_id, StageName="prod", DeploymentId=deployment)
    api = client.reimport_api(ApiId=api_id, Body=body("integrations.json"))
    assert (api["ApiId"], api["Name"], api["Version"]) == (api_id, "Orders", "1.0")
    assert "CorsConfiguration" not in api
    assert api["DisableExecuteApiEndpoint"] is False
    assert set(routes_by_key(client, api_id)) == {
        "GET /orders",
        "POST /orders",
        "GET /orders/{orderId}",
        "POST /checkout",
    }
    assert len(client.get_integrations(ApiId=api_id)["Items"]) == 3
    assert client.get_stage(ApiId=api_id, StageName="prod")["DeploymentId"] == deployment


def test_reimport_redeploys_auto_deploy_stages_once(client: Any) -> None:
    api_id = client.import_api(Body=body("bookshop.yaml"))["ApiId"]
    client.create_stage(ApiId=api_id, StageName="$default", AutoDeploy=True)
    before = client.get_deployments(ApiId=api_id)["Items"]
    client.reimport_api(ApiId=api_id, Body=body("integrations.json"))
    after = client.get_deployments(ApiId=api_id)["Items"]
    assert len(after) == len(before) + 1
    exported = export(client, api_id, StageName="$default")
    assert "/orders" in exported["paths"]


def test_a_failed_reimport_leaves_the_api_as_it_was(client: Any) -> None:
    api_id = client.import_api(Body=body("bookshop.yaml"))["ApiId"]
    routes = client.get_routes(ApiId=api_id)["Items"]
    integrations = client.get_integrations(ApiId=api_id)["Items"]
    paths = {"/fine": {"get": http_operation()}, "/broken": {"get": http_operation(uri="x")}}
    code, _ = error_of(client.reimport_api, ApiId=api_id, Body=document(paths))
    assert code == "BadRequestException"
    assert client.get_routes(ApiId=api_id)["Items"] == routes
    assert client.get_integrations(ApiId=api_id)["Items"] == integrations
    assert client.get_api(ApiId=api_id)["Name"] == "Bookshop"


def test_reimport_with_fail_on_warnings_changes_nothing(client: Any) -> None:
    api_id = client.import_api(Body=body("bookshop.yaml"))["ApiId"]
    code, _ = error_of(
        client.reimport_api, ApiId=api_id, Body=body("warnings.json"), FailOnWarnings=True
    )
    assert code == "BadRequestException"
    assert len(client.get_routes(ApiId=api_id)["Items"]) == 4


def test_reimport_of_an_unknown_api_is_not_found(client: Any) -> None:
    code, _ = error_of(client.reimport_api, ApiId="nosuchapi0", Body=body("bookshop.yaml"))
    assert code == "NotFoundException"


def test_reimport_of_a_websocket_api_is_refused(client: Any) -> None:
    api_id = client.create_api(
        Name="ws", ProtocolType="WEBSOCKET", RouteSelectionExpression="$request.body.action"
    )["ApiId"]
    code, _ = error_of(client.reimport_api, ApiId=api_id, Body=body("bookshop.yaml"))
    assert code == "BadRequestException"


# -- export -------------------------------------------------------------------------------------


def test_export_json_describes_the_live_configuration(client: Any) -> None:
    api_id = client.import_api(Body=body("bookshop.yaml"))["ApiId"]
    exported = export(client, api_id)
    assert exported["openapi"] == "3.0.1"
    assert exported["info"] == {
        "title": "Bookshop",
        "description": "Books, reviews and a catalogue proxy.",
        "version": "3",
    }
    assert exported["servers"][0]["variables"] == {"basePath": {"default": ""}}
    assert list(exported["paths"]) == ["/books", "/books/{isbn}/reviews", "/"]
    operation = exported["paths"]["/books"]["get"]
    assert operation["operationId"] == "ListBooks"
    assert operation["x-amazon-apigateway-integration"]["uri"] == (
        f"arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/{LAMBDA}:books/invocations"
    )
    parameters = exported["paths"]["/books/{isbn}/reviews"]["parameters"]
    assert [(p["name"], p["in"], p["required"]) for p in parameters] == [("isbn", "path", True)]
    assert exported["x-amazon-apigateway-importexport-version"] == "1.0"
    assert exported["x-amazon-apigateway-cors"]["allowOrigins"] == ["*"]


def test_export_yaml_holds_the_same_document_as_json(client: Any) -> None:
    api_id = client.import_api(Body=body("petstore.json"))["ApiId"]
    assert export(client, api_id, "YAML") == export(client, api_id, "JSON")


def test_export_without_extensions_leaves_out_the_configuration(client: Any) -> None:
    api_id = client.import_api(Body=body("petstore.json"))["ApiId"]
    exported = export(client, api_id, IncludeExtensions=False)
    text = json.dumps(exported)
    for extension in ("integration", "cors", "importexport-version", "authorizer", "tag-value"):
        assert f'"x-amazon-apigateway-{extension}"' not in text
    assert exported["paths"]["/pets"]["get"]["security"] == [{"cognito": ["pets/read"]}]
    assert "x-amazon-apigateway-any-method" in exported["paths"]["/owners/{proxy+}"]


def test_export_of_a_stage_describes_its_deployment(client: Any) -> None:
    api_id = client.import_api(Body=body("bookshop.yaml"))["ApiId"]
    deployment = client.create_deployment(ApiId=api_id)["DeploymentId"]
    client.create_stage(ApiId=api_id, StageName="prod", DeploymentId=deployment)
    client.create_route(ApiId=api_id, RouteKey="GET /later")
    staged = export(client, api_id, StageName="prod")
    assert "/later" not in staged["paths"]
    assert staged["servers"][0]["variables"]["basePath"]["default"] == "prod"
    assert "/later" in export(client, api_id)["paths"]


@pytest.mark.parametrize(
    ("kwargs", "code"),
    [
        ({"StageName": "nosuchstage"}, "NotFoundException"),
        ({"ExportVersion": "2.0"}, "BadRequestException"),
    ],
)
def test_export_errors(client: Any, kwargs: dict[str, str], code: str) -> None:
    api_id = client.import_api(Body=body("bookshop.yaml"))["ApiId"]
    found, _ = error_of(export, client=client, api_id=api_id, **kwargs)
    assert found == code


def test_export_of_a_stage_without_deployment_is_not_found(client: Any) -> None:
    api_id = client.import_api(Body=body("bookshop.yaml"))["ApiId"]
    client.create_stage(ApiId=api_id, StageName="empty")
    code, message = error_of(export, client=client, api_id=api_id, StageName="empty")
    assert (code, message) == ("NotFoundException", "Stage empty has no deployment to export")


def test_export_of_an_unknown_api_is_not_found(client: Any) -> None:
    code, _ = error_of(export, client=client, api_id="nosuchapi0")
    assert code == "NotFoundException"


def test_export_of_a_websocket_api_is_refused(client: Any) -> None:
    api_id = client.create_api(
        Name="ws", ProtocolType="WEBSOCKET", RouteSelectionExpression="$request.body.action"
    )["ApiId"]
    code, message = error_of(export, client=client, api_id=api_id)
    assert (code, message) == ("BadRequestException", "ExportApi is supported only for HTTP APIs")


def test_export_of_an_unknown_specification_is_refused(raw_client: Any) -> None:
    api_id = raw_client.import_api(Body=body("bookshop.yaml"))["ApiId"]
    code, _ = error_of(
        raw_client.export_api, ApiId=api_id, Specification="OAS31", OutputType="JSON"
    )
    assert code == "BadRequestException"


# -- round trip ---------------------------------------------------------------------------------


def _canonical(record: dict[str, Any]) -> str:
    # ApiGatewayManaged marks what quick create made; a definition does not carry it.
    kept = {k: v for k, v in record.items() if k != "ApiGatewayManaged"}
    return json.dumps(kept, sort_keys=True, default=str)


def api_view(client: Any, api_id: str) -> dict[str, Any]:
    """What an import defines, without the ids and dates a new import changes."""
    api = client.get_api(ApiId=api_id)
    integrations = {
        i.pop("IntegrationId"): _canonical(i)
        for i in client.get_integrations(ApiId=api_id)["Items"]
    }
    authorizers = {
        a.pop("AuthorizerId"): _canonical(a) for a in client.get_authorizers(ApiId=api_id)["Items"]
    }
    routes = sorted(
        _canonical(
            {
                "key": r["RouteKey"],
                "integration": integrations.get(r.get("Target", "").removeprefix("integrations/")),
                "authorizer": authorizers.get(r.get("AuthorizerId", "")),
                "auth": r["AuthorizationType"],
                "scopes": r.get("AuthorizationScopes"),
                "operation": r.get("OperationName"),
            }
        )
        for r in client.get_routes(ApiId=api_id)["Items"]
    )
    keep = ("Name", "Description", "Version", "CorsConfiguration", "DisableExecuteApiEndpoint")
    return {
        "api": {k: api.get(k) for k in keep},
        "routes": routes,
        "integrations": sorted(integrations.values()),
        "authorizers": sorted(authorizers.values()),
    }


@pytest.mark.parametrize("name", ["petstore.json", "bookshop.yaml", "integrations.json"])
@pytest.mark.parametrize("output", ["JSON", "YAML"])
def test_import_export_import_gives_the_same_api(client: Any, name: str, output: str) -> None:
    first = client.import_api(Body=body(name))["ApiId"]
    text = json.dumps(export(client, first, output))
    second = client.import_api(Body=text, FailOnWarnings=True)["ApiId"]
    assert api_view(client, second) == api_view(client, first)
    client.reimport_api(ApiId=first, Body=text, FailOnWarnings=True)
    assert api_view(client, first) == api_view(client, second)


def test_a_hand_built_api_survives_export_and_import(client: Any) -> None:
    api_id = client.create_api(Name="handmade", ProtocolType="HTTP", Target=f"{LAMBDA}:main")[
        "ApiId"
    ]
    shared = client.create_integration(
        ApiId=api_id,
        IntegrationType="HTTP_PROXY",
        IntegrationMethod="GET",
        IntegrationUri="https://shared.example.com/",
        PayloadFormatVersion="1.0",
    )["IntegrationId"]
    for route_key in ("GET /one", "GET /two"):
        client.create_route(ApiId=api_id, RouteKey=route_key, Target=f"integrations/{shared}")
    client.create_route(ApiId=api_id, RouteKey="POST /admin", AuthorizationType="AWS_IAM")
    text = json.dumps(export(client, api_id))
    copy = client.import_api(Body=text)
    assert [w.split(":")[0] for w in copy["Warnings"]] == ["POST /admin"]
    original, copied = api_view(client, api_id), api_view(client, copy["ApiId"])
    # An API without a version is exported with its creation time as the version, as on AWS.
    assert original["api"].pop("Version") is None
    assert copied["api"].pop("Version").endswith("UTC")
    assert copied == original


# -- authorizers --------------------------------------------------------------------------------


def test_import_creates_jwt_and_lambda_authorizers(client: Any) -> None:
    api_id = client.import_api(Body=body("petstore.json"))["ApiId"]
    found = {a["Name"]: a for a in client.get_authorizers(ApiId=api_id)["Items"]}
    jwt = found["cognito"]
    assert jwt["AuthorizerType"] == "JWT"
    assert jwt["IdentitySource"] == ["$request.header.Authorization"]
    assert jwt["JwtConfiguration"] == {
        "Issuer": "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_Pets",
        "Audience": ["pets-web", "pets-mobile"],
    }
    lambda_auth = found["lambda-auth"]
    assert lambda_auth["AuthorizerType"] == "REQUEST"
    assert lambda_auth["IdentitySource"] == [
        "$request.header.Authorization",
        "$request.querystring.token",
    ]
    assert lambda_auth["AuthorizerUri"].endswith(":function:pets-auth/invocations")
    assert lambda_auth["AuthorizerPayloadFormatVersion"] == "2.0"
    assert lambda_auth["AuthorizerResultTtlInSeconds"] == 300
    assert lambda_auth["EnableSimpleResponses"] is True


def test_routes_take_their_authorizer_and_scopes_from_security(client: Any) -> None:
    api_id = client.import_api(Body=body("petstore.json"))["ApiId"]
    ids = {a["Name"]: a["AuthorizerId"] for a in client.get_authorizers(ApiId=api_id)["Items"]}
    routes = routes_by_key(client, api_id)
    assert routes["POST /pets"]["AuthorizationType"] == "JWT"
    assert routes["POST /pets"]["AuthorizerId"] == ids["cognito"]
    assert routes["POST /pets"]["AuthorizationScopes"] == ["pets/write", "pets/read"]
    assert routes["DELETE /pets/{petId}"]["AuthorizationType"] == "CUSTOM"
    assert routes["DELETE /pets/{petId}"]["AuthorizerId"] == ids["lambda-auth"]
    assert routes["GET /pets/{petId}"]["AuthorizationType"] == "NONE"


def _secured(security: list[dict[str, Any]], scheme: dict[str, Any]) -> str:
    operation = http_operation(security=security)
    components = {"securitySchemes": {"auth": scheme}}
    return document({"/a": {"get": operation}}, components=components)


def test_openid_connect_url_gives_the_jwt_issuer(client: Any) -> None:
    scheme = {
        "type": "openIdConnect",
        "openIdConnectUrl": "https://issuer.example.com/.well-known/openid-configuration",
        "x-amazon-apigateway-authorizer": {
            "type": "jwt",
            "jwtConfiguration": {"audience": ["app"]},
            "identitySource": "$request.header.Authorization",
        },
    }
    api_id = client.import_api(Body=_secured([{"auth": []}], scheme))["ApiId"]
    (authorizer,) = client.get_authorizers(ApiId=api_id)["Items"]
    assert authorizer["JwtConfiguration"]["Issuer"] == "https://issuer.example.com"


def test_a_sigv4_scheme_means_iam_authorization(client: Any) -> None:
    scheme = {
        "type": "apiKey",
        "name": "Authorization",
        "in": "header",
        "x-amazon-apigateway-authtype": "awsSigv4",
    }
    api_id = client.import_api(Body=_secured([{"auth": []}], scheme))["ApiId"]
    assert routes_by_key(client, api_id)["GET /a"]["AuthorizationType"] == "AWS_IAM"
    assert export(client, api_id)["paths"]["/a"]["get"]["security"] == [{"sigv4": []}]


def test_several_security_requirements_are_refused(client: Any) -> None:
    scheme = {
        "type": "apiKey",
        "name": "a",
        "in": "header",
        "x-amazon-apigateway-authtype": "awsSigv4",
    }
    text = _secured([{"auth": []}, {"auth": []}], scheme)
    code, message = error_of(client.import_api, Body=text)
    assert code == "BadRequestException"
    assert "only one security requirement" in message


def test_an_undefined_security_scheme_is_refused(client: Any) -> None:
    scheme = {"type": "apiKey", "name": "a", "in": "header"}
    code, message = error_of(client.import_api, Body=_secured([{"other": []}], scheme))
    assert code == "BadRequestException"
    assert "security scheme other is not defined" in message


def test_export_writes_authorizers_as_security_schemes(client: Any) -> None:
    api_id = client.import_api(Body=body("petstore.json"))["ApiId"]
    schemes = export(client, api_id)["components"]["securitySchemes"]
    assert schemes["cognito"]["type"] == "oauth2"
    assert schemes["cognito"]["x-amazon-apigateway-authorizer"]["type"] == "jwt"
    lambda_auth = schemes["lambda-auth"]["x-amazon-apigateway-authorizer"]
    assert (
        lambda_auth["identitySource"] == "$request.header.Authorization, $request.querystring.token"
    )
    assert lambda_auth["enableSimpleResponses"] is True
