"""A request context for unit tests of the data plane's steps."""

from __future__ import annotations

from typing import Any

from propylon.execute.context import Invocation


def invocation(**overrides: Any) -> Invocation:
    """``GET /prod/pets/6`` on the ``prod`` stage, matched by ``GET /pets/{petId}``, changed by
    ``overrides``."""
    fields: dict[str, Any] = {
        "http_method": "GET",
        "raw_path": "/prod/pets/6",
        "path": "/prod/pets/6",
        "route_path": "/pets/6",
        "raw_query_string": "",
        "query": [],
        "headers": [("host", "a1b2c3d4e5.example.com"), ("user-agent", "curl/8.0")],
        "body": b"",
        "source_ip": "203.0.113.7",
        "protocol": "HTTP/1.1",
        "domain_name": "a1b2c3d4e5.example.com",
        "api_id": "a1b2c3d4e5",
        "account_id": "123456789012",
        "stage": "prod",
        "request_id": "Mc7UVioPPHcEKPA=",
        "request_time": "12/Mar/2020:19:03:58 +0000",
        "request_time_epoch": 1583348638390,
        "route_key": "GET /pets/{petId}",
    }
    fields.update(overrides)
    fields.setdefault("domain_prefix", fields["domain_name"].split(".", 1)[0])
    return Invocation(**fields)
