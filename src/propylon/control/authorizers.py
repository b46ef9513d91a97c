"""Authorizers: JWT and Lambda (REQUEST) authorizers, and what each protocol allows.

HTTP APIs take both types. A JWT authorizer needs ``JwtConfiguration`` with an ``Issuer`` and at
least one ``Audience`` (at most 50), and reads the token from exactly one identity source: a
header or a query string parameter (``$request.header.Authorization``). A REQUEST (Lambda)
authorizer needs a Lambda invocation URI (``arn:aws:apigateway:{region}:lambda:path/2015-03-31/
functions/{function ARN}/invocations``) and ``AuthorizerPayloadFormatVersion`` 1.0 or 2.0;
``EnableSimpleResponses`` needs 2.0. Its identity sources are selection expressions for both
payload versions: ``$request.header.X``, ``$request.querystring.X``, ``$context.X`` and
``$stageVariables.X``. Results are cached for ``AuthorizerResultTtlInSeconds`` (0-3600); unset,
as on AWS, the member is not shown and nothing is cached. Caching needs at least one identity
source; without caching the list may be empty.

WebSocket APIs take REQUEST authorizers only, with identity sources in mapping-expression form
(``route.request.header.X``, ``route.request.querystring.X``, ``stageVariables.X``,
``context.X``), and refuse the HTTP-only members.

A member of the other type is refused on create. When ``UpdateAuthorizer`` changes the type, the
old type's members that the update does not restate are dropped; ``JwtConfiguration`` is merged
field by field, and an empty ``AuthorizerCredentialsArn`` removes the role. An authorizer a route
still uses cannot be deleted (409, with AWS's message).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from propylon.control.context import Call, Params
from propylon.control.crud import Behaviour, Handler, Parents, Registry, ResourceSpec
from propylon.errors import BadRequestException, ConflictException
from propylon.store import Record

LAMBDA_URI = re.compile(
    r"arn:aws[a-z-]*:apigateway:[a-z0-9-]+:lambda:path/2015-03-31/functions/"
    r"arn:aws[a-z-]*:lambda:[a-z0-9-]+:\d{12}:function:[^/\s]+/invocations"
)
ROLE_ARN = re.compile(r"arn:aws[a-z-]*:iam::\d{12}:role/[A-Za-z0-9+=,.@_/-]+")
JWT_SOURCE = re.compile(r"\$request\.(header|querystring)\.[^\s,]+")
HTTP_SOURCE = re.compile(
    r"\$(request\.header|request\.querystring|context|stageVariables)\.[^\s,]+"
)
WEBSOCKET_SOURCE = re.compile(
    r"(route\.request\.header|route\.request\.querystring|context|stageVariables)\.[^\s,]+"
)
PAYLOAD_VERSIONS = ("1.0", "2.0")
MAX_AUDIENCES = 50
LAMBDA_MEMBERS = (
    "AuthorizerUri",
    "AuthorizerCredentialsArn",
    "AuthorizerPayloadFormatVersion",
    "AuthorizerResultTtlInSeconds",
    "EnableSimpleResponses",
)
TYPE_MEMBERS = {"JWT": ("JwtConfiguration",), "REQUEST": LAMBDA_MEMBERS}
HTTP_ONLY_MEMBERS = (
    "AuthorizerPayloadFormatVersion",
    "AuthorizerResultTtlInSeconds",
    "EnableSimpleResponses",
    "JwtConfiguration",
)
HTTP_SOURCES_HINT = (
    "$request.header.{name}, $request.querystring.{name}, $context.{name} or $stageVariables.{name}"
)
WEBSOCKET_SOURCES_HINT = (
    "route.request.header.{name}, route.request.querystring.{name}, context.{name} or "
    "stageVariables.{name}"
)


def _refuse(record: Record, names: tuple[str, ...], reason: str) -> None:
    for name in names:
        if record.get(name) is not None:
            raise BadRequestException(f"{name} {reason}")


def _check_sources(sources: list[str], pattern: re.Pattern[str], hint: str) -> None:
    for source in sources:
        if not pattern.fullmatch(source):
            raise BadRequestException(f"Invalid identity source expression: {source}. Use {hint}")


def _check_lambda(record: Record) -> None:
    uri = record.get("AuthorizerUri")
    if not uri:
        raise BadRequestException("AuthorizerUri is a required parameter for REQUEST authorizer")
    if not LAMBDA_URI.fullmatch(uri):
        raise BadRequestException(
            f"Invalid authorizer URI specified: {uri}. A Lambda authorizer URI has the form "
            "arn:aws:apigateway:{region}:lambda:path/2015-03-31/functions/{function ARN}"
            "/invocations"
        )
    role = record.get("AuthorizerCredentialsArn")
    if role is not None and not ROLE_ARN.fullmatch(role):
        raise BadRequestException(f"Invalid role ARN specified: {role}")


def check_jwt(record: Record) -> None:
    _refuse(record, LAMBDA_MEMBERS, "is supported only for REQUEST authorizers")
    config: dict[str, Any] = record.get("JwtConfiguration") or {}
    audience = config.get("Audience") or []
    if not config.get("Issuer") or not audience:
        raise BadRequestException(
            "JwtConfiguration with an Issuer and at least one Audience is required for JWT "
            "authorizers"
        )
    if len(audience) > MAX_AUDIENCES:
        raise BadRequestException(f"A JWT authorizer can have at most {MAX_AUDIENCES} audiences")
    sources = record["IdentitySource"]
    if len(sources) != 1 or not JWT_SOURCE.fullmatch(sources[0]):
        raise BadRequestException(
            "A JWT authorizer takes exactly one identity source: a header "
            "($request.header.{name}) or a query string parameter ($request.querystring.{name})"
        )


def check_http_request(record: Record) -> None:
    _refuse(record, TYPE_MEMBERS["JWT"], "is supported only for JWT authorizers")
    _check_lambda(record)
    version = record.get("AuthorizerPayloadFormatVersion")
    if version is None:
        raise BadRequestException(
            "AuthorizerPayloadFormatVersion is a required parameter for REQUEST authorizer"
        )
    if version not in PAYLOAD_VERSIONS:
        raise BadRequestException(
            f"AuthorizerPayloadFormatVersion {version} is not supported: use 1.0 or 2.0"
        )
    if record.get("EnableSimpleResponses") and version != "2.0":
        raise BadRequestException(
            "EnableSimpleResponses is supported only with AuthorizerPayloadFormatVersion 2.0"
        )
    sources = record["IdentitySource"]
    _check_sources(sources, HTTP_SOURCE, HTTP_SOURCES_HINT)
    if record.get("AuthorizerResultTtlInSeconds", 0) > 0 and not sources:
        raise BadRequestException(
            "Identity sources are required when authorizer caching is enabled "
            "(AuthorizerResultTtlInSeconds greater than 0)"
        )


def check_websocket_request(record: Record) -> None:
    _refuse(record, HTTP_ONLY_MEMBERS, "cannot be set for WEBSOCKET protocol Apis.")
    _check_lambda(record)
    _check_sources(record["IdentitySource"], WEBSOCKET_SOURCE, WEBSOCKET_SOURCES_HINT)


# (protocol, authorizer type) -> its rules; a pair that is missing is not supported.
CHECKS: dict[tuple[str, str], Callable[[Record], None]] = {
    ("HTTP", "JWT"): check_jwt,
    ("HTTP", "REQUEST"): check_http_request,
    ("WEBSOCKET", "REQUEST"): check_websocket_request,
}


def check_authorizer(record: Record, protocol: str) -> None:
    kind = record["AuthorizerType"]
    check = CHECKS.get((protocol, kind))
    if check is None:
        raise BadRequestException(f"Authorizer type {kind} is not supported for {protocol} APIs")
    check(record)


def _changed_type(record: Record, updated: Record, params: Params) -> Record:
    """Drop the old type's members that the update does not restate."""
    old = record["AuthorizerType"]
    if updated["AuthorizerType"] == old:
        return updated
    stale = {name for name in TYPE_MEMBERS[old] if params.get(name) is None}
    return {k: v for k, v in updated.items() if k not in stale}


class Authorizers(Behaviour):
    def create(self, call: Call, spec: ResourceSpec, params: Params, parents: Parents) -> Record:
        record = super().create(call, spec, params, parents)
        check_authorizer(record, parents["apis"]["ProtocolType"])
        return record

    def update(
        self, call: Call, spec: ResourceSpec, record: Record, params: Params, parents: Parents
    ) -> Record:
        updated = super().update(call, spec, record, params, parents)
        if params.get("JwtConfiguration") is not None and record.get("JwtConfiguration"):
            updated["JwtConfiguration"] = {
                **record["JwtConfiguration"],
                **params["JwtConfiguration"],
            }
        if params.get("AuthorizerCredentialsArn") == "":
            updated.pop("AuthorizerCredentialsArn")
        updated = _changed_type(record, updated, params)
        check_authorizer(updated, parents["apis"]["ProtocolType"])
        return updated

    def delete(self, call: Call, spec: ResourceSpec, record: Record, parents: Parents) -> None:
        api_key = call.scope + ("apis", parents["apis"]["ApiId"])
        for route in call.store.children(api_key, "routes"):
            if route.get("AuthorizerId") == record["AuthorizerId"]:
                raise ConflictException(
                    f"Cannot delete authorizer '{record['Name']}', is referenced in route: "
                    f"{route['RouteKey']}"
                )


SPECS: tuple[ResourceSpec, ...] = (
    ResourceSpec(
        kind="authorizers",
        path=(("apis", "ApiId"), ("authorizers", "AuthorizerId")),
        not_found="Invalid Authorizer identifier specified {id}",
        id_length=6,
        create="CreateAuthorizer",
        get="GetAuthorizer",
        list="GetAuthorizers",
        update="UpdateAuthorizer",
        delete="DeleteAuthorizer",
        behaviour=Authorizers(),
        deploys=True,
    ),
)


def handlers(registry: Registry) -> dict[str, Handler]:
    return {}
