"""CreateRoutingRule, GetRoutingRule, ListRoutingRules, PutRoutingRule and DeleteRoutingRule."""

from __future__ import annotations

import re
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.helpers import error, status

ACCOUNT = "000000000000"
DOMAIN = "api.example.com"
CERTIFICATE = "arn:aws:acm:us-east-1:000000000000:certificate/1234abcd-12ab-34cd-56ef-1234567890ab"
NOT_FOUND = "The routing rule resource specified in the request was not found."


def headers(name: str, glob: str) -> dict[str, Any]:
    return {"MatchHeaders": {"AnyOf": [{"Header": name, "ValueGlob": glob}]}}


def base_path(path: str) -> dict[str, Any]:
    return {"MatchBasePaths": {"AnyOf": [path]}}


def make_domain(client: Any, mode: str = "ROUTING_RULE_THEN_API_MAPPING") -> None:
    client.create_domain_name(
        DomainName=DOMAIN,
        DomainNameConfigurations=[{"CertificateArn": CERTIFICATE}],
        RoutingMode=mode,
    )


@pytest.fixture
def api_id(client: Any) -> str:
    api_id = str(client.create_api(Name="pets", ProtocolType="HTTP")["ApiId"])
    client.create_stage(ApiId=api_id, StageName="prod")
    return api_id


@pytest.fixture
def domain(client: Any) -> str:
    make_domain(client)
    return DOMAIN


def invoke(api_id: str, stage: str = "prod", **extra: Any) -> list[dict[str, Any]]:
    return [{"InvokeApi": {"ApiId": api_id, "Stage": stage, **extra}}]


def rule(
    client: Any, api_id: str, priority: int = 50, conditions: Any = None, **extra: Any
) -> dict[str, Any]:
    created: dict[str, Any] = client.create_routing_rule(
        DomainName=DOMAIN,
        Priority=priority,
        Conditions=[base_path("pets")] if conditions is None else conditions,
        Actions=extra.pop("actions", None) or invoke(api_id),
        **extra,
    )
    return created


# CreateRoutingRule


def test_create_answers_201_as_aws_does(client: Any, domain: str, api_id: str) -> None:
    created = rule(client, api_id)
    assert status(created) == 201
    assert re.fullmatch(r"[a-z0-9]{6}", created["RoutingRuleId"])
    assert created["RoutingRuleArn"] == (
        f"arn:aws:apigateway:us-east-1:{ACCOUNT}:/domainnames/{DOMAIN}/routingrules/"
        f"{created['RoutingRuleId']}"
    )
    assert created["Priority"] == 50
    assert created["Conditions"] == [base_path("pets")]
    assert created["Actions"] == invoke(api_id, StripBasePath=False)


def test_strip_base_path_is_kept(client: Any, domain: str, api_id: str) -> None:
    created = rule(client, api_id, actions=invoke(api_id, StripBasePath=True))
    assert created["Actions"][0]["InvokeApi"]["StripBasePath"] is True


def test_a_rule_without_conditions_is_a_catch_all(client: Any, domain: str, api_id: str) -> None:
    assert rule(client, api_id, conditions=[])["Conditions"] == []


def test_two_header_conditions_and_a_base_path(client: Any, domain: str, api_id: str) -> None:
    conditions = [headers("Hello", "World"), headers("x-version", "beta*"), base_path("v1/pets")]
    assert rule(client, api_id, conditions=conditions)["Conditions"] == conditions


def test_rules_work_in_routing_rule_only_mode(client: Any, api_id: str) -> None:
    make_domain(client, "ROUTING_RULE_ONLY")
    assert status(rule(client, api_id)) == 201


def test_an_api_mapping_only_domain_takes_no_rules(client: Any, api_id: str) -> None:
    make_domain(client, "API_MAPPING_ONLY")
    with pytest.raises(ClientError) as caught:
        rule(client, api_id)
    assert error(caught)[0] == "BadRequestException"
    assert "API_MAPPING_ONLY" in error(caught)[1]


def test_a_priority_in_use_conflicts(client: Any, domain: str, api_id: str) -> None:
    rule(client, api_id, priority=10)
    with pytest.raises(ClientError) as caught:
        rule(client, api_id, priority=10, conditions=[base_path("users")])
    code, message, http_status = error(caught)
    assert (code, http_status) == ("ConflictException", 409)
    assert "priority 10" in message


@pytest.mark.parametrize("priority", [0, 1_000_001])
def test_priority_is_between_1_and_1000000(
    raw_client: Any, domain: str, api_id: str, priority: int
) -> None:
    with pytest.raises(ClientError) as caught:
        rule(raw_client, api_id, priority=priority)
    assert error(caught)[0] == "BadRequestException"


@pytest.mark.parametrize("priority", [1, 1_000_000])
def test_priority_bounds_are_accepted(client: Any, domain: str, api_id: str, priority: int) -> None:
    assert rule(client, api_id, priority=priority)["Priority"] == priority


@pytest.mark.parametrize("glob", ["beta", "*a", "a*", "*a*", "*", "v1.2_beta~x"])
def test_wildcards_at_the_ends_of_a_glob_are_accepted(
    client: Any, domain: str, api_id: str, glob: str
) -> None:
    conditions = [headers("x-version", glob)]
    assert rule(client, api_id, conditions=conditions)["Conditions"] == conditions


@pytest.mark.parametrize(
    "conditions",
    [
        pytest.param([headers("a", "1"), headers("b", "2"), headers("c", "3")], id="3-headers"),
        pytest.param([base_path("a"), base_path("b")], id="2-base-paths"),
        pytest.param(
            [{"MatchHeaders": {"AnyOf": [{"Header": "a", "ValueGlob": "1"}] * 2}}],
            id="2-headers-in-any-of",
        ),
        pytest.param([{"MatchBasePaths": {"AnyOf": ["a", "b"]}}], id="2-paths-in-any-of"),
        pytest.param([{**headers("a", "1"), **base_path("b")}], id="both-in-one"),
        pytest.param([{}], id="empty-condition"),
        pytest.param([headers("x-version", "a*b")], id="wildcard-in-the-middle"),
        pytest.param([headers("x-*", "beta")], id="wildcard-header-name"),
        pytest.param([headers("x version", "beta")], id="space-in-name"),
        pytest.param([headers("x" * 40, "beta")], id="long-name"),
        pytest.param([headers("x-version", "v" * 128)], id="long-glob"),
        pytest.param([headers("x-version", "*" + "v" * 38 + "*")], id="long-infix-glob"),
        pytest.param([headers("Authorization", "Bearer*")], id="authorization"),
        pytest.param([headers("X-Amz-Date", "*")], id="x-amz-prefix"),
        pytest.param([headers("Access-Control-Allow-Origin", "*")], id="access-control"),
        pytest.param([headers("x-forwarded-for", "*")], id="forwarded"),
        pytest.param([base_path("/pets")], id="leading-slash"),
        pytest.param([base_path("pets/")], id="trailing-slash"),
        pytest.param([base_path("pets?x")], id="base-path-character"),
        pytest.param([base_path("p" * 128)], id="long-base-path"),
    ],
)
def test_conditions_outside_aws_rules_are_refused(
    client: Any, domain: str, api_id: str, conditions: Any
) -> None:
    with pytest.raises(ClientError) as caught:
        rule(client, api_id, conditions=conditions)
    assert error(caught)[0] == "BadRequestException"


def test_exactly_one_action(client: Any, domain: str, api_id: str) -> None:
    with pytest.raises(ClientError) as caught:
        rule(client, api_id, actions=invoke(api_id) * 2)
    assert error(caught)[0] == "BadRequestException"


def test_the_target_api_must_exist(client: Any, domain: str) -> None:
    with pytest.raises(ClientError) as caught:
        rule(client, "nope123456")
    assert error(caught) == (
        "NotFoundException",
        f"Invalid API identifier specified {ACCOUNT}:nope123456",
        404,
    )


def test_the_target_stage_must_exist(client: Any, domain: str, api_id: str) -> None:
    with pytest.raises(ClientError) as caught:
        rule(client, api_id, actions=invoke(api_id, "beta"))
    assert error(caught) == ("NotFoundException", "Invalid stage identifier specified beta", 404)


def test_websocket_apis_are_not_targets(client: Any, domain: str) -> None:
    ws = client.create_api(
        Name="chat", ProtocolType="WEBSOCKET", RouteSelectionExpression="$request.body.action"
    )
    client.create_stage(ApiId=ws["ApiId"], StageName="prod")
    with pytest.raises(ClientError) as caught:
        rule(client, ws["ApiId"], actions=invoke(ws["ApiId"]))
    assert error(caught)[0] == "BadRequestException"


def test_a_missing_domain_name_is_not_found(client: Any, api_id: str) -> None:
    with pytest.raises(ClientError) as caught:
        rule(client, api_id)
    assert error(caught) == (
        "NotFoundException",
        "The domain name resource specified in the request was not found.",
        404,
    )


def test_domain_name_id_is_accepted(client: Any, domain: str, api_id: str) -> None:
    created = rule(client, api_id, DomainNameId="abcd1234")
    got = client.get_routing_rule(
        DomainName=DOMAIN, RoutingRuleId=created["RoutingRuleId"], DomainNameId="abcd1234"
    )
    assert got["RoutingRuleId"] == created["RoutingRuleId"]


# GetRoutingRule


def test_get_answers_what_create_answered(client: Any, domain: str, api_id: str) -> None:
    created = rule(client, api_id, conditions=[headers("x-version", "beta")])
    got = client.get_routing_rule(DomainName=DOMAIN, RoutingRuleId=created["RoutingRuleId"])
    assert status(got) == 200
    for member in ("Actions", "Conditions", "Priority", "RoutingRuleArn", "RoutingRuleId"):
        assert got[member] == created[member]


def test_get_of_a_missing_rule_is_not_found(client: Any, domain: str) -> None:
    with pytest.raises(ClientError) as caught:
        client.get_routing_rule(DomainName=DOMAIN, RoutingRuleId="abc123")
    assert error(caught) == ("NotFoundException", NOT_FOUND, 404)


# ListRoutingRules


def test_list_answers_in_priority_order_and_paginates(
    client: Any, domain: str, api_id: str
) -> None:
    for priority, path in ((300, "c"), (100, "a"), (200, "b")):
        rule(client, api_id, priority=priority, conditions=[base_path(path)])
    listed = client.list_routing_rules(DomainName=DOMAIN)
    assert status(listed) == 200
    assert [r["Priority"] for r in listed["RoutingRules"]] == [100, 200, 300]
    first = client.list_routing_rules(DomainName=DOMAIN, MaxResults=2)
    assert [r["Priority"] for r in first["RoutingRules"]] == [100, 200]
    rest = client.list_routing_rules(DomainName=DOMAIN, MaxResults=2, NextToken=first["NextToken"])
    assert [r["Priority"] for r in rest["RoutingRules"]] == [300]
    assert "NextToken" not in rest


def test_rules_stay_listed_after_switching_to_api_mappings_only(
    client: Any, domain: str, api_id: str
) -> None:
    created = rule(client, api_id)
    client.update_domain_name(DomainName=DOMAIN, RoutingMode="API_MAPPING_ONLY")
    listed = client.list_routing_rules(DomainName=DOMAIN)["RoutingRules"]
    assert [r["RoutingRuleId"] for r in listed] == [created["RoutingRuleId"]]


def test_list_of_a_missing_domain_name_is_not_found(client: Any) -> None:
    with pytest.raises(ClientError) as caught:
        client.list_routing_rules(DomainName=DOMAIN)
    assert error(caught)[0] == "NotFoundException"


# PutRoutingRule


def test_put_replaces_the_rule(client: Any, domain: str, api_id: str) -> None:
    created = rule(client, api_id, priority=50)
    put = client.put_routing_rule(
        DomainName=DOMAIN,
        RoutingRuleId=created["RoutingRuleId"],
        Priority=30,
        Conditions=[headers("x-version", "beta")],
        Actions=invoke(api_id, StripBasePath=True),
    )
    assert status(put) == 200
    assert put["Priority"] == 30
    assert put["Conditions"] == [headers("x-version", "beta")]
    assert put["RoutingRuleArn"] == created["RoutingRuleArn"]
    got = client.get_routing_rule(DomainName=DOMAIN, RoutingRuleId=created["RoutingRuleId"])
    assert got["Actions"] == invoke(api_id, StripBasePath=True)


def test_put_keeping_its_own_priority_is_no_conflict(client: Any, domain: str, api_id: str) -> None:
    created = rule(client, api_id, priority=50)
    put = client.put_routing_rule(
        DomainName=DOMAIN,
        RoutingRuleId=created["RoutingRuleId"],
        Priority=50,
        Conditions=[],
        Actions=invoke(api_id),
    )
    assert put["Priority"] == 50


def test_put_to_a_priority_in_use_conflicts(client: Any, domain: str, api_id: str) -> None:
    rule(client, api_id, priority=10)
    second = rule(client, api_id, priority=20)
    with pytest.raises(ClientError) as caught:
        client.put_routing_rule(
            DomainName=DOMAIN,
            RoutingRuleId=second["RoutingRuleId"],
            Priority=10,
            Conditions=[],
            Actions=invoke(api_id),
        )
    assert error(caught)[0] == "ConflictException"


def test_put_of_a_missing_rule_is_not_found(client: Any, domain: str, api_id: str) -> None:
    with pytest.raises(ClientError) as caught:
        client.put_routing_rule(
            DomainName=DOMAIN,
            RoutingRuleId="abc123",
            Priority=10,
            Conditions=[],
            Actions=invoke(api_id),
        )
    assert error(caught) == ("NotFoundException", NOT_FOUND, 404)


def test_put_checks_the_target(client: Any, domain: str, api_id: str) -> None:
    created = rule(client, api_id)
    with pytest.raises(ClientError) as caught:
        client.put_routing_rule(
            DomainName=DOMAIN,
            RoutingRuleId=created["RoutingRuleId"],
            Priority=10,
            Conditions=[],
            Actions=invoke(api_id, "beta"),
        )
    assert error(caught)[0] == "NotFoundException"


# DeleteRoutingRule


def test_delete_answers_204_and_the_rule_is_gone(client: Any, domain: str, api_id: str) -> None:
    created = rule(client, api_id, priority=10)
    deleted = client.delete_routing_rule(DomainName=DOMAIN, RoutingRuleId=created["RoutingRuleId"])
    assert status(deleted) == 204
    assert client.list_routing_rules(DomainName=DOMAIN)["RoutingRules"] == []
    assert rule(client, api_id, priority=10)["Priority"] == 10  # the priority is free again


def test_delete_of_a_missing_rule_is_not_found(client: Any, domain: str) -> None:
    with pytest.raises(ClientError) as caught:
        client.delete_routing_rule(DomainName=DOMAIN, RoutingRuleId="abc123")
    assert error(caught) == ("NotFoundException", NOT_FOUND, 404)
