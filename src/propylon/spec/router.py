"""Route a control-plane request to its operation by the model's (method, URI template).

How this works: every operation's ``requestUri`` is split into segments; a segment is a literal,
a ``{label}`` (exactly one path segment) or a ``{label+}`` (the rest of the path). Templates are
grouped by HTTP method and segment count, and ordered so that the template with the most
literal segments wins (``/v2/apis/{apiId}/cors`` beats ``/v2/apis/{apiId}/{x}``). Matching works
on the raw (still percent-encoded) path, splitting on ``/`` before decoding each segment, so a
label may hold an encoded slash, as the tag operations' ``{resource-arn}`` does.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import unquote

from botocore.model import OperationModel, ServiceModel


@dataclass(frozen=True, slots=True)
class _Segment:
    literal: str | None
    label: str | None
    greedy: bool = False


@dataclass(frozen=True, slots=True)
class _Template:
    operation: OperationModel
    segments: tuple[_Segment, ...]
    literals: int


@dataclass(frozen=True, slots=True)
class Match:
    operation: OperationModel
    uri_params: dict[str, str]


def _compile(operation: OperationModel) -> _Template:
    path = operation.http["requestUri"].split("?", 1)[0]
    segments = []
    for part in path.strip("/").split("/"):
        if part.startswith("{") and part.endswith("}"):
            label = part[1:-1]
            greedy = label.endswith("+")
            segments.append(_Segment(None, label.rstrip("+"), greedy))
        else:
            segments.append(_Segment(part, None))
    literals = sum(1 for s in segments if s.literal is not None)
    return _Template(operation, tuple(segments), literals)


def _fits(template: _Template, count: int) -> bool:
    if template.segments and template.segments[-1].greedy:
        return count >= len(template.segments)
    return count == len(template.segments)


def _bind(template: _Template, parts: list[str]) -> dict[str, str] | None:
    params: dict[str, str] = {}
    for index, segment in enumerate(template.segments):
        if segment.greedy:
            rest = parts[index:]
            if not rest or not rest[0]:
                return None
            params[segment.label or ""] = unquote("/".join(rest))
            return params
        if index >= len(parts):
            return None
        part = parts[index]
        if segment.literal is not None:
            if part != segment.literal:
                return None
        elif not part:
            return None
        else:
            params[segment.label or ""] = unquote(part)
    return params if len(parts) == len(template.segments) else None


class OperationRouter:
    """Find the operation (and its URI parameters) for a request method and raw path."""

    def __init__(self, model: ServiceModel) -> None:
        self._by_method: dict[str, list[_Template]] = {}
        for name in model.operation_names:
            template = _compile(model.operation_model(name))
            method = template.operation.http["method"]
            self._by_method.setdefault(method, []).append(template)
        # Candidates per (method, segment count); greedy templates join every longer count.
        # Any path longer than the longest template can only fit a greedy one: such paths share
        # the candidate list of ``longest + 1`` segments.
        self._candidates: dict[tuple[str, int], list[_Template]] = {}
        longest = max(len(t.segments) for ts in self._by_method.values() for t in ts)
        self._longest = longest
        for method, templates in self._by_method.items():
            for count in range(1, longest + 2):
                fits = [t for t in templates if _fits(t, count)]
                fits.sort(key=lambda t: (-t.literals, -len(t.segments)))
                self._candidates[(method, count)] = fits

    def match(self, method: str, raw_path: str) -> Match | None:
        parts = raw_path.strip("/").split("/")
        count = min(len(parts), self._longest + 1)
        for template in self._candidates.get((method, count), ()):
            params = _bind(template, parts)
            if params is not None:
                return Match(template.operation, params)
        return None

    def allowed_methods(self, raw_path: str) -> list[str]:
        """The methods under which some operation has this path (for the unknown-method error)."""
        parts = raw_path.strip("/").split("/")
        return sorted(
            method
            for method, templates in self._by_method.items()
            if any(_bind(t, parts) is not None for t in templates)
        )
