"""What a Lambda authorizer answers (reference §8.2, "Responses"), read and evaluated.

Pure: :func:`read_simple_response` reads ``{"isAuthorized": ..., "context": ...}`` (payload 2.0
with ``EnableSimpleResponses``); :func:`policy_reader` reads ``{"principalId", "policyDocument",
"context"}``. Either gives a :class:`Verdict`, the form results are cached in. A policy is
evaluated as IAM does: a statement applies when one of its actions matches
``execute-api:Invoke`` (case-insensitively) and one of its resources matches the route ARN, both
with ``*`` (any run of characters, ``/`` and ``:`` included) and ``?`` (one character); an
applying Deny wins, else an applying Allow is needed. ``NotAction`` and ``NotResource`` are read
too; conditions are not evaluated. Anything else is an :class:`InvalidResponse` (500).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

_INVOKE = "execute-api:Invoke"
_EFFECTS = {"allow": True, "deny": False}


class InvalidResponse(ValueError):
    """An authorizer's answer that is neither a valid simple nor a valid policy response."""


@lru_cache(maxsize=1024)
def _wildcard(pattern: str, ignore_case: bool) -> re.Pattern[str]:
    """An IAM pattern: ``*`` is any run of characters (``/`` and ``:`` included), ``?`` one."""
    body = "".join(
        ".*" if char == "*" else "." if char == "?" else re.escape(char) for char in pattern
    )
    return re.compile(body, re.DOTALL | (re.IGNORECASE if ignore_case else 0))


def wildcard_match(pattern: str, text: str, *, ignore_case: bool = False) -> bool:
    return _wildcard(pattern, ignore_case).fullmatch(text) is not None


@dataclass(frozen=True, slots=True)
class Statement:
    """One policy statement; ``not_action`` / ``not_resource`` when it used those forms."""

    allow: bool
    actions: tuple[str, ...]
    resources: tuple[str, ...]
    not_action: bool = False
    not_resource: bool = False

    def applies_to(self, arn: str) -> bool:
        action = any(wildcard_match(a, _INVOKE, ignore_case=True) for a in self.actions)
        resource = any(wildcard_match(r, arn) for r in self.resources)
        return action != self.not_action and resource != self.not_resource


@dataclass(frozen=True, slots=True)
class Policy:
    statements: tuple[Statement, ...]

    def allows(self, arn: str) -> bool:
        """IAM's rule: an explicit Deny wins, else an Allow is needed."""
        effects = {statement.allow for statement in self.statements if statement.applies_to(arn)}
        return effects == {True}


def _strings(statement: Mapping[str, Any], key: str) -> tuple[str, ...]:
    value = statement[key]
    values = [value] if isinstance(value, str) else value
    if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
        raise InvalidResponse(f"{key} is not a string or a list of strings")
    return tuple(values)


def _either(statement: Mapping[str, Any], key: str) -> tuple[tuple[str, ...], bool]:
    """The patterns of ``key`` or of ``Not{key}``, and whether they were the negated form."""
    if key in statement:
        return _strings(statement, key), False
    if "Not" + key in statement:
        return _strings(statement, "Not" + key), True
    raise InvalidResponse(f"a statement has neither {key} nor Not{key}")


def parse_statement(statement: Any) -> Statement:
    if not isinstance(statement, dict):
        raise InvalidResponse("a statement is not an object")
    effect = statement.get("Effect")
    allow = _EFFECTS.get(effect.lower()) if isinstance(effect, str) else None
    if allow is None:
        raise InvalidResponse(f"Effect {effect!r} is neither Allow nor Deny")
    actions, not_action = _either(statement, "Action")
    resources, not_resource = _either(statement, "Resource")
    return Statement(allow, actions, resources, not_action, not_resource)


def parse_policy(document: Any) -> Policy:
    """A ``policyDocument``; its ``Statement`` may be one object or a list."""
    if not isinstance(document, dict) or "Statement" not in document:
        raise InvalidResponse("policyDocument is not an object with a Statement")
    statements = document["Statement"]
    if isinstance(statements, dict):
        statements = [statements]
    if not isinstance(statements, list):
        raise InvalidResponse("Statement is not a list")
    return Policy(tuple(parse_statement(statement) for statement in statements))


@dataclass(frozen=True, slots=True)
class Verdict:
    """What an authorizer answered, as cached: a simple yes or no, or a policy evaluated
    against each request's route ARN. The context is kept as JSON text, so that every request
    gets its own copy and nothing a function or integration does to one changes the cache."""

    context_json: str
    authorized: bool = False
    policy: Policy | None = None
    principal_id: str | None = None
    """The policy response's ``principalId`` (``$context.authorizer.principalId``)."""

    def allows(self, arn: str) -> bool:
        return self.authorized if self.policy is None else self.policy.allows(arn)

    @property
    def context(self) -> dict[str, Any]:
        context: dict[str, Any] = json.loads(self.context_json)
        return context


def _context_json(result: Mapping[str, Any], reserved: frozenset[str]) -> str:
    context = result.get("context")
    if context is None:
        return "{}"
    if not isinstance(context, dict):
        raise InvalidResponse("context is not an object")
    taken = reserved.intersection(context)
    if taken:
        raise InvalidResponse(f"context uses the reserved key {sorted(taken)[0]!r}")
    try:
        return json.dumps(context, separators=(",", ":"), allow_nan=False)
    except (TypeError, ValueError, RecursionError) as exc:
        raise InvalidResponse(f"context is not JSON: {exc}") from None


def read_simple_response(result: Any) -> Verdict:
    """``{"isAuthorized": true|false, "context": {...}}`` (2.0 with simple responses)."""
    if not isinstance(result, dict) or not isinstance(result.get("isAuthorized"), bool):
        raise InvalidResponse("the simple response has no boolean isAuthorized")
    return Verdict(_context_json(result, frozenset()), authorized=result["isAuthorized"])


def policy_reader(reserved: frozenset[str]) -> Callable[[Any], Verdict]:
    """Reads ``{"principalId", "policyDocument", "context"}``; ``reserved`` context keys are
    refused (``claims`` with payload 1.0, where it would clash with JWT claims)."""

    def read(result: Any) -> Verdict:
        if not isinstance(result, dict):
            raise InvalidResponse("the policy response is not an object")
        policy = parse_policy(result.get("policyDocument"))
        principal = result.get("principalId")
        principal_id = None if principal is None else str(principal)
        return Verdict(_context_json(result, reserved), policy=policy, principal_id=principal_id)

    return read


read_policy_response_v1 = policy_reader(frozenset({"claims"}))
read_policy_response_v2 = policy_reader(frozenset())
