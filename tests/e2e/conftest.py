from __future__ import annotations

from typing import Any

import pytest


@pytest.fixture
def api_id(client: Any) -> str:
    """A new, empty HTTP API."""
    return str(client.create_api(Name="pets", ProtocolType="HTTP")["ApiId"])


@pytest.fixture
def ws_id(client: Any) -> str:
    """A new, empty WebSocket API selecting routes on the body's ``action``."""
    api = client.create_api(
        Name="chat", ProtocolType="WEBSOCKET", RouteSelectionExpression="$request.body.action"
    )
    return str(api["ApiId"])
