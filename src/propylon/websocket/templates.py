"""Mapping templates and template selection for WebSocket non-proxy integrations (reference 12.5).

How this works
--------------
A mapping template is Velocity (VTL) text, rendered here with airspeed. Each template text is
compiled once and kept in a small cache keyed by the text, so a deployed template costs one
parse. A rendering sees the variables AWS documents for WebSocket mapping templates:

- ``$input``: ``body`` (the raw text), ``json(path)`` (the JSON text at a JSONPath),
  ``path(path)`` (the value at a JSONPath, to use in VTL: ``$input.path('$.items').size()``)
  and ``params()``/``params(name)`` (``path``, ``querystring`` and ``header`` maps; only
  ``$connect`` has a query string and headers);
- ``$context`` (the WebSocket ``$context`` variables), ``$stageVariables``;
- ``$util``: ``escapeJavaScript``, ``parseJson``, ``urlEncode``, ``urlDecode``,
  ``base64Encode``, ``base64Decode``.

JSON values reach templates as maps and lists that print the way API Gateway's Java runtime
prints them (``{a=1, b=[x, y]}``) and answer ``size()``, ``keySet()``, ``get()`` and friends.
JSONPath is the small evaluator of ``jsonpath.py``.

Selection expressions (``TemplateSelectionExpression`` of an integration or integration
response) are static text with ``$request.body.{path}``, ``$integration.response.statuscode``,
``$integration.response.header.{name}`` (or ``multivalueheader``), ``$context.{name}`` and
``$stageVariables.{name}`` in between, braced or not; ``\\$`` is a literal dollar, so
``\\$default`` selects the ``$default`` template. Anything else after a ``$`` stays as written.

Which request template applies, and what happens without one, follows ``PassthroughBehavior``
(:func:`request_template`).
"""

from __future__ import annotations

import base64
import binascii
import functools
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol
from urllib.parse import quote_plus, unquote_plus

import airspeed

from propylon.errors import GatewayError, GatewayInternalError
from propylon.websocket import jsonpath

DEFAULT_KEY = "$default"
TEMPLATE_CACHE_SIZE = 512
_MISSING: Any = jsonpath.MISSING


class TemplateError(GatewayInternalError):
    """A mapping template that cannot be rendered (syntax, JSONPath, a ``$util`` call that
    fails): the integration fails with 500, the detail says why."""


class UnsupportedMediaType(GatewayError):
    """No request template matched and ``PassthroughBehavior`` forbids passing the body on."""

    status = 415
    message = "Unsupported Media Type"


class Message(Protocol):
    """What a template reads from the client's message (``WsMessage`` is one)."""

    @property
    def body(self) -> str: ...
    @property
    def context(self) -> Mapping[str, Any]: ...
    @property
    def headers(self) -> Mapping[str, str]: ...
    @property
    def query(self) -> Mapping[str, str]: ...
    @property
    def stage_variables(self) -> Mapping[str, str]: ...


@dataclass(frozen=True, slots=True)
class BackendReply:
    """An integration's answer before its integration response: status, headers (names
    lower-case) and body as text."""

    status: int
    body: str = ""
    headers: Sequence[tuple[str, str]] = field(default_factory=tuple)


# --- JSON values as VTL sees them ------------------------------------------------------------


class VtlMap(dict[str, Any]):
    """A JSON object in a template: prints and answers like a ``java.util.Map`` (hence the
    Java method names)."""

    def __str__(self) -> str:
        return "{" + ", ".join(f"{k}={_java_text(v)}" for k, v in self.items()) + "}"

    def keySet(self) -> VtlList:
        return VtlList(self)

    def size(self) -> int:
        return len(self)

    def isEmpty(self) -> bool:
        return not self

    def containsKey(self, key: str) -> bool:
        return key in self

    def put(self, key: str, value: Any) -> Any:
        previous = self.get(key)
        self[key] = value
        return previous


class VtlList(list[Any]):
    """A JSON array in a template: prints and answers like a ``java.util.List``."""

    def __str__(self) -> str:
        return "[" + ", ".join(_java_text(v) for v in self) + "]"

    def size(self) -> int:
        return len(self)

    def isEmpty(self) -> bool:
        return not self

    def contains(self, value: Any) -> bool:
        return value in self

    def get(self, index: int) -> Any:
        return self[index]

    def add(self, value: Any) -> bool:
        self.append(value)
        return True


def _java_text(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def to_vtl(value: Any) -> Any:
    """A JSON value (or a mapping of them) as templates see it."""
    if isinstance(value, Mapping):
        return VtlMap((str(k), to_vtl(v)) for k, v in value.items())
    if isinstance(value, list | tuple):
        return VtlList(to_vtl(v) for v in value)
    return value


def select(document: Any, path: str) -> Any:
    """The value at a JSONPath (``jsonpath.select``); an unreadable path fails the template."""
    try:
        return jsonpath.select(document, path)
    except jsonpath.JsonPathError as exc:
        raise TemplateError(str(exc)) from None


def parse_body(body: str) -> Any:
    """A body as JSON: ``{}`` when empty, the text itself when it is not JSON."""
    if not body.strip():
        return {}
    try:
        return json.loads(body)
    except (ValueError, RecursionError):
        return body


def compact_json(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


# --- $input and $util --------------------------------------------------------------------------


class Input:
    """``$input`` for one rendering."""

    def __init__(self, body: str, headers: Mapping[str, str], query: Mapping[str, str]) -> None:
        self.body = body
        self._headers = headers
        self._query = query
        self._parsed: Any = _MISSING

    def _document(self) -> Any:
        if self._parsed is _MISSING:
            self._parsed = parse_body(self.body)
        return self._parsed

    def path(self, path: str) -> Any:
        found = select(self._document(), path)
        return None if found is _MISSING else to_vtl(found)

    def json(self, path: str = "$") -> str:
        found = select(self._document(), path)
        return '""' if found is _MISSING else compact_json(found)

    def params(self, name: str | None = None) -> Any:
        if name is None:
            return VtlMap(
                path=VtlMap(), querystring=VtlMap(self._query), header=VtlMap(self._headers)
            )
        if name in self._query:
            return self._query[name]
        return self._headers.get(name.lower(), "")


_JS_ESCAPES = {"'": "\\'", '"': '\\"', "\\": "\\\\", "/": "\\/", "\b": "\\b", "\f": "\\f"}
_JS_ESCAPES |= {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


class Util:
    """``$util``: the helpers AWS documents, with Java's semantics where they differ."""

    @staticmethod
    def escapeJavaScript(value: Any) -> str:
        """JavaScript string rules as API Gateway applies them: quotes (single ones too) and
        ``/`` escaped, control and non-ASCII characters as ``\\u`` and four hex digits."""
        out = []
        for char in "" if value is None else _java_text(value):
            if char in _JS_ESCAPES:
                out.append(_JS_ESCAPES[char])
            elif " " <= char <= "~":
                out.append(char)
            else:
                data = char.encode("utf-16-be")
                out.extend(f"\\u{data[i : i + 2].hex().upper()}" for i in range(0, len(data), 2))
        return "".join(out)

    @staticmethod
    def parseJson(text: str) -> Any:
        try:
            return to_vtl(json.loads(text))
        except (TypeError, ValueError, RecursionError) as exc:
            raise TemplateError(f"$util.parseJson: not JSON: {exc}") from None

    @staticmethod
    def urlEncode(text: str) -> str:
        """``java.net.URLEncoder``: space as ``+``, only ``A-Za-z0-9.-*_`` kept."""
        return quote_plus(str(text), safe="*").replace("~", "%7E")

    @staticmethod
    def urlDecode(text: str) -> str:
        return unquote_plus(str(text))

    @staticmethod
    def base64Encode(text: str) -> str:
        return base64.b64encode(str(text).encode()).decode()

    @staticmethod
    def base64Decode(text: str) -> str:
        try:
            return base64.b64decode(str(text), validate=True).decode("utf-8", "replace")
        except (binascii.Error, ValueError) as exc:
            raise TemplateError(f"$util.base64Decode: not base64: {exc}") from None


_UTIL = Util()


# --- rendering ---------------------------------------------------------------------------------


@functools.lru_cache(maxsize=TEMPLATE_CACHE_SIZE)
def _compiled(text: str) -> airspeed.Template:
    template = airspeed.Template(text)
    try:
        template.ensure_compiled()
    except airspeed.TemplateError as exc:
        raise TemplateError(f"mapping template does not parse: {exc}") from None
    return template


def render(template: str, message: Message, body: str | None = None) -> str:
    """Render a mapping template for ``message``; ``$input`` is ``body`` when given (an
    integration response), else the message itself."""
    namespace = {
        "input": Input(message.body if body is None else body, message.headers, message.query),
        "context": to_vtl(message.context),
        "stageVariables": VtlMap(message.stage_variables),
        "util": _UTIL,
    }
    compiled = _compiled(template)
    try:
        return str(compiled.merge(namespace))
    except TemplateError:
        raise
    except airspeed.TemplateError as exc:
        cause = exc.__cause__
        if isinstance(cause, TemplateError):
            raise TemplateError(cause.detail) from None
        raise TemplateError(f"mapping template failed: {exc}") from None
    except RecursionError:
        raise TemplateError("mapping template recursed too deeply") from None


# --- selection expressions ---------------------------------------------------------------------

_SELECTION = re.compile(r"\\\$|\$\{([^{}]*)\}|\$([A-Za-z][A-Za-z0-9_\-]*(?:\.[^\s${}]+)?)")


def _scalar_text(value: Any) -> str:
    if value is None or value is _MISSING:
        return ""
    if isinstance(value, str):
        return value
    return compact_json(value)


def _header_values(headers: Sequence[tuple[str, str]], name: str) -> list[str]:
    low = name.lower()
    return [value for key, value in headers if key.lower() == low]


def _variable(name: str, message: Message, reply: BackendReply | None) -> str | None:
    """The value of one selection variable, None when ``name`` is not one."""
    if name == "request.body" or name.startswith(("request.body.", "request.body[")):
        return _scalar_text(select(parse_body(message.body), name.removeprefix("request.body")))
    if name.startswith("integration.response.") and reply is not None:
        rest = name.removeprefix("integration.response.")
        if rest == "statuscode":
            return str(reply.status)
        if rest.startswith("header."):
            values = _header_values(reply.headers, rest.removeprefix("header."))
            return values[-1] if values else ""
        if rest.startswith("multivalueheader."):
            return ",".join(_header_values(reply.headers, rest.removeprefix("multivalueheader.")))
        return None
    if name.startswith("context."):
        return _scalar_text(select(message.context, name.removeprefix("context")))
    if name.startswith("stageVariables."):
        return message.stage_variables.get(name.removeprefix("stageVariables."), "")
    return None


def evaluate_selection(expression: str, message: Message, reply: BackendReply | None = None) -> str:
    """Evaluate a selection expression once (not recursively) against a message and, for
    integration responses, the backend's reply."""

    def replace(match: re.Match[str]) -> str:
        if match[0] == "\\$":
            return "$"
        value = _variable(match[1] if match[1] is not None else match[2], message, reply)
        return match[0] if value is None else value

    try:
        return _SELECTION.sub(replace, expression)
    except TemplateError as exc:
        raise TemplateError(f"selection expression {expression!r}: {exc.detail}") from None


def pick_template(
    templates: Mapping[str, str] | None,
    expression: str | None,
    message: Message,
    reply: BackendReply | None = None,
) -> str | None:
    """The template the selection expression names, else the ``$default`` one, else None."""
    if not templates:
        return None
    key = evaluate_selection(expression, message, reply) if expression else DEFAULT_KEY
    if key in templates:
        return templates[key]
    return templates.get(DEFAULT_KEY)


def request_template(integration: Mapping[str, Any], message: Message) -> str | None:
    """The request template to render for ``message``, or None to pass its body through as
    is. ``PassthroughBehavior`` decides when no template matches: ``WHEN_NO_MATCH`` (the
    default) passes the body through, ``WHEN_NO_TEMPLATES`` only when the integration has no
    templates at all, ``NEVER`` never (415 ``Unsupported Media Type``)."""
    templates = integration.get("RequestTemplates") or {}
    chosen = pick_template(templates, integration.get("TemplateSelectionExpression"), message)
    if chosen is not None:
        return chosen
    behaviour = integration.get("PassthroughBehavior") or "WHEN_NO_MATCH"
    if behaviour == "WHEN_NO_MATCH" or (behaviour == "WHEN_NO_TEMPLATES" and not templates):
        return None
    raise UnsupportedMediaType(
        f"no request template matches and PassthroughBehavior is {behaviour}"
    )


def transform_request(integration: Mapping[str, Any], message: Message) -> str:
    """The integration request body: the chosen template rendered, or the message as is."""
    template = request_template(integration, message)
    return message.body if template is None else render(template, message)
