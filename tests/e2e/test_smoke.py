from __future__ import annotations

from typing import Any

import httpx


def test_health_reports_version_and_backend(url: str) -> None:
    answer = httpx.get(f"{url}/_propylon/health")
    assert answer.status_code == 200
    assert answer.json()["store"] == "memory"
    assert answer.json()["version"]


def test_reset_wipes_every_api(client: Any, url: str) -> None:
    client.create_api(Name="a", ProtocolType="HTTP")
    assert httpx.post(f"{url}/_propylon/reset").status_code == 200
    assert client.get_apis()["Items"] == []
