"""The control-plane door: route, parse, validate, run the handler, serialize.

One door per service model: ``apigatewayv2`` (the handlers of ``control/``) and ``lambda``
(``functions/lambda_api``), each with its handler table, its validation error and the error
bodies its clients read (``spec/serialize.py``). A handler is a plain function of the input;
an ``async`` one (Lambda's Invoke) runs on the event loop, neither a read nor a write of the
configuration.

Reads (GET) run on the event loop: the store serves them from memory. Writes run one at a time
on a single worker thread, so a handler's checks and writes are never interleaved with another
write, and the store's disk writes never block the event loop. A read waits for the writes in
flight when it arrives, so it never sees half of a multi-step write (a quick create, say).

Answers to reads are kept until the next write: the configuration changes only through writes
(every one goes through ``_write``, which starts a new generation and empties the cache), so a
repeated GetApi or GetRoutes is answered from the cache as the store would answer it. The key
is everything a read depends on: the path, the query and the caller's region. The cache is
bounded by the size of the answers it holds as well as by their number, so a client reading a
large configuration once (every API's routes, say) does not leave it all in memory twice.

After each write, still on the writer thread, ``after_write`` (the data plane's refresh) is told
what the write may have changed: the key of the one API it was under (``written_api``), or None
when it may have changed anything (a reset, a domain name, a tag ...), so that a write to one
API does not make the data plane walk every API.
"""

from __future__ import annotations

import asyncio
import inspect
import itertools
import logging
import random
import re
from collections.abc import Awaitable, Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from typing import cast
from urllib.parse import parse_qs

from botocore.model import OperationModel

from propylon.control.context import Call, Output, Params
from propylon.control.crud import SERVICE, Handler
from propylon.control.resources import build_handlers
from propylon.errors import BadRequestException, ControlPlaneError, NotFoundException
from propylon.settings import Settings
from propylon.spec.model import load_service_model
from propylon.spec.parse import parse_request
from propylon.spec.router import OperationRouter
from propylon.spec.serialize import OCTETS, Reply, serialize_error, serialize_output
from propylon.spec.validate import validate_input
from propylon.store import Key, Store

log = logging.getLogger("propylon.control")

_CREDENTIAL_SCOPE = re.compile(r"Credential=[^/,\s]+/\d{8}/([a-z0-9-]+)/")
_LARGE = 64 * 1024
_READ_CACHE_SIZE = 10_000
_READ_CACHE_BYTES = 4 * 1024 * 1024  # of answer bodies
_INTERNAL = Reply(
    500,
    b'{"message":"Internal server error"}',
    headers=(("x-amzn-ErrorType", "InternalServerErrorException"),),
)


_REQUEST_IDS = itertools.count()
_REQUEST_ID_PREFIX = f"{random.getrandbits(64):016x}"


def request_id() -> str:
    """A UUID-shaped request id (version-4 layout): a random per-process prefix and a counter,
    unique per process and far cheaper than ``uuid.uuid4()``."""
    prefix = _REQUEST_ID_PREFIX
    count = f"{next(_REQUEST_IDS) % 16**15:015x}"
    return f"{prefix[:8]}-{prefix[8:12]}-4{prefix[13:16]}-a{count[:3]}-{count[3:]}"


def region_of(headers: Mapping[str, str], default: str) -> str:
    """The region of the request's SigV4 credential scope, else ``default``."""
    match = _CREDENTIAL_SCOPE.search(headers.get("authorization", ""))
    return match[1] if match else default


def written_api(call: Call, params: Params, output: Output | None) -> Key | None:
    """The key of the one API a write was under, or None when it may have changed others.

    Every operation on an API or on something under it names the API in its input
    (``ApiId``); CreateApi and ImportApi, which make one, name it in their output. An operation
    that names an API but writes elsewhere (an API mapping) changes nothing the API serves.
    A write that failed has no output: it was under its input's API, or is taken as anywhere.
    """
    api_id = params.get("ApiId") or (output.get("ApiId") if output is not None else None)
    return call.scope + ("apis", api_id) if isinstance(api_id, str) else None


def _unsupported(operation: str) -> Handler:
    def handler(call: Call, params: Params) -> Output:
        raise BadRequestException(f"Operation {operation} is not supported by Propylon yet")

    return handler


AsyncHandler = Callable[[Call, Params], Awaitable[Output | None]]


class ControlPlane:
    def __init__(
        self,
        settings: Settings,
        store: Store,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        after_write: Callable[[Key | None], None] | None = None,
        *,
        service: str = SERVICE,
        handlers: Mapping[str, Handler | AsyncHandler] | None = None,
        validation_error: type[ControlPlaneError] = BadRequestException,
        written: Callable[[Call, Params, Output | None], Key | None] = written_api,
        payload_type: str = OCTETS,
        internal_error: Reply = _INTERNAL,
    ) -> None:
        self.settings = settings
        self._after_write = after_write
        self.store = store
        self.clock = clock
        self.service = service
        self.model = load_service_model(service)
        self.router = OperationRouter(self.model)
        self.handlers: dict[str, Handler | AsyncHandler] = dict(
            build_handlers() if handlers is None else handlers
        )
        self._validation_error = validation_error
        self._written = written
        self._payload_type = payload_type
        self._internal_error = internal_error
        self._writer = ThreadPoolExecutor(1, thread_name_prefix="propylon-writer")
        self._writes: set[asyncio.Future[Output | None]] = set()
        self._generation = 0
        self._reads: dict[tuple[str, str, str], Reply] = {}
        self._read_bytes = 0

    async def handle(
        self, method: str, raw_path: str, query_string: str, headers: Mapping[str, str], body: bytes
    ) -> Reply:
        """The answer to one request (without its request id, which the sender adds)."""
        region = region_of(headers, self.settings.region)
        if method != "GET":
            return await self._answer(method, raw_path, query_string, headers, body, region)
        key = (raw_path, query_string, region)
        cached = self._reads.get(key)
        if cached is not None and not self._writes:
            return cached
        generation = self._generation
        reply = await self._answer(method, raw_path, query_string, headers, body, region)
        if generation == self._generation and not self._writes:
            size = len(reply.body)
            if len(self._reads) >= _READ_CACHE_SIZE or self._read_bytes + size > _READ_CACHE_BYTES:
                self._clear_reads()
            self._reads[key] = reply
            self._read_bytes += size
        return reply

    async def _answer(
        self,
        method: str,
        raw_path: str,
        query_string: str,
        headers: Mapping[str, str],
        body: bytes,
        region: str,
    ) -> Reply:
        match = self.router.match(method, raw_path)
        if match is None:
            return serialize_error(self.service, self._no_operation(method, raw_path))
        operation = match.operation
        try:
            query = parse_qs(query_string, keep_blank_values=True) if query_string else {}

            def read_input() -> Params:
                params = parse_request(operation, match.uri_params, query, headers, body)
                validate_input(operation.input_shape, params, self._validation_error)
                return params

            # A large body (an OpenAPI import, or hostile input) takes milliseconds to parse
            # and check: that work runs on a thread so other requests are not held up.
            params = await asyncio.to_thread(read_input) if len(body) > _LARGE else read_input()
            call = Call(
                account=self.settings.account_id,
                region=region,
                store=self.store,
                settings=self.settings,
                now=self.clock(),
            )
            output = await self._run(operation, call, params)
            return serialize_output(operation, output, self._payload_type)
        except ControlPlaneError as exc:
            return serialize_error(self.service, exc)
        except Exception:
            log.exception("%s failed", operation.name)
            return self._internal_error

    async def _run(self, operation: OperationModel, call: Call, params: Params) -> Output | None:
        handler = self.handlers.get(operation.name) or _unsupported(operation.name)
        if inspect.iscoroutinefunction(handler):
            return await handler(call, params)  # type: ignore[no-any-return]
        sync = cast(Handler, handler)
        if operation.http["method"] == "GET":
            if self._writes:
                await asyncio.wait(set(self._writes))
            return sync(call, params)
        return await self._write(
            lambda: sync(call, params), lambda output: self._written(call, params, output)
        )

    async def _write(
        self,
        work: Callable[[], Output | None],
        written: Callable[[Output | None], Key | None] = lambda output: None,
    ) -> Output | None:
        """Run ``work`` on the writer thread; ``written`` says, from its output, where it
        wrote (``written_api``; by default, anywhere)."""
        self._new_generation()
        write = asyncio.get_running_loop().run_in_executor(
            self._writer, self._then_notify, work, written
        )
        self._writes.add(write)
        write.add_done_callback(self._write_done)
        return await write

    def _then_notify(
        self, work: Callable[[], Output | None], written: Callable[[Output | None], Key | None]
    ) -> Output | None:
        """Run a write, then (on the writer thread) whatever follows the configuration."""
        output = None
        try:
            output = work()
            return output
        finally:
            if self._after_write is not None:
                try:
                    self._after_write(written(output))
                except Exception:
                    log.exception("refreshing after a write failed")

    def _write_done(self, write: asyncio.Future[Output | None]) -> None:
        self._writes.discard(write)
        self._new_generation()

    def _new_generation(self) -> None:
        self._generation += 1
        self._clear_reads()

    def _clear_reads(self) -> None:
        self._reads.clear()
        self._read_bytes = 0

    def _no_operation(self, method: str, raw_path: str) -> ControlPlaneError:
        allowed = self.router.allowed_methods(raw_path)
        if allowed:
            return NotFoundException(
                f"Unsupported method {method} for {raw_path}; allowed: {', '.join(allowed)}"
            )
        return NotFoundException(f"No operation matches {method} {raw_path}")

    async def reset(self) -> None:
        def clear() -> None:
            self.store.clear()

        await self._write(clear)

    def close(self) -> None:
        self._writer.shutdown(wait=True)
        self.store.close()
