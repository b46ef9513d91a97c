"""Invoke, as Lambda answers it (reference 5.8).

- ``RequestResponse`` (the default): 200 with the function's answer; a function error is
  still 200, with ``X-Amz-Function-Error: Unhandled`` and the error document as the payload
  (a timeout's is ``Sandbox.Timedout``); throttling is ``429 TooManyRequestsException``.
  ``LogType: Tail`` adds ``X-Amz-Log-Result``, the last 4 KB of the invocation's log lines
  (START to REPORT) in base64 (functions in workers; an in-process one has none).
- ``Event``: 202 at once, the function run in the background (its outcome is in its log).
- ``DryRun``: 204, the function and the payload checked, nothing run.

The payload must be JSON (an empty one is ``{}``), at most 6 MB (1 MB for ``Event``).
Functions of the configuration are invoked as well as the Lambda API's: one registry.
"""

from __future__ import annotations

import asyncio
import base64
import json
import logging
from typing import Any

from propylon.control.context import Call, Output, Params
from propylon.functions.context import new_request_id
from propylon.functions.errors import (
    FunctionError,
    FunctionThrottled,
    FunctionTimeout,
    InvocationError,
)
from propylon.functions.invokers import Invoker
from propylon.functions.lambda_api.configuration import function_arn
from propylon.functions.lambda_api.errors import (
    InvalidRequestContentException,
    RequestTooLargeException,
    TooManyRequestsException,
    function_not_found,
)
from propylon.functions.lambda_api.functions import LambdaFunctions, name_and_qualifier
from propylon.functions.pool import WorkerPool

log = logging.getLogger("propylon.functions")

MAX_SYNC = 6 * 1024 * 1024
MAX_EVENT = 1024 * 1024
TAIL = 4096


class Invocations:
    """The Invoke handler, and the background invocations it has started."""

    def __init__(self, functions: LambdaFunctions) -> None:
        self.functions = functions
        self._background: set[asyncio.Task[None]] = set()

    async def invoke(self, call: Call, params: Params) -> Output:
        name, qualifier = name_and_qualifier(call, params["FunctionName"])
        qualifier = params.get("Qualifier") or qualifier
        arn = function_arn(call, name)
        if not self.functions.registry.configured(name):
            self.functions.record(call, name)
        if qualifier not in (None, "$LATEST"):
            raise function_not_found(f"{arn}:{qualifier}")
        kind = params.get("InvocationType") or "RequestResponse"
        payload = _payload(params.get("Payload") or b"", kind)
        if kind == "DryRun":
            return {"StatusCode": 204}
        invoker = self.functions.registry.resolve(arn)
        invoked = f"{arn}:{qualifier}" if qualifier else arn
        if kind == "Event":
            task = asyncio.ensure_future(self._event(invoker, payload, invoked))
            self._background.add(task)
            task.add_done_callback(self._background.discard)
            return {"StatusCode": 202}
        request_id = new_request_id()
        capture: list[str] | None = [] if params.get("LogType") == "Tail" else None
        try:
            output = _answer(await _run(invoker, payload, request_id, invoked, capture))
        except FunctionThrottled:
            raise TooManyRequestsException() from None
        except FunctionError as exc:
            document = exc.document or json.dumps(exc.payload()).encode()
            output = _answer(document, "Unhandled")
        except FunctionTimeout as exc:
            message = (
                f"RequestId: {request_id} Error: Task timed out after {exc.timeout:.2f} seconds"
            )
            timed_out = {"errorMessage": message, "errorType": "Sandbox.Timedout"}
            output = _answer(json.dumps(timed_out).encode(), "Unhandled")
        if capture is not None:
            output["LogResult"] = log_result(capture)
        return output

    async def _event(self, invoker: Invoker, payload: bytes, invoked: str) -> None:
        try:
            await _run(invoker, payload, new_request_id(), invoked)
        except InvocationError as exc:  # told in the function's log; nobody waits for it
            log.info("an Event invocation failed: %s", exc)

    async def aclose(self) -> None:
        for task in list(self._background):
            task.cancel()


def _payload(data: bytes, kind: str) -> bytes:
    limit = MAX_EVENT if kind == "Event" else MAX_SYNC
    if len(data) > limit:
        if kind == "Event":
            raise RequestTooLargeException(
                f"{len(data)} byte payload is too large for the Event invocation type "
                f"(limit {MAX_EVENT} bytes)"
            )
        raise RequestTooLargeException(
            f"Request must be smaller than {MAX_SYNC} bytes for the InvokeFunction operation"
        )
    if not data.strip():
        return b"{}"
    try:
        json.loads(data)
    except (ValueError, RecursionError) as exc:
        raise InvalidRequestContentException(
            f"Could not parse request body into json: Could not parse payload into json: {exc}"
        ) from None
    return data


def log_result(lines: list[str]) -> str:
    """``X-Amz-Log-Result``: base64 of the last 4 KB of the invocation's log."""
    text = "".join(f"{line}\n" for line in lines).encode()
    return base64.b64encode(text[-TAIL:]).decode()


async def _run(
    invoker: Invoker,
    payload: bytes,
    request_id: str,
    invoked: str,
    capture: list[str] | None = None,
) -> bytes:
    if isinstance(invoker, WorkerPool):
        return await invoker.invoke_payload(
            payload, request_id, invoked_arn=invoked, capture=capture
        )
    result: Any = await invoker.invoke(json.loads(payload), request_id)
    return json.dumps(result).encode()


def _answer(payload: bytes, function_error: str | None = None) -> Output:
    output: Output = {"StatusCode": 200, "ExecutedVersion": "$LATEST", "Payload": payload}
    if function_error:
        output["FunctionError"] = function_error
    return output
