"""Authorization for HTTP API routes (reference §8): one step of the chain, three kinds.

A route's ``AuthorizationType`` says which: ``JWT`` and ``CUSTOM`` routes name an authorizer of
the deployment (``AuthorizerType`` ``JWT`` or ``REQUEST``), compiled once per stage by
``compile_authorizer`` from the ``AUTHORIZER_TYPES`` table; ``AWS_IAM`` routes are checked by the
gateway's SigV4 verifier against the configured credentials. An authorizer either returns
quietly, having set ``inv.authorizer`` (and what else the event and logs need), or raises the
gateway error AWS answers (401, 403, 500).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, Protocol

from propylon.errors import GatewayInternalError
from propylon.execute.context import Invocation
from propylon.store import Record

Route = Mapping[str, Any]
"""A route record as deployed."""

if TYPE_CHECKING:
    from propylon.execute.chain import Gateway
    from propylon.execute.deployed import CompiledStage


class Authorizer(Protocol):
    """A compiled authorizer of a deployment."""

    record: Record

    async def authorize(self, gateway: Gateway, inv: Invocation, route: Route) -> None:
        """Let the request through (setting ``inv.authorizer``) or raise a gateway error."""


AUTHORIZER_TYPES: dict[str, Callable[[Record], Authorizer]] = {}
"""``AuthorizerType`` → the class that compiles an authorizer record of that type."""


class Unservable:
    """An authorizer Propylon cannot apply: every request it guards answers 500, as AWS does
    when an authorizer fails, rather than being let through unchecked."""

    def __init__(self, record: Record, reason: str) -> None:
        self.record = record
        self.reason = reason

    async def authorize(self, gateway: Gateway, inv: Invocation, route: Route) -> None:
        raise GatewayInternalError(self.reason)


def compile_authorizer(record: Record) -> Authorizer:
    kind = record.get("AuthorizerType", "")
    factory = AUTHORIZER_TYPES.get(kind)
    if factory is None:
        return Unservable(record, f"{kind} authorizers are not served")
    try:
        return factory(record)
    except ValueError as exc:
        return Unservable(record, f"authorizer {record.get('AuthorizerId')}: {exc}")


async def authorize(gateway: Gateway, inv: Invocation, stage: CompiledStage, route: Route) -> None:
    """The authorization step for a matched route whose ``AuthorizationType`` is not NONE."""
    kind = route.get("AuthorizationType")
    if kind == "AWS_IAM":
        await gateway.iam.authorize(gateway, inv, route)
        return
    authorizer = stage.authorizers.get(route.get("AuthorizerId") or "")
    if authorizer is None:
        raise GatewayInternalError(f"route {route.get('RouteKey')} has no authorizer")
    await authorizer.authorize(gateway, inv, route)


from propylon.execute.authorizers.jwt import JwtAuthorizer  # noqa: E402  (needs Route)

AUTHORIZER_TYPES["JWT"] = JwtAuthorizer

from propylon.execute.authorizers.lambda_ import LambdaAuthorizer  # noqa: E402

AUTHORIZER_TYPES["REQUEST"] = LambdaAuthorizer
