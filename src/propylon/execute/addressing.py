"""Which API and stage a request is for (reference §1.1).

An API is addressed by host, ``{apiId}.execute-api.<anything>`` (``http://a1b2c3d4e5.execute-api
.localhost:4580/prod/pets``), or by path, ``/_aws/execute-api/{apiId}/...`` for clients that
cannot set the Host header. Either way the path the API sees is what follows: the same path AWS
would see at its own endpoint, which the Lambda events carry as ``rawPath``.

Stage selection, as AWS documents it: if the first path segment names one of the API's stages,
that stage serves the request and the segment is removed before route matching; otherwise the
``$default`` stage serves it with the whole path; otherwise the answer is 404. ``$default``
itself is never addressed as ``/$default/...``. Stage names compare case-sensitively.
"""

from __future__ import annotations

import re
from collections.abc import Container
from dataclasses import dataclass
from urllib.parse import unquote

PATH_PREFIX = "/_aws/execute-api/"
DEFAULT_STAGE = "$default"
_API_ID = r"[a-z0-9]{10}"
_HOST = re.compile(rf"({_API_ID})\.execute-api\.[^:]+(:\d+)?")
_ID_START = len(PATH_PREFIX)
_ID_END = _ID_START + 10


def _is_api_id(text: str) -> bool:
    """``[a-z0-9]{10}``, tested without a regular expression (this runs per request)."""
    return (
        len(text) == 10 and text.isascii() and text.isalnum() and (text.islower() or text.isdigit())
    )


@dataclass(slots=True)  # not frozen: built per request, frozen costs 3x
class Address:
    """The API a request names, and the path after the API's address (still encoded)."""

    api_id: str
    path: str
    by_host: bool


@dataclass(slots=True)  # not frozen: built per request, frozen costs 3x
class StageSelection:
    stage: str
    route_path: str
    """The path routes are matched against: without the stage segment, still encoded."""


def locate(host: str, raw_path: str) -> Address | None:
    """The API addressed by the Host header or the path-style prefix, or None."""
    if raw_path.startswith(PATH_PREFIX):
        api_id, rest = raw_path[_ID_START:_ID_END], raw_path[_ID_END:]
        if _is_api_id(api_id) and (not rest or rest[0] == "/") and "\n" not in rest:
            return Address(api_id, rest or "/", False)
    by_host = _HOST.fullmatch(host.lower())
    if by_host:
        return Address(by_host[1], raw_path or "/", True)
    return None


def is_execute_api(host: str, raw_path: str) -> bool:
    """Whether a request is for the execute-api door rather than the control plane."""
    return raw_path.startswith(PATH_PREFIX) or ".execute-api." in host


def select_stage(path: str, stages: Container[str]) -> StageSelection | None:
    """The stage serving ``path`` among ``stages`` (names), or None when none does."""
    first, slash, rest = path.lstrip("/").partition("/")
    name = unquote(first) if "%" in first else first
    if first and name != DEFAULT_STAGE and name in stages:
        return StageSelection(name, "/" + rest if slash else "/")
    if DEFAULT_STAGE in stages:
        return StageSelection(DEFAULT_STAGE, path)
    return None
