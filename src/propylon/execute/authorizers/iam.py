"""AWS_IAM routes (reference §8.3): the request must be SigV4-signed with a known access key."""

from __future__ import annotations

from typing import TYPE_CHECKING

from propylon.errors import GatewayForbidden
from propylon.execute.authorizers import Route
from propylon.execute.context import Invocation

if TYPE_CHECKING:
    from propylon.execute.chain import Gateway


class IamVerifier:
    """Verifies SigV4 signatures on AWS_IAM routes against the configured credentials."""

    def __init__(self, credentials: dict[str, tuple[str, str]] | None = None) -> None:
        self.credentials = credentials or {}
        """access key id → (secret access key, account id)."""

    async def authorize(self, gateway: Gateway, inv: Invocation, route: Route) -> None:
        raise GatewayForbidden("SigV4 verification is not configured")
