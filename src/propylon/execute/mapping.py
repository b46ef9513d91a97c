"""Parameter mapping for HTTP API integrations (reference §5): pure, compiled once per deployment.

How it works
------------
``RequestParameters`` and ``ResponseParameters`` are compiled when an integration is deployed:
each key (``append|overwrite|remove:header.{name}``, ``...:querystring.{name}``,
``overwrite:path``, ``overwrite:statuscode``) becomes an :class:`Action`, each value a
:class:`Template`: static text with selection expressions in between. An expression is written
``$source.name`` or ``${source.name}``; braces are required as soon as a value holds more than one
expression (reference §5.1, "combined"). A source is one entry of :data:`_SOURCES`, a dispatch
table from the expression's prefix (``request.header``, ``context``, ``response.body``...) to the
function reading it, and ``$context.x`` names go through the one :data:`_CONTEXT` table to the
:class:`Invocation` fields that back them (reference §10.2).

At request time every value is rendered against the *original* request (or backend response)
first, and only then are the actions applied, in the order remove, overwrite, append. So the
documented rename ``append:header.b = $request.header.a`` + ``remove:header.a`` works whatever
the order of the keys.

Choices where the reference says nothing (documented here, *unverified* against AWS):

- A source that has no value (missing header, query parameter, path parameter, stage or
  ``$context`` variable, body path that selects nothing or a body that is not JSON) renders ``""``.
  Several values of a header or query parameter are joined with ``,``.
- A body path selecting a string yields the string; any other JSON value its compact JSON text.
  The body is truncated to 100 KB before it is parsed, so a longer JSON body selects nothing.
  ``$request.body`` / ``$response.body`` alone is the whole body, untruncated, as UTF-8 text.
- A value rendering to ``""``: ``append`` adds nothing; ``overwrite`` removes what was there (so
  an ``overwrite:header.x-user`` from a missing claim never lets the client's own value through);
  ``overwrite:path`` and ``overwrite:statuscode`` keep the original.
- ``overwrite`` puts the value where the name first occurred (else at the end) and drops the rest.
- ``overwrite:statuscode`` must render to an integer from 200 to 599 (the range of the response
  mapping keys; 1xx cannot be a final answer): a static value outside it is a
  :class:`MappingError` at compile time, a rendered one is logged and the backend's status kept.
- An unknown ``$context`` name renders ``""``; an unknown source (``$foo.x``) is static text.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from urllib.parse import quote

from propylon.execute.context import Invocation
from propylon.execute.selection import (
    BODY_LIMIT,
    MAPPING_KEY,
    REQUEST_SOURCES,
    RESPONSE_SOURCES,
    MappingError,
    Scope,
    Template,
    compile_template,
)

__all__ = [
    "BODY_LIMIT",
    "MappedRequest",
    "MappingError",
    "RequestMapping",
    "ResponseMapping",
    "compile_request_mapping",
    "compile_response_mapping",
    "encode_query",
]

log = logging.getLogger("propylon.execute")


# --- actions -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Action:
    """One ``verb:location.name`` key and its value."""

    verb: str
    """``append``, ``overwrite`` or ``remove``."""
    name: str
    """The header name lower-cased, or the query parameter name as written."""
    value: Template


Pairs = list[tuple[str, str]]


def _remove(pairs: Pairs, name: str, value: str, fold: bool) -> Pairs:
    return [(key, old) for key, old in pairs if not _same(key, name, fold)]


def _overwrite(pairs: Pairs, name: str, value: str, fold: bool) -> Pairs:
    """``value`` where ``name`` first occurred (else at the end), other occurrences dropped."""
    result: Pairs = []
    placed = not value  # an empty value only removes
    for key, old in pairs:
        if not _same(key, name, fold):
            result.append((key, old))
        elif not placed:
            result.append((name, value))
            placed = True
    if not placed:
        result.append((name, value))
    return result


def _append(pairs: Pairs, name: str, value: str, fold: bool) -> Pairs:
    return [*pairs, (name, value)] if value else pairs


def _same(key: str, name: str, fold: bool) -> bool:
    return key.lower() == name if fold else key == name


_EDITS: dict[str, Callable[[Pairs, str, str, bool], Pairs]] = {
    "remove": _remove,
    "overwrite": _overwrite,
    "append": _append,
}
"""Verb → edit; the order of this table is the order actions are applied in."""


def _edited(pairs: Pairs, actions: tuple[Action, ...], scope: Scope, *, fold: bool) -> Pairs:
    """``pairs`` with ``actions`` applied, every value rendered before any edit."""
    rendered = [(action, action.value.render(scope)) for action in actions]
    result = list(pairs)
    for verb, edit in _EDITS.items():
        for action, value in rendered:
            if action.verb == verb:
                result = edit(result, action.name, value, fold)
    return result


def encode_query(query: Pairs) -> str:
    """A raw query string for decoded ``query`` pairs (``+``, ``&``, ``=``, spaces encoded)."""
    safe = "-._~!$'()*,;:@/?"
    return "&".join(f"{quote(name, safe=safe)}={quote(value, safe=safe)}" for name, value in query)


# --- request mapping -----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class MappedRequest:
    """What the backend request carries once the request mapping is applied.

    ``headers`` and ``query`` replace the client's (``inv.headers`` / ``inv.query``) as the
    starting point of the forwarded request; ``raw_query_string`` is the client's raw query when
    no query mapping exists, else re-encoded from ``query`` with :func:`encode_query`.
    """

    headers: Pairs
    """The client's headers, mapped: names lower-case, repeats kept, still to be filtered."""
    query: Pairs
    """Decoded query parameters, mapped, in order."""
    raw_query_string: str
    """The query to send, without ``?``, percent-encoded."""
    path: str | None
    """``overwrite:path``: the whole path to send, percent-encoded, starting with ``/``; None
    when the path is not overwritten (or renders empty)."""


@dataclass(frozen=True, slots=True)
class RequestMapping:
    """An integration's compiled ``RequestParameters``."""

    headers: tuple[Action, ...] = ()
    query: tuple[Action, ...] = ()
    path: Template | None = None

    @property
    def reads_body(self) -> bool:
        """Whether a value reads ``$request.body``: the body must then be read whole."""
        templates = [action.value for action in (*self.headers, *self.query)]
        return any(t.reads_body for t in (*templates, self.path) if t is not None)

    def apply(self, inv: Invocation, stage_variables: Mapping[str, str]) -> MappedRequest:
        scope = Scope(inv, stage_variables)
        query = _edited(inv.query, self.query, scope, fold=False)
        path = self.path.render_path(scope) if self.path is not None else ""
        return MappedRequest(
            headers=_edited(inv.headers, self.headers, scope, fold=True),
            query=query,
            raw_query_string=encode_query(query) if self.query else inv.raw_query_string,
            path=("/" + path.lstrip("/")) if path else None,
        )


def compile_request_mapping(parameters: Mapping[str, str] | None) -> RequestMapping | None:
    """Compile ``RequestParameters``; None when there are none."""
    if not parameters:
        return None
    headers: list[Action] = []
    query: list[Action] = []
    path: Template | None = None
    for key, value in parameters.items():
        match = MAPPING_KEY.fullmatch(key)
        if match is None or match[4] == "statuscode":
            raise MappingError(f"invalid request mapping key: {key}")
        template = compile_template(value, REQUEST_SOURCES)
        if match[4] == "path":
            path = template
        elif match[2] == "header":
            headers.append(Action(match[1], match[3].lower(), template))
        else:
            query.append(Action(match[1], match[3], template))
    return RequestMapping(tuple(headers), tuple(query), path)


# --- response mapping ----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ResponseRules:
    """The mappings of one backend status."""

    headers: tuple[Action, ...]
    status: Template | None

    def status_for(self, scope: Scope, status: int) -> int:
        if self.status is None:
            return status
        text = self.status.render(scope)
        if not text:
            return status
        mapped = _status(text)
        if mapped is None:
            log.warning("overwrite:statuscode rendered %r: keeping %d", text, status)
            return status
        return mapped


def _status(text: str) -> int | None:
    """A final status code from 200 to 599, or None."""
    text = text.strip()
    if len(text) == 3 and text.isdigit() and 200 <= int(text) <= 599:
        return int(text)
    return None


@dataclass(frozen=True, slots=True)
class ResponseMapping:
    """An integration's compiled ``ResponseParameters``, by exact backend status."""

    by_status: Mapping[int, ResponseRules]

    def reads_body(self, status: int) -> bool:
        """Whether a value for ``status`` reads ``$response.body``: it must be read whole."""
        rules = self.by_status.get(status)
        if rules is None:
            return False
        templates = [action.value for action in rules.headers]
        return any(t.reads_body for t in (*templates, rules.status) if t is not None)

    def apply(
        self,
        inv: Invocation,
        status: int,
        headers: Pairs,
        body: bytes,
        stage_variables: Mapping[str, str],
    ) -> tuple[int, Pairs]:
        """The status and headers to answer; untouched unless ``status`` has mappings."""
        rules = self.by_status.get(status)
        if rules is None:
            return status, headers
        scope = Scope(inv, stage_variables, headers, body)
        return rules.status_for(scope, status), _edited(headers, rules.headers, scope, fold=True)


def compile_response_mapping(
    parameters: Mapping[str, Mapping[str, str]] | None,
) -> ResponseMapping | None:
    """Compile ``ResponseParameters``; None when there are none."""
    by_status = {
        _response_status(status): _response_rules(mappings)
        for status, mappings in (parameters or {}).items()
        if mappings
    }
    return ResponseMapping(by_status) if by_status else None


def _response_status(status: str) -> int:
    code = _status(status)
    if code is None:
        raise MappingError(f"invalid status code for response mapping: {status}")
    return code


def _response_rules(mappings: Mapping[str, str]) -> ResponseRules:
    headers: list[Action] = []
    status: Template | None = None
    for key, value in mappings.items():
        match = MAPPING_KEY.fullmatch(key)
        if match is None or match[2] == "querystring" or match[4] == "path":
            raise MappingError(f"invalid response mapping key: {key}")
        template = compile_template(value, RESPONSE_SOURCES)
        if match[4] == "statuscode":
            static = template.static
            if static and _status(static) is None:
                raise MappingError(f"overwrite:statuscode must be 200-599, not {value!r}")
            status = template
        else:
            headers.append(Action(match[1], match[3].lower(), template))
    return ResponseRules(tuple(headers), status)
