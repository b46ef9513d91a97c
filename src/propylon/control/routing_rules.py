"""Routing rules: conditions on headers and base path, in priority order, that pick an API stage.

A rule has exactly one ``InvokeApi`` action (``StripBasePath`` false unless set) and up to three
conditions, all of which must match: at most two ``MatchHeaders`` and one ``MatchBasePaths``,
each with exactly one ``AnyOf`` entry. A rule without conditions matches every request.

Header names and value globs use the RFC 7230 characters AWS allows (letters, digits and
``*?-!#$%&'.^_`|~``); a name has no wildcard and is under 40 characters, and the headers AWS
reserves (``Authorization``, ``Origin``, ``X-Forwarded-*``, ``x-amz-*`` ...) are refused. A glob
is under 128 characters and its wildcard is a prefix (``*a``), a suffix (``a*``), both (``*a*``,
then under 40 characters) or ``*`` alone, never in the middle. A base path is under 128
characters of ``A-Za-z0-9$-_.+!*'()/`` and neither starts nor ends with ``/``.

Priorities (1 to 1,000,000, checked by the model) are unique per domain name (Conflict), and
``ListRoutingRules`` answers in priority order, the order they are evaluated in.

AWS routes rules to REST APIs only, which Propylon does not host; here the target is an HTTP API
of the account and one of its stages (each NotFound otherwise; WebSocket APIs are refused). As
on AWS, a domain name in API_MAPPING_ONLY mode (the default) takes no new or changed rules, and
``DomainNameId``, which names private custom domain names, is accepted and ignored.
"""

from __future__ import annotations

import re
from typing import Any

from propylon.control.arns import account_resource_arn
from propylon.control.context import Call, Output, Params
from propylon.control.crud import Behaviour, Handler, Parents, Registry, ResourceSpec
from propylon.control.domain_names import DOMAIN
from propylon.control.integrations import RESERVED_HEADERS as MAPPING_RESERVED_HEADERS
from propylon.control.integrations import RESERVED_PREFIXES
from propylon.control.pagination import paginate
from propylon.errors import BadRequestException, ConflictException
from propylon.store import Key, Record

NOT_FOUND = "The routing rule resource specified in the request was not found."
MAX_HEADER_CONDITIONS = 2
MAX_BASE_PATH_CONDITIONS = 1
MAX_NAME = 40  # header names and *infix* globs are shorter than this
MAX_GLOB = 128
MAX_BASE_PATH = 128
# The headers parameter mapping may not touch, and the two API Gateway sets on its way in.
RESERVED_HEADERS = MAPPING_RESERVED_HEADERS | {"x-apigw-api-id", "x-restapi"}
_TOKEN = re.compile(r"[A-Za-z0-9*?\-!#$%&'.^_`|~]+")
_BASE_PATH = re.compile(r"[A-Za-z0-9$\-_.+!*'()/]+")


def _invalid(message: str) -> BadRequestException:
    return BadRequestException(f"Invalid routing rule: {message}")


def check_header(name: str) -> None:
    if not _TOKEN.fullmatch(name) or "*" in name or len(name) >= MAX_NAME:
        raise _invalid(f"header name '{name}' must be under {MAX_NAME} characters, no wildcard")
    lowered = name.lower()
    if lowered in RESERVED_HEADERS or lowered.startswith(RESERVED_PREFIXES):
        raise _invalid(f"header '{name}' can't be used in a condition")


def check_glob(glob: str) -> None:
    if not _TOKEN.fullmatch(glob) or len(glob) >= MAX_GLOB:
        raise _invalid(f"header value glob '{glob}' must be under {MAX_GLOB} token characters")
    if "*" in glob.strip("*"):
        raise _invalid(f"header value glob '{glob}' can't have a wildcard in the middle")
    infix = len(glob) > 1 and glob.startswith("*") and glob.endswith("*")
    if infix and len(glob) >= MAX_NAME:
        raise _invalid(f"header value glob '{glob}' for an infix match must be under {MAX_NAME}")


def check_base_path(path: str) -> None:
    if len(path) >= MAX_BASE_PATH or not _BASE_PATH.fullmatch(path):
        raise _invalid(
            f"base path '{path}' must be under {MAX_BASE_PATH} characters of letters, digits "
            "and $-_.+!*'()/"
        )
    if path.startswith("/") or path.endswith("/"):
        raise _invalid(f"base path '{path}' can't start or end with '/'")


def _single(any_of: list[Any], what: str) -> Any:
    if len(any_of) != 1:
        raise _invalid(f"each {what} condition takes exactly one anyOf entry")
    return any_of[0]


def check_conditions(conditions: list[dict[str, Any]]) -> None:
    headers = base_paths = 0
    for condition in conditions:
        kinds = [kind for kind in ("MatchHeaders", "MatchBasePaths") if condition.get(kind)]
        if len(kinds) != 1:
            raise _invalid("each condition has exactly one of matchHeaders and matchBasePaths")
        if kinds[0] == "MatchHeaders":
            headers += 1
            header = _single(condition["MatchHeaders"]["AnyOf"], "matchHeaders")
            check_header(header["Header"])
            check_glob(header["ValueGlob"])
        else:
            base_paths += 1
            check_base_path(_single(condition["MatchBasePaths"]["AnyOf"], "matchBasePaths"))
    if headers > MAX_HEADER_CONDITIONS or base_paths > MAX_BASE_PATH_CONDITIONS:
        raise _invalid(
            f"a rule takes at most {MAX_HEADER_CONDITIONS} matchHeaders conditions and "
            f"{MAX_BASE_PATH_CONDITIONS} matchBasePaths condition"
        )


def _action(actions: list[dict[str, Any]]) -> dict[str, Any]:
    if len(actions) != 1:
        raise _invalid("a rule takes exactly one action")
    invoke: dict[str, Any] = actions[0]["InvokeApi"]
    return invoke


def _domain_key(call: Call, parents: Parents) -> Key:
    return call.scope + ("domainnames", parents["domainnames"]["DomainName"])


class RoutingRules(Behaviour):
    def _check(self, call: Call, rule: Record, parents: Parents) -> None:
        if parents["domainnames"].get("RoutingMode", "API_MAPPING_ONLY") == "API_MAPPING_ONLY":
            raise BadRequestException(
                "Routing rules can't be created or changed for a domain name whose routing mode "
                "is API_MAPPING_ONLY"
            )
        check_conditions(rule["Conditions"])
        for other in call.store.children(_domain_key(call, parents), "routingrules"):
            same = other["Priority"] == rule["Priority"]
            if same and other["RoutingRuleId"] != rule["RoutingRuleId"]:
                raise ConflictException(
                    f"A routing rule with priority {rule['Priority']} already exists "
                    "for this domain name"
                )

    def _complete(self, call: Call, rule: Record, parents: Parents) -> Record:
        invoke = _action(rule["Actions"])
        action = {"InvokeApi": {"StripBasePath": False, **invoke}}
        name = parents["domainnames"]["DomainName"]
        path = f"/domainnames/{name}/routingrules/{rule['RoutingRuleId']}"
        arn = account_resource_arn(call.region, call.account, path)
        completed = {**rule, "Actions": [action], "RoutingRuleArn": arn}
        self._check(call, completed, parents)
        return completed

    def create(self, call: Call, spec: ResourceSpec, params: Params, parents: Parents) -> Record:
        return self._complete(call, super().create(call, spec, params, parents), parents)

    def update(
        self, call: Call, spec: ResourceSpec, record: Record, params: Params, parents: Parents
    ) -> Record:
        updated = super().update(call, spec, record, params, parents)
        return self._complete(call, updated, parents)


ROUTING_RULE_SPEC = ResourceSpec(
    kind="routingrules",
    path=(DOMAIN, ("routingrules", "RoutingRuleId")),
    not_found=NOT_FOUND,
    id_length=6,
    create="CreateRoutingRule",
    get="GetRoutingRule",
    update="PutRoutingRule",
    delete="DeleteRoutingRule",
    behaviour=RoutingRules(),
)


def handlers(registry: Registry) -> dict[str, Handler]:
    """Create and put check the target stage first; the list answers in ``RoutingRules``."""
    create = registry.generic("CreateRoutingRule")
    put = registry.generic("PutRoutingRule")

    def check_target(call: Call, params: Params) -> None:
        invoke = _action(params["Actions"])
        ids = {"ApiId": invoke["ApiId"], "StageName": invoke["Stage"]}
        registry.find(call, "stages", ids)
        api = registry.find(call, "apis", ids)
        if api["ProtocolType"] != "HTTP":
            raise _invalid("the target of a routing rule must be an HTTP API")

    def create_routing_rule(call: Call, params: Params) -> Output | None:
        registry.find(call, "domainnames", params)
        check_target(call, params)
        return create(call, params)

    def put_routing_rule(call: Call, params: Params) -> Output | None:
        registry.find(call, "routingrules", params)
        check_target(call, params)
        return put(call, params)

    def list_routing_rules(call: Call, params: Params) -> Output:
        domain = registry.find(call, "domainnames", params)
        key = call.scope + ("domainnames", domain["DomainName"])
        rules = sorted(call.store.children(key, "routingrules"), key=lambda r: r["Priority"])
        return paginate(rules, params, field="RoutingRules")

    return {
        "CreateRoutingRule": create_routing_rule,
        "PutRoutingRule": put_routing_rule,
        "ListRoutingRules": list_routing_rules,
    }
