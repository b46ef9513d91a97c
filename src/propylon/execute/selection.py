"""Selection expressions and value templates of parameter mapping (reference §5).

A value is static text with expressions in between, ``$source.name`` or ``${source.name}``
(braces required as soon as a value holds more than one expression). A source is one entry of
``_SOURCES``, a dispatch table from the expression's prefix (``request.header``, ``context``,
``response.body`` ...) to the function reading it; ``$context.x`` names go through the one
``_CONTEXT`` table to the ``Invocation`` fields that back them (reference §10.2). What a source
without a value renders, and how bodies are read, is described in ``propylon.execute.mapping``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote, unquote

from propylon.execute.context import Invocation

BODY_LIMIT = 100 * 1024
"""Bytes of a body a JSONPath expression sees (reference §5.1)."""

_PATH_SAFE = "/!$&'()*+,;=:@"  # RFC 3986 pchar besides unreserved, and the segment separator
_HEADER = r"[A-Za-z0-9\-_!#%&'*+.^`|~]+"
_NAME = r"[A-Za-z0-9._~\-]+"
_JSONPATH = r"(?:\.\.?[A-Za-z0-9_\-*]+|\[[^\]$]*\])*"  # ".." only to be refused
_UNBRACED = re.compile(
    r"\$(request\.header\." + _HEADER
    + r"|request\.querystring\." + _NAME
    + r"|request\.body" + _JSONPATH
    + r"|request\.path(?:\.[A-Za-z0-9_]+)?"
    + r"|context\.[A-Za-z0-9._]+"
    + r"|stageVariables\.[A-Za-z0-9_]+"
    + r"|response\.header\." + _HEADER
    + r"|response\.body" + _JSONPATH + ")"
)  # fmt: skip
_BRACED = re.compile(r"\$\{([^{}]*)\}")
_EXPRESSION = re.compile(f"{_BRACED.pattern}|{_UNBRACED.pattern}")
_STEP = re.compile(r"\.([^.\[\]]+)|\[(-?\d+)\]|\['([^']*)'\]|\[\"([^\"]*)\"\]|\[\*\]")
MAPPING_KEY = re.compile(
    r"(append|overwrite|remove):(header|querystring)\.(.+)|overwrite:(path|statuscode)"
)
_WILDCARD = object()


class MappingError(ValueError):
    """A mapping key or value that cannot be compiled."""


# --- what expressions read -------------------------------------------------------------------


@dataclass(slots=True)
class Scope:
    """The values one rendering reads: the request, the stage and, for responses, the reply."""

    inv: Invocation
    stage_variables: Mapping[str, str]
    response_headers: list[tuple[str, str]] = field(default_factory=list)
    response_body: bytes = b""
    parsed: dict[str, Any] = field(default_factory=dict)
    """Bodies parsed once per rendering, by source name."""

    def json(self, source: str) -> Any:
        if source not in self.parsed:
            body = self.inv.body if source == "request.body" else self.response_body
            try:
                self.parsed[source] = json.loads(body[:BODY_LIMIT])
            except (ValueError, RecursionError):  # not JSON, truncated, not UTF-8, too deep
                self.parsed[source] = None
        return self.parsed[source]


Reader = Callable[[Scope], str]
"""Renders one expression as text."""


@dataclass(frozen=True, slots=True)
class Expression:
    """One selection expression, compiled."""

    read: Reader
    encode_for_path: Callable[[Scope, str], str] | None = None
    """How the value is percent-encoded in ``overwrite:path``; default: ``/`` kept."""
    reads_body: bool = False
    """Whether it reads a body: a request or response that must then be read whole."""

    def path_text(self, scope: Scope) -> str:
        value = self.read(scope)
        if self.encode_for_path is not None:
            return self.encode_for_path(scope, value)
        return quote(value, safe=_PATH_SAFE)


def _text(value: Any) -> str:
    """A selected value as text: strings as they are, anything else as compact JSON."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def _joined(pairs: list[tuple[str, str]], name: str, *, fold: bool) -> str:
    if fold:
        return ",".join(value for key, value in pairs if key.lower() == name)
    return ",".join(value for key, value in pairs if key == name)


def _json_path(source: str, path: str) -> Reader:
    """``$source.a.b[0]['c'][*]``: dots, indexes, quoted names and ``[*]``/``.*`` wildcards."""
    if ".." in path or "?(" in path:
        raise MappingError(f"unsupported JSONPath in ${source}{path}: no '..' nor filters")
    steps: list[object] = []
    position = 0
    while position < len(path):
        match = _STEP.match(path, position)
        if match is None:
            raise MappingError(f"invalid JSONPath in ${source}{path}")
        dotted, index, single, double = match.groups()
        if index is not None:
            steps.append(int(index))
        elif match[0] in ("[*]", ".*"):
            steps.append(_WILDCARD)
        else:
            steps.append(next(n for n in (dotted, single, double) if n is not None))
        position = match.end()
    return lambda scope: _text(_select(scope.json(source), steps))


def _select(node: Any, steps: list[object]) -> Any:
    for number, step in enumerate(steps):
        if step is _WILDCARD:
            if not isinstance(node, dict | list):
                return None
            items = list(node.values()) if isinstance(node, dict) else node
            rest = steps[number + 1 :]
            return [found for item in items if (found := _select(item, rest)) is not None]
        if isinstance(step, int) and isinstance(node, list) and -len(node) <= step < len(node):
            node = node[step]
        elif isinstance(step, str) and isinstance(node, dict):
            node = node.get(step)
        else:
            return None
    return node


def _whole_body(source: str) -> Reader:
    if source == "request.body":
        return lambda scope: scope.inv.body.decode("utf-8", "replace")
    return lambda scope: scope.response_body.decode("utf-8", "replace")


def _body(source: str) -> Callable[[str], Expression]:
    def compile_body(argument: str) -> Expression:
        if not argument:
            return Expression(_whole_body(source), reads_body=True)
        return Expression(_json_path(source, argument), reads_body=True)

    return compile_body


def _request_header(argument: str) -> Expression:
    name = _named(argument).lower()
    return Expression(lambda scope: _joined(scope.inv.headers, name, fold=True))


def _response_header(argument: str) -> Expression:
    name = _named(argument).lower()
    return Expression(lambda scope: _joined(scope.response_headers, name, fold=True))


def _querystring(argument: str) -> Expression:
    name = _named(argument)
    return Expression(lambda scope: _joined(scope.inv.query, name, fold=False))


def _request_path(argument: str) -> Expression:
    if not argument:  # the path after the stage: decoded as a value, sent as received
        return Expression(
            lambda scope: unquote(scope.inv.route_path or "/"),
            lambda scope, _: scope.inv.route_path or "/",
        )
    name = _named(argument)
    return Expression(
        lambda scope: scope.inv.path_parameters.get(name, ""),
        lambda scope, value: quote(value, safe=_path_safe(scope.inv.route_key, name)),
    )


def _path_safe(route_key: str, name: str) -> str:
    """A greedy ``{name+}`` value keeps its slashes in a path; any other has them encoded."""
    return _PATH_SAFE if "{" + name + "+}" in route_key else _PATH_SAFE.replace("/", "")


def _stage_variable(argument: str) -> Expression:
    name = _named(argument)
    return Expression(lambda scope: scope.stage_variables.get(name, ""))


def _context(argument: str) -> Expression:
    name = _named(argument)
    return Expression(lambda scope: _text(context_value(scope.inv, name)))


def _named(argument: str) -> str:
    if not argument.startswith(".") or len(argument) == 1:
        raise MappingError(f"a name is required after the source in {argument!r}")
    return argument[1:]


_SOURCES: dict[str, Callable[[str], Expression]] = {
    "request.header": _request_header,
    "request.querystring": _querystring,
    "request.body": _body("request.body"),
    "request.path": _request_path,
    "context": _context,
    "stageVariables": _stage_variable,
    "response.header": _response_header,
    "response.body": _body("response.body"),
}
"""Expression prefix → compiler of what follows it."""

REQUEST_SOURCES = frozenset(name for name in _SOURCES if not name.startswith("response."))
RESPONSE_SOURCES = frozenset(name for name in _SOURCES if not name.startswith("request."))


# --- $context ------------------------------------------------------------------------------


def _iam(key: str) -> Callable[[Invocation], Any]:
    return lambda inv: ((inv.authorizer or {}).get("iam") or {}).get(key)


def _quoted_error(inv: Invocation) -> str:
    return json.dumps(inv.error_message)


_CONTEXT: dict[str, Callable[[Invocation], Any]] = {
    "accountId": lambda inv: inv.account_id,
    "apiId": lambda inv: inv.api_id,
    "domainName": lambda inv: inv.domain_name,
    "domainPrefix": lambda inv: inv.domain_prefix,
    "error.message": lambda inv: inv.error_message,
    "error.messageString": _quoted_error,
    "extendedRequestId": lambda inv: inv.request_id,
    "httpMethod": lambda inv: inv.http_method,
    "identity.sourceIp": lambda inv: inv.source_ip,
    "identity.userAgent": lambda inv: inv.user_agent,
    "identity.accountId": _iam("accountId"),
    "identity.caller": _iam("callerId"),
    "identity.user": _iam("userId"),
    "identity.userArn": _iam("userArn"),
    "identity.principalOrgId": _iam("principalOrgId"),
    "integration.error": lambda inv: inv.integration_error_message,
    "integration.integrationStatus": lambda inv: inv.integration_status,
    "integration.latency": lambda inv: inv.integration_latency,
    "integration.status": lambda inv: inv.integration_status,
    "integrationErrorMessage": lambda inv: inv.integration_error_message,
    "integrationLatency": lambda inv: inv.integration_latency,
    "integrationStatus": lambda inv: inv.integration_status,
    "path": lambda inv: inv.path,
    "protocol": lambda inv: inv.protocol,
    "requestId": lambda inv: inv.request_id,
    "requestTime": lambda inv: inv.request_time,
    "requestTimeEpoch": lambda inv: inv.request_time_epoch,
    "responseLength": lambda inv: inv.response_length,
    "routeKey": lambda inv: inv.route_key,
    "stage": lambda inv: inv.stage,
    "status": lambda inv: inv.status or None,
}
"""``$context`` name (reference §10.2) → the :class:`Invocation` value backing it."""


def context_value(inv: Invocation, name: str) -> Any:
    """The value of ``$context.{name}``, or None when it has none."""
    reader = _CONTEXT.get(name)
    if reader is not None:
        return reader(inv)
    authorizer = inv.authorizer or {}
    if name.startswith("authorizer.claims."):
        claims = (authorizer.get("jwt") or {}).get("claims") or {}
        return claims.get(name.removeprefix("authorizer.claims."))
    if name.startswith("authorizer.") and name != "authorizer.claims":
        return (authorizer.get("lambda") or {}).get(name.removeprefix("authorizer."))
    return None


# --- templates -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Template:
    """A mapping value: static text and expressions, in order."""

    parts: tuple[str | Expression, ...]

    def render(self, scope: Scope) -> str:
        return "".join(p if isinstance(p, str) else p.read(scope) for p in self.parts)

    def render_path(self, scope: Scope) -> str:
        """For ``overwrite:path``: static text as written, values percent-encoded."""
        return "".join(p if isinstance(p, str) else p.path_text(scope) for p in self.parts)

    @property
    def reads_body(self) -> bool:
        return any(isinstance(p, Expression) and p.reads_body for p in self.parts)

    @property
    def static(self) -> str | None:
        """The text of a value without expressions, else None."""
        texts = [p for p in self.parts if isinstance(p, str)]
        return "".join(texts) if len(texts) == len(self.parts) else None


def compile_template(value: str, sources: frozenset[str]) -> Template:
    """Parse a mapping value; only expressions from ``sources`` are allowed."""
    parts: list[str | Expression] = []
    unbraced = 0
    position = 0
    for match in _EXPRESSION.finditer(value):
        expression = _compile_expression(match[1] if match[1] is not None else match[2], sources)
        if expression is None:
            continue  # not a selection expression: stays static text
        unbraced += match[1] is None
        if match.start() > position:
            parts.append(value[position : match.start()])
        parts.append(expression)
        position = match.end()
    if position < len(value):
        parts.append(value[position:])
    if unbraced and sum(isinstance(p, Expression) for p in parts) > 1:
        raise MappingError(f"braces are required to combine several variables: {value!r}")
    return Template(tuple(parts))


def _compile_expression(text: str, sources: frozenset[str]) -> Expression | None:
    for prefix, compile_source in _SOURCES.items():
        if text == prefix or text.startswith((prefix + ".", prefix + "[")):
            if prefix not in sources:
                raise MappingError(f"${prefix} cannot be used here")
            return compile_source(text.removeprefix(prefix))
    return None
