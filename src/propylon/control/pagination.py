"""``MaxResults``/``NextToken`` for every list operation, in one place.

The token is opaque to clients: the base64 of the offset of the next page. Without
``MaxResults`` every item is returned on one page.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Sequence
from typing import Any

from propylon.control.context import Output, Params
from propylon.errors import BadRequestException

_PREFIX = "propylon:"


def _encode(offset: int) -> str:
    return base64.urlsafe_b64encode(f"{_PREFIX}{offset}".encode()).decode()


def _decode(token: str) -> int:
    try:
        text = base64.urlsafe_b64decode(token.encode()).decode()
        if text.startswith(_PREFIX):
            offset = int(text[len(_PREFIX) :])
            if offset >= 0:
                return offset
    except (binascii.Error, UnicodeError, ValueError):
        pass
    raise BadRequestException("Invalid pagination token specified")


def _limit(value: Any) -> int | None:
    if value is None:
        return None
    try:
        limit = int(value)
    except (TypeError, ValueError):
        raise BadRequestException(f"Invalid MaxResults: {value} is not a number") from None
    if limit < 1:
        raise BadRequestException("MaxResults must be greater than or equal to 1")
    return limit


def paginate(items: Sequence[Any], params: Params, field: str = "Items") -> Output:
    """One page of ``items`` under ``field``, with ``NextToken`` when more remain."""
    start = _decode(params["NextToken"]) if params.get("NextToken") else 0
    limit = _limit(params.get("MaxResults"))
    end = len(items) if limit is None else start + limit
    page: Output = {field: list(items[start:end])}
    if end < len(items):
        page["NextToken"] = _encode(end)
    return page
