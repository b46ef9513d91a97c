"""Route selection expressions of WebSocket APIs (reference §12.2).

An expression is literal text with variables in it: ``$request.body.action``,
``${request.body.action}`` (braces let text follow: ``${request.body.a}-x``) and ``\\$`` for a
literal dollar (``\\$default``). It is evaluated once, left to right, never recursively. The
variable that matters is ``request.body`` followed by a JSONPath (``.name``, ``[0]``,
``['name']``); a path that finds nothing is ``""``, a found string is itself, other values are
their compact JSON. Any other variable evaluates to ``""``.

A message that is not JSON cannot be evaluated by an expression that reads the body: ``select``
answers None and the message goes to ``$default``.

Compiled once per deployment (``compile_selector``), evaluated per message (``Selector.select``).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

_BODY = "request.body"
_TOKEN = re.compile(
    r"\\\$"  # an escaped dollar
    r"|\$\{([^{}]*)\}"  # ${variable}
    r"|\$([A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z0-9_]+|\[[^\]]*\])*)"  # $variable
)
_STEP = re.compile(r"\.([^.\[\]]+)|\[\s*(?:'([^']*)'|\"([^\"]*)\"|(-?\d+))\s*\]")
_MISSING = object()

Step = str | int


@dataclass(frozen=True, slots=True)
class BodyPath:
    """``request.body`` and the JSONPath steps after it."""

    steps: tuple[Step, ...]


Part = str | BodyPath | None
"""Literal text, a body path, or None for a variable with no value here."""


@dataclass(frozen=True, slots=True)
class Selector:
    """A compiled selection expression."""

    expression: str
    parts: tuple[Part, ...]

    @property
    def reads_body(self) -> bool:
        return any(isinstance(part, BodyPath) for part in self.parts)

    def select(self, body: str) -> str | None:
        """The expression's value for a message, or None when the message is not JSON."""
        document: Any = _MISSING
        if self.reads_body:
            try:
                document = json.loads(body)
            except ValueError:
                return None
        return "".join(_render(part, document) for part in self.parts)


def compile_selector(expression: str) -> Selector:
    parts: list[Part] = []
    position = 0
    for token in _TOKEN.finditer(expression):
        if token.start() > position:
            parts.append(expression[position : token.start()])
        position = token.end()
        if token[0] == "\\$":
            parts.append("$")
        else:
            parts.append(_variable(token[1] if token[1] is not None else token[2]))
    if position < len(expression):
        parts.append(expression[position:])
    return Selector(expression, tuple(parts))


def _variable(name: str) -> Part:
    name = name.strip()
    if name != _BODY and not name.startswith((_BODY + ".", _BODY + "[")):
        return None
    rest = name[len(_BODY) :]
    steps: list[Step] = []
    position = 0
    for step in _STEP.finditer(rest):
        if step.start() != position:
            return None  # not a JSONPath we understand: no value
        position = step.end()
        if step[4] is not None:
            steps.append(int(step[4]))
        else:
            steps.append(next(group for group in step.groups()[:3] if group is not None))
    return BodyPath(tuple(steps)) if position == len(rest) else None


def find(document: Any, steps: tuple[Step, ...]) -> Any:
    """The value at ``steps`` in a parsed JSON document, or ``_MISSING``."""
    node = document
    for step in steps:
        if isinstance(step, int) and isinstance(node, list) and -len(node) <= step < len(node):
            node = node[step]
        elif isinstance(node, dict) and str(step) in node:
            node = node[str(step)]
        else:
            return _MISSING
    return node


def text_of(value: Any) -> str:
    """A selected value as text: strings as they are, other JSON values in compact JSON."""
    if value is _MISSING or value is None:
        return ""
    if isinstance(value, str):
        return value
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def _render(part: Part, document: Any) -> str:
    if isinstance(part, str):
        return part
    if part is None:
        return ""
    return text_of(find(document, part.steps))
