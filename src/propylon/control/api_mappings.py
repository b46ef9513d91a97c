"""API mappings: which API stage a custom domain name serves under which path.

``ApiMappingKey`` is the path: empty (or absent) maps the domain's root. HTTP APIs take
multi-level keys such as ``v1/orders``; WebSocket APIs take single-level keys only, and, as on
AWS, one domain name serves either WebSocket APIs or HTTP APIs, never both. A key is at most 300
characters of letters, digits and ``$-_.+!*'()``, with ``/`` between levels: never leading,
trailing or doubled. Keys are unique per domain name (``ConflictException: ApiMapping key already
exists for this domain name``).

The API and its stage must exist (their own NotFound messages, checked before the mapping's own
rules). A domain name in ROUTING_RULE_ONLY mode takes no new or changed API mappings; reading
and deleting them still works, as on AWS.
"""

from __future__ import annotations

import re

from propylon.control.context import Call, Output, Params
from propylon.control.crud import Behaviour, Handler, Parents, Registry, ResourceSpec
from propylon.control.domain_names import DOMAIN
from propylon.errors import BadRequestException, ConflictException
from propylon.store import Key, Record

NOT_FOUND = "The api mapping resource specified in the request was not found."
DUPLICATE_KEY = "ApiMapping key already exists for this domain name"
MAX_KEY_LENGTH = 300
_SEGMENT = re.compile(r"[A-Za-z0-9$\-_.+!*'()]+")


def check_mapping_key(key: str, protocol: str) -> None:
    """The rules of ``ApiMappingKey`` for an API of ``protocol``; "" is the root."""
    if key == "":
        return
    if key.startswith("/") or "//" in key:
        raise BadRequestException(
            "API mapping key should not start with a '/' or have consecutive '/'s."
        )
    if key.endswith("/"):
        raise BadRequestException("API mapping key should not end with a '/'.")
    if len(key) > MAX_KEY_LENGTH:
        raise BadRequestException(
            f"API mapping key must be at most {MAX_KEY_LENGTH} characters long."
        )
    segments = key.split("/")
    if not all(_SEGMENT.fullmatch(segment) for segment in segments):
        raise BadRequestException(
            f"Invalid API mapping key specified: {key}. Use letters, numbers and $-_.+!*'()"
        )
    if len(segments) > 1 and protocol == "WEBSOCKET":
        raise BadRequestException(
            "API mappings with multiple levels are not supported for WebSocket APIs."
        )


def _protocol(call: Call, api_id: str) -> str | None:
    """The protocol of an API, None once the API is gone (a mapping can outlive its API)."""
    api = call.store.get(call.scope + ("apis", api_id))
    return None if api is None else str(api["ProtocolType"])


def _mixes(protocol: str, other: str | None) -> bool:
    return other is not None and (other == "WEBSOCKET") != (protocol == "WEBSOCKET")


def _domain_key(call: Call, parents: Parents) -> Key:
    return call.scope + ("domainnames", parents["domainnames"]["DomainName"])


class ApiMappings(Behaviour):
    def _check(self, call: Call, mapping: Record, parents: Parents) -> None:
        if parents["domainnames"].get("RoutingMode") == "ROUTING_RULE_ONLY":
            raise BadRequestException(
                "API mappings can't be created or changed for a domain name whose routing "
                "mode is ROUTING_RULE_ONLY"
            )
        protocol = _protocol(call, mapping["ApiId"])
        assert protocol is not None, "the handler checks the API before the behaviour runs"
        check_mapping_key(mapping["ApiMappingKey"], protocol)
        for other in call.store.children(_domain_key(call, parents), "apimappings"):
            if other["ApiMappingId"] == mapping["ApiMappingId"]:
                continue
            if _mixes(protocol, _protocol(call, other["ApiId"])):
                raise BadRequestException(
                    "WebSocket APIs can't be mapped to the same domain name as HTTP APIs"
                )
            if other["ApiMappingKey"] == mapping["ApiMappingKey"]:
                raise ConflictException(DUPLICATE_KEY)

    def create(self, call: Call, spec: ResourceSpec, params: Params, parents: Parents) -> Record:
        record = super().create(call, spec, params, parents)
        record["ApiMappingKey"] = record.get("ApiMappingKey") or ""
        self._check(call, record, parents)
        return record

    def update(
        self, call: Call, spec: ResourceSpec, record: Record, params: Params, parents: Parents
    ) -> Record:
        updated = super().update(call, spec, record, params, parents)
        self._check(call, updated, parents)
        return updated


API_MAPPING_SPEC = ResourceSpec(
    kind="apimappings",
    path=(DOMAIN, ("apimappings", "ApiMappingId")),
    not_found=NOT_FOUND,
    id_length=6,
    create="CreateApiMapping",
    get="GetApiMapping",
    list="GetApiMappings",
    update="UpdateApiMapping",
    delete="DeleteApiMapping",
    behaviour=ApiMappings(),
)


def handlers(registry: Registry) -> dict[str, Handler]:
    """Create and update check the domain, then the target API and stage, then the mapping."""
    create = registry.generic("CreateApiMapping")
    update = registry.generic("UpdateApiMapping")

    def find_stage(call: Call, api_id: str, stage: str) -> None:
        registry.find(call, "stages", {"ApiId": api_id, "StageName": stage})

    def create_api_mapping(call: Call, params: Params) -> Output | None:
        registry.find(call, "domainnames", params)
        find_stage(call, params["ApiId"], params["Stage"])
        return create(call, params)

    def update_api_mapping(call: Call, params: Params) -> Output | None:
        mapping = registry.find(call, "apimappings", params)
        find_stage(call, params["ApiId"], params.get("Stage") or mapping["Stage"])
        return update(call, params)

    return {"CreateApiMapping": create_api_mapping, "UpdateApiMapping": update_api_mapping}
