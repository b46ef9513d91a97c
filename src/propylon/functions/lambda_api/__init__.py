"""The Lambda API (2015-03-31 and the later date prefixes), served on the gateway's port.

Requests whose path starts with a Lambda date prefix (``/2015-03-31/functions``,
``/2017-03-31/tags``, ``/2018-10-31/layers`` ...) go to a control-plane door built on the
``lambda`` service model (``control/plane.py``), with the handlers of this package. Operations
without one answer ``InvalidParameterValueException`` naming the operation.
"""

from __future__ import annotations

import re

from propylon.control.context import Call, Output, Params
from propylon.control.crud import Handler
from propylon.control.plane import AsyncHandler, ControlPlane
from propylon.functions.lambda_api.code import CodeStore
from propylon.functions.lambda_api.errors import (
    InvalidParameterValueException,
    ServiceException,
    ValidationException,
)
from propylon.functions.lambda_api.functions import LambdaFunctions
from propylon.functions.lambda_api.invoke import Invocations
from propylon.functions.registry import FunctionRegistry
from propylon.settings import Settings
from propylon.spec.model import load_service_model
from propylon.spec.serialize import serialize_error
from propylon.store import Store

SERVICE = "lambda"
PATH = re.compile(r"/20\d\d-\d\d-\d\d/")
"""The paths of the Lambda API: each operation's URI starts with its API version's date."""


def is_lambda_path(path: str) -> bool:
    return PATH.match(path) is not None


class LambdaApi:
    """The Lambda API's door, its functions and its invocations."""

    def __init__(
        self, settings: Settings, store: Store, registry: FunctionRegistry, code: CodeStore
    ) -> None:
        self.functions = LambdaFunctions(registry, code)
        self.invocations = Invocations(self.functions)
        self.functions.load(store)
        self.plane = ControlPlane(
            settings,
            store,
            service=SERVICE,
            handlers=self.handlers(),
            validation_error=ValidationException,
            written=lambda call, params, output: None,
            payload_type="application/json",
            internal_error=serialize_error(SERVICE, ServiceException("Internal error")),
        )

    def handlers(self) -> dict[str, Handler | AsyncHandler]:
        table: dict[str, Handler | AsyncHandler] = {
            name: _unsupported(name) for name in load_service_model(SERVICE).operation_names
        }
        table.update(self.functions.handlers())
        table["Invoke"] = self.invocations.invoke
        table["GetAccountSettings"] = _account_settings
        return table

    async def aclose(self) -> None:
        await self.invocations.aclose()


def _unsupported(operation: str) -> Handler:
    def handler(call: Call, params: Params) -> Output:
        raise InvalidParameterValueException(
            f"Operation {operation} is not supported by Propylon yet"
        )

    return handler


def _account_settings(call: Call, params: Params) -> Output:
    """Lambda's default quotas; usage counts what this account and region hold."""
    functions = call.store.children(call.scope, "functions")
    return {
        "AccountLimit": {
            "TotalCodeSize": 80530636800,
            "CodeSizeUnzipped": 262144000,
            "CodeSizeZipped": 52428800,
            "ConcurrentExecutions": 1000,
            "UnreservedConcurrentExecutions": 1000,
        },
        "AccountUsage": {
            "TotalCodeSize": sum(f["Configuration"]["CodeSize"] for f in functions),
            "FunctionCount": len(functions),
        },
    }
