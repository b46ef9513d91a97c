"""AWS_IAM routes (reference §8.3): the request must be SigV4-signed with a known access key.

The signature is checked by :mod:`propylon.sigv4` (service ``execute-api``, the region of the
credential scope) against the keys of ``--credentials``. Every refusal (unsigned, unknown key,
bad signature, stale date) answers ``403 {"message":"Forbidden"}`` (reference §6); why is
logged and kept in ``$context.error`` detail, never told to the caller. Propylon has no IAM
policies: a caller with a known key may invoke every AWS_IAM route.

The client signed the path it sent. For the host form (``{apiId}.execute-api.*``) that is the
event's ``rawPath``; for the path form it is ``/_aws/execute-api/{apiId}`` followed by it. Both
name the same API, stage and route, so either verifies.

On success ``inv.authorizer`` is ``{"iam": {...}}`` as the 2.0 event carries it (reference §3.6);
the 1.0 event's ``requestContext.identity`` is filled from the same fields by the payload builder.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import logging
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from propylon.credentials import Credential
from propylon.errors import GatewayForbidden
from propylon.execute.addressing import PATH_PREFIX
from propylon.execute.authorizers import Route
from propylon.execute.context import Invocation
from propylon.sigv4 import SignatureError, SignedRequest, Verified, verify

if TYPE_CHECKING:
    from propylon.execute.chain import Gateway

log = logging.getLogger("propylon.execute.iam")

SERVICE = "execute-api"
_LARGE_BODY = 256 * 1024


def _utc_now() -> datetime:
    return datetime.now(UTC)


class IamVerifier:
    """Verifies SigV4 signatures on AWS_IAM routes against the configured credentials."""

    def __init__(
        self,
        credentials: Mapping[str, Credential] | None = None,
        clock: Callable[[], datetime] = _utc_now,
    ) -> None:
        self.credentials: Mapping[str, Credential] = credentials or {}
        """access key id → its secret, account and user."""
        self.clock = clock

    async def authorize(self, gateway: Gateway, inv: Invocation, route: Route) -> None:
        if len(inv.body) > _LARGE_BODY:  # hashing megabytes would hold up the event loop
            verified = await asyncio.to_thread(self.verify, inv)
        else:
            verified = self.verify(inv)
        inv.authorizer = {"iam": identity(verified)}

    def verify(self, inv: Invocation) -> Verified:
        """The caller of ``inv``, or :class:`GatewayForbidden`."""
        error: SignatureError | None = None
        for path in signed_paths(inv):
            request = SignedRequest(
                inv.http_method, path, inv.raw_query_string, inv.headers, inv.body
            )
            try:
                return verify(request, self.credentials, SERVICE, self.clock())
            except SignatureError as exc:
                error = error or exc
        assert error is not None
        log.info("AWS_IAM route %s refused: %s: %s", inv.route_key, error.code, error.message)
        raise GatewayForbidden(f"{error.code}: {error.message.splitlines()[0]}")


def signed_paths(inv: Invocation) -> list[str]:
    """The paths the client may have signed: the host form's, then the path form's."""
    prefixed = PATH_PREFIX + inv.api_id + inv.raw_path
    paths = [inv.raw_path, prefixed]
    if inv.raw_path == "/":
        paths.append(prefixed.removesuffix("/"))
    return paths


def user_id(access_key: str) -> str:
    """A stable id for the key's user, shaped like an IAM user's unique id (``AIDA`` and 17
    characters): Propylon knows no real one."""
    digest = base64.b32encode(hashlib.sha256(access_key.encode()).digest()).decode()
    return "AIDA" + digest[:17]


def identity(verified: Verified) -> dict[str, Any]:
    """The 2.0 event's ``requestContext.authorizer.iam`` for an IAM user's key."""
    credential = verified.credential
    unique_id = user_id(verified.access_key)
    return {
        "accessKey": verified.access_key,
        "accountId": credential.account_id,
        "callerId": unique_id,
        "cognitoIdentity": None,
        "principalOrgId": None,
        "userArn": f"arn:aws:iam::{credential.account_id}:user/{credential.user}",
        "userId": unique_id,
    }
