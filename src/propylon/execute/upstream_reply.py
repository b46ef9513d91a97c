"""A backend's answer as the HTTP_PROXY integration hands it on: :class:`UpstreamReply`.

Its headers are kept as the backend sent them (``raw``) and turned into what the gateway needs
when first asked: ``headers``, decoded text without hop-by-hop headers (those a ``Connection``
header names included), for response parameter mappings, CORS and WebSocket integrations; or
``wire_headers()``, the same as bytes and without the backend's framing (``Content-Length``,
``Date``: the gateway frames and dates what it sends), for an answer passed on as it came. A
backend sends the same few header names in every answer, so each name is decoded and judged
once (``_reply_names``).
"""

from __future__ import annotations

from collections.abc import AsyncGenerator
from contextlib import aclosing
from typing import NamedTuple

from propylon.execute.forwarding import HOP_BY_HOP, connection_named

RawHeaders = list[tuple[bytes, bytes]]


class UpstreamReply:
    """The backend's answer: its status, its headers as received (``raw``) and its body.

    ``headers`` are the ones a client is sent, decoded (names lower-case, repeats kept, no
    hop-by-hop ones); ``wire_headers()`` the same as bytes without the framing the gateway sets
    itself, for an answer passed on as it came. Each is built when first asked for: most
    answers need only one of them."""

    __slots__ = ("_headers", "body", "raw", "rest", "status")

    def __init__(
        self,
        status: int,
        raw: RawHeaders,
        body: bytes,
        rest: AsyncGenerator[bytes, None] | None = None,
    ) -> None:
        self.status = status
        self.raw = raw
        self.body = body
        """The body, or its beginning when ``rest`` is not None."""
        self.rest = rest
        """The rest of the body as the backend sends it (to be read to the end or closed);
        None when ``body`` is all of it."""
        self._headers: list[tuple[str, str]] | None = None

    @property
    def headers(self) -> list[tuple[str, str]]:
        if self._headers is None:
            self._headers = _reply_headers(self.raw)
        return self._headers

    def wire_headers(self) -> RawHeaders:
        """The headers to send on, names lower-case, without hop-by-hop ones and without the
        backend's ``Content-Length`` and ``Date`` (the gateway frames and dates its answer)."""
        kept: RawHeaders = []
        names = _reply_names
        for raw_name, raw_value in self.raw:
            known = names.get(raw_name) or _learn_reply_name(raw_name)
            if known.sent:
                kept.append((known.wire, raw_value))
            elif known.name == "connection" and raw_value.lower() not in _PLAIN_CONNECTION:
                return _encoded(self.headers)  # it names more headers, to be left out too
        return kept

    async def whole(self) -> UpstreamReply:
        """This reply with its body read to the end."""
        if self.rest is None:
            return self
        async with aclosing(self.rest) as rest:
            chunks = [self.body, *[chunk async for chunk in rest]]
        return UpstreamReply(self.status, self.raw, b"".join(chunks))


def _reply_headers(raw: RawHeaders) -> list[tuple[str, str]]:
    """The backend's headers, names lower-case, without hop-by-hop ones (those a
    ``Connection`` header names included)."""
    kept: list[tuple[str, str]] = []
    connection: list[tuple[str, str]] = []
    names = _reply_names
    for raw_name, raw_value in raw:
        known = names.get(raw_name) or _learn_reply_name(raw_name)
        name = known.name
        if known.hop_by_hop:
            if name == "connection":
                connection.append((name, raw_value.decode("latin-1")))
            continue
        kept.append((name, raw_value.decode("latin-1")))
    if connection:
        named = connection_named(connection) - HOP_BY_HOP
        if named:
            kept = [(name, value) for name, value in kept if name not in named]
    return kept


def _encoded(headers: list[tuple[str, str]]) -> RawHeaders:
    return [
        (name.encode("latin-1"), value.encode("latin-1"))
        for name, value in headers
        if name not in _FRAMING
    ]


class _Name(NamedTuple):
    """What a backend's header name is: lower-case as text and as bytes, and how it is sent."""

    name: str
    wire: bytes
    hop_by_hop: bool
    sent: bool
    """Whether the gateway passes it on as it is (neither hop-by-hop nor framing)."""


_FRAMING = frozenset({"content-length", "date"})
_PLAIN_CONNECTION = frozenset({b"keep-alive", b"close"})
"""``Connection`` values that name no header (the usual ones)."""
"""The backend headers an answer passed on as it came does not keep: the gateway sets them."""
_REPLY_NAMES_KEPT = 1024
_reply_names: dict[bytes, _Name] = {}
"""A backend's header names as sent → what they are: backends send the same few names in
every answer, so each is decoded and judged once."""


def _learn_reply_name(raw: bytes) -> _Name:
    name = raw.decode("latin-1").lower()
    hop_by_hop = name in HOP_BY_HOP or name.startswith("proxy-")
    known = _Name(name, raw.lower(), hop_by_hop, not hop_by_hop and name not in _FRAMING)
    if len(_reply_names) >= _REPLY_NAMES_KEPT:
        _reply_names.clear()
    _reply_names[raw] = known
    return known
