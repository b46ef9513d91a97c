"""HTTP API route matching: which route of a deployment serves a request.

How it works
------------
A deployment's routes are compiled once into a :class:`RouteTable`; every request then calls
``table.match(method, path)``. ``path`` is the request path after the stage segment (if any) has
been removed, without the query string and still percent-encoded as it came off the wire.

The path is split on ``/`` first and each segment is percent-decoded afterwards, so an encoded
slash (``%2F``) never splits a segment: ``/files/a%2Fb`` has the two segments ``files`` and
``a/b``; it matches ``GET /files/{name}`` with ``name = "a/b"`` and does not match
``GET /files/a/b``. Literal segments of route keys are decoded the same way when compiled, and
segments are compared decoded and case-sensitively (reference 2.2, "Case", "Percent-encoding").
One trailing slash is dropped, so ``/hello/`` is routed like ``/hello`` (2.2, "Trailing slash");
``/`` is the root and has no segments. Methods are compared as sent (RFC 9110 methods are
case-sensitive); route keys spell them in upper case, so a request for ``get`` only reaches an
``ANY`` or ``$default`` route.

AWS's priority (reference 2.2, "Selection algorithm"), first rule that yields a route wins:

1. Exact. A non-greedy route with as many segments as the request, each literal equal or each
   ``{var}`` taking one non-empty segment. Routes of the request's own method are tried before
   ``ANY`` routes (``ANY`` only catches methods not defined for the path). Among routes of the
   same method, the one with a literal at the first position where they differ wins, comparing
   left to right: ``/pets/dog/1`` > ``/pets/dog/{id}`` > ``/pets/{x}/{y}``.
2. Greedy. A route ending in ``{name+}`` whose prefix matches and leaves at least one non-empty
   segment for the greedy part (``/pets/{proxy+}`` does not match ``/pets``). The longest prefix
   wins, then the request's method over ``ANY``, then literal over ``{var}`` as in rule 1 (the
   order after "longest" is unverified in the reference; this is its suggested order).
3. ``$default``, for any method and path.
4. Nothing: ``match`` returns ``None`` and the chain answers ``404 {"message":"Not Found"}``
   (reference 2.3).

HEAD does not fall back to a GET route: it needs a ``HEAD``, ``ANY`` or ``$default`` route
(2.2, "HEAD"; unverified for HTTP APIs, REST does not fall back).

Data structures. Each method (``ANY`` included) has a segment trie: a node has a dict of literal
children, at most one ``{var}`` child (the variable names live on the compiled route, not in the
trie) and the exact and greedy routes that end there. A depth-first walk that takes the literal
child before the ``{var}`` child visits the nodes matching a path in exactly the priority order
of rule 1, so the first exact route found wins and routes that cannot match are never looked at.
Greedy routes hang off the node of their prefix and are met on the same walk. Fully literal
routes are also indexed by ``(method, segments)``, so the common case is one dict lookup. When
two routes compile to the same shape (``GET /a/{x}`` and ``GET /a/{y}``) the first one wins.

A server may hold thousands of tables, so they are kept small: a node without literal children
shares one empty dict instead of owning one, and methods and literal labels are interned, so
the ``items`` of every API's ``GET /items`` is one string.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, cast
from urllib.parse import unquote

DEFAULT_ROUTE_KEY = "$default"
ANY = "ANY"

Segments = tuple[str, ...]
Labels = tuple[str | None, ...]  # a route key's literal segments, None at each {var}
_NO_LITERALS: dict[str, _Node] = {}  # shared by every node without literal children; never changed


@dataclass(slots=True)  # not frozen: built per request, frozen costs 3x
class RouteMatch:
    """The route that serves a request and the path parameters it captured. Read only: a
    route without parameters hands out the same match to every request."""

    route: Mapping[str, Any]
    route_key: str
    path_parameters: dict[str, str]


@dataclass(frozen=True, slots=True)
class _Route:
    """A route key compiled for matching."""

    record: Mapping[str, Any]
    key: str
    variables: tuple[tuple[int, str], ...]  # (segment index, name) of each {var}
    greedy: str | None  # name of the trailing {name+}, without the "+"
    depth: int  # number of segments before the greedy one (all of them if not greedy)
    fixed: RouteMatch | None = field(init=False, default=None)
    """The match of every request, for a route without parameters (most, $default among them)."""

    def __post_init__(self) -> None:
        if not self.variables and self.greedy is None:
            object.__setattr__(self, "fixed", RouteMatch(self.record, self.key, {}))

    def bind(self, segments: Segments) -> RouteMatch:
        if self.fixed is not None:
            return self.fixed
        parameters = {name: segments[index] for index, name in self.variables}
        if self.greedy is not None:
            parameters[self.greedy] = "/".join(segments[self.depth :])
        return RouteMatch(self.record, self.key, parameters)


@dataclass(slots=True)
class _Node:
    """One trie position: the routes ending here and the ways to go one segment deeper."""

    literals: dict[str, _Node] = field(default_factory=lambda: _NO_LITERALS)
    variable: _Node | None = None
    exact: _Route | None = None
    greedy: _Route | None = None

    def literal_child(self, text: str) -> _Node:
        child = self.literals.get(text)
        if child is None:
            if self.literals is _NO_LITERALS:
                self.literals = {}
            child = self.literals[text] = _Node()
        return child

    def variable_child(self) -> _Node:
        if self.variable is None:
            self.variable = _Node()
        return self.variable


class RouteTable:
    """The compiled routes of one deployment; build with :func:`compile_routes`."""

    __slots__ = ("_default", "_literal", "_tries")

    def __init__(
        self,
        tries: dict[str, _Node],
        literal: dict[tuple[str, Segments], _Route],
        default: _Route | None,
    ) -> None:
        self._tries = tries
        self._literal = literal
        self._default = default

    def match(self, method: str, path: str) -> RouteMatch | None:
        """The route serving ``method path`` (stage already removed), or None for a 404."""
        if not self._tries:  # $default only, or no route at all
            return None if self._default is None else self._default.bind(())
        segments = split_path(path)
        route = (
            self._exact(method, segments)
            or self._exact(ANY, segments)
            or self._greedy(method, segments)
            or self._default
        )
        return None if route is None else route.bind(segments)

    def _exact(self, method: str, segments: Segments) -> _Route | None:
        literal = self._literal.get((method, segments))
        if literal is not None:
            return literal
        trie = self._tries.get(method)
        if trie is None:
            return None
        end = len(segments)
        return next((n.exact for n, d in _walk(trie, segments, 0) if d == end and n.exact), None)

    def _greedy(self, method: str, segments: Segments) -> _Route | None:
        # Candidates in priority order after depth: own method, then ANY, each literal-first;
        # max() keeps the first of equally deep candidates.
        candidates = [
            (depth, route)
            for trie_method in (method, ANY)
            for depth, route in _greedy_candidates(self._tries.get(trie_method), segments)
        ]
        if not candidates:
            return None
        return max(candidates, key=lambda candidate: candidate[0])[1]


def compile_routes(routes: Iterable[Mapping[str, Any]]) -> RouteTable:
    """Compile a deployment's route records (as stored, with "RouteKey") into a RouteTable."""
    tries: dict[str, _Node] = {}
    literal: dict[tuple[str, Segments], _Route] = {}
    default: _Route | None = None
    for record in routes:
        key: str = record["RouteKey"]
        if key == DEFAULT_ROUTE_KEY:
            default = default or _Route(record, key, (), None, 0)
            continue
        method, route, labels = _compile_key(record, key)
        node = _insert(tries.setdefault(method, _Node()), labels)
        if route.greedy is not None:
            node.greedy = node.greedy or route
            continue
        node.exact = node.exact or route
        if not route.variables:
            literal.setdefault((method, cast(Segments, labels)), route)  # no None in them
    return RouteTable(tries, literal, default)


def split_path(path: str) -> Segments:
    """Split a routed path into percent-decoded segments, ignoring one trailing slash."""
    trimmed = path.removeprefix("/").removesuffix("/")
    if not trimmed:
        return ()
    if "%" not in trimmed:
        return tuple(trimmed.split("/"))
    return tuple(unquote(segment) for segment in trimmed.split("/"))


def _compile_key(record: Mapping[str, Any], key: str) -> tuple[str, _Route, Labels]:
    """Parse ``METHOD /path`` into its method, compiled route and trie labels.

    Labels are the decoded literals, with None at each ``{var}`` position and no label for the
    greedy segment. Keys come validated by the control plane, so a malformed one is a bug:
    ValueError.
    """
    method, space, path = key.partition(" ")
    if not space or not path.startswith("/"):
        raise ValueError(f"invalid HTTP route key: {key!r}")
    raw = path.removeprefix("/").removesuffix("/")
    parts = raw.split("/") if raw else []
    variables: list[tuple[int, str]] = []
    greedy: str | None = None
    labels: list[str | None] = []
    for index, part in enumerate(parts):
        if not part:
            raise ValueError(f"empty segment in HTTP route key: {key!r}")
        if part.startswith("{") and part.endswith("+}"):
            if index != len(parts) - 1:
                raise ValueError(f"greedy variable not last in HTTP route key: {key!r}")
            greedy = part[1:-2]
        elif part.startswith("{") and part.endswith("}"):
            variables.append((index, part[1:-1]))
            labels.append(None)
        else:
            labels.append(sys.intern(unquote(part)))
    route = _Route(record, key, tuple(variables), greedy, len(labels))
    return sys.intern(method), route, tuple(labels)


def _insert(root: _Node, labels: Labels) -> _Node:
    """The trie node for ``labels``, creating the nodes on the way."""
    node = root
    for label in labels:
        node = node.variable_child() if label is None else node.literal_child(label)
    return node


def _walk(node: _Node, segments: Segments, depth: int) -> Iterator[tuple[_Node, int]]:
    """Nodes matching a prefix of ``segments``, pre-order, literal child before ``{var}``."""
    yield node, depth
    if depth == len(segments):
        return
    segment = segments[depth]
    child = node.literals.get(segment)
    if child is not None:
        yield from _walk(child, segments, depth + 1)
    if node.variable is not None and segment:
        yield from _walk(node.variable, segments, depth + 1)


def _greedy_candidates(trie: _Node | None, segments: Segments) -> Iterator[tuple[int, _Route]]:
    """Greedy routes whose prefix matches and that leave at least one non-empty segment."""
    if trie is None:
        return
    for node, depth in _walk(trie, segments, 0):
        if node.greedy is not None and any(segments[depth:]):
            yield depth, node.greedy
