"""A small JSONPath evaluator for mapping templates (``$input.path``, ``$input.json``).

``$``, ``.name``, ``['name']``, ``[n]`` (negative from the end), ``[*]``, ``.*`` and ``..name``;
a path with a wildcard or ``..`` gives the list of matches. A path without a leading ``$`` is
read as if it had one (Jayway's leniency, which API Gateway's runtime has). Compiled paths are
cached by their text.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Iterator, Mapping
from typing import Any

MISSING: Any = object()
"""What :func:`select` answers when a definite path names nothing."""
CACHE_SIZE = 512


class JsonPathError(ValueError):
    """A path this evaluator does not read."""


Step = Callable[[Any], Iterator[Any]]

_PATH_STEP = re.compile(
    r"\.\.(?P<deep>[^.\[\]\s]+)"
    r"|\.(?P<name>[^.\[\]\s]+)"
    r"|\[\s*(?P<index>-?\d+)\s*\]"
    r"|\[\s*'(?P<single>[^']*)'\s*\]"
    r'|\[\s*"(?P<double>[^"]*)"\s*\]'
    r"|\[\s*(?P<star>\*)\s*\]"
)


def _key(name: str) -> Step:
    def step(node: Any) -> Iterator[Any]:
        if isinstance(node, Mapping) and name in node:
            yield node[name]

    return step


def _index(index: int) -> Step:
    def step(node: Any) -> Iterator[Any]:
        if isinstance(node, list) and -len(node) <= index < len(node):
            yield node[index]

    return step


def _children(node: Any) -> Iterator[Any]:
    if isinstance(node, Mapping):
        yield from node.values()
    elif isinstance(node, list):
        yield from node


def _descendants(node: Any) -> Iterator[Any]:
    yield node
    for child in _children(node):
        yield from _descendants(child)


def _deep(name: str) -> Step:
    def step(node: Any) -> Iterator[Any]:
        for found in _descendants(node):
            yield from (_children(found) if name == "*" else _key(name)(found))

    return step


@functools.lru_cache(maxsize=CACHE_SIZE)
def compile_path(path: str) -> tuple[tuple[Step, ...], bool]:
    """The steps of a JSONPath and whether it names one value (no wildcard, no ``..``)."""
    text = path.strip()
    if text.startswith("$"):
        text = text[1:]
    elif text and not text.startswith((".", "[")):
        text = "." + text  # Jayway's leniency: 'a.b' is '$.a.b'
    steps: list[Step] = []
    definite = True
    position = 0
    while position < len(text):
        match = _PATH_STEP.match(text, position)
        if match is None:
            raise JsonPathError(f"unsupported JSONPath {path!r} at {text[position:]!r}")
        kind = match.lastgroup
        value = match[kind] if kind else ""
        if kind == "deep":
            steps.append(_deep(value))
            definite = False
        elif kind == "star" or (kind == "name" and value == "*"):
            steps.append(_children)
            definite = False
        elif kind == "index":
            steps.append(_index(int(value)))
        else:
            steps.append(_key(value))
        position = match.end()
    return tuple(steps), definite


def select(document: Any, path: str) -> Any:
    """The value at ``path``, ``MISSING`` when there is none; a list for wildcard paths."""
    steps, definite = compile_path(path)
    nodes = [document]
    for step in steps:
        nodes = [found for node in nodes for found in step(node)]
    if definite:
        return nodes[0] if nodes else MISSING
    return nodes
