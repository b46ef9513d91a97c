"""A backend's answer: its headers as text for mappings, or passed on as they came."""

from __future__ import annotations

from propylon.execute.upstream_reply import UpstreamReply


def test_an_answer_passed_on_keeps_its_headers_as_they_came_but_hop_by_hop_and_framing() -> None:
    raw = [
        (b"Server", b"nginx"),
        (b"Date", b"Thu, 03 Dec 2026 08:00:00 GMT"),
        (b"Set-Cookie", b"a=1"),
        (b"Content-Length", b"5"),
        (b"Keep-Alive", b"timeout=5"),
        (b"Connection", b"keep-alive"),
        (b"set-cookie", b"b=2"),
    ]
    reply = UpstreamReply(200, raw, b"hello")
    assert reply.wire_headers() == [
        (b"server", b"nginx"),
        (b"set-cookie", b"a=1"),
        (b"set-cookie", b"b=2"),
    ]
    assert reply.headers == [  # what a mapping or CORS reads: the backend's framing included
        ("server", "nginx"),
        ("date", "Thu, 03 Dec 2026 08:00:00 GMT"),
        ("set-cookie", "a=1"),
        ("content-length", "5"),
        ("set-cookie", "b=2"),
    ]


def test_headers_the_backends_connection_header_names_are_not_passed_on() -> None:
    raw = [(b"X-Private", b"1"), (b"Connection", b"keep-alive, X-Private"), (b"X-Kept", b"2")]
    reply = UpstreamReply(200, raw, b"")
    assert reply.wire_headers() == [(b"x-kept", b"2")]
    assert reply.headers == [("x-kept", "2")]
