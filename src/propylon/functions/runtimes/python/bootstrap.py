"""Propylon's Python runtime client: the loop a Lambda Python runtime runs, on the Runtime API.

Run as ``python -u bootstrap.py [--path DIR ...] [--runtime-api-fd N]`` in the function's code
directory, with the environment of a Lambda execution environment (``_HANDLER``,
``AWS_LAMBDA_RUNTIME_API`` ...); ``--path`` adds the layers' directories to the import path
after the code directory; ``--runtime-api-fd`` names a connection to the Runtime API the
process was started with (a Unix socket: cheaper than a TCP connection to the address). It needs
only the standard library and runs on every Python Lambda has had (3.8 and later), so the
interpreter that runs it need not have Propylon installed. (Annotations only: ``dict[str, str]``
is not a value before 3.9, and ``from __future__ import annotations`` keeps it from being one.)

What it does, as AWS's own runtime client does (reference 1, 3):

1. import the handler (``module.function``, ``/`` in the module part allowed); a failure is
   logged and posted to ``/runtime/init/error`` with Lambda's error type, then the process exits;
2. loop: ``GET next`` → event and context → ``handler(event, context)`` → ``POST response`` with
   the JSON result, or ``POST error`` with the error document (``errorMessage``, ``errorType``,
   ``requestId``, ``stackTrace``), logged as ``[ERROR] ...``.

One keep-alive connection; an answer and the next ``GET next`` go out in one write (HTTP/1.1
pipelining). Output is unbuffered (``-u``), so what a handler prints is in the log before its
answer is posted. ``logging`` gets Lambda's format on the root logger.
"""

from __future__ import annotations

import decimal
import importlib
import json
import logging
import os
import socket
import sys
import time
import traceback
from collections.abc import Callable
from typing import Any

_PREFIX = b"/2018-06-01/runtime/"
_NEXT = b"GET /2018-06-01/runtime/invocation/next HTTP/1.1\r\nHost: runtime\r\n\r\n"
_BUILTINS = set(sys.builtin_module_names)
_WARNING = (
    "LAMBDA_WARNING: Unhandled exception. The most likely cause is an issue in the function "
    "code. However, in rare cases, a Lambda runtime update can cause unexpected function "
    "behavior. For functions using managed runtimes, runtime updates can be triggered by a "
    "function change, or can be applied automatically. To determine if the runtime has been "
    "updated, check the runtime version in the INIT_START log entry. If this error correlates "
    "with a change in the runtime version, you may be able to mitigate this error by "
    "temporarily rolling back to the previous runtime version. For more information, see "
    "https://docs.aws.amazon.com/lambda/latest/dg/runtimes-update.html\r"
)


class FaultException(Exception):
    """A failure Lambda reports with a ``Runtime.*`` type of its own."""

    def __init__(self, error_type: str, message: str, trace: list[str] | None = None) -> None:
        super().__init__(message)
        self.error_type = error_type
        self.message = message
        self.trace = trace or []


# --- the Runtime API connection --------------------------------------------------------------


class RuntimeApi:
    """One keep-alive HTTP/1.1 connection to the Runtime API; responses have Content-Length."""

    def __init__(self, address: str, fd: int | None = None) -> None:
        if fd is not None:  # a connection the worker was started with (a Unix socket)
            self._sock = socket.socket(fileno=fd)
        else:
            host, _, port = address.rpartition(":")
            self._sock = socket.create_connection((host, int(port)))
            self._sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self._buffer = b""

    def send(self, data: bytes) -> None:
        self._sock.sendall(data)

    def read(self) -> tuple[int, dict[str, str], bytes]:
        """The next response: status, headers (lower-case names) and body."""
        buffer = self._buffer
        end = buffer.find(b"\r\n\r\n")
        while end < 0:
            buffer += self._receive()
            end = buffer.find(b"\r\n\r\n")
        head, buffer = buffer[:end].decode("latin-1"), buffer[end + 4 :]
        status_line, *lines = head.split("\r\n")
        headers = {}
        for line in lines:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        length = int(headers.get("content-length", "0"))
        while len(buffer) < length:
            buffer += self._receive()
        self._buffer = buffer[length:]
        return int(status_line.split(" ", 2)[1]), headers, buffer[:length]

    def _receive(self) -> bytes:
        data = self._sock.recv(65536)  # larger sizes cost an mmap per call
        if not data:
            raise ConnectionError("the Runtime API closed the connection")
        return data


def post(path: bytes, body: bytes, error_type: str | None = None, then_next: bool = False) -> bytes:
    """A POST request (and, pipelined behind it, the next ``GET next``) as bytes."""
    extra = b""
    if error_type is not None:
        extra = (
            b"Lambda-Runtime-Function-Error-Type: "
            + error_type.encode("utf-8", "replace")
            + b"\r\n"
        )
    return (
        b"POST " + _PREFIX + path + b" HTTP/1.1\r\nHost: runtime\r\n"
        b"Content-Type: application/json\r\n"
        + extra
        + b"Content-Length: "
        + str(len(body)).encode()
        + b"\r\n\r\n"
        + body
        + (_NEXT if then_next else b"")
    )


# --- the handler -------------------------------------------------------------------------------


def load_handler(handler: str) -> Callable[[Any, Any], Any]:
    """The function ``handler`` names; FaultException with Lambda's type when it cannot be had."""
    try:
        module_name, function_name = handler.rsplit(".", 1)
    except ValueError as exc:
        raise FaultException(
            "Runtime.MalformedHandlerName", f"Bad handler '{handler}': {exc}"
        ) from None
    module_name = module_name.replace("/", ".")
    if module_name.split(".")[0] in _BUILTINS:
        raise FaultException(
            "Runtime.BuiltInModuleConflict",
            f"Cannot use built-in module {module_name} as a handler module",
        )
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise FaultException(
            "Runtime.ImportModuleError", f"Unable to import module '{module_name}': {exc}"
        ) from None
    except SyntaxError as exc:
        code = (exc.text or "").strip()
        where = f'  File "{exc.filename}" Line {exc.lineno}\n    {code}\n'
        raise FaultException(
            "Runtime.UserCodeSyntaxError",
            f"Syntax error in module '{module_name}': {exc}",
            [where],
        ) from None
    function = getattr(module, function_name, None)
    if function is None:
        raise FaultException(
            "Runtime.HandlerNotFound",
            f"Handler '{function_name}' missing on module '{module_name}'",
        )
    return function  # type: ignore[no-any-return]


def error_document(exc: BaseException, request_id: str) -> dict[str, Any]:
    """Lambda's error document: ``errorMessage, errorType, requestId, stackTrace``."""
    if isinstance(exc, FaultException):
        return {
            "errorMessage": exc.message,
            "errorType": exc.error_type,
            "requestId": request_id,
            "stackTrace": exc.trace,
        }
    frames = traceback.extract_tb(exc.__traceback__)
    own = os.path.abspath(__file__)
    user = [frame for frame in frames if os.path.abspath(frame.filename) != own]
    return {
        "errorMessage": str(exc),
        "errorType": type(exc).__name__,
        "requestId": request_id,
        "stackTrace": traceback.format_list(user),
    }


def log_error(document: dict[str, Any]) -> None:
    """``[ERROR] Type: message`` and the traceback as one log event (lines joined with ``\\r``,
    indentation kept with no-break spaces, as the runtime writes to plain stdout)."""
    head = "[ERROR]"
    if document.get("errorType"):
        head += " " + document["errorType"]
    if document.get("errorMessage"):
        head += (":" if document.get("errorType") else "") + " " + document["errorMessage"]
    lines = [head]
    trace = document.get("stackTrace")
    if trace is not None:
        lines.append("Traceback (most recent call last):")
        for element in trace:
            lines.extend(element.splitlines() or [""])
    text = "\r".join(line.replace("  ", "\u00a0\u00a0") for line in lines)
    sys.stdout.write(text.replace("\n", "\r") + "\n")


def _default(value: Any) -> Any:
    if isinstance(value, decimal.Decimal):
        return float(value)
    raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")


def to_json(result: Any, ensure_ascii: bool) -> bytes:
    try:
        return json.dumps(result, default=_default, ensure_ascii=ensure_ascii).encode("utf-8")
    except (TypeError, ValueError) as exc:
        raise FaultException("Runtime.MarshalError", f"Unable to marshal response: {exc}") from None


# --- the context object ------------------------------------------------------------------------


class CognitoIdentity:
    __slots__ = ("cognito_identity_id", "cognito_identity_pool_id")

    def __init__(self, identity: dict[str, Any] | None) -> None:
        identity = identity or {}
        self.cognito_identity_id = identity.get("cognitoIdentityId")
        self.cognito_identity_pool_id = identity.get("cognitoIdentityPoolId")


class Client:
    __slots__ = (
        "app_package_name",
        "app_title",
        "app_version_code",
        "app_version_name",
        "installation_id",
    )

    def __init__(self, client: dict[str, Any]) -> None:
        self.installation_id = client.get("installation_id")
        self.app_title = client.get("app_title")
        self.app_version_name = client.get("app_version_name")
        self.app_version_code = client.get("app_version_code")
        self.app_package_name = client.get("app_package_name")


class ClientContext:
    __slots__ = ("client", "custom", "env")

    def __init__(self, context: dict[str, Any]) -> None:
        client = context.get("client")
        self.client = Client(client) if client else None
        self.custom = context.get("custom")
        self.env = context.get("env")


class LambdaContext:
    """What ``handler(event, context)`` gets as ``context`` (reference 3.2)."""

    function_name = os.environ.get("AWS_LAMBDA_FUNCTION_NAME")
    function_version = os.environ.get("AWS_LAMBDA_FUNCTION_VERSION")
    memory_limit_in_mb = os.environ.get("AWS_LAMBDA_FUNCTION_MEMORY_SIZE")
    log_group_name = os.environ.get("AWS_LAMBDA_LOG_GROUP_NAME")
    log_stream_name = os.environ.get("AWS_LAMBDA_LOG_STREAM_NAME")

    def __init__(self, headers: dict[str, str]) -> None:
        self.aws_request_id = headers.get("lambda-runtime-aws-request-id", "")
        self.invoked_function_arn = headers.get("lambda-runtime-invoked-function-arn")
        self.tenant_id = headers.get("lambda-runtime-aws-tenant-id")
        self._deadline_ms = int(headers.get("lambda-runtime-deadline-ms", "0"))
        identity = headers.get("lambda-runtime-cognito-identity")
        self.identity = CognitoIdentity(json.loads(identity) if identity else None)
        client_context = headers.get("lambda-runtime-client-context")
        self.client_context = ClientContext(json.loads(client_context)) if client_context else None

    def get_remaining_time_in_millis(self) -> int:
        return max(0, self._deadline_ms - int(time.time() * 1000))

    def log(self, message: str) -> None:
        sys.stdout.write(message)

    def __repr__(self) -> str:
        return (
            f"LambdaContext([aws_request_id={self.aws_request_id},"
            f"log_group_name={self.log_group_name},log_stream_name={self.log_stream_name},"
            f"function_name={self.function_name},memory_limit_in_mb={self.memory_limit_in_mb},"
            f"function_version={self.function_version},"
            f"invoked_function_arn={self.invoked_function_arn}])"
        )


# --- logging -----------------------------------------------------------------------------------


class _RequestId(logging.Filter):
    current = ""

    def filter(self, record: logging.LogRecord) -> bool:
        record.aws_request_id = _RequestId.current
        return True


class _TextFormatter(logging.Formatter):
    converter = time.gmtime  # type: ignore[assignment]

    def format(self, record: logging.LogRecord) -> str:
        return super().format(record).replace("\n", "\r")


class _JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        document: dict[str, Any] = {
            "timestamp": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(record.created)),
            "level": record.levelname,
            "message": record.getMessage(),
            "logger": record.name,
            "requestId": getattr(record, "aws_request_id", ""),
        }
        if record.exc_info and record.exc_info[1] is not None:
            error = record.exc_info[1]
            document["errorType"] = type(error).__name__
            document["errorMessage"] = str(error)
            document["stackTrace"] = traceback.format_tb(error.__traceback__)
        return json.dumps(document, default=str)


def setup_logging() -> None:
    handler = logging.StreamHandler(sys.stdout)
    if os.environ.get("AWS_LAMBDA_LOG_FORMAT", "Text").upper() == "JSON":
        handler.setFormatter(_JsonFormatter())
    else:
        handler.setFormatter(
            _TextFormatter(
                "[%(levelname)s]\t%(asctime)s.%(msecs)03dZ\t%(aws_request_id)s\t%(message)s",
                "%Y-%m-%dT%H:%M:%S",
            )
        )
    handler.addFilter(_RequestId())
    root = logging.getLogger()
    root.addHandler(handler)
    level = os.environ.get("AWS_LAMBDA_LOG_LEVEL")
    if level:
        root.setLevel(level.upper())


# --- the loop ----------------------------------------------------------------------------------


def main(argv: list[str]) -> None:
    task_root = os.environ.get("LAMBDA_TASK_ROOT") or os.getcwd()
    options = [(argv[i], argv[i + 1]) for i in range(0, len(argv) - 1, 2)]
    extra = [value for option, value in options if option == "--path"]
    fds = [int(value) for option, value in options if option == "--runtime-api-fd"]
    sys.path[:1] = [task_root, *extra]  # the first entry was this file's own directory
    setup_logging()
    api = RuntimeApi(os.environ["AWS_LAMBDA_RUNTIME_API"], fds[0] if fds else None)
    try:
        handler = load_handler(os.environ.get("_HANDLER", ""))
    except Exception as exc:  # the user's module raised while it was imported
        document = error_document(exc, "")
        sys.stdout.write(_WARNING + "\n")
        log_error(document)
        api.send(post(b"init/error", json.dumps(document).encode(), document["errorType"]))
        api.read()
        sys.exit(1)
    ensure_ascii = sys.version_info < (3, 12)  # 3.12 on writes non-ASCII characters as they are
    environ = os.environ
    api.send(_NEXT)
    while True:
        _status, headers, body = api.read()
        if _status != 200:  # a Runtime API that answers 202 to the previous post
            continue
        request_id = headers.get("lambda-runtime-aws-request-id", "")
        _RequestId.current = request_id
        trace = headers.get("lambda-runtime-trace-id")
        if trace:
            environ["_X_AMZN_TRACE_ID"] = trace
        elif "_X_AMZN_TRACE_ID" in environ:
            del environ["_X_AMZN_TRACE_ID"]
        path = b"invocation/" + request_id.encode() + b"/"
        try:
            try:
                event = json.loads(body) if body else None
            except ValueError as exc:
                raise FaultException(
                    "Runtime.UnmarshalError", f"Unable to unmarshal input: {exc}"
                ) from None
            result = handler(event, LambdaContext(headers))
            payload = (
                result if isinstance(result, (bytes, bytearray)) else to_json(result, ensure_ascii)
            )
            api.send(post(path + b"response", bytes(payload), then_next=True))
        except Exception as exc:
            document = error_document(exc, request_id)
            log_error(document)
            answer = json.dumps(document).encode()
            api.send(post(path + b"error", answer, document["errorType"], then_next=True))


if __name__ == "__main__":
    try:
        main(sys.argv[1:])
    except (ConnectionError, KeyboardInterrupt):  # the environment is going away
        sys.exit(1)
