"""Small helpers shared by the end-to-end tests."""

from __future__ import annotations

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
