"""``--verify-signatures``: the control plane accepts only requests SigV4-signed with a known key.

Verification is :mod:`propylon.sigv4` with service ``apigateway`` (any region). A refused
request is answered as the service answers it, so boto3 and the AWS CLI raise the usual
errors: status 403, ``x-amzn-ErrorType`` and ``{"message": ...}`` with AWS's code and text:

=====================================  ==========================================================
unsigned                               ``MissingAuthenticationTokenException`` "Missing
                                       Authentication Token"
malformed ``Authorization``            ``IncompleteSignatureException``
unknown access key                     ``UnrecognizedClientException`` "The security token
                                       included in the request is invalid."
wrong signature, date out of range     ``InvalidSignatureException`` ("The request signature we
                                       calculated does not match ...", "Signature expired: ...")
=====================================  ==========================================================

Without the flag every request is served, signed or not, as before.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Mapping
from datetime import UTC, datetime

from propylon.credentials import Credential
from propylon.sigv4 import SignatureError, SignedRequest, verify
from propylon.spec.serialize import Reply

log = logging.getLogger("propylon.control")

SERVICE = "apigateway"


def _utc_now() -> datetime:
    return datetime.now(UTC)


class SignatureCheck:
    """Refuses control-plane requests that are not signed with one of ``credentials``."""

    def __init__(
        self,
        credentials: Mapping[str, Credential],
        clock: Callable[[], datetime] = _utc_now,
    ) -> None:
        self.credentials = credentials
        self.clock = clock

    def refusal(
        self,
        method: str,
        raw_path: str,
        query_string: str,
        headers: Mapping[str, str],
        body: bytes,
    ) -> Reply | None:
        """None when the request may be served, else the error reply AWS would send."""
        request = SignedRequest(method, raw_path, query_string, list(headers.items()), body)
        try:
            verify(request, self.credentials, SERVICE, self.clock())
        except SignatureError as exc:
            log.info("refused %s %s: %s", method, raw_path, exc.code)
            document = json.dumps({"message": exc.message}).encode()
            return Reply(403, document, headers=(("x-amzn-ErrorType", exc.code),))
        return None
