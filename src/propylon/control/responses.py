"""Route responses and integration responses: what a WebSocket API sends back.

Both exist only for WebSocket APIs. A route with a route response is two-way; ``$default`` is
the only route response key AWS supports, so a route has at most one. Its ``ResponseModels``
(content type -> model name) must name models of the API. An integration response is chosen by
its ``IntegrationResponseKey``: ``$default`` or a regular expression between slashes matched
against the integration's status or error (``/4\\d{2}/``); keys are unique per integration. Its
``ResponseParameters`` map ``method.response.header.{name}`` to
``integration.response.header.{name}``, ``integration.response.body.{JSON expression}`` or a
static value in single quotes, as the service model documents. Duplicate keys are a 409.
"""

from __future__ import annotations

import re

from propylon.control.context import Call, Params
from propylon.control.crud import Behaviour, Handler, Parents, Registry, ResourceSpec
from propylon.control.models import websocket_only
from propylon.errors import BadRequestException, ConflictException
from propylon.store import Key, Record

API = ("apis", "ApiId")
DEFAULT_KEY = "$default"
_RESPONSE_HEADER = re.compile(r"method\.response\.header\.[A-Za-z0-9\-_!#$%&'*+.^`|~]+")
_RESPONSE_SOURCE = re.compile(
    r"integration\.response\.(header\.[A-Za-z0-9\-_!#$%&'*+.^`|~]+|body\.\S+|body)|'[^']*'"
)


# kind -> (key member, what AWS calls the resource, what it calls the parent)
KEYS = {
    "routeresponses": ("RouteResponseKey", "RouteResponse", "Route"),
    "integrationresponses": ("IntegrationResponseKey", "IntegrationResponse", "Integration"),
}


def _check_unique(call: Call, spec: ResourceSpec, record: Record, params: Params) -> None:
    key_member, what, parent = KEYS[spec.kind]
    key = record[key_member]
    for other in call.store.children(spec.parent_key(call, params), spec.kind):
        if other[key_member] == key and other[spec.id_member] != record[spec.id_member]:
            raise ConflictException(f"{what} with key {key} already exists for this {parent}")


def _is_pattern(key: str) -> bool:
    """``/regex/`` with a regular expression that compiles."""
    if len(key) < 3 or key[0] != "/" or key[-1] != "/":
        return False
    try:
        re.compile(key[1:-1])
    except re.error:
        return False
    return True


def _check_models(call: Call, record: Record, parents: Parents) -> None:
    api_key: Key = call.scope + ("apis", parents["apis"]["ApiId"])
    names = {model["Name"] for model in call.store.children(api_key, "models")}
    for content_type, name in (record.get("ResponseModels") or {}).items():
        if name not in names:
            raise BadRequestException(
                f"Invalid model specified for content type {content_type}: model {name} "
                "does not exist in this API"
            )


def check_route_response(record: Record) -> None:
    key = record["RouteResponseKey"]
    if key != DEFAULT_KEY:
        raise BadRequestException(
            f"Invalid route response key {key}: $default is the only supported key"
        )


def check_integration_response(record: Record) -> None:
    key = record["IntegrationResponseKey"]
    if key != DEFAULT_KEY and not _is_pattern(key):
        raise BadRequestException(
            f"Invalid integration response key {key}: use $default or a regular "
            "expression between slashes, such as /4\\d{2}/"
        )
    for target, source in (record.get("ResponseParameters") or {}).items():
        if not _RESPONSE_HEADER.fullmatch(target) or not _RESPONSE_SOURCE.fullmatch(source):
            raise BadRequestException(f"Invalid mapping expression specified: {target}: {source}")


class RouteResponses(Behaviour):
    def _check(
        self, call: Call, spec: ResourceSpec, record: Record, params: Params, parents: Parents
    ) -> None:
        check_route_response(record)
        _check_unique(call, spec, record, params)
        _check_models(call, record, parents)

    def create(self, call: Call, spec: ResourceSpec, params: Params, parents: Parents) -> Record:
        websocket_only(parents, "Route responses")
        record = super().create(call, spec, params, parents)
        self._check(call, spec, record, params, parents)
        return record

    def update(
        self, call: Call, spec: ResourceSpec, record: Record, params: Params, parents: Parents
    ) -> Record:
        updated = super().update(call, spec, record, params, parents)
        self._check(call, spec, updated, params, parents)
        return updated


class IntegrationResponses(Behaviour):
    def create(self, call: Call, spec: ResourceSpec, params: Params, parents: Parents) -> Record:
        websocket_only(parents, "Integration responses")
        record = super().create(call, spec, params, parents)
        check_integration_response(record)
        _check_unique(call, spec, record, params)
        return record

    def update(
        self, call: Call, spec: ResourceSpec, record: Record, params: Params, parents: Parents
    ) -> Record:
        updated = super().update(call, spec, record, params, parents)
        check_integration_response(updated)
        _check_unique(call, spec, updated, params)
        return updated


SPECS: tuple[ResourceSpec, ...] = (
    ResourceSpec(
        kind="routeresponses",
        path=(API, ("routes", "RouteId"), ("routeresponses", "RouteResponseId")),
        not_found="Invalid RouteResponse identifier specified {id}",
        id_length=6,
        create="CreateRouteResponse",
        get="GetRouteResponse",
        list="GetRouteResponses",
        update="UpdateRouteResponse",
        delete="DeleteRouteResponse",
        behaviour=RouteResponses(),
        deploys=True,
    ),
    ResourceSpec(
        kind="integrationresponses",
        path=(
            API,
            ("integrations", "IntegrationId"),
            ("integrationresponses", "IntegrationResponseId"),
        ),
        not_found="Invalid IntegrationResponse identifier specified {id}",
        id_length=6,
        create="CreateIntegrationResponse",
        get="GetIntegrationResponse",
        list="GetIntegrationResponses",
        update="UpdateIntegrationResponse",
        delete="DeleteIntegrationResponse",
        behaviour=IntegrationResponses(),
        deploys=True,
    ),
)


def handlers(registry: Registry) -> dict[str, Handler]:
    return {}
