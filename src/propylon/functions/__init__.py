"""Local Lambda functions: specs, URI resolution, the context object, invokers and the registry.

The data plane turns an integration URI into a running function with::

    registry = FunctionRegistry(specs, region=settings.region, account_id=settings.account_id)
    result = await registry.resolve(integration_uri).invoke(event, request_id)

and maps ``FunctionNotFound``, ``FunctionError`` and ``FunctionTimeout`` to gateway errors.
"""

from propylon.functions.arns import FunctionRef, function_name_from_uri, parse_function_uri
from propylon.functions.context import LambdaContext
from propylon.functions.errors import (
    CallerTimeout,
    FunctionConfigError,
    FunctionError,
    FunctionNotFound,
    FunctionThrottled,
    FunctionTimeout,
    InvocationError,
)
from propylon.functions.invokers import InProcessInvoker, Invoker, InvokerFactory
from propylon.functions.pool import WorkerPool
from propylon.functions.registry import INVOKER_KINDS, FunctionRegistry, WorkerKind
from propylon.functions.spec import FunctionSpec, function_specs_from_toml, parse_function_flag

__all__ = [
    "INVOKER_KINDS",
    "CallerTimeout",
    "FunctionConfigError",
    "FunctionError",
    "FunctionNotFound",
    "FunctionRef",
    "FunctionRegistry",
    "FunctionSpec",
    "FunctionThrottled",
    "FunctionTimeout",
    "InProcessInvoker",
    "InvocationError",
    "Invoker",
    "InvokerFactory",
    "LambdaContext",
    "WorkerKind",
    "WorkerPool",
    "function_name_from_uri",
    "function_specs_from_toml",
    "parse_function_flag",
    "parse_function_uri",
]
