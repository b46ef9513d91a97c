"""The ASGI application: one port, several doors.

- ``/_propylon/...``: admin (health, reset, the code of the Lambda API's functions);
- paths starting with a Lambda API date (``/2015-03-31/functions`` ...): the Lambda API;
- ``{apiId}.execute-api.*`` hosts and ``/_aws/execute-api/...`` paths: the execute-api door,
  where the deployed HTTP APIs are served (``propylon.execute``);
- everything else: the ``apigatewayv2`` control plane.
"""

from __future__ import annotations

import asyncio
import gc
import json
import logging
import os
import shutil
import tempfile
import threading
from collections.abc import Awaitable, Callable, Mapping, MutableMapping
from pathlib import Path
from typing import Any, cast

from propylon import __version__
from propylon.control.context import Call, Output, Params
from propylon.control.crud import Handler
from propylon.control.plane import ControlPlane, request_id
from propylon.control.signatures import SignatureCheck
from propylon.credentials import load_credentials
from propylon.execute.addressing import is_execute_api
from propylon.execute.authorizers.iam import IamVerifier
from propylon.execute.body import BodyTooLarge, read_body
from propylon.execute.chain import Gateway
from propylon.execute.deployed import DeployedApis
from propylon.execute.door import serve_execute_api
from propylon.execute.http_proxy import HttpProxy
from propylon.execute.logs import LogWriter
from propylon.functions import INVOKER_KINDS, FunctionRegistry, WorkerKind
from propylon.functions.lambda_api import LambdaApi, is_lambda_path
from propylon.functions.lambda_api.code import CodeStore
from propylon.functions.reload import CodeWatcher
from propylon.settings import Settings
from propylon.spec.serialize import Reply
from propylon.store import Store, open_store
from propylon.websocket.connections import InMemoryConnections
from propylon.websocket.manage import ManagementApi
from propylon.websocket.quotas import Quotas
from propylon.websocket.session import WebSocketDoor

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

log = logging.getLogger("propylon")

MAX_CONTROL_BODY = 10 * 1024 * 1024
_ADMIN_PREFIX = "/_propylon/"
_CODE_PREFIX = "/_propylon/lambda/code/"
_TOO_LARGE = Reply(
    413,
    b'{"message":"Request body too large"}',
    headers=(("x-amzn-ErrorType", "BadRequestException"),),
)


async def send_reply(send: Send, reply: Reply, *extra: tuple[bytes, bytes]) -> None:
    headers = [
        (b"content-type", reply.content_type.encode()),
        (b"content-length", str(len(reply.body)).encode()),
        *((name.encode(), value.encode()) for name, value in reply.headers),
        *extra,
    ]
    await send({"type": "http.response.start", "status": reply.status, "headers": headers})
    await send({"type": "http.response.body", "body": reply.body})


def _has_body(headers: dict[str, str]) -> bool:
    """Whether an HTTP/1.1 request carries a body: only Content-Length or chunked coding say so."""
    return "transfer-encoding" in headers or headers.get("content-length", "0") != "0"


def _host(scope: Scope) -> str:
    for name, value in scope["headers"]:
        if name == b"host":
            return str(value.decode("latin-1"))
    return ""


def _headers(scope: Scope) -> dict[str, str]:
    return {name.decode("latin-1"): value.decode("latin-1") for name, value in scope["headers"]}


class Propylon:
    """The ASGI app. ``create_app`` builds it from settings."""

    def __init__(
        self,
        settings: Settings,
        store: Store,
        websocket_quotas: Quotas | None = None,
        host_environ: Mapping[str, str] | None = None,
    ) -> None:
        credentials = load_credentials(settings)
        self.settings = settings
        self.store = store
        deployed = DeployedApis(store)
        deployed.refresh()
        self.control = ControlPlane(settings, store, after_write=deployed.refresh)
        self.function_logs = LogWriter(settings.logs, echo=_console(settings))
        workers = WorkerKind(
            self.function_logs,
            region=settings.region,
            host_environ=host_environ if host_environ is not None else os.environ,
            debug_function=settings.debug_function,
            debug_port=settings.debug_port,
        )
        functions = FunctionRegistry(
            settings.functions,
            region=settings.region,
            account_id=settings.account_id,
            kinds={**INVOKER_KINDS, "worker": workers},
        )
        self.functions = functions
        self._code_root = settings.state_dir / "functions"
        if settings.in_memory:  # nothing of the state is kept: neither is the code
            self._code_root = Path(tempfile.mkdtemp(prefix="propylon-functions-"))
        self.lambda_api = LambdaApi(settings, store, functions, CodeStore(self._code_root))
        self.watcher = (
            CodeWatcher(settings.functions, functions.retire) if settings.reload else None
        )
        http = HttpProxy(ca_bundle=settings.ca_bundle, gateway_port=settings.port)
        logs = LogWriter(settings.logs)
        self.signatures = SignatureCheck(credentials) if settings.verify_signatures else None
        iam = IamVerifier(credentials)
        self.gateway = Gateway(settings, deployed, functions, http, iam, logs)
        self._reset_authorizers_cache_in_gateway()
        connections = InMemoryConnections()
        self.websockets = WebSocketDoor(self.gateway, connections, websocket_quotas)
        self.connections_api = ManagementApi(self.gateway, connections, websocket_quotas)

    def _reset_authorizers_cache_in_gateway(self) -> None:
        """``ResetAuthorizersCache`` checks the stage in the control plane; the cached Lambda
        authorizer results it clears live in the gateway, which the control plane does not
        see. Its handler is wrapped here, where both are built."""
        check_stage = cast(Handler, self.control.handlers["ResetAuthorizersCache"])
        cache = self.gateway.authorizer_cache

        def reset(call: Call, params: Params) -> Output | None:
            output = check_stage(call, params)
            cache.reset(params["ApiId"], params["StageName"])
            return output

        self.control.handlers["ResetAuthorizersCache"] = reset

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        kind = scope["type"]
        if kind == "http":
            # An API's request goes to its door from here, not through another coroutine: it
            # is the path every request of the data plane takes.
            path: str = scope["path"]
            host = _host(scope)
            if not is_execute_api(host, path) or path.startswith(_ADMIN_PREFIX):
                await self._http(scope, receive, send, path)
                return
            raw = (scope.get("raw_path") or path.encode()).decode("latin-1")
            if "@connections" in raw and self.connections_api.handles(host, raw):
                await self.connections_api(scope, receive, send)
            else:
                await serve_execute_api(self.gateway, scope, receive, send, host, raw)
        elif kind == "lifespan":
            await self._lifespan(receive, send)
        elif kind == "websocket":
            await self.websockets(scope, receive, send)

    async def _http(self, scope: Scope, receive: Receive, send: Send, path: str) -> None:
        """The admin door and the control plane."""
        if path.startswith(_ADMIN_PREFIX):
            await send_reply(send, await self._admin(scope["method"], path))
            return
        headers = _headers(scope)
        try:
            body = await read_body(receive, MAX_CONTROL_BODY) if _has_body(headers) else b""
        except BodyTooLarge:
            await send_reply(send, _TOO_LARGE)
            return
        raw_path = scope.get("raw_path") or path.encode()
        request = (
            scope["method"],
            raw_path.decode("latin-1"),
            scope["query_string"].decode("latin-1"),
            headers,
            body,
        )
        refused = self.signatures and self.signatures.refusal(*request)
        plane = self.lambda_api.plane if is_lambda_path(path) else self.control
        reply = refused or await plane.handle(*request)
        await send_reply(send, reply, (b"x-amzn-RequestId", request_id().encode()))

    async def _admin(self, method: str, path: str) -> Reply:
        if path == "/_propylon/health" and method == "GET":
            document = {
                "status": "ok",
                "version": __version__,
                "store": self.store.name,
                "region": self.settings.region,
                "accountId": self.settings.account_id,
            }
            return Reply(200, json.dumps(document).encode())
        if path == "/_propylon/reset" and method == "POST":
            await self.control.reset()
            self.lambda_api.functions.forget_all()
            return Reply(200, b'{"status":"reset"}')
        if path.startswith(_CODE_PREFIX) and method == "GET":
            return await self._function_code(path[len(_CODE_PREFIX) :])
        return Reply(404, b'{"message":"Not Found"}')

    async def _function_code(self, rest: str) -> Reply:
        """The zip of a Lambda API function (``GetFunction``'s ``Code.Location``)."""
        parts = rest.split("/")
        if len(parts) != 3 or any(part in ("", ".", "..") for part in parts):
            return Reply(404, b'{"message":"Not Found"}')
        region, name, file = parts
        path = self._code_root / self.settings.account_id / region / name / file
        try:
            data = await asyncio.to_thread(path.read_bytes)
        except OSError:
            return Reply(404, b'{"message":"Not Found"}')
        return Reply(200, data, "application/zip")

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                log.info(
                    "Propylon %s ready on http://%s:%d (state: %s)",
                    __version__,
                    self.settings.host,
                    self.settings.port,
                    self.store.name,
                )
                # Everything loaded so far (the service model above all) lives as long as the
                # process: moved out of the collector's reach, it is not rescanned on every
                # collection the request path triggers.
                gc.freeze()
                if self.watcher is not None:
                    self.watcher.start()
                await send({"type": "lifespan.startup.complete"})
                threading.Thread(target=_preload, name="propylon-preload", daemon=True).start()
            elif message["type"] == "lifespan.shutdown":
                await self.lambda_api.aclose()
                self.control.close()
                if self.watcher is not None:
                    await self.watcher.aclose()
                await self.gateway.aclose()
                self.function_logs.close()
                if self.settings.in_memory:
                    shutil.rmtree(self._code_root, ignore_errors=True)
                await send({"type": "lifespan.shutdown.complete"})
                return


def _console(settings: Settings) -> Callable[[str, str], None] | None:
    """At ``--log-level info`` and below, function log lines on the console with the function's
    name (from the log writer's thread)."""
    if settings.log_level not in ("info", "debug", "trace"):
        return None
    functions = logging.getLogger("propylon.functions")

    def echo(group: str, line: str) -> None:
        functions.info("%s %s", group.rpartition("/")[2], line)

    return echo


def _preload() -> None:
    """Import what the data plane loads on first use (aiohttp for JWKS documents, PyJWT with
    cryptography for tokens), once the server is up: start-up does not wait for them, and the
    first request that needs them seldom does."""
    try:
        import aiohttp  # noqa: F401
        import jwt.algorithms  # noqa: F401
    except ImportError as exc:  # pragma: no cover - both are dependencies
        log.warning("cannot preload %s", exc.name)


def create_app(
    settings: Settings,
    store: Store | None = None,
    websocket_quotas: Quotas | None = None,
    host_environ: Mapping[str, str] | None = None,
) -> Propylon:
    """The app for ``settings``. ``host_environ`` is the environment worker processes take
    ``PATH``, ``HOME`` and AWS credentials from (default: this process's)."""
    store = store or open_store(settings.store_backend, settings.state_dir)
    return Propylon(settings, store, websocket_quotas, host_environ)
