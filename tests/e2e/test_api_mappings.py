"""CreateApiMapping, GetApiMapping(s), UpdateApiMapping and DeleteApiMapping."""

from __future__ import annotations

import re
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.helpers import error, status

ACCOUNT = "000000000000"
DOMAIN = "api.example.com"
CERTIFICATE = "arn:aws:acm:us-east-1:000000000000:certificate/1234abcd-12ab-34cd-56ef-1234567890ab"
NOT_FOUND = "The api mapping resource specified in the request was not found."
DUPLICATE = "ApiMapping key already exists for this domain name"


def make_domain(client: Any, name: str = DOMAIN, mode: str = "API_MAPPING_ONLY") -> str:
    client.create_domain_name(
        DomainName=name,
        DomainNameConfigurations=[{"CertificateArn": CERTIFICATE}],
        RoutingMode=mode,
    )
    return name


def make_api(client: Any, protocol: str = "HTTP", stage: str = "prod") -> str:
    extra = {"RouteSelectionExpression": "$request.body.action"} if protocol == "WEBSOCKET" else {}
    api_id = str(client.create_api(Name="pets", ProtocolType=protocol, **extra)["ApiId"])
    client.create_stage(ApiId=api_id, StageName=stage)
    return api_id


@pytest.fixture
def domain(client: Any) -> str:
    return make_domain(client)


@pytest.fixture
def api_id(client: Any) -> str:
    return make_api(client)


def mapping(client: Any, api_id: str, key: str | None = None, **extra: Any) -> dict[str, Any]:
    args = {"DomainName": DOMAIN, "ApiId": api_id, "Stage": "prod", **extra}
    if key is not None:
        args["ApiMappingKey"] = key
    created: dict[str, Any] = client.create_api_mapping(**args)
    return created


# CreateApiMapping


def test_create_answers_201_with_an_aws_style_id(client: Any, domain: str, api_id: str) -> None:
    created = mapping(client, api_id, "orders")
    assert status(created) == 201
    assert re.fullmatch(r"[a-z0-9]{6}", created["ApiMappingId"])
    assert created["ApiId"] == api_id
    assert created["ApiMappingKey"] == "orders"
    assert created["Stage"] == "prod"


@pytest.mark.parametrize("key", [None, ""])
def test_no_key_maps_the_root(client: Any, domain: str, api_id: str, key: str | None) -> None:
    assert mapping(client, api_id, key)["ApiMappingKey"] == ""


@pytest.mark.parametrize("key", ["v1/orders", "orders/v2/items", "a$-_.+!*'()b"])
def test_http_apis_take_multi_level_keys(client: Any, domain: str, api_id: str, key: str) -> None:
    assert mapping(client, api_id, key)["ApiMappingKey"] == key


def test_a_default_stage_can_be_mapped(client: Any, domain: str) -> None:
    api_id = make_api(client, stage="$default")
    assert mapping(client, api_id, "", Stage="$default")["Stage"] == "$default"


def test_websocket_apis_take_single_level_keys_only(client: Any, domain: str) -> None:
    ws_id = make_api(client, "WEBSOCKET")
    assert mapping(client, ws_id, "chat")["ApiMappingKey"] == "chat"
    with pytest.raises(ClientError) as caught:
        mapping(client, ws_id, "chat/v2")
    assert error(caught)[0] == "BadRequestException"
    assert "multiple levels" in error(caught)[1]


def test_websocket_and_http_apis_do_not_share_a_domain_name(
    client: Any, domain: str, api_id: str
) -> None:
    mapping(client, api_id, "orders")
    ws_id = make_api(client, "WEBSOCKET")
    with pytest.raises(ClientError) as caught:
        mapping(client, ws_id, "chat")
    assert error(caught)[0] == "BadRequestException"


@pytest.mark.parametrize(
    ("key", "message"),
    [
        ("/api", "API mapping key should not start with a '/' or have consecutive '/'s."),
        ("v1//api", "API mapping key should not start with a '/' or have consecutive '/'s."),
        ("api/", "API mapping key should not end with a '/'."),
    ],
)
def test_slashes_out_of_place_are_refused(
    client: Any, domain: str, api_id: str, key: str, message: str
) -> None:
    with pytest.raises(ClientError) as caught:
        mapping(client, api_id, key)
    assert error(caught) == ("BadRequestException", message, 400)


@pytest.mark.parametrize("key", ["with space", "a?b", "a#b", "x" * 301])
def test_invalid_characters_and_lengths_are_refused(
    client: Any, domain: str, api_id: str, key: str
) -> None:
    with pytest.raises(ClientError) as caught:
        mapping(client, api_id, key)
    assert error(caught)[0] == "BadRequestException"


def test_a_duplicate_key_on_the_same_domain_conflicts(
    client: Any, domain: str, api_id: str
) -> None:
    mapping(client, api_id, "orders")
    with pytest.raises(ClientError) as caught:
        mapping(client, api_id, "orders")
    assert error(caught) == ("ConflictException", DUPLICATE, 409)


def test_the_same_key_on_another_domain_is_fine(client: Any, domain: str, api_id: str) -> None:
    mapping(client, api_id, "orders")
    other = make_domain(client, "other.example.com")
    created = client.create_api_mapping(
        DomainName=other, ApiId=api_id, Stage="prod", ApiMappingKey="orders"
    )
    assert status(created) == 201


def test_a_missing_api_is_not_found(client: Any, domain: str) -> None:
    with pytest.raises(ClientError) as caught:
        client.create_api_mapping(DomainName=DOMAIN, ApiId="nope123456", Stage="prod")
    assert error(caught) == (
        "NotFoundException",
        f"Invalid API identifier specified {ACCOUNT}:nope123456",
        404,
    )


def test_a_missing_stage_is_not_found(client: Any, domain: str, api_id: str) -> None:
    with pytest.raises(ClientError) as caught:
        client.create_api_mapping(DomainName=DOMAIN, ApiId=api_id, Stage="beta")
    assert error(caught) == ("NotFoundException", "Invalid stage identifier specified beta", 404)


def test_a_missing_domain_name_is_not_found(client: Any, api_id: str) -> None:
    with pytest.raises(ClientError) as caught:
        mapping(client, api_id)
    assert error(caught) == (
        "NotFoundException",
        "The domain name resource specified in the request was not found.",
        404,
    )


def test_api_id_and_stage_are_required(raw_client: Any, domain: str) -> None:
    with pytest.raises(ClientError) as caught:
        raw_client.create_api_mapping(DomainName=DOMAIN, ApiMappingKey="orders")
    code, message, _ = error(caught)
    assert code == "BadRequestException"
    assert "apiId" in message
    assert "stage" in message


def test_a_routing_rule_only_domain_takes_no_mappings(client: Any, api_id: str) -> None:
    make_domain(client, mode="ROUTING_RULE_ONLY")
    with pytest.raises(ClientError) as caught:
        mapping(client, api_id, "orders")
    assert error(caught)[0] == "BadRequestException"
    assert "ROUTING_RULE_ONLY" in error(caught)[1]


def test_mappings_stay_readable_after_switching_to_routing_rules_only(
    client: Any, domain: str, api_id: str
) -> None:
    created = mapping(client, api_id, "orders")
    client.update_domain_name(DomainName=DOMAIN, RoutingMode="ROUTING_RULE_ONLY")
    assert [m["ApiMappingId"] for m in client.get_api_mappings(DomainName=DOMAIN)["Items"]] == [
        created["ApiMappingId"]
    ]


# GetApiMapping(s)


def test_get_answers_what_create_answered(client: Any, domain: str, api_id: str) -> None:
    created = mapping(client, api_id, "orders")
    got = client.get_api_mapping(DomainName=DOMAIN, ApiMappingId=created["ApiMappingId"])
    assert status(got) == 200
    for member in ("ApiId", "ApiMappingId", "ApiMappingKey", "Stage"):
        assert got[member] == created[member]


def test_get_of_a_missing_mapping_is_not_found(client: Any, domain: str) -> None:
    with pytest.raises(ClientError) as caught:
        client.get_api_mapping(DomainName=DOMAIN, ApiMappingId="abc123")
    assert error(caught) == ("NotFoundException", NOT_FOUND, 404)


def test_get_api_mappings_lists_one_domain_and_paginates(
    client: Any, domain: str, api_id: str
) -> None:
    keys = ["a", "b", "c"]
    for key in keys:
        mapping(client, api_id, key)
    make_domain(client, "other.example.com")
    client.create_api_mapping(DomainName="other.example.com", ApiId=api_id, Stage="prod")
    listed = client.get_api_mappings(DomainName=DOMAIN)
    assert status(listed) == 200
    assert [m["ApiMappingKey"] for m in listed["Items"]] == keys
    first = client.get_api_mappings(DomainName=DOMAIN, MaxResults="2")
    rest = client.get_api_mappings(DomainName=DOMAIN, NextToken=first["NextToken"])
    assert [m["ApiMappingKey"] for m in first["Items"] + rest["Items"]] == keys


def test_get_api_mappings_of_a_missing_domain_is_not_found(client: Any) -> None:
    with pytest.raises(ClientError) as caught:
        client.get_api_mappings(DomainName=DOMAIN)
    assert error(caught)[0] == "NotFoundException"


# UpdateApiMapping


def test_update_changes_the_key(client: Any, domain: str, api_id: str) -> None:
    created = mapping(client, api_id, "orders")
    updated = client.update_api_mapping(
        DomainName=DOMAIN, ApiMappingId=created["ApiMappingId"], ApiId=api_id, ApiMappingKey="v2"
    )
    assert status(updated) == 200
    assert updated["ApiMappingKey"] == "v2"
    assert updated["Stage"] == "prod"
    got = client.get_api_mapping(DomainName=DOMAIN, ApiMappingId=created["ApiMappingId"])
    assert got["ApiMappingKey"] == "v2"


def test_update_to_another_api_checks_its_stage(client: Any, domain: str, api_id: str) -> None:
    created = mapping(client, api_id, "orders")
    other = make_api(client, stage="live")
    with pytest.raises(ClientError) as caught:
        client.update_api_mapping(
            DomainName=DOMAIN, ApiMappingId=created["ApiMappingId"], ApiId=other
        )
    assert error(caught) == ("NotFoundException", "Invalid stage identifier specified prod", 404)
    moved = client.update_api_mapping(
        DomainName=DOMAIN, ApiMappingId=created["ApiMappingId"], ApiId=other, Stage="live"
    )
    assert (moved["ApiId"], moved["Stage"]) == (other, "live")


def test_update_to_a_key_in_use_conflicts(client: Any, domain: str, api_id: str) -> None:
    mapping(client, api_id, "orders")
    second = mapping(client, api_id, "users")
    with pytest.raises(ClientError) as caught:
        client.update_api_mapping(
            DomainName=DOMAIN,
            ApiMappingId=second["ApiMappingId"],
            ApiId=api_id,
            ApiMappingKey="orders",
        )
    assert error(caught) == ("ConflictException", DUPLICATE, 409)


def test_update_keeping_its_own_key_is_no_conflict(client: Any, domain: str, api_id: str) -> None:
    created = mapping(client, api_id, "orders")
    updated = client.update_api_mapping(
        DomainName=DOMAIN, ApiMappingId=created["ApiMappingId"], ApiId=api_id, Stage="prod"
    )
    assert updated["ApiMappingKey"] == "orders"


def test_update_applies_the_key_rules(client: Any, domain: str, api_id: str) -> None:
    created = mapping(client, api_id, "orders")
    with pytest.raises(ClientError) as caught:
        client.update_api_mapping(
            DomainName=DOMAIN,
            ApiMappingId=created["ApiMappingId"],
            ApiId=api_id,
            ApiMappingKey="orders/",
        )
    assert error(caught)[0] == "BadRequestException"


def test_update_of_a_missing_mapping_is_not_found(client: Any, domain: str, api_id: str) -> None:
    with pytest.raises(ClientError) as caught:
        client.update_api_mapping(DomainName=DOMAIN, ApiMappingId="abc123", ApiId=api_id)
    assert error(caught) == ("NotFoundException", NOT_FOUND, 404)


# DeleteApiMapping


def test_delete_answers_204_and_the_mapping_is_gone(client: Any, domain: str, api_id: str) -> None:
    created = mapping(client, api_id, "orders")
    deleted = client.delete_api_mapping(DomainName=DOMAIN, ApiMappingId=created["ApiMappingId"])
    assert status(deleted) == 204
    assert client.get_api_mappings(DomainName=DOMAIN)["Items"] == []
    mapping(client, api_id, "orders")  # the key is free again


def test_delete_of_a_missing_mapping_is_not_found(client: Any, domain: str) -> None:
    with pytest.raises(ClientError) as caught:
        client.delete_api_mapping(DomainName=DOMAIN, ApiMappingId="abc123")
    assert error(caught) == ("NotFoundException", NOT_FOUND, 404)
