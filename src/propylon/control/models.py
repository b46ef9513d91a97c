"""Models (WebSocket APIs) and the mapping template AWS derives from a model's schema.

A model has an alphanumeric ``Name``, unique within its API (a duplicate is a 409), a
``ContentType`` (default ``application/json``) and a ``Schema``: a JSON schema (draft 4) that
must parse as a JSON object. HTTP APIs have no models. A model that a route's ``RequestModels``
or a route response's ``ResponseModels`` names cannot be deleted (409).

How the template is derived (``GetModelTemplate``): the template starts with
``#set($inputRoot = $input.path('$'))`` and then writes the JSON skeleton the schema describes,
each value referring to where it sits in the input. An object writes its ``properties`` in
order; an array loops over its input with ``#foreach($elem in ...)``, writes its ``items`` once
per element and separates them with ``#if($foreach.hasNext),#end`` (a loop inside a loop uses
``$elem2``, ``$elem3`` ...); a string is quoted (``"$inputRoot.name"``) while numbers, integers
and booleans are not (``$inputRoot.age``). ``$ref`` is followed to ``#/definitions/...`` in the
same document or to another model of the API (``.../models/{name}``); ``allOf`` merges its
parts, ``anyOf``/``oneOf`` take the first. A reference that loops back on itself writes
``null`` where it would recurse. This is the layout of AWS's own examples ("Photos example").
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from typing import Any

from propylon.control.context import Call, Output, Params
from propylon.control.crud import Behaviour, Handler, Parents, Registry, ResourceSpec
from propylon.errors import BadRequestException, ConflictException
from propylon.store import Key, Record

Schema = Mapping[str, Any]
Resolver = Callable[[str], Schema | None]

DEFAULT_CONTENT_TYPE = "application/json"
_NAME = re.compile(r"[A-Za-z0-9]+")
_IDENTIFIER = re.compile(r"[A-Za-z][A-Za-z0-9_]*")
_MODEL_REF = re.compile(r"https?://apigateway\.amazonaws\.com/[^#]*/models/([A-Za-z0-9]+)")
_BARE_TYPES = frozenset({"integer", "number", "boolean"})
INDENT = "  "
PROLOGUE = "#set($inputRoot = $input.path('$'))"


def parse_schema(text: str) -> dict[str, Any]:
    """The schema as a JSON object, or AWS's invalid-model answer."""
    try:
        schema = json.loads(text)
    except ValueError:
        schema = None
    if not isinstance(schema, dict):
        raise BadRequestException(
            "Invalid model specified: Validation Result: warnings : [], errors : "
            "[Invalid model schema specified: the schema must be a JSON object]"
        )
    return schema


# -- the template ----------------------------------------------------------------------------


@dataclass(frozen=True)
class _At:
    """Where the template writer is: the VTL reference, indentation and enclosing state."""

    ref: str
    level: int = 0
    loops: int = 0
    root: Schema | None = None
    document: str = ""
    following: frozenset[str] = frozenset()


def _member(ref: str, name: str) -> str:
    if _IDENTIFIER.fullmatch(name):
        return f"{ref}.{name}"
    quoted = name.replace("'", "''")
    return f"{ref}.get('{quoted}')"


def _pointer(root: Schema, ref: str) -> Schema | None:
    node: Any = root
    for part in ref.lstrip("#").strip("/").split("/"):
        if not part:
            continue
        part = part.replace("~1", "/").replace("~0", "~")
        node = node.get(part) if isinstance(node, Mapping) else None
    return node if isinstance(node, Mapping) else None


def _kind(schema: Schema) -> str:
    kind = schema.get("type")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), "null")
    if isinstance(kind, str):
        return kind
    if "properties" in schema:
        return "object"
    if "items" in schema:
        return "array"
    return "string"


class _Writer:
    def __init__(self, resolver: Resolver) -> None:
        self.resolver = resolver

    def _effective(self, schema: Schema, at: _At) -> tuple[Schema | None, _At]:
        """Follow ``$ref`` and combine ``allOf``/``anyOf``/``oneOf``; None on a loop."""
        ref = schema.get("$ref")
        if isinstance(ref, str):
            local = ref.startswith("#")
            absolute = at.document + ref.rstrip("#/") if local else ref
            if absolute in at.following:
                return None, at
            at = replace(at, following=at.following | {absolute})
            target = self._resolve(ref, at)
            if target is None:
                return {}, at
            if not local:
                at = replace(at, root=target, document=ref)
            return self._effective(target, at)
        parts = schema.get("allOf")
        if isinstance(parts, list) and parts:
            properties: dict[str, Any] = {}
            for part in parts:
                resolved, _ = self._effective(part, at)
                properties.update((resolved or {}).get("properties") or {})
            return {"type": "object", "properties": properties}, at
        for choice in ("anyOf", "oneOf"):
            options = schema.get(choice)
            if isinstance(options, list) and options:
                return self._effective(options[0], at)
        return schema, at

    def _resolve(self, ref: str, at: _At) -> Schema | None:
        if ref.startswith("#"):
            return _pointer(at.root or {}, ref)
        return self.resolver(ref)

    def value(self, schema: Schema, at: _At) -> str:
        resolved, at = self._effective(schema, at)
        if resolved is None:
            return "null"
        kind = _kind(resolved)
        if kind == "object":
            return self._object(resolved, at)
        if kind == "array":
            return self._array(resolved, at)
        if kind == "null":
            return "null"
        return at.ref if kind in _BARE_TYPES else f'"{at.ref}"'

    def _object(self, schema: Schema, at: _At) -> str:
        properties = schema.get("properties")
        if not isinstance(properties, Mapping) or not properties:
            return "{ }"
        pad = INDENT * (at.level + 1)
        entries = []
        for name, sub in properties.items():
            inner = replace(at, ref=_member(at.ref, name), level=at.level + 1)
            entry = self.value(sub if isinstance(sub, Mapping) else {}, inner)
            entries.append(f"{pad}{json.dumps(name)}: {entry}")
        return "{\n" + ",\n".join(entries) + "\n" + INDENT * at.level + "}"

    def _array(self, schema: Schema, at: _At) -> str:
        items = schema.get("items")
        if isinstance(items, list):
            items = items[0] if items else {}
        element = "$elem" if at.loops == 0 else f"$elem{at.loops + 1}"
        inner = replace(at, ref=element, level=at.level + 1, loops=at.loops + 1)
        body = self.value(items if isinstance(items, Mapping) else {}, inner)
        return (
            f"[\n#foreach({element} in {at.ref})\n{INDENT * (at.level + 1)}{body}"
            f"#if($foreach.hasNext),#end\n#end\n{INDENT * at.level}]"
        )


def _no_models(ref: str) -> Schema | None:
    return None


def model_template(schema: Schema, resolver: Resolver = _no_models) -> str:
    """The VTL mapping template that writes input in the shape ``schema`` describes."""
    start = _At(ref="$inputRoot", root=schema, following=frozenset({""}))
    body = _Writer(resolver).value(schema, start)
    return f"{PROLOGUE}\n{body}"


# -- the resource ----------------------------------------------------------------------------


def _api_key(call: Call, parents: Parents) -> Key:
    return call.scope + ("apis", parents["apis"]["ApiId"])


def websocket_only(parents: Parents, what: str) -> None:
    """Refuse a WebSocket-only resource under an HTTP API."""
    protocol = parents["apis"]["ProtocolType"]
    if protocol != "WEBSOCKET":
        raise BadRequestException(f"{what} are supported only for WebSocket APIs")


def _check(call: Call, record: Record, parents: Parents) -> None:
    name = record["Name"]
    if not _NAME.fullmatch(name):
        raise BadRequestException(f"Invalid model name specified: {name}. It must be alphanumeric")
    parse_schema(record["Schema"])
    for other in call.store.children(_api_key(call, parents), "models"):
        if other["Name"] == name and other["ModelId"] != record["ModelId"]:
            raise ConflictException(f"Model name {name} already exists for this API")


def _referenced_by(call: Call, api_key: Key, name: str) -> str | None:
    """What still names model ``name``: a route, or a route's route response."""
    for route in call.store.children(api_key, "routes"):
        if name in (route.get("RequestModels") or {}).values():
            return f"route: {route['RouteKey']}"
        route_key = api_key + ("routes", route["RouteId"])
        for response in call.store.children(route_key, "routeresponses"):
            if name in (response.get("ResponseModels") or {}).values():
                return f"route response of route: {route['RouteKey']}"
    return None


class Models(Behaviour):
    def create(self, call: Call, spec: ResourceSpec, params: Params, parents: Parents) -> Record:
        websocket_only(parents, "Models")
        record = super().create(call, spec, params, parents)
        record.setdefault("ContentType", DEFAULT_CONTENT_TYPE)
        _check(call, record, parents)
        return record

    def update(
        self, call: Call, spec: ResourceSpec, record: Record, params: Params, parents: Parents
    ) -> Record:
        updated = super().update(call, spec, record, params, parents)
        _check(call, updated, parents)
        return updated

    def delete(self, call: Call, spec: ResourceSpec, record: Record, parents: Parents) -> None:
        user = _referenced_by(call, _api_key(call, parents), record["Name"])
        if user is not None:
            raise ConflictException(
                f"Cannot delete model '{record['Name']}', is referenced in {user}"
            )


SPECS: tuple[ResourceSpec, ...] = (
    ResourceSpec(
        kind="models",
        path=(("apis", "ApiId"), ("models", "ModelId")),
        not_found="Invalid Model identifier specified {id}",
        id_length=6,
        create="CreateModel",
        get="GetModel",
        list="GetModels",
        update="UpdateModel",
        delete="DeleteModel",
        behaviour=Models(),
        deploys=True,
    ),
)


def handlers(registry: Registry) -> dict[str, Handler]:
    def get_model_template(call: Call, params: Params) -> Output:
        model = registry.find(call, "models", params)
        api_key = call.scope + ("apis", str(params["ApiId"]))
        by_name = {m["Name"]: m["Schema"] for m in call.store.children(api_key, "models")}

        def resolve(ref: str) -> Schema | None:
            match = _MODEL_REF.fullmatch(ref)
            text = by_name.get(match[1]) if match else None
            return parse_schema(text) if text is not None else None

        return {"Value": model_template(parse_schema(model["Schema"]), resolve)}

    return {"GetModelTemplate": get_model_template}
