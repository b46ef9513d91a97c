"""Which HTTP client should the HTTP_PROXY integration use: aiohttp, httpx or Propylon's own?

    python bench/upstream_clients.py [--requests 3000] [--concurrency 32] [--rounds 3] [--asyncio]

Starts a tiny keep-alive HTTP/1.1 upstream (raw asyncio, fixed 2-byte answer) on 127.0.0.1 with
an ephemeral port, then times, for each client with one pooled session: N sequential GETs and N
GETs issued at the given concurrency. "propylon" is ``propylon.execute.upstream.Pool``, the
small httptools-based client the gateway now uses. Runs on uvloop when it is installed, as the
data plane does (``--asyncio`` forces the default loop). Loopback only; every run is bounded by
--requests and --rounds. Prints the best round of each measurement in requests per second.
"""

from __future__ import annotations

import argparse
import asyncio
import ssl
import time
from collections.abc import Awaitable, Callable

import aiohttp
import httpx

from propylon.execute.upstream import Pool

RESPONSE = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Type: text/plain\r\n\r\nok"

Fetch = Callable[[str], Awaitable[bytes]]


class _Upstream(asyncio.Protocol):
    """Answers every request (GETs without bodies) on a keep-alive connection."""

    def __init__(self) -> None:
        self.buffer = b""
        self.transport: asyncio.WriteTransport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]  # a TCP transport can write

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        while (end := self.buffer.find(b"\r\n\r\n")) >= 0:
            self.buffer = self.buffer[end + 4 :]
            assert self.transport is not None
            self.transport.write(RESPONSE)


async def _time(fetch: Fetch, url: str, total: int, concurrency: int) -> float:
    """Requests per second for ``total`` requests, ``concurrency`` at a time."""
    remaining = iter(range(total))

    async def worker() -> None:
        for _ in remaining:
            await fetch(url)

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return total / (time.perf_counter() - started)


async def _measure(name: str, fetch: Fetch, url: str, args: argparse.Namespace) -> dict[str, float]:
    await _time(fetch, url, 200, args.concurrency)  # warm the pool
    results: dict[str, float] = {}
    for label, concurrency in (
        ("sequential", 1),
        (f"concurrency {args.concurrency}", args.concurrency),
    ):
        rates = [await _time(fetch, url, args.requests, concurrency) for _ in range(args.rounds)]
        results[label] = max(rates)
        print(
            f"{name:8} {label:16} {max(rates):9.0f} req/s  (rounds: "
            + ", ".join(f"{rate:.0f}" for rate in rates)
            + ")"
        )
    return results


async def main(args: argparse.Namespace) -> None:
    loop = asyncio.get_running_loop()
    server = await loop.create_server(_Upstream, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    url = f"http://127.0.0.1:{port}/bench?x=1"
    try:
        connector = aiohttp.TCPConnector(limit=100)
        async with aiohttp.ClientSession(connector=connector) as session:

            async def aiohttp_fetch(target: str) -> bytes:
                async with session.get(target) as response:
                    return await response.read()

            await _measure("aiohttp", aiohttp_fetch, url, args)

        limits = httpx.Limits(max_connections=100, max_keepalive_connections=100)
        async with httpx.AsyncClient(limits=limits) as client:

            async def httpx_fetch(target: str) -> bytes:
                return (await client.get(target)).content

            await _measure("httpx", httpx_fetch, url, args)

        pool = Pool(ssl.create_default_context, limit=100)
        try:

            async def propylon_fetch(target: str) -> bytes:
                response = await pool.request("GET", target, ())
                body = await response.read()
                response.release()
                return body

            await _measure("propylon", propylon_fetch, url, args)
        finally:
            await pool.aclose()
    finally:
        server.close()
        await server.wait_closed()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--requests", type=int, default=3000)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--asyncio", action="store_true", help="do not use uvloop")
    arguments = parser.parse_args()
    try:
        import uvloop
    except ImportError:
        uvloop = None  # type: ignore[assignment]
    if uvloop is None or arguments.asyncio:
        print("event loop: asyncio")
        asyncio.run(main(arguments))
    else:
        print("event loop: uvloop")
        uvloop.run(main(arguments))
