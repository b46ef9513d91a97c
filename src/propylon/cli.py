"""The ``propylon`` command: ``propylon serve`` and ``propylon version``."""

from __future__ import annotations

import argparse
import gc
import logging
import os
import socket
import sys
from dataclasses import replace
from pathlib import Path

from propylon import __version__
from propylon.credentials import CredentialsError
from propylon.functions.errors import FunctionConfigError
from propylon.settings import Settings, SettingsError, load_settings
from propylon.store import StoreError


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="propylon", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    serve = commands.add_parser("serve", help="serve the control plane and the APIs")
    serve.add_argument("--host", help="address to listen on (default 127.0.0.1)")
    serve.add_argument("--port", help="port to listen on (default 4580; 0 picks one)")
    serve.add_argument("--state-dir", help="where state is kept (default ./.propylon)")
    serve.add_argument(
        "--in-memory",
        action=argparse.BooleanOptionalAction,
        help="keep state in memory only (--no-in-memory: in the state directory)",
    )
    serve.add_argument("--region", help="default region (default us-east-1)")
    serve.add_argument("--account-id", help="account id (default 000000000000)")
    serve.add_argument("--log-level", help="critical, error, warning, info (default), debug")
    serve.add_argument("--config", type=Path, help="configuration file (default propylon.toml)")
    serve.add_argument(
        "--function",
        action="append",
        metavar="NAME=FILE:FUNC",
        help="a local Lambda function (FILE.py: Python; .js, .mjs, .cjs: Node.js), reachable "
        "by any ARN naming NAME (repeatable)",
    )
    serve.add_argument("--ca-bundle", help="extra CA certificates (PEM) for HTTPS integrations")
    serve.add_argument("--log-dir", help="where access and execution logs go (default STATE/logs)")
    serve.add_argument(
        "--credentials",
        help="a file of access keys, for AWS_IAM routes and --verify-signatures",
    )
    serve.add_argument(
        "--verify-signatures",
        action=argparse.BooleanOptionalAction,
        help="refuse control-plane requests that are not SigV4-signed with a known key",
    )
    serve.add_argument("--throttle-rate", help="account-level requests per second (10000)")
    serve.add_argument("--throttle-burst", help="account-level burst (5000)")
    serve.add_argument(
        "--reload",
        action=argparse.BooleanOptionalAction,
        help="restart a function's workers when its code changes (default on)",
    )
    serve.add_argument(
        "--debug-function", metavar="NAME", help="start this function under a debugger"
    )
    serve.add_argument(
        "--debug-port", metavar="PORT", help="where the debugger listens (127.0.0.1:PORT)"
    )
    commands.add_parser("version", help="print the version")
    return parser


class StartupError(Exception):
    """Propylon cannot start; the message says why in one line."""


def _bind(settings: Settings) -> socket.socket:
    family = socket.AF_INET6 if ":" in settings.host else socket.AF_INET
    try:
        sock = socket.socket(family, socket.SOCK_STREAM)
    except OSError as exc:
        raise StartupError(f"cannot listen on {settings.host}: {exc.strerror or exc}") from None
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((settings.host, settings.port))
    except OSError as exc:
        sock.close()
        reason = exc.strerror or str(exc)
        raise StartupError(f"cannot listen on {settings.host}:{settings.port}: {reason}") from None
    sock.set_inheritable(True)
    return sock


def serve(settings: Settings) -> None:
    # Start-up makes some 10^5 objects that live as long as the process (modules, the service
    # model, the stored records, the compiled stages) and next to no garbage, so the cyclic
    # collector would only rescan them, again and again: 0.1 to 0.2 s of a start with 1,000
    # APIs. It stays off until they are frozen out of its reach (docs/performance.md).
    gc.disable()
    import uvicorn

    from propylon.app import create_app
    from propylon.server import uvicorn_config

    sock = _bind(settings)
    settings = replace(settings, port=sock.getsockname()[1])
    logging.basicConfig(
        level=settings.log_level.upper().replace("TRACE", "DEBUG"),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    try:
        app = create_app(settings)
    except (StoreError, CredentialsError) as exc:
        sock.close()
        raise StartupError(str(exc)) from None
    except FunctionConfigError:
        sock.close()
        raise
    gc.freeze()
    gc.enable()
    uvicorn.Server(uvicorn_config(app, settings.log_level)).run(sockets=[sock])


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.command == "version":
        print(__version__)
        return 0
    flags = {
        "host": args.host,
        "port": args.port,
        "state_dir": args.state_dir,
        "in_memory": args.in_memory,
        "region": args.region,
        "account_id": args.account_id,
        "log_level": args.log_level,
        "functions": args.function,
        "ca_bundle": args.ca_bundle,
        "log_dir": args.log_dir,
        "credentials": args.credentials,
        "verify_signatures": args.verify_signatures,
        "throttle_rate": args.throttle_rate,
        "throttle_burst": args.throttle_burst,
        "reload": args.reload,
        "debug_function": args.debug_function,
        "debug_port": args.debug_port,
    }
    try:
        settings = load_settings(flags, os.environ, args.config)
    except SettingsError as exc:
        print(f"propylon: {exc}", file=sys.stderr)
        return 2
    try:
        serve(settings)
    except FunctionConfigError as exc:
        print(f"propylon: {exc}", file=sys.stderr)
        return 2
    except StartupError as exc:
        print(f"propylon: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
