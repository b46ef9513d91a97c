"""Running a worker pool in a test: a function written into a directory, its pool, its log."""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from propylon.execute.logs import LogWriter
from propylon.functions.pool import WorkerPool
from propylon.functions.registry import WorkerKind
from propylon.functions.spec import FunctionSpec

ARN = "arn:aws:lambda:us-east-1:000000000000:function:fn"
HOST = {"PATH": os.environ.get("PATH", ""), "HOME": "/nonexistent", "PROPYLON_SECRET": "x"}
T = TypeVar("T")


@dataclass
class Harness:
    pool: WorkerPool
    writer: LogWriter
    log_dir: Path

    def log(self, name: str = "fn") -> str:
        """What the function's log group holds so far."""
        self.writer.flush()
        path = self.log_dir / "aws" / "lambda" / f"{name}.log"
        if not path.exists():
            return ""
        with path.open(encoding="utf-8", newline="") as handle:  # a \r stays a \r
            return handle.read()


def run_pool(
    tmp_path: Path,
    spec: FunctionSpec,
    scenario: Callable[[Harness], Awaitable[T]],
    **options: Any,
) -> T:
    """Build ``spec``'s pool, run ``scenario`` with it on a fresh loop, close everything."""
    log_dir = tmp_path / "logs"
    writer = LogWriter(log_dir)
    kind = WorkerKind(writer, region="eu-west-1", host_environ=HOST, **options)
    kind.check_specs([spec])

    async def main() -> T:
        harness = Harness(kind(spec, ARN), writer, log_dir)
        try:
            return await scenario(harness)
        finally:
            await harness.pool.aclose()

    try:
        return asyncio.run(main())
    finally:
        writer.close()


async def eventually(check: Callable[[], bool], within: float = 10.0) -> None:
    """Poll ``check`` on the loop until it holds; AssertionError after ``within`` seconds."""
    deadline = time.monotonic() + within
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError("the condition did not come true in time")
        await asyncio.sleep(0.01)
