"""Small helpers shared by the end-to-end tests."""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError


def status(response: dict[str, Any]) -> int:
    """The HTTP status boto3 saw for a successful call."""
    return int(response["ResponseMetadata"]["HTTPStatusCode"])


def body(response: dict[str, Any]) -> dict[str, Any]:
    """A boto3 answer without its ResponseMetadata."""
    return {k: v for k, v in response.items() if k != "ResponseMetadata"}


def error(caught: pytest.ExceptionInfo[ClientError]) -> tuple[str, str, int]:
    """The error code, message and HTTP status of a refused call."""
    response: Any = caught.value.response
    return (
        response["Error"]["Code"],
        response["Error"]["Message"],
        response["ResponseMetadata"]["HTTPStatusCode"],
    )


def write_file(directory: Path, name: str, source: str, mode: int | None = None) -> Path:
    """Write ``source`` (dedented) to ``directory/name``, making directories; chmod ``mode``."""
    path = directory / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(source).lstrip(), encoding="utf-8")
    if mode is not None:
        path.chmod(mode)
    return path
