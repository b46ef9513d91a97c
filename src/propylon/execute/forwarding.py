"""What a request looks like to an HTTP backend (reference 4.2, 4.3): the URL it is sent to,
the client's headers as forwarded (hop-by-hop ones removed, ``X-Forwarded-For`` extended) and
the RFC 7239 ``Forwarded`` values.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable
from urllib.parse import quote, urlsplit, urlunsplit

from propylon.execute.context import Invocation
from propylon.execute.mapping import MappedRequest

HOP_BY_HOP = frozenset(
    {"connection", "keep-alive", "te", "trailer", "trailers", "transfer-encoding", "upgrade"}
)
"""Hop-by-hop header names (lower-case); every ``proxy-*`` header is one too."""

_NOT_FORWARDED = frozenset(
    {"host", "content-length", "expect", "x-forwarded-proto", "x-forwarded-port", "forwarded"}
)
_DROPPED = HOP_BY_HOP | _NOT_FORWARDED
_PLACEHOLDER = re.compile(r"\{([^{}]+)\}")
_GREEDY = re.compile(r"\{([^{}]+)\+\}")
_SEGMENT_SAFE = "!$&'()*+,;=:@"  # RFC 3986 pchar, besides unreserved
_TOKEN = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+")


def backend_url(inv: Invocation, uri: str, mapped: MappedRequest | None = None) -> str:
    """The URL a request is sent to: placeholders filled, path and query added (reference 4.2),
    or the path and query the parameter mapping gave (reference 5.1)."""
    url, _, query = (_filled(inv, uri) if "{" in uri else uri).partition("?")
    if mapped is not None and mapped.path is not None:
        url = urlunsplit(urlsplit(url)._replace(path=mapped.path))
    elif inv.route_key == "$default" and inv.route_path not in ("", "/"):
        url = _with_path(url, inv.route_path)
    raw_query = mapped.raw_query_string if mapped is not None else inv.raw_query_string
    if raw_query:
        query = f"{query}&{raw_query}" if query else raw_query
    return f"{url}?{query}" if query else url


def _filled(inv: Invocation, uri: str) -> str:
    """``uri`` with its ``{name}`` placeholders replaced by the route's path parameters,
    percent-encoded again (a greedy parameter keeps its slashes)."""
    greedy = set(_GREEDY.findall(inv.route_key))

    def fill(match: re.Match[str]) -> str:
        name = match.group(1)
        value = inv.path_parameters.get(name)
        if value is None:
            return match.group(0)
        return quote(value, safe=_SEGMENT_SAFE + ("/" if name in greedy else ""))

    return _PLACEHOLDER.sub(fill, uri)


def _with_path(url: str, path: str) -> str:
    """``url`` (no query) with ``path`` appended to its own path."""
    authority = url.find("://") + 3
    if authority > 2 and "#" not in url:  # the usual case, without parsing the whole URL
        start = url.find("/", authority)
        if start < 0:
            return url + path
        return url[:start] + url[start:].rstrip("/") + path
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=parts.path.rstrip("/") + path))


def forwarded_headers(
    inv: Invocation, added: Iterable[tuple[str, str]], mapped: MappedRequest | None = None
) -> list[tuple[str, str]]:
    """The client's headers (as mapped) as the backend receives them, ``added`` appended
    (reference 4.3): without hop-by-hop ones, nor those the ``Connection`` header names."""
    source = mapped.headers if mapped is not None else inv.headers
    headers: list[tuple[str, str]] = []
    prior: list[str] = []  # X-Forwarded-For values the client sent
    connection: list[tuple[str, str]] = []
    for name, value in source:
        low = name.lower()
        if low in _DROPPED or low[:6] == "proxy-":
            if low == "connection":
                connection.append((low, value))
        elif low == "x-forwarded-for":
            prior.append(value)
        else:
            headers.append((name, value))
    if connection:  # what it names is hop-by-hop too (rarely more than keep-alive or close)
        named = connection_named(connection) - _DROPPED
        if named:
            headers = [(name, value) for name, value in headers if name.lower() not in named]
            if "x-forwarded-for" in named:
                prior.clear()
    prior.append(inv.source_ip)
    headers.append(("x-forwarded-for", ", ".join(prior)))
    headers.extend(added)
    return headers


def connection_named(headers: list[tuple[str, str]]) -> set[str]:
    """The header names a ``Connection`` header lists (lower-case): hop-by-hop too."""
    return {
        token.strip().lower()
        for name, value in headers
        if name.lower() == "connection"
        for token in value.split(",")
    }


def forwarded_value(value: str) -> str:
    """An RFC 7239 value: a token as is, anything else quoted (IPv6 in brackets)."""
    try:
        if ipaddress.ip_address(value).version == 6:
            value = f"[{value}]"
    except ValueError:
        pass  # a host name, or host:port
    if _TOKEN.fullmatch(value):
        return value
    escaped = value.replace("\\", "\\\\").replace('"', '\\"')
    return f'"{escaped}"'
