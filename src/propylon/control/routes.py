"""Routes: route-key rules per protocol, targets, authorization and request parameters.

HTTP route keys are ``$default`` or ``METHOD /path`` (``ANY`` for every method), where a path
segment is a literal, a ``{name}`` or, as the last segment only, a greedy ``{name+}``; a path
ends without a slash unless it is ``/``. WebSocket route keys are ``$connect``, ``$disconnect``,
``$default`` or any custom key that does not start with ``$``.
"""

from __future__ import annotations

import re
from typing import Any

from propylon.control.context import Call, Params
from propylon.control.crud import Behaviour, Handler, Parents, Registry, ResourceSpec
from propylon.errors import BadRequestException, ConflictException, NotFoundException
from propylon.store import Key, Record

HTTP_METHODS = frozenset({"GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS", "ANY"})
WEBSOCKET_KEYS = frozenset({"$connect", "$disconnect", "$default"})
AUTHORIZATION_TYPES = {
    "HTTP": frozenset({"NONE", "JWT", "AWS_IAM", "CUSTOM"}),
    "WEBSOCKET": frozenset({"NONE", "AWS_IAM", "CUSTOM"}),
}
_LITERAL = re.compile(r"[A-Za-z0-9\-._~:@!$&'()*+,;=%]+")
_PARAMETER = re.compile(r"\{[A-Za-z0-9_.\-]+\}")
_GREEDY = re.compile(r"\{[A-Za-z0-9_.\-]+\+\}")
_TARGET = re.compile(r"integrations/([a-z0-9]+)")
_ROUTE_PARAMETER = re.compile(r"route\.request\.(header|querystring)\.[^\s]+")


def _invalid(route_key: str) -> BadRequestException:
    return BadRequestException(f"Unable to create route. The route key '{route_key}' is invalid.")


def check_http_route_key(route_key: str) -> None:
    if route_key == "$default":
        return
    method, _, path = route_key.partition(" ")
    if method not in HTTP_METHODS or not path.startswith("/") or " " in path:
        raise _invalid(route_key)
    if path == "/":
        return
    segments = path[1:].split("/")
    for index, segment in enumerate(segments):
        last = index == len(segments) - 1
        if _LITERAL.fullmatch(segment) and "{" not in segment and "}" not in segment:
            continue
        if _PARAMETER.fullmatch(segment) or (last and _GREEDY.fullmatch(segment)):
            continue
        raise _invalid(route_key)


def check_websocket_route_key(route_key: str) -> None:
    if route_key.startswith("$") and route_key not in WEBSOCKET_KEYS:
        raise _invalid(route_key)


ROUTE_KEY_RULES = {"HTTP": check_http_route_key, "WEBSOCKET": check_websocket_route_key}


def _api_key(call: Call, parents: Parents) -> Key:
    return call.scope + ("apis", parents["apis"]["ApiId"])


class Routes(Behaviour):
    def _check(self, call: Call, route: dict[str, Any], parents: Parents) -> None:
        api = parents["apis"]
        protocol = api["ProtocolType"]
        api_key = _api_key(call, parents)
        route_key = route["RouteKey"]
        ROUTE_KEY_RULES[protocol](route_key)
        for other in call.store.children(api_key, "routes"):
            if other["RouteKey"] == route_key and other["RouteId"] != route.get("RouteId"):
                raise ConflictException(f"Route with key {route_key} already exists for this API")
        target = route.get("Target")
        if target is not None:
            match = _TARGET.fullmatch(target)
            if match is None:
                raise BadRequestException(
                    f"Invalid target '{target}': it must have the form integrations/{{id}}"
                )
            if call.store.get(api_key + ("integrations", match[1])) is None:
                raise NotFoundException(f"Invalid Integration identifier specified {match[1]}")
        self._check_authorization(call, route, protocol, api_key)
        for parameter_key in route.get("RequestParameters") or {}:
            if not _ROUTE_PARAMETER.fullmatch(parameter_key):
                raise BadRequestException(
                    f"Invalid request parameter key '{parameter_key}': use "
                    "route.request.header.{name} or route.request.querystring.{name}"
                )

    def _check_authorization(
        self, call: Call, route: dict[str, Any], protocol: str, api_key: Key
    ) -> None:
        kind = route.get("AuthorizationType", "NONE")
        if kind not in AUTHORIZATION_TYPES[protocol]:
            raise BadRequestException(
                f"AuthorizationType {kind} is not supported for {protocol} APIs"
            )
        if protocol == "WEBSOCKET" and kind != "NONE" and route["RouteKey"] != "$connect":
            raise BadRequestException(
                "Currently, authorization is restricted to the $connect route only"
            )
        authorizer_id = route.get("AuthorizerId")
        if kind in ("JWT", "CUSTOM"):
            if not authorizer_id:
                raise BadRequestException(f"An AuthorizerId is required for {kind} authorization")
            authorizer = call.store.get(api_key + ("authorizers", authorizer_id))
            if authorizer is None:
                raise NotFoundException(f"Invalid Authorizer identifier specified {authorizer_id}")
            expected = "JWT" if kind == "JWT" else "REQUEST"
            if authorizer.get("AuthorizerType") != expected:
                raise BadRequestException(
                    f"AuthorizationType {kind} requires an authorizer of type {expected}"
                )
        if route.get("AuthorizationScopes") and kind != "JWT":
            raise BadRequestException(
                "AuthorizationScopes are supported only with JWT authorization"
            )

    def create(self, call: Call, spec: ResourceSpec, params: Params, parents: Parents) -> Record:
        record = super().create(call, spec, params, parents)
        record.setdefault("ApiKeyRequired", False)
        record.setdefault("AuthorizationType", "NONE")
        self._check(call, record, parents)
        return record

    def update(
        self, call: Call, spec: ResourceSpec, record: Record, params: Params, parents: Parents
    ) -> Record:
        updated = super().update(call, spec, record, params, parents)
        if updated.get("AuthorizationType") == "NONE":
            updated.pop("AuthorizerId", None)
            updated.pop("AuthorizationScopes", None)
        self._check(call, updated, parents)
        return updated


def handlers(registry: Registry) -> dict[str, Handler]:
    def delete_route_request_parameter(call: Call, params: Params) -> None:
        route = registry.find(call, "routes", params)
        key = params["RequestParameterKey"]
        parameters = dict(route.get("RequestParameters") or {})
        if parameters.pop(key, None) is None:
            raise NotFoundException(f"Invalid request parameter key specified {key}")
        updated = {**route, "RequestParameters": parameters}
        call.store.put(registry.specs["routes"].key(call, params), updated)
        registry.changed(call, registry.specs["routes"], params)

    return {"DeleteRouteRequestParameter": delete_route_request_parameter}
