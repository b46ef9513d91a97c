"""CreateIntegration, GetIntegration(s), UpdateIntegration and DeleteIntegration."""

from __future__ import annotations

import re
from typing import Any

import pytest

from tests.helpers import body, status

ACCOUNT = "000000000000"
FUNCTION = "arn:aws:lambda:us-east-1:000000000000:function:pets"
URL = "https://example.com/pets"
TLS = {"ServerNameToVerify": "example.com"}


def http_proxy(client: Any, api_id: str, **extra: Any) -> dict[str, Any]:
    answer = client.create_integration(
        ApiId=api_id,
        IntegrationType="HTTP_PROXY",
        IntegrationMethod="GET",
        IntegrationUri=URL,
        **extra,
    )
    return body(answer)


def lambda_proxy(client: Any, api_id: str, **extra: Any) -> dict[str, Any]:
    answer = client.create_integration(
        ApiId=api_id,
        IntegrationType="AWS_PROXY",
        IntegrationUri=FUNCTION,
        PayloadFormatVersion="2.0",
        **extra,
    )
    return body(answer)


# CreateIntegration: defaults


def test_create_http_proxy_answers_201_with_defaults(client: Any, api_id: str) -> None:
    answer = client.create_integration(
        ApiId=api_id, IntegrationType="HTTP_PROXY", IntegrationMethod="GET", IntegrationUri=URL
    )
    assert status(answer) == 201
    assert answer["ConnectionType"] == "INTERNET"
    assert answer["TimeoutInMillis"] == 30000
    assert answer["PayloadFormatVersion"] == "1.0"
    assert answer["IntegrationMethod"] == "GET"
    assert answer["IntegrationUri"] == URL
    assert re.fullmatch(r"[a-z0-9]+", answer["IntegrationId"])


def test_create_lambda_proxy_defaults_to_post(client: Any, api_id: str) -> None:
    integration = lambda_proxy(client, api_id)
    assert integration["IntegrationMethod"] == "POST"
    assert integration["PayloadFormatVersion"] == "2.0"
    assert integration["TimeoutInMillis"] == 30000


def test_lambda_proxy_accepts_payload_1_0(client: Any, api_id: str) -> None:
    integration = client.create_integration(
        ApiId=api_id,
        IntegrationType="AWS_PROXY",
        IntegrationUri=FUNCTION,
        PayloadFormatVersion="1.0",
    )
    assert integration["PayloadFormatVersion"] == "1.0"


def test_lambda_proxy_on_http_api_requires_a_payload_version(client: Any, api_id: str) -> None:
    with pytest.raises(client.exceptions.BadRequestException, match="PayloadFormatVersion"):
        client.create_integration(
            ApiId=api_id, IntegrationType="AWS_PROXY", IntegrationUri=FUNCTION
        )


def test_lambda_proxy_rejects_an_unknown_payload_version(client: Any, api_id: str) -> None:
    with pytest.raises(client.exceptions.BadRequestException, match="PayloadFormatVersion"):
        client.create_integration(
            ApiId=api_id,
            IntegrationType="AWS_PROXY",
            IntegrationUri=FUNCTION,
            PayloadFormatVersion="3.0",
        )


def test_http_proxy_supports_only_payload_1_0(client: Any, api_id: str) -> None:
    with pytest.raises(client.exceptions.BadRequestException, match=r"1\.0"):
        http_proxy(client, api_id, PayloadFormatVersion="2.0")


def test_websocket_integration_defaults(client: Any, ws_id: str) -> None:
    answer = client.create_integration(
        ApiId=ws_id, IntegrationType="AWS_PROXY", IntegrationUri=FUNCTION
    )
    assert answer["TimeoutInMillis"] == 29000
    assert answer["PayloadFormatVersion"] == "1.0"
    assert answer["ConnectionType"] == "INTERNET"


def test_websocket_mock_integration_needs_no_uri(client: Any, ws_id: str) -> None:
    answer = client.create_integration(ApiId=ws_id, IntegrationType="MOCK")
    assert answer["IntegrationType"] == "MOCK"
    assert answer["PassthroughBehavior"] == "WHEN_NO_MATCH"


def test_mock_integration_is_refused_on_http_apis(client: Any, api_id: str) -> None:
    with pytest.raises(client.exceptions.BadRequestException, match="MOCK"):
        client.create_integration(ApiId=api_id, IntegrationType="MOCK")


def test_http_proxy_needs_a_method(client: Any, api_id: str) -> None:
    with pytest.raises(client.exceptions.BadRequestException, match="IntegrationMethod"):
        client.create_integration(ApiId=api_id, IntegrationType="HTTP_PROXY", IntegrationUri=URL)


def test_http_proxy_needs_an_http_url(client: Any, api_id: str) -> None:
    with pytest.raises(client.exceptions.BadRequestException, match=re.escape("ftp://example.com")):
        client.create_integration(
            ApiId=api_id,
            IntegrationType="HTTP_PROXY",
            IntegrationMethod="GET",
            IntegrationUri="ftp://example.com",
        )


def test_lambda_proxy_needs_a_uri(client: Any, api_id: str) -> None:
    with pytest.raises(client.exceptions.BadRequestException, match="IntegrationUri"):
        client.create_integration(
            ApiId=api_id, IntegrationType="AWS_PROXY", PayloadFormatVersion="2.0"
        )


def test_integration_on_unknown_api_is_not_found(client: Any) -> None:
    message = re.escape(f"Invalid API identifier specified {ACCOUNT}:abcdefghij")
    with pytest.raises(client.exceptions.NotFoundException, match=message):
        http_proxy(client, "abcdefghij")


def test_vpc_link_connection_needs_a_connection_id(client: Any, api_id: str) -> None:
    listener = "arn:aws:elasticloadbalancing:us-east-1:000000000000:listener/app/a/b/c"
    with pytest.raises(client.exceptions.BadRequestException, match="ConnectionId"):
        client.create_integration(
            ApiId=api_id,
            IntegrationType="HTTP_PROXY",
            IntegrationMethod="ANY",
            IntegrationUri=listener,
            ConnectionType="VPC_LINK",
        )


def test_request_templates_are_refused_on_http_apis(client: Any, api_id: str) -> None:
    with pytest.raises(client.exceptions.BadRequestException, match="RequestTemplates"):
        http_proxy(client, api_id, RequestTemplates={"application/json": "{}"})


# Timeouts


@pytest.mark.parametrize("timeout", [50, 30000])
def test_http_api_timeout_bounds_are_accepted(client: Any, api_id: str, timeout: int) -> None:
    assert http_proxy(client, api_id, TimeoutInMillis=timeout)["TimeoutInMillis"] == timeout


@pytest.mark.parametrize("timeout", [49, 30001])
def test_http_api_timeout_out_of_range_is_rejected(
    raw_client: Any, api_id: str, timeout: int
) -> None:
    with pytest.raises(raw_client.exceptions.BadRequestException, match="'timeoutInMillis'"):
        http_proxy(raw_client, api_id, TimeoutInMillis=timeout)


def test_websocket_timeout_of_29000_is_accepted(client: Any, ws_id: str) -> None:
    answer = client.create_integration(ApiId=ws_id, IntegrationType="MOCK", TimeoutInMillis=29000)
    assert answer["TimeoutInMillis"] == 29000


def test_websocket_timeout_above_29000_is_rejected(client: Any, ws_id: str) -> None:
    with pytest.raises(client.exceptions.BadRequestException, match="29000"):
        client.create_integration(ApiId=ws_id, IntegrationType="MOCK", TimeoutInMillis=29001)


# TLS configuration


def test_tls_config_is_kept_on_create(client: Any, api_id: str) -> None:
    assert http_proxy(client, api_id, TlsConfig=TLS)["TlsConfig"] == TLS


def test_tls_config_shows_in_get_and_list(client: Any, api_id: str) -> None:
    integration_id = http_proxy(client, api_id, TlsConfig=TLS)["IntegrationId"]
    got = client.get_integration(ApiId=api_id, IntegrationId=integration_id)
    assert got["TlsConfig"] == TLS
    assert client.get_integrations(ApiId=api_id)["Items"][0]["TlsConfig"] == TLS


def test_update_integration_changes_tls_config(client: Any, api_id: str) -> None:
    integration_id = http_proxy(client, api_id, TlsConfig=TLS)["IntegrationId"]
    answer = client.update_integration(
        ApiId=api_id, IntegrationId=integration_id, TlsConfig={"ServerNameToVerify": "b.example"}
    )
    assert answer["TlsConfig"] == {"ServerNameToVerify": "b.example"}
    got = client.get_integration(ApiId=api_id, IntegrationId=integration_id)
    assert got["TlsConfig"] == {"ServerNameToVerify": "b.example"}


def test_update_integration_keeps_tls_config_when_not_given(client: Any, api_id: str) -> None:
    integration_id = http_proxy(client, api_id, TlsConfig=TLS)["IntegrationId"]
    client.update_integration(ApiId=api_id, IntegrationId=integration_id, Description="d")
    got = client.get_integration(ApiId=api_id, IntegrationId=integration_id)
    assert got["TlsConfig"] == TLS


def test_tls_config_is_refused_on_websocket_apis(client: Any, ws_id: str) -> None:
    with pytest.raises(client.exceptions.BadRequestException, match="TlsConfig"):
        client.create_integration(
            ApiId=ws_id,
            IntegrationType="HTTP_PROXY",
            IntegrationMethod="GET",
            IntegrationUri=URL,
            TlsConfig=TLS,
        )


# Parameter mapping


def test_http_request_parameter_mappings_are_kept(client: Any, api_id: str) -> None:
    mappings = {
        "append:header.x-trace": "$request.header.x-trace",
        "overwrite:path": "/v2/$request.path.id",
        "remove:querystring.q": "''",
    }
    integration = http_proxy(client, api_id, RequestParameters=mappings)
    assert integration["RequestParameters"] == mappings


@pytest.mark.parametrize("key", ["header.x", "rewrite:header.x", "append:body.x", "append:path"])
def test_http_request_parameter_with_a_bad_key_is_rejected(
    client: Any, api_id: str, key: str
) -> None:
    with pytest.raises(client.exceptions.BadRequestException, match=re.escape(key)):
        http_proxy(client, api_id, RequestParameters={key: "v"})


def test_websocket_request_parameters_use_integration_request_keys(client: Any, ws_id: str) -> None:
    mappings = {"integration.request.header.x-user": "route.request.header.x-user"}
    answer = client.create_integration(
        ApiId=ws_id,
        IntegrationType="HTTP",
        IntegrationMethod="POST",
        IntegrationUri=URL,
        RequestParameters=mappings,
    )
    assert answer["RequestParameters"] == mappings
    with pytest.raises(client.exceptions.BadRequestException, match=re.escape("append:header.x")):
        client.create_integration(
            ApiId=ws_id, IntegrationType="MOCK", RequestParameters={"append:header.x": "v"}
        )


def test_http_response_parameters_are_kept(client: Any, api_id: str) -> None:
    mappings = {
        "404": {"overwrite:statuscode": "200", "append:header.x-found": "no"},
        "500": {"remove:header.server": "''"},
    }
    integration = http_proxy(client, api_id, ResponseParameters=mappings)
    assert integration["ResponseParameters"] == mappings
    got = client.get_integration(ApiId=api_id, IntegrationId=integration["IntegrationId"])
    assert got["ResponseParameters"] == mappings


def test_response_parameters_with_a_bad_status_are_rejected(client: Any, api_id: str) -> None:
    with pytest.raises(client.exceptions.BadRequestException, match="600"):
        http_proxy(client, api_id, ResponseParameters={"600": {"append:header.x": "y"}})


def test_response_parameters_with_a_bad_key_are_rejected(client: Any, api_id: str) -> None:
    with pytest.raises(
        client.exceptions.BadRequestException, match=re.escape("append:querystring.q")
    ):
        http_proxy(client, api_id, ResponseParameters={"200": {"append:querystring.q": "y"}})


def test_aws_service_integration_takes_the_action_parameters(client: Any, api_id: str) -> None:
    parameters = {
        "QueueUrl": "https://sqs.us-east-1.amazonaws.com/000000000000/orders",
        "MessageBody": "$request.body.message",
    }
    answer = client.create_integration(
        ApiId=api_id,
        IntegrationType="AWS_PROXY",
        IntegrationSubtype="SQS-SendMessage",
        PayloadFormatVersion="1.0",
        CredentialsArn="arn:aws:iam::000000000000:role/sqs",
        RequestParameters=parameters,
    )
    assert answer["RequestParameters"] == parameters
    assert answer["IntegrationSubtype"] == "SQS-SendMessage"


# GetIntegration / GetIntegrations


def test_get_integration_answers_what_create_answered(client: Any, api_id: str) -> None:
    created = http_proxy(client, api_id, Description="pets backend")
    got = client.get_integration(ApiId=api_id, IntegrationId=created["IntegrationId"])
    assert status(got) == 200
    assert body(got) == created


def test_get_unknown_integration_is_not_found(client: Any, api_id: str) -> None:
    message = "Invalid Integration identifier specified abc1234"
    with pytest.raises(client.exceptions.NotFoundException, match=message):
        client.get_integration(ApiId=api_id, IntegrationId="abc1234")


def test_get_integrations_lists_in_creation_order(client: Any, api_id: str) -> None:
    first = http_proxy(client, api_id)["IntegrationId"]
    second = lambda_proxy(client, api_id)["IntegrationId"]
    answer = client.get_integrations(ApiId=api_id)
    assert status(answer) == 200
    assert [i["IntegrationId"] for i in answer["Items"]] == [first, second]


# UpdateIntegration


def test_update_integration_changes_given_members_only(client: Any, api_id: str) -> None:
    integration_id = http_proxy(client, api_id, Description="d")["IntegrationId"]
    answer = client.update_integration(
        ApiId=api_id, IntegrationId=integration_id, IntegrationUri="https://b.example/x"
    )
    assert status(answer) == 200
    assert answer["IntegrationUri"] == "https://b.example/x"
    assert answer["Description"] == "d"
    assert answer["IntegrationMethod"] == "GET"


def test_update_integration_timeout_out_of_range_is_rejected(client: Any, ws_id: str) -> None:
    integration_id = client.create_integration(ApiId=ws_id, IntegrationType="MOCK")["IntegrationId"]
    with pytest.raises(client.exceptions.BadRequestException, match="29000"):
        client.update_integration(ApiId=ws_id, IntegrationId=integration_id, TimeoutInMillis=29500)
    got = client.get_integration(ApiId=ws_id, IntegrationId=integration_id)
    assert got["TimeoutInMillis"] == 29000


def test_update_integration_to_mock_on_http_api_is_rejected(client: Any, api_id: str) -> None:
    integration_id = http_proxy(client, api_id)["IntegrationId"]
    with pytest.raises(client.exceptions.BadRequestException, match="MOCK"):
        client.update_integration(
            ApiId=api_id, IntegrationId=integration_id, IntegrationType="MOCK"
        )


def test_update_integration_payload_version(client: Any, api_id: str) -> None:
    integration_id = lambda_proxy(client, api_id)["IntegrationId"]
    answer = client.update_integration(
        ApiId=api_id, IntegrationId=integration_id, PayloadFormatVersion="1.0"
    )
    assert answer["PayloadFormatVersion"] == "1.0"


def test_update_unknown_integration_is_not_found(client: Any, api_id: str) -> None:
    with pytest.raises(client.exceptions.NotFoundException, match="Integration identifier"):
        client.update_integration(ApiId=api_id, IntegrationId="abc1234", Description="d")


# DeleteIntegration


def test_delete_integration_answers_204_and_forgets_it(client: Any, api_id: str) -> None:
    integration_id = http_proxy(client, api_id)["IntegrationId"]
    answer = client.delete_integration(ApiId=api_id, IntegrationId=integration_id)
    assert status(answer) == 204
    assert client.get_integrations(ApiId=api_id)["Items"] == []
    with pytest.raises(client.exceptions.NotFoundException, match="Integration identifier"):
        client.get_integration(ApiId=api_id, IntegrationId=integration_id)


def test_delete_unknown_integration_is_not_found(client: Any, api_id: str) -> None:
    with pytest.raises(client.exceptions.NotFoundException, match="Integration identifier"):
        client.delete_integration(ApiId=api_id, IntegrationId="abc1234")


def test_managed_integration_can_be_updated_but_not_deleted(client: Any) -> None:
    api_id = client.create_api(Name="q", ProtocolType="HTTP", Target=FUNCTION)["ApiId"]
    integration_id = client.get_integrations(ApiId=api_id)["Items"][0]["IntegrationId"]
    answer = client.update_integration(
        ApiId=api_id, IntegrationId=integration_id, TimeoutInMillis=5000
    )
    assert answer["TimeoutInMillis"] == 5000
    with pytest.raises(client.exceptions.BadRequestException, match="managed"):
        client.delete_integration(ApiId=api_id, IntegrationId=integration_id)
    assert len(client.get_integrations(ApiId=api_id)["Items"]) == 1
