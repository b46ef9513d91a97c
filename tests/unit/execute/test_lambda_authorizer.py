"""Lambda (REQUEST) authorizers: identity sources, events, responses, policies and the cache."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace
from typing import Any

import pytest

from propylon.errors import GatewayForbidden, GatewayInternalError, GatewayUnauthorized
from propylon.execute.authorizers import Unservable, compile_authorizer
from propylon.execute.authorizers.lambda_ import (
    AuthorizerCache,
    LambdaAuthorizer,
    authorizer_event_v1,
    authorizer_event_v2,
    compile_identity_source,
    read_identity,
    route_arn,
)
from propylon.execute.authorizers.lambda_responses import (
    InvalidResponse,
    Verdict,
    parse_policy,
    read_policy_response_v1,
    read_policy_response_v2,
    read_simple_response,
    wildcard_match,
)
from tests.unit.execute.invocations import invocation

ARN = "arn:aws:execute-api:us-east-1:123456789012:a1b2c3d4e5/prod/GET/pets/6"
API_ARN = "arn:aws:execute-api:us-east-1:123456789012:a1b2c3d4e5"


def statement(effect: str, resource: Any, action: Any = "execute-api:Invoke") -> dict[str, Any]:
    return {"Effect": effect, "Action": action, "Resource": resource}


def allows(*statements: dict[str, Any], arn: str = ARN) -> bool:
    return parse_policy({"Version": "2012-10-17", "Statement": list(statements)}).allows(arn)


# --- policy evaluation ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("pattern", "expected"),
    [
        (ARN, True),
        (f"{API_ARN}/prod/GET/pets/*", True),
        (f"{API_ARN}/*", True),  # "*" spans "/" segments
        ("arn:aws:execute-api:*:*:a1b2c3d4e5/*/GET/*", True),
        (f"{API_ARN}/prod/GET/pets/?", True),
        (f"{API_ARN}/prod/GET/pets/??", False),
        (f"{API_ARN}/prod/POST/pets/6", False),
        (f"{API_ARN}/prod/GET/pets", False),
        (f"{API_ARN}/prod/get/pets/6", False),  # resources are case-sensitive
        ("*", True),
    ],
)
def test_resource_patterns_use_iam_wildcards(pattern: str, expected: bool) -> None:
    assert allows(statement("Allow", pattern)) is expected


def test_wildcard_characters_of_regular_expressions_are_literal() -> None:
    assert not wildcard_match("a.c", "abc")
    assert wildcard_match("a+c*", "a+cd")


def test_an_explicit_deny_beats_an_allow() -> None:
    assert not allows(statement("Allow", f"{API_ARN}/*"), statement("Deny", ARN))
    assert not allows(statement("Deny", f"{API_ARN}/*/GET/*"), statement("Allow", ARN))


def test_a_deny_for_another_route_does_not_stop_an_allow() -> None:
    assert allows(statement("Allow", f"{API_ARN}/*"), statement("Deny", f"{API_ARN}/*/POST/*"))


def test_without_a_matching_allow_the_route_is_denied() -> None:
    assert not allows(statement("Allow", f"{API_ARN}/prod/GET/other"))
    assert not allows()


@pytest.mark.parametrize(
    "action",
    [
        "execute-api:Invoke",
        "execute-api:*",
        "*",
        "EXECUTE-API:invoke",
        ["s3:Get*", "execute-api:*"],
    ],
)
def test_actions_that_cover_invoke(action: Any) -> None:
    assert allows(statement("Allow", ARN, action))


@pytest.mark.parametrize("action", ["execute-api:ManageConnections", ["s3:*"], "execute-api:Inv"])
def test_actions_that_do_not_cover_invoke(action: Any) -> None:
    assert not allows(statement("Allow", ARN, action))


def test_statement_and_resource_may_be_single_values() -> None:
    document = {"Statement": statement("Allow", ARN)}
    assert parse_policy(document).allows(ARN)


def test_not_resource_applies_to_every_other_resource() -> None:
    other = {"Effect": "Allow", "Action": "execute-api:Invoke", "NotResource": ARN}
    assert not allows(other)
    assert allows(other, arn=ARN.replace("GET", "PUT"))


def test_effects_are_read_case_insensitively() -> None:
    assert allows(statement("allow", ARN))
    assert not allows(statement("Allow", ARN), statement("DENY", ARN))


@pytest.mark.parametrize(
    "document",
    [
        None,
        "policy",
        {},
        {"Statement": "Allow"},
        {"Statement": ["Allow"]},
        {"Statement": [statement("Permit", ARN)]},
        {"Statement": [{"Effect": "Allow", "Resource": ARN}]},
        {"Statement": [{"Effect": "Allow", "Action": "execute-api:Invoke"}]},
        {"Statement": [statement("Allow", [ARN, 7])]},
    ],
)
def test_invalid_policy_documents_are_refused(document: Any) -> None:
    with pytest.raises(InvalidResponse):
        parse_policy(document)


# --- responses --------------------------------------------------------------------------------


def test_simple_response_keeps_context_types() -> None:
    context = {"s": "x", "n": 1.5, "b": False, "l": [1, "2"], "o": {"k": None}}
    verdict = read_simple_response({"isAuthorized": True, "context": context})
    assert verdict.allows(ARN)
    assert verdict.context == context
    assert not read_simple_response({"isAuthorized": False}).allows(ARN)


@pytest.mark.parametrize(
    "result",
    [
        None,
        True,
        {"isAuthorized": "true"},
        {"isAuthorized": 1},
        {"context": {}},
        {"isAuthorized": True, "context": ["a"]},
        {"isAuthorized": True, "context": {"when": object()}},
    ],
)
def test_invalid_simple_responses_are_refused(result: Any) -> None:
    with pytest.raises(InvalidResponse):
        read_simple_response(result)


def test_policy_response_verdict_follows_the_policy() -> None:
    result = {
        "principalId": "user",
        "policyDocument": {"Statement": [statement("Allow", f"{API_ARN}/*/GET/*")]},
        "context": {"user": "alice"},
    }
    verdict = read_policy_response_v2(result)
    assert verdict.allows(ARN)
    assert not verdict.allows(ARN.replace("GET", "DELETE"))
    assert verdict.context == {"user": "alice"}
    assert verdict.principal_id == "user"


def test_a_policy_response_without_a_policy_is_invalid() -> None:
    with pytest.raises(InvalidResponse):
        read_policy_response_v2({"isAuthorized": True})


def test_claims_is_a_reserved_context_key_with_payload_1_0_only() -> None:
    result = {"policyDocument": {"Statement": []}, "context": {"claims": "x"}}
    with pytest.raises(InvalidResponse, match="claims"):
        read_policy_response_v1(result)
    assert read_policy_response_v2(result).context == {"claims": "x"}


def test_every_request_gets_its_own_copy_of_the_context() -> None:
    verdict = read_simple_response({"isAuthorized": True, "context": {"o": {"k": 1}}})
    verdict.context["o"]["k"] = 2
    assert verdict.context == {"o": {"k": 1}}


# --- identity sources -------------------------------------------------------------------------


def identity(sources: list[str], **overrides: Any) -> tuple[str, ...] | None:
    compiled = tuple(compile_identity_source(source) for source in sources)
    return read_identity(compiled, invocation(**overrides))


def test_header_sources_are_case_insensitive_and_repeats_are_joined() -> None:
    headers = [("authorization", "a"), ("x-team", "red"), ("x-team", "blue")]
    sources = ["$request.header.Authorization", "$request.header.X-Team"]
    assert identity(sources, headers=headers) == ("a", "red,blue")


def test_query_sources_are_case_sensitive() -> None:
    query = [("Team", "red")]
    assert identity(["$request.querystring.Team"], query=query) == ("red",)
    assert identity(["$request.querystring.team"], query=query) is None


def test_context_and_stage_variable_sources() -> None:
    sources = ["$context.routeKey", "$context.identity.sourceIp", "$stageVariables.env"]
    assert identity(sources, stage_variables={"env": "prod"}) == (
        "GET /pets/{petId}",
        "203.0.113.7",
        "prod",
    )


@pytest.mark.parametrize(
    "overrides",
    [{}, {"headers": [("authorization", "")]}, {"headers": [("authorization", "a")]}],
)
def test_one_missing_or_empty_source_is_no_identity(overrides: dict[str, Any]) -> None:
    sources = ["$request.header.Authorization", "$stageVariables.missing"]
    assert identity(sources, **overrides) is None


def test_no_sources_is_an_empty_identity() -> None:
    assert identity([]) == ()


@pytest.mark.parametrize("source", ["Authorization", "$request.body.token", "$request.header.a-$x"])
def test_sources_that_are_not_one_expression_are_refused(source: str) -> None:
    with pytest.raises(ValueError, match=r"identity source|cannot be used"):
        compile_identity_source(source)


# --- events -----------------------------------------------------------------------------------


def test_route_arn_uses_the_request_path_after_the_stage() -> None:
    assert route_arn("eu-west-1", invocation()) == (
        "arn:aws:execute-api:eu-west-1:123456789012:a1b2c3d4e5/prod/GET/pets/6"
    )
    root = invocation(stage="$default", route_path="/", http_method="POST")
    assert route_arn("us-east-1", root).endswith("a1b2c3d4e5/$default/POST/")
    encoded = invocation(route_path="/pets/a%20b")
    assert route_arn("us-east-1", encoded).endswith("/prod/GET/pets/a b")


def test_2_0_event_is_the_integration_event_without_body_plus_type_arn_and_identity() -> None:
    inv = invocation(body=b'{"a":1}', query=[("a", "1")], raw_query_string="a=1")
    event = authorizer_event_v2(inv, ARN, ("tok", "x"))
    assert list(event)[:4] == ["version", "type", "routeArn", "identitySource"]
    assert event["type"] == "REQUEST"
    assert event["routeArn"] == ARN
    assert event["identitySource"] == ["tok", "x"]
    assert event["routeKey"] == "GET /pets/{petId}"
    assert event["queryStringParameters"] == {"a": "1"}
    assert event["requestContext"]["http"]["method"] == "GET"
    assert "body" not in event
    assert "isBase64Encoded" not in event


def test_1_0_event_joins_identity_and_has_the_rest_request_context() -> None:
    event = authorizer_event_v1(invocation(), ARN, ("tok", "x"))
    assert event["version"] == "1.0"
    assert event["methodArn"] == ARN
    assert event["identitySource"] == event["authorizationToken"] == "tok,x"
    assert event["resource"] == "/pets/{petId}"
    assert event["queryStringParameters"] is None
    assert event["requestContext"] == {
        "path": "/prod/pets/6",
        "accountId": "123456789012",
        "resourceId": "GET /pets/{petId}",
        "stage": "prod",
        "requestId": "Mc7UVioPPHcEKPA=",
        "identity": {"apiKey": None, "sourceIp": "203.0.113.7"},
        "resourcePath": "/pets/{petId}",
        "httpMethod": "GET",
        "apiId": "a1b2c3d4e5",
    }


# --- the cache --------------------------------------------------------------------------------


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


CONFIG = {"AuthorizerId": "auth1", "AuthorizerResultTtlInSeconds": 60}
YES = Verdict("{}", authorized=True)


def test_a_result_is_kept_for_its_ttl() -> None:
    clock = Clock()
    cache = AuthorizerCache(clock)
    cache.put("api", "prod", CONFIG, ("tok",), YES, 60)
    clock.now += 59.9
    assert cache.get("api", "prod", CONFIG, ("tok",)) is YES
    clock.now += 0.1
    assert cache.get("api", "prod", CONFIG, ("tok",)) is None


def test_results_are_per_identity_stage_and_authorizer() -> None:
    cache = AuthorizerCache(Clock())
    cache.put("api", "prod", CONFIG, ("tok",), YES, 60)
    assert cache.get("api", "prod", CONFIG, ("other",)) is None
    assert cache.get("api", "dev", CONFIG, ("tok",)) is None
    assert cache.get("api2", "prod", CONFIG, ("tok",)) is None
    assert cache.get("api", "prod", {**CONFIG, "AuthorizerId": "auth2"}, ("tok",)) is None


def test_reset_forgets_one_stage_only() -> None:
    cache = AuthorizerCache(Clock())
    cache.put("api", "prod", CONFIG, ("tok",), YES, 60)
    cache.put("api", "dev", CONFIG, ("tok",), YES, 60)
    cache.reset("api", "prod")
    assert cache.get("api", "prod", CONFIG, ("tok",)) is None
    assert cache.get("api", "dev", CONFIG, ("tok",)) is YES


def test_a_changed_authorizer_configuration_drops_its_results() -> None:
    cache = AuthorizerCache(Clock())
    cache.put("api", "prod", CONFIG, ("tok",), YES, 60)
    assert cache.get("api", "prod", dict(CONFIG), ("tok",)) is YES  # equal: a redeployment
    changed = {**CONFIG, "AuthorizerUri": "arn:...:function:other/invocations"}
    assert cache.get("api", "prod", changed, ("tok",)) is None


def test_a_full_cache_drops_expired_entries_then_the_oldest() -> None:
    clock = Clock()
    cache = AuthorizerCache(clock, limit=2)
    cache.put("api", "prod", CONFIG, ("a",), YES, 10)
    cache.put("api", "prod", CONFIG, ("b",), YES, 60)
    cache.put("api", "prod", CONFIG, ("c",), YES, 60)  # full, nothing expired: "a" goes
    assert cache.get("api", "prod", CONFIG, ("a",)) is None
    clock.now += 30
    cache.put("api", "prod", CONFIG, ("d",), YES, 60)
    assert cache.get("api", "prod", CONFIG, ("b",)) is None
    assert cache.get("api", "prod", CONFIG, ("c",)) is YES
    assert cache.get("api", "prod", CONFIG, ("d",)) is YES


# --- the authorizer with a fake gateway -------------------------------------------------------


class Function:
    """An invoker whose answer (or failure) the test chooses; it records the events."""

    def __init__(self, answer: Any = None, *, hang: bool = False) -> None:
        self.answer = answer
        self.hang = hang
        self.events: list[dict[str, Any]] = []

    async def invoke(self, event: dict[str, Any], request_id: str) -> Any:
        self.events.append(event)
        if self.hang:
            await asyncio.Event().wait()
        return self.answer


def gateway(function: Function, clock: Clock | None = None) -> Any:
    return SimpleNamespace(
        deployed=SimpleNamespace(get=lambda api_id: SimpleNamespace(region="eu-west-1")),
        settings=SimpleNamespace(region="us-east-1"),
        functions=SimpleNamespace(resolve=lambda uri: function),
        authorizer_cache=AuthorizerCache(clock or Clock()),
    )


def record(**overrides: Any) -> dict[str, Any]:
    fields = {
        "AuthorizerId": "auth1",
        "AuthorizerType": "REQUEST",
        "AuthorizerUri": "arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/"
        "arn:aws:lambda:us-east-1:123456789012:function:auth/invocations",
        "AuthorizerPayloadFormatVersion": "2.0",
        "EnableSimpleResponses": True,
        "IdentitySource": ["$request.header.Authorization"],
        "AuthorizerResultTtlInSeconds": 300,
    }
    return fields | overrides


def authorize(authorizer: LambdaAuthorizer, fake: Any, **overrides: Any) -> Any:
    inv = invocation(**({"headers": [("authorization", "tok")]} | overrides))
    asyncio.run(authorizer.authorize(fake, inv, {}))
    return inv


def test_an_allowed_request_carries_the_context_as_lambda() -> None:
    function = Function({"isAuthorized": True, "context": {"user": "alice"}})
    inv = authorize(LambdaAuthorizer(record()), gateway(function))
    assert inv.authorizer == {"lambda": {"user": "alice"}}
    assert function.events[0]["routeArn"].startswith("arn:aws:execute-api:eu-west-1:")


def test_a_cached_answer_skips_the_function_until_the_ttl_passes() -> None:
    clock = Clock()
    function = Function({"isAuthorized": True})
    fake, authorizer = gateway(function, clock), LambdaAuthorizer(record())
    authorize(authorizer, fake)
    authorize(authorizer, fake)
    assert len(function.events) == 1
    clock.now += 300
    authorize(authorizer, fake)
    assert len(function.events) == 2


def test_a_denial_is_403_and_cached() -> None:
    function = Function({"isAuthorized": False})
    fake, authorizer = gateway(function), LambdaAuthorizer(record())
    for _ in range(2):
        with pytest.raises(GatewayForbidden):
            authorize(authorizer, fake)
    assert len(function.events) == 1


def test_ttl_without_identity_sources_caches_nothing() -> None:
    function = Function({"isAuthorized": True})
    fake, authorizer = gateway(function), LambdaAuthorizer(record(IdentitySource=[]))
    authorize(authorizer, fake)
    authorize(authorizer, fake)
    assert len(function.events) == 2


def test_a_missing_identity_is_401_and_the_function_is_not_called() -> None:
    function = Function({"isAuthorized": True})
    with pytest.raises(GatewayUnauthorized):
        authorize(LambdaAuthorizer(record()), gateway(function), headers=[])
    assert function.events == []


def test_an_authorizer_that_does_not_answer_in_time_is_500() -> None:
    authorizer = LambdaAuthorizer(record())
    authorizer.timeout = 0.01
    with pytest.raises(GatewayInternalError):
        authorize(authorizer, gateway(Function(hang=True)))


def test_an_invalid_answer_is_500_and_not_cached() -> None:
    function = Function({"isAuthorized": "yes"})
    fake, authorizer = gateway(function), LambdaAuthorizer(record())
    for _ in range(2):
        with pytest.raises(GatewayInternalError):
            authorize(authorizer, fake)
    assert len(function.events) == 2


def test_simple_responses_need_payload_2_0() -> None:
    authorizer = LambdaAuthorizer(record(AuthorizerPayloadFormatVersion="1.0"))
    function = Function({"isAuthorized": True})
    with pytest.raises(GatewayInternalError):  # 1.0 reads a policy response
        authorize(authorizer, gateway(function))
    assert function.events[0]["version"] == "1.0"


def test_request_authorizers_are_compiled_from_the_table() -> None:
    assert isinstance(compile_authorizer(record()), LambdaAuthorizer)
    unservable = compile_authorizer(record(IdentitySource=["Authorization"]))
    assert isinstance(unservable, Unservable)
    assert isinstance(compile_authorizer(record(AuthorizerPayloadFormatVersion="3.0")), Unservable)
