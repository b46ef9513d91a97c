"""The function registry: integration URI → function name → invoker.

Functions are registered by spec; an invoker is created for a function the first time it is
resolved, then reused. Each spec names its invoker kind (``worker``, the default, or
``in-process``); the kinds are a table from name to factory. :class:`WorkerKind` builds worker
pools: it finds each function's interpreter when the registry is built (start-up), so a
function that cannot run here is an error then, not at its first request, and a runtime served
by another version than its own is warned about once.

Resolution matches by function name only: the region, account and qualifier in an ARN are not
checked, since one local registry stands for one account's functions. The ARN a handler sees
as ``context.invoked_function_arn`` is built from the registry's region and account.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping, Sequence

from propylon.execute.logs import LogWriter
from propylon.functions.arns import function_arn, parse_function_uri
from propylon.functions.errors import FunctionConfigError, FunctionNotFound
from propylon.functions.invokers import InProcessInvoker, Invoker, InvokerFactory
from propylon.functions.launch import Launch, plan_launch
from propylon.functions.memory import MemoryWatch
from propylon.functions.pool import IDLE_LIFETIME, START_GRACE, WorkerPool
from propylon.functions.runtimes import InterpreterMissing, find_interpreter
from propylon.functions.spec import FunctionSpec

log = logging.getLogger("propylon.functions")

INVOKER_KINDS: Mapping[str, InvokerFactory] = {
    "in-process": InProcessInvoker,
}
"""The kinds that need nothing but a spec; ``worker`` is added by whoever has the log writer."""


class WorkerKind:
    """Builds the worker pool of each function (``worker`` invoker kind)."""

    def __init__(
        self,
        logs: LogWriter,
        *,
        region: str,
        host_environ: Mapping[str, str],
        idle_lifetime: float = IDLE_LIFETIME,
        start_grace: float = START_GRACE,
        debug_function: str | None = None,
        debug_port: int | None = None,
    ) -> None:
        self._logs = logs
        self._region = region
        self._host_environ = dict(host_environ)
        self._idle_lifetime = idle_lifetime
        self._start_grace = start_grace
        self._debug_function = debug_function
        self._debug_port = debug_port
        self._launches: dict[FunctionSpec, Launch] = {}
        self._memory = MemoryWatch()

    def check_specs(self, specs: Sequence[FunctionSpec]) -> None:
        """Find every function's interpreter and plan its launch; FunctionConfigError naming
        the function when it cannot run here, one warning per function served by another
        version than its runtime's."""
        for spec in specs:
            self._launches[spec] = self._plan(spec)

    def _plan(self, spec: FunctionSpec) -> Launch:
        try:
            interpreter = find_interpreter(spec.runtime, spec.family)
            debug = self._debug_port if spec.name == self._debug_function else None
            launch = plan_launch(
                spec,
                interpreter,
                region=spec.region or self._region,
                host_environ=self._host_environ,
                debug_port=debug,
            )
        except (InterpreterMissing, ValueError) as exc:
            raise FunctionConfigError(f"function {spec.name!r}: {exc}") from None
        if interpreter is not None and interpreter.warning:
            log.warning("function %s: %s", spec.name, interpreter.warning)
        return launch

    def __call__(self, spec: FunctionSpec, invoked_function_arn: str) -> WorkerPool:
        launch = self._launches.get(spec) or self._plan(spec)
        return WorkerPool(
            spec,
            invoked_function_arn,
            launch,
            self._logs,
            idle_lifetime=self._idle_lifetime,
            start_grace=self._start_grace,
            memory=self._memory,
            debugging=spec.name == self._debug_function,
        )


class FunctionRegistry:
    """The local functions of one gateway, and the invokers that run them.

    Functions named in the configuration are fixed and answer to their name in any region;
    functions defined while serving (the Lambda API's) live in a region, and are replaced or
    removed as their definition changes: the invoker of a replaced definition is retired (its
    idle workers stop, the busy ones once they finish) and the next invocation starts anew.
    """

    def __init__(
        self,
        specs: Iterable[FunctionSpec] = (),
        *,
        region: str = "us-east-1",
        account_id: str = "000000000000",
        kinds: Mapping[str, InvokerFactory] = INVOKER_KINDS,
    ) -> None:
        self._kinds = kinds
        self._specs: dict[str, FunctionSpec] = {}
        for spec in specs:
            if spec.name in self._specs:
                raise ValueError(f"function {spec.name!r} is defined more than once")
            self._check_kind(spec)
            self._specs[spec.name] = spec
        for kind, factory in kinds.items():
            factory.check_specs([spec for spec in self._specs.values() if spec.invoker == kind])
        self._defined: dict[tuple[str, str], FunctionSpec] = {}  # (region, name): the API's
        self._region = region
        self._account_id = account_id
        self._invokers: dict[tuple[str, str], Invoker] = {}  # ("", name) for configured ones
        self._by_uri: dict[str, Invoker] = {}  # URIs already resolved: no parsing per request

    def _check_kind(self, spec: FunctionSpec) -> None:
        if spec.invoker not in self._kinds:
            known = ", ".join(sorted(self._kinds))
            raise ValueError(f"unknown invoker kind {spec.invoker!r} (known: {known})")

    @property
    def names(self) -> list[str]:
        return sorted({*self._specs, *(name for _, name in self._defined)})

    def spec(self, name: str) -> FunctionSpec | None:
        return self._specs.get(name)

    def configured(self, name: str) -> bool:
        """Whether ``name`` is a function of the configuration (not the Lambda API's)."""
        return name in self._specs

    def define(self, region: str, spec: FunctionSpec) -> None:
        """Add or replace a function of ``region``; FunctionConfigError when it cannot run
        here (no interpreter for its runtime), ValueError for an unknown invoker kind."""
        self._check_kind(spec)
        self._kinds[spec.invoker].check_specs([spec])
        self._forget((region, spec.name))
        self._defined[(region, spec.name)] = spec

    def undefine(self, region: str, name: str) -> None:
        """Remove a function of ``region`` (its workers end once idle)."""
        self._forget((region, name))
        self._defined.pop((region, name), None)

    def undefine_all(self) -> None:
        """Remove every function defined while serving."""
        for region, name in list(self._defined):
            self.undefine(region, name)

    def _forget(self, key: tuple[str, str]) -> None:
        invoker = self._invokers.pop(key, None)
        self._by_uri.clear()
        if isinstance(invoker, WorkerPool):
            invoker.retire()

    def __contains__(self, uri: object) -> bool:
        return isinstance(uri, str) and self._find(uri) is not None

    def _find(self, uri: str) -> tuple[tuple[str, str], FunctionSpec, str] | None:
        """The invoker key, spec and region of the function a URI names."""
        ref = parse_function_uri(uri)
        if ref is None:
            return None
        spec = self._specs.get(ref.name)
        if spec is not None:
            return ("", ref.name), spec, self._region
        region = ref.arn.split(":")[3] if ref.arn else self._region
        spec = self._defined.get((region, ref.name))
        return None if spec is None else ((region, ref.name), spec, region)

    def resolve(self, uri: str) -> Invoker:
        """The invoker for the function a URI names; FunctionNotFound if there is none."""
        known = self._by_uri.get(uri)
        if known is not None:
            return known
        found = self._find(uri)
        if found is None:
            raise FunctionNotFound(uri, self.names)
        key, spec, region = found
        invoker = self._invokers.get(key)
        if invoker is None:
            arn = function_arn(region, self._account_id, spec.name)
            invoker = self._invokers[key] = self._kinds[spec.invoker](spec, arn)
        self._by_uri[uri] = invoker
        return invoker

    def retire(self, names: Iterable[str]) -> None:
        """The code of these functions changed: their workers make way for fresh ones."""
        for name in names:
            invoker = self._invokers.get(("", name))
            if isinstance(invoker, WorkerPool):
                invoker.retire()

    async def aclose(self) -> None:
        """Close every invoker created so far; resolving afterwards creates fresh ones."""
        invokers, self._invokers, self._by_uri = list(self._invokers.values()), {}, {}
        for invoker in invokers:
            await invoker.aclose()
