"""Access-log formats: parsing ``$context`` references and rendering every HTTP variable."""

from __future__ import annotations

from typing import Any

import pytest

from propylon.execute.access_log import (
    AccessLogFormat,
    compile_access_log,
    http_lookup,
    response_type,
)
from propylon.execute.context_variables import HTTP_VARIABLES
from tests.unit.execute.invocations import invocation

ARN = "arn:aws:logs:us-east-1:123456789012:log-group:/aws/apigw/pets"


def render(log_format: str, **overrides: Any) -> str:
    return AccessLogFormat(log_format).render(http_lookup(invocation(**overrides)))


def fields(rendered: str) -> dict[str, str]:
    """``name=value`` pairs separated by `` | ``."""
    return dict(pair.split("=", 1) for pair in rendered.split(" | "))


ALL = " | ".join(f"{name}=$context.{name}" for name in sorted(HTTP_VARIABLES))


def test_every_http_variable_renders_from_a_full_request() -> None:
    rendered = fields(
        render(
            ALL,
            authorizer={
                "iam": {
                    "accountId": "111122223333",
                    "callerId": "AIDACALLER",
                    "userId": "AIDAUSER",
                    "userArn": "arn:aws:iam::111122223333:user/ana",
                    "principalOrgId": "o-abc",
                    "cognitoIdentity": {"identityId": "id-1", "identityPoolId": "pool-1"},
                }
            },
            body=b"12345",
            status=201,
            response_length=7,
            integration_status="200",
            integration_latency=12,
            integration_response_status=201,
            integration_request_id="c6af9ac6-7b61-11e6-9a41-93e8deadbeef",
            integration_error_message="-",
            authorize_status=200,
            authorize_latency=3,
            response_latency=20,
            base_path_matched="v1/orders",
        )
    )
    assert rendered == {
        "accountId": "123456789012",
        "apiId": "a1b2c3d4e5",
        "authorize.error": "-",
        "authorize.latency": "3",
        "authorize.status": "200",
        "authorizer.claims": "-",
        "authorizer.error": "-",
        "authorizer.latency": "3",
        "authorizer.principalId": "-",
        "authorizer.status": "200",
        "awsEndpointRequestId": "c6af9ac6-7b61-11e6-9a41-93e8deadbeef",
        "awsEndpointRequestId2": "-",
        "customDomain.basePathMatched": "v1/orders",
        "dataProcessed": "12",
        "domainName": "a1b2c3d4e5.example.com",
        "domainPrefix": "a1b2c3d4e5",
        "error.message": "-",
        "error.messageString": "-",
        "error.responseType": "-",
        "extendedRequestId": "Mc7UVioPPHcEKPA=",
        "httpMethod": "GET",
        "identity.accountId": "111122223333",
        "identity.caller": "AIDACALLER",
        "identity.clientCert.clientCertPem": "-",
        "identity.clientCert.issuerDN": "-",
        "identity.clientCert.serialNumber": "-",
        "identity.clientCert.subjectDN": "-",
        "identity.clientCert.validity.notAfter": "-",
        "identity.clientCert.validity.notBefore": "-",
        "identity.cognitoAuthenticationProvider": "-",
        "identity.cognitoAuthenticationType": "-",
        "identity.cognitoIdentityId": "id-1",
        "identity.cognitoIdentityPoolId": "pool-1",
        "identity.principalOrgId": "o-abc",
        "identity.sourceIp": "203.0.113.7",
        "identity.user": "AIDAUSER",
        "identity.userAgent": "curl/8.0",
        "identity.userArn": "arn:aws:iam::111122223333:user/ana",
        "integration.error": "-",
        "integration.integrationStatus": "200",
        "integration.latency": "12",
        "integration.requestId": "c6af9ac6-7b61-11e6-9a41-93e8deadbeef",
        "integration.status": "201",
        "integrationErrorMessage": "-",
        "integrationLatency": "12",
        "integrationStatus": "200",
        "path": "/prod/pets/6",
        "protocol": "HTTP/1.1",
        "requestId": "Mc7UVioPPHcEKPA=",
        "requestTime": "12/Mar/2020:19:03:58 +0000",
        "requestTimeEpoch": "1583348638",
        "responseLatency": "20",
        "responseLength": "7",
        "routeKey": "GET /pets/{petId}",
        "stage": "prod",
        "status": "201",
    }


def test_a_request_the_gateway_refused_renders_its_error_and_dashes() -> None:
    rendered = fields(
        render(
            ALL,
            route_key="-",
            status=404,
            error_message="Not Found",
            response_length=23,
            headers=[("host", "a1b2c3d4e5.example.com")],
        )
    )
    assert rendered["error.message"] == "Not Found"
    assert rendered["error.messageString"] == '"Not Found"'
    assert rendered["error.responseType"] == "RESOURCE_NOT_FOUND"
    assert rendered["routeKey"] == "-"
    assert rendered["status"] == "404"
    assert rendered["identity.userAgent"] == "-"
    for name in (
        "integrationLatency",
        "integrationStatus",
        "integration.status",
        "awsEndpointRequestId",
        "authorize.status",
        "authorize.latency",
        "responseLatency",
        "identity.accountId",
        "customDomain.basePathMatched",
    ):
        assert rendered[name] == "-", name


def test_failures_fill_the_error_variables() -> None:
    integration = fields(
        render(
            ALL,
            status=500,
            error_message="Internal Server Error",
            integration_error_message="boom: function raised",
        )
    )
    assert integration["integrationErrorMessage"] == "boom: function raised"
    assert integration["integration.error"] == "boom: function raised"
    assert integration["error.responseType"] == "INTEGRATION_FAILURE"
    authorizer = fields(
        render(
            ALL,
            status=403,
            error_message="Forbidden",
            authorizer_error="authorizer denied",
            authorize_status=403,
        )
    )
    assert authorizer["authorizer.error"] == "authorizer denied"
    assert authorizer["authorize.error"] == "authorizer denied"
    assert authorizer["authorize.status"] == "403"
    assert authorizer["error.responseType"] == "ACCESS_DENIED"


@pytest.mark.parametrize(
    ("status", "overrides", "expected"),
    [
        (401, {}, "UNAUTHORIZED"),
        (403, {}, "ACCESS_DENIED"),
        (404, {}, "RESOURCE_NOT_FOUND"),
        (413, {}, "REQUEST_TOO_LARGE"),
        (429, {}, "THROTTLED"),
        (503, {}, "INTEGRATION_TIMEOUT"),
        (500, {"authorizer_error": "bad answer"}, "AUTHORIZER_FAILURE"),
        (500, {"integration_error_message": "boom"}, "INTEGRATION_FAILURE"),
        (500, {}, "DEFAULT_5XX"),
    ],
)
def test_response_type_names_the_gateway_answer(
    status: int, overrides: dict[str, Any], expected: str
) -> None:
    inv = invocation(status=status, error_message="x", **overrides)
    assert response_type(inv) == expected


def test_jwt_claims_and_lambda_context_values() -> None:
    jwt = {"jwt": {"claims": {"sub": "u-1", "cognito:groups": "[admin staff]"}, "scopes": None}}
    line = render(
        "$context.authorizer.claims.sub $context.authorizer.claims.cognito:groups "
        "$context.authorizer.claims.missing $context.authorizer.claims $context.requestId",
        authorizer=jwt,
    )
    assert line == "u-1 [admin staff] - - Mc7UVioPPHcEKPA="
    context = {"lambda": {"user": "ana", "n": 1, "ok": True, "off": False, "list": [1, "a"]}}
    line = render(
        '{"u":"$context.authorizer.user","n":$context.authorizer.n,"ok":$context.authorizer.ok,'
        '"off":$context.authorizer.off,"l":$context.authorizer.list,"x":"$context.authorizer.x"}',
        authorizer=context,
    )
    assert line == '{"u":"ana","n":1,"ok":true,"off":false,"l":[1,"a"],"x":"-"}'


def test_principal_id_comes_from_the_lambda_authorizer() -> None:
    line = render("$context.authorizer.principalId", authorizer={"lambda": {"principalId": "p"}})
    assert line == "p"
    answered = render(
        "$context.authorizer.principalId", authorizer={"lambda": {}}, principal_id="user-7"
    )
    assert answered == "user-7"


def test_the_longest_known_name_wins_and_the_rest_is_text() -> None:
    log_format = AccessLogFormat(
        "$context.status. $context.error.messageString $context.requestIdX "
        "$context.stage-$context.routeKey"
    )
    assert log_format.variables == ("status", "error.messageString", "stage", "routeKey")
    line = log_format.render(http_lookup(invocation(status=200, error_message="Oops")))
    assert line == '200. "Oops" $context.requestIdX prod-GET /pets/{petId}'


def test_unknown_references_stay_as_written() -> None:
    line = render("[$context.nothing] $context. $context.requestId$")
    assert line == "[$context.nothing] $context. Mc7UVioPPHcEKPA=$"


def test_a_format_without_variables_is_its_text() -> None:
    assert render("plain text") == "plain text"
    assert render("") == ""


def test_the_console_presets_render() -> None:
    clf = (
        "$context.identity.sourceIp - - [$context.requestTime] "
        '"$context.httpMethod $context.routeKey $context.protocol" '
        "$context.status $context.responseLength $context.requestId"
    )
    assert render(clf, status=200, response_length=42) == (
        '203.0.113.7 - - [12/Mar/2020:19:03:58 +0000] "GET GET /pets/{petId} HTTP/1.1" '
        "200 42 Mc7UVioPPHcEKPA="
    )


def test_a_lookup_for_another_protocol_plugs_in() -> None:
    values = {"connectionId": "IU3kkeN4IAMCJwA=", "eventType": "CONNECT", "requestId": "r"}
    log_format = AccessLogFormat("$context.connectionId $context.eventType $context.requestId")
    assert log_format.render(values.get) == "IU3kkeN4IAMCJwA= CONNECT r"


def test_a_stage_access_log_writes_one_line_with_its_latency() -> None:
    compiled = compile_access_log(
        {"DestinationArn": ARN + ":*", "Format": "$context.requestId $context.responseLatency"}
    )
    assert compiled is not None
    assert compiled.group == "/aws/apigw/pets"
    written: list[tuple[str, str]] = []

    class Logs:
        def write(self, group: str, line: str) -> None:
            written.append((group, line))

    inv = invocation()
    compiled.write(Logs(), inv, wall=lambda: (inv.request_time_epoch + 37) / 1000)
    assert written == [("/aws/apigw/pets", "Mc7UVioPPHcEKPA= 37")]
    assert inv.response_latency == 37


def test_stages_without_usable_settings_have_no_access_log() -> None:
    assert compile_access_log(None) is None
    assert compile_access_log({}) is None
    assert compile_access_log({"DestinationArn": "arn:aws:s3:::bucket", "Format": "x"}) is None
