"""Integrations: the types each protocol supports, their defaults and their mapping rules.

Defaults as AWS sets them: ``ConnectionType`` INTERNET, ``TimeoutInMillis`` 30000 for HTTP APIs
and 29000 for WebSocket APIs (each with its own range), ``PayloadFormatVersion`` 1.0 where 1.0 is
the only choice, ``IntegrationMethod`` POST for Lambda proxies and ``PassthroughBehavior``
WHEN_NO_MATCH for WebSocket non-proxy integrations. The integration quick create makes is
managed by API Gateway: it can be updated but not deleted.
"""

from __future__ import annotations

import re
from typing import Any

from propylon.control.context import Call, Params
from propylon.control.crud import Behaviour, Parents, ResourceSpec
from propylon.errors import BadRequestException
from propylon.store import Record

TYPES = {
    "HTTP": frozenset({"AWS_PROXY", "HTTP_PROXY"}),
    "WEBSOCKET": frozenset({"AWS", "AWS_PROXY", "HTTP", "HTTP_PROXY", "MOCK"}),
}
TIMEOUTS = {"HTTP": (30000, 30000), "WEBSOCKET": (29000, 29000)}  # (default, maximum)
MIN_TIMEOUT = 50
_HTTP_METHOD = re.compile(r"GET|POST|PUT|PATCH|DELETE|HEAD|OPTIONS|ANY")
_URL = re.compile(r"https?://[^\s/?#]+[^\s]*")
# Headers and query strings can be appended, overwritten or removed; the path only overwritten.
_HTTP_MAPPING_KEY = re.compile(
    r"(append|overwrite|remove):(header\.[A-Za-z0-9\-_!#$%&'*+.^`|~]+|querystring\.[^\s]+)"
    r"|overwrite:path"
)
_HTTP_RESPONSE_KEY = re.compile(
    r"(append|overwrite|remove):header\.[A-Za-z0-9\-_!#$%&'*+.^`|~]+|overwrite:statuscode"
)
# AWS service integrations (``IntegrationSubtype``) take the action's parameter names instead.
_SUBTYPE_PARAMETER = re.compile(r"[A-Za-z][A-Za-z0-9]*")
_WEBSOCKET_MAPPING_KEY = re.compile(r"integration\.request\.(header|querystring|path)\.[^\s]+")
_STATUS_CODE = re.compile(r"[1-5][0-9][0-9]")
# Headers parameter mapping may not touch, in requests or responses (reference 5.1).
RESERVED_HEADERS = frozenset(
    {
        "authorization",
        "connection",
        "content-encoding",
        "content-length",
        "content-location",
        "forwarded",
        "keep-alive",
        "origin",
        "proxy-authenticate",
        "proxy-authorization",
        "te",
        "trailers",
        "transfer-encoding",
        "upgrade",
        "via",
        "x-forwarded-for",
        "x-forwarded-host",
        "x-forwarded-proto",
    }
)
RESERVED_PREFIXES = ("access-control-", "apigw-", "x-amz-", "x-amzn-")


def _check_type(record: dict[str, Any], protocol: str) -> None:
    kind = record["IntegrationType"]
    if kind not in TYPES[protocol]:
        raise BadRequestException(f"Integration type {kind} is not supported for {protocol} APIs")
    if kind != "MOCK" and not record.get("IntegrationUri") and not record.get("IntegrationSubtype"):
        raise BadRequestException(f"IntegrationUri is required for integration type {kind}")
    if kind in ("HTTP", "HTTP_PROXY"):
        if not record.get("IntegrationMethod"):
            raise BadRequestException(f"IntegrationMethod is required for {kind} integrations")
        uri = record.get("IntegrationUri", "")
        if record.get("ConnectionType") != "VPC_LINK" and not _URL.fullmatch(uri):
            raise BadRequestException(f"Invalid HTTP endpoint specified for URI: {uri}")
    method = record.get("IntegrationMethod")
    if method is not None and not _HTTP_METHOD.fullmatch(method):
        raise BadRequestException(f"Invalid integration method specified: {method}")


def _check_payload_version(record: dict[str, Any], protocol: str) -> None:
    version = record.get("PayloadFormatVersion")
    if protocol == "HTTP" and record["IntegrationType"] == "AWS_PROXY":
        if version not in ("1.0", "2.0"):
            raise BadRequestException(
                "PayloadFormatVersion is required for AWS_PROXY integrations of HTTP APIs "
                "and must be 1.0 or 2.0"
            )
    elif version != "1.0":
        raise BadRequestException(
            f"PayloadFormatVersion {version} is not supported: 1.0 is the only supported value "
            f"for {record['IntegrationType']} integrations of {protocol} APIs"
        )


def _check_connection(record: dict[str, Any]) -> None:
    if record.get("ConnectionType") == "VPC_LINK" and not record.get("ConnectionId"):
        raise BadRequestException("ConnectionId is required when ConnectionType is VPC_LINK")


def _check_timeout(record: dict[str, Any], protocol: str) -> None:
    timeout = record["TimeoutInMillis"]
    maximum = TIMEOUTS[protocol][1]
    if not MIN_TIMEOUT <= timeout <= maximum:
        raise BadRequestException(
            f"Timeout must be between {MIN_TIMEOUT} milliseconds and {maximum} milliseconds"
        )


def _check_mappings(record: dict[str, Any], protocol: str) -> None:
    pattern = _HTTP_MAPPING_KEY if protocol == "HTTP" else _WEBSOCKET_MAPPING_KEY
    if protocol == "HTTP" and record.get("IntegrationSubtype"):
        pattern = _SUBTYPE_PARAMETER
    for key in record.get("RequestParameters") or {}:
        if not pattern.fullmatch(key):
            raise BadRequestException(f"Invalid mapping expression specified: {key}")
        if pattern is _HTTP_MAPPING_KEY:
            _check_header_target(key)
    responses = record.get("ResponseParameters") or {}
    if responses and protocol != "HTTP":
        raise BadRequestException("ResponseParameters are supported only for HTTP APIs")
    for status, mappings in responses.items():
        if not _STATUS_CODE.fullmatch(status) or not 200 <= int(status) <= 599:
            raise BadRequestException(f"Invalid status code for response mapping: {status}")
        for key in mappings:
            if not _HTTP_RESPONSE_KEY.fullmatch(key):
                raise BadRequestException(f"Invalid mapping expression specified: {key}")
            _check_header_target(key)
    if record.get("RequestTemplates") and protocol == "HTTP":
        raise BadRequestException("RequestTemplates are supported only for WebSocket APIs")
    if record.get("TlsConfig") and protocol != "HTTP":
        raise BadRequestException("TlsConfig is supported only for HTTP APIs")


def _check_header_target(key: str) -> None:
    """Refuse a mapping of a reserved header, whatever its action."""
    _, _, target = key.partition(":")
    location, _, name = target.partition(".")
    lowered = name.lower()
    if location == "header" and (
        lowered in RESERVED_HEADERS or lowered.startswith(RESERVED_PREFIXES)
    ):
        raise BadRequestException(
            "Invalid mapping expression specified: Validation Result: warnings : [], "
            f"errors : [Operations on header {name} are restricted]"
        )


def check_integration(record: dict[str, Any], protocol: str) -> None:
    _check_type(record, protocol)
    _check_payload_version(record, protocol)
    _check_connection(record)
    _check_timeout(record, protocol)
    _check_mappings(record, protocol)


def with_defaults(record: Record, protocol: str) -> Record:
    kind = record["IntegrationType"]
    defaults: Record = {
        "ConnectionType": "INTERNET",
        "TimeoutInMillis": TIMEOUTS[protocol][0],
    }
    if not (protocol == "HTTP" and kind == "AWS_PROXY"):
        defaults["PayloadFormatVersion"] = "1.0"
    if kind == "AWS_PROXY":
        defaults["IntegrationMethod"] = "POST"
    if protocol == "WEBSOCKET" and kind in ("AWS", "HTTP", "MOCK"):
        defaults["PassthroughBehavior"] = "WHEN_NO_MATCH"
    return {**defaults, **record}


class Integrations(Behaviour):
    def create(self, call: Call, spec: ResourceSpec, params: Params, parents: Parents) -> Record:
        protocol = parents["apis"]["ProtocolType"]
        record = with_defaults(super().create(call, spec, params, parents), protocol)
        check_integration(record, protocol)
        return record

    def update(
        self, call: Call, spec: ResourceSpec, record: Record, params: Params, parents: Parents
    ) -> Record:
        protocol = parents["apis"]["ProtocolType"]
        updated = super().update(call, spec, record, params, parents)
        if "IntegrationType" in params and params["IntegrationType"] != record["IntegrationType"]:
            updated = with_defaults(updated, protocol)
        check_integration(updated, protocol)
        return updated

    def delete(self, call: Call, spec: ResourceSpec, record: Record, parents: Parents) -> None:
        if record.get("ApiGatewayManaged"):
            raise BadRequestException("Cannot delete an integration managed by API Gateway")
