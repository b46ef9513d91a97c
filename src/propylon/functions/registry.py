"""The function registry: integration URI → function name → invoker.

Functions are registered by spec; an invoker is created for a function the first time it is
resolved, then reused. Which invoker class runs the functions is chosen by kind from
``INVOKER_KINDS``; worker-process and remote-endpoint invokers are added there, not here.

Resolution matches by function name only: the region, account and qualifier in an ARN are not
checked, since one local registry stands for one account's functions. The ARN a handler sees
as ``context.invoked_function_arn`` is built from the registry's region and account.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from propylon.functions.arns import function_arn, parse_function_uri
from propylon.functions.errors import FunctionNotFound
from propylon.functions.invokers import InProcessInvoker, Invoker, InvokerFactory
from propylon.functions.spec import FunctionSpec

INVOKER_KINDS: Mapping[str, InvokerFactory] = {
    "in-process": InProcessInvoker,
}


class FunctionRegistry:
    """The local functions of one gateway, and the invokers that run them."""

    def __init__(
        self,
        specs: Iterable[FunctionSpec] = (),
        *,
        region: str = "us-east-1",
        account_id: str = "000000000000",
        kind: str = "in-process",
        kinds: Mapping[str, InvokerFactory] = INVOKER_KINDS,
    ) -> None:
        if kind not in kinds:
            raise ValueError(f"unknown invoker kind {kind!r} (known: {', '.join(sorted(kinds))})")
        self._factory = kinds[kind]
        self._specs: dict[str, FunctionSpec] = {}
        for spec in specs:
            if spec.name in self._specs:
                raise ValueError(f"function {spec.name!r} is defined more than once")
            self._specs[spec.name] = spec
        self._factory.check_specs(list(self._specs.values()))
        self._region = region
        self._account_id = account_id
        self._invokers: dict[str, Invoker] = {}
        self._by_uri: dict[str, Invoker] = {}  # URIs already resolved: no parsing per request

    @property
    def names(self) -> list[str]:
        return sorted(self._specs)

    def spec(self, name: str) -> FunctionSpec | None:
        return self._specs.get(name)

    def __contains__(self, uri: object) -> bool:
        ref = parse_function_uri(uri) if isinstance(uri, str) else None
        return ref is not None and ref.name in self._specs

    def resolve(self, uri: str) -> Invoker:
        """The invoker for the function a URI names; FunctionNotFound if there is none."""
        known = self._by_uri.get(uri)
        if known is not None:
            return known
        ref = parse_function_uri(uri)
        spec = None if ref is None else self._specs.get(ref.name)
        if spec is None:
            raise FunctionNotFound(uri, self.names)
        invoker = self._invokers.get(spec.name)
        if invoker is None:
            arn = function_arn(self._region, self._account_id, spec.name)
            invoker = self._invokers[spec.name] = self._factory(spec, arn)
        self._by_uri[uri] = invoker
        return invoker

    async def aclose(self) -> None:
        """Close every invoker created so far; resolving afterwards creates fresh ones."""
        invokers, self._invokers, self._by_uri = list(self._invokers.values()), {}, {}
        for invoker in invokers:
            await invoker.aclose()
