"""SigV4 verification, shared by AWS_IAM routes (service ``execute-api``) and the control plane
(service ``apigateway``, with ``--verify-signatures``).

How it works
------------
A signed request names its key, date, region and service (the credential scope), the headers it
signed and the signature, either in the ``Authorization`` header or, presigned, in the query
(``X-Amz-Credential``, ``X-Amz-Signature`` ...). :func:`verify` rebuilds the signature the
client must have computed and compares the two with :func:`hmac.compare_digest`. The canonical
request, the string to sign and the signing key come from botocore's own signer
(``SigV4Auth``, ``SigV4QueryAuth``), fed an ``AWSRequest`` rebuilt from what arrived: the
method, the path and query exactly as sent, only the headers the client listed as signed, and
the body's SHA-256 (or, presigned, ``UNSIGNED-PAYLOAD``). So Propylon agrees with botocore, the
AWS CLI and every SDK that follows the same specification.

AWS's other rules, checked before the signature:

- the request time (``X-Amz-Date``, else ``Date``) must be within 15 minutes of the server's
  clock, either way, and the credential scope's date must be that time's date;
- a presigned request also expires ``X-Amz-Expires`` seconds (at most 7 days) after its time;
- the scope names the expected service and ends in ``aws4_request``; ``host`` is signed;
- a ``x-amz-content-sha256`` header, when signed, must be the body's hash (it stands in for the
  body in the canonical request, so a wrong one would let a body be swapped).

Each failure is a :class:`SignatureError` subclass carrying AWS's error code and message text;
the data plane answers them all ``403 Forbidden``, the control plane with the code and text.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from typing import Any, ClassVar
from urllib.parse import unquote

from botocore.auth import SigV4Auth, SigV4QueryAuth
from botocore.awsrequest import AWSRequest
from botocore.credentials import ReadOnlyCredentials

from propylon.credentials import Credential

ALGORITHM = "AWS4-HMAC-SHA256"
MAX_SKEW = timedelta(minutes=15)
"""AWS's rule: a signed request's time may be at most 15 minutes from the server's clock."""
MAX_PRESIGNED_EXPIRY = 7 * 24 * 3600
_TIMESTAMP = "%Y%m%dT%H%M%SZ"
_UNSIGNED_PAYLOAD = "UNSIGNED-PAYLOAD"
_SIGNATURE_PARAMETER = "X-Amz-Signature"
_MISMATCH = (
    "The request signature we calculated does not match the signature you provided. Check your"
    " AWS Secret Access Key and signing method. Consult the service documentation for details."
)


class SignatureError(Exception):
    """A request whose signature cannot be accepted; ``code`` is AWS's error code."""

    code: ClassVar[str] = "InvalidSignatureException"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class MissingAuthentication(SignatureError):
    code = "MissingAuthenticationTokenException"

    def __init__(self) -> None:
        super().__init__("Missing Authentication Token")


class IncompleteSignature(SignatureError):
    code = "IncompleteSignatureException"


class UnknownAccessKey(SignatureError):
    code = "UnrecognizedClientException"

    def __init__(self) -> None:
        super().__init__("The security token included in the request is invalid.")


class InvalidSignature(SignatureError):
    code = "InvalidSignatureException"


@dataclass(frozen=True, slots=True)
class SignedRequest:
    """A request as it arrived, for verification."""

    method: str
    path: str
    """The path exactly as sent (still percent-encoded)."""
    query: str
    """The query string exactly as sent, without ``?``."""
    headers: Sequence[tuple[str, str]]
    """Names lower-case, repeats kept in order."""
    body: bytes

    def header(self, name: str) -> str | None:
        for key, value in reversed(self.headers):
            if key == name:
                return value
        return None


@dataclass(frozen=True, slots=True)
class Verified:
    """The caller of a request whose signature verified."""

    access_key: str
    credential: Credential
    region: str


@dataclass(frozen=True, slots=True)
class _Claim:
    """What a request says about its own signature."""

    access_key: str
    scope_date: str
    region: str
    service: str
    terminator: str
    signed_headers: tuple[str, ...]
    signature: str
    timestamp: str
    expires: int | None
    """Seconds a presigned request stays valid; None for the header form."""


def verify(
    request: SignedRequest,
    credentials: Mapping[str, Credential],
    service: str,
    now: datetime,
) -> Verified:
    """The caller of ``request``, or the :class:`SignatureError` AWS would answer."""
    claim = _claim(request)
    moment = _check_time(claim, now)
    _check_scope(claim, service, moment)
    credential = credentials.get(claim.access_key)
    if credential is None:
        raise UnknownAccessKey()
    canonical, string_to_sign, signature = _expected(request, claim, credential.secret_key)
    given = claim.signature.encode("utf-8", "replace")  # compare_digest refuses non-ASCII text
    if not hmac.compare_digest(signature.encode(), given):
        raise InvalidSignature(
            f"{_MISMATCH}\n\nThe Canonical String for this request should have been\n"
            f"'{canonical}'\n\nThe String-to-Sign should have been\n'{string_to_sign}'\n"
        )
    return Verified(claim.access_key, credential, claim.region)


# --- what the request claims ------------------------------------------------------------------


def _claim(request: SignedRequest) -> _Claim:
    authorization = request.header("authorization")
    if authorization is not None:
        return _header_claim(authorization, request)
    query = _query_pairs(request.query)
    if any(name == _SIGNATURE_PARAMETER for name, _ in query):
        return _query_claim(dict(query))
    raise MissingAuthentication()


def _header_claim(authorization: str, request: SignedRequest) -> _Claim:
    algorithm, _, rest = authorization.strip().partition(" ")
    fields = dict(part.strip().partition("=")[::2] for part in rest.split(",") if "=" in part)
    timestamp = request.header("x-amz-date") or _from_http_date(request.header("date"))
    missing = [
        f"Authorization header requires '{name}' parameter."
        for name in ("Credential", "Signature", "SignedHeaders")
        if not fields.get(name)
    ]
    if timestamp is None:
        missing.append(
            "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header."
        )
    if algorithm != ALGORITHM or missing:
        if algorithm != ALGORITHM and not missing:
            missing.append(f"Unsupported authorization algorithm {algorithm!r}.")
        raise IncompleteSignature(" ".join([*missing, f"Authorization={authorization}"]))
    assert timestamp is not None
    return _scoped(fields["Credential"], fields["SignedHeaders"], fields["Signature"], timestamp)


def _query_claim(query: Mapping[str, str]) -> _Claim:
    required = ("X-Amz-Algorithm", "X-Amz-Credential", "X-Amz-Date", "X-Amz-SignedHeaders")
    missing = [name for name in required if not query.get(name)]
    if missing:
        raise IncompleteSignature(f"Query-string authentication requires {', '.join(missing)}.")
    if query["X-Amz-Algorithm"] != ALGORITHM:
        raise IncompleteSignature(f"Unsupported algorithm {query['X-Amz-Algorithm']!r}.")
    expires = query.get("X-Amz-Expires", "")
    if (
        not (expires.isascii() and expires.isdigit())
        or not 0 < int(expires) <= MAX_PRESIGNED_EXPIRY
    ):
        raise IncompleteSignature(
            f"X-Amz-Expires must be a number of seconds from 1 to {MAX_PRESIGNED_EXPIRY}."
        )
    claim = _scoped(
        query["X-Amz-Credential"],
        query["X-Amz-SignedHeaders"],
        query[_SIGNATURE_PARAMETER],
        query["X-Amz-Date"],
    )
    return replace(claim, expires=int(expires))


def _scoped(credential: str, signed_headers: str, signature: str, timestamp: str) -> _Claim:
    parts = credential.split("/")
    if len(parts) != 5 or not all(parts):
        raise IncompleteSignature(
            f"Credential must have exactly 5 slash-delimited elements, e.g."
            f" keyid/date/region/service/term, got '{credential}'"
        )
    access_key, scope_date, region, service, terminator = parts
    names = tuple(name.strip().lower() for name in signed_headers.split(";") if name.strip())
    return _Claim(
        access_key=access_key,
        scope_date=scope_date,
        region=region,
        service=service,
        terminator=terminator,
        signed_headers=names,
        signature=signature.strip(),
        timestamp=timestamp.strip(),
        expires=None,
    )


def _from_http_date(value: str | None) -> str | None:
    """A ``Date`` header (RFC 7231) as the ISO-8601 basic time SigV4 signs."""
    if not value:
        return None
    try:
        moment = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).strftime(_TIMESTAMP)


def _query_pairs(query: str) -> list[tuple[str, str]]:
    pairs = []
    for part in query.split("&") if query else ():
        name, _, value = part.partition("=")
        pairs.append((unquote(name), unquote(value)))
    return pairs


# --- AWS's checks before the signature --------------------------------------------------------


def _check_time(claim: _Claim, now: datetime) -> datetime:
    try:
        moment = datetime.strptime(claim.timestamp, _TIMESTAMP).replace(tzinfo=UTC)
    except ValueError:
        raise IncompleteSignature(
            f"Date must be in ISO-8601 'basic format'. Got '{claim.timestamp}'."
        ) from None
    stamp = now.strftime(_TIMESTAMP)
    if moment > now + MAX_SKEW:
        latest = (now + MAX_SKEW).strftime(_TIMESTAMP)
        raise InvalidSignature(
            f"Signature not yet current: {claim.timestamp} is still later than {latest}"
            f" ({stamp} + 15 min.)"
        )
    if claim.expires is not None:
        until = moment + timedelta(seconds=claim.expires)
        if now > until:
            raise InvalidSignature(
                f"Signature expired: {until.strftime(_TIMESTAMP)} is now earlier than {stamp}"
                " (X-Amz-Date + X-Amz-Expires)"
            )
    elif moment < now - MAX_SKEW:
        earliest = (now - MAX_SKEW).strftime(_TIMESTAMP)
        raise InvalidSignature(
            f"Signature expired: {claim.timestamp} is now earlier than {earliest}"
            f" ({stamp} - 15 min.)"
        )
    return moment


def _check_scope(claim: _Claim, service: str, moment: datetime) -> None:
    if claim.scope_date != moment.strftime("%Y%m%d"):
        raise InvalidSignature(
            "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date"
            f" from HTTP: '{claim.scope_date}' != '{moment:%Y%m%d}', from '{claim.timestamp}'."
        )
    if claim.service != service:
        raise InvalidSignature(f"Credential should be scoped to correct service: '{service}'. ")
    if claim.terminator != "aws4_request":
        raise InvalidSignature(
            "Credential should be scoped with a valid terminator: 'aws4_request',"
            f" not '{claim.terminator}'."
        )
    if "host" not in claim.signed_headers:
        raise InvalidSignature(
            "'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization."
        )


# --- the signature the client must have computed ----------------------------------------------


class _HeaderSigner(SigV4Auth):  # type: ignore[misc]
    """botocore's signer, over exactly the headers the client signed and a given body hash."""

    def __init__(self, credentials: Any, service: str, region: str, payload_hash: str) -> None:
        super().__init__(credentials, service, region)
        self._payload_hash = payload_hash

    def headers_to_sign(self, request: AWSRequest) -> Any:
        return request.headers

    def payload(self, request: AWSRequest) -> str:
        return self._payload_hash


class _QuerySigner(SigV4QueryAuth):  # type: ignore[misc]
    """botocore's presigned-URL signer (``UNSIGNED-PAYLOAD``), over the signed headers."""

    def headers_to_sign(self, request: AWSRequest) -> Any:
        return request.headers


def _expected(request: SignedRequest, claim: _Claim, secret: str) -> tuple[str, str, str]:
    """The canonical request, the string to sign and the signature, as the client's signer
    computes them."""
    keys = ReadOnlyCredentials(claim.access_key, secret, None)
    query = request.query
    signer: SigV4Auth
    if claim.expires is None:
        signer = _HeaderSigner(keys, claim.service, claim.region, _payload_hash(request, claim))
    else:
        signer = _QuerySigner(keys, claim.service, claim.region)
        query = "&".join(
            part
            for part in query.split("&")
            if unquote(part.partition("=")[0]) != _SIGNATURE_PARAMETER
        )
    url = "http://signed" + request.path + ("?" + query if query else "")
    rebuilt = AWSRequest(method=request.method, url=url)
    for name, value in request.headers:
        if name in claim.signed_headers:
            rebuilt.headers[name] = value
    rebuilt.context["timestamp"] = claim.timestamp
    try:
        canonical = signer.canonical_request(rebuilt)
        string_to_sign = signer.string_to_sign(rebuilt, canonical)
        return canonical, string_to_sign, signer.signature(string_to_sign, rebuilt)
    except (ValueError, TypeError) as exc:  # text no client could have signed (UnicodeError ...)
        raise InvalidSignature(_MISMATCH) from exc


def _payload_hash(request: SignedRequest, claim: _Claim) -> str:
    actual = hashlib.sha256(request.body).hexdigest()
    declared = request.header("x-amz-content-sha256")
    if "x-amz-content-sha256" not in claim.signed_headers or declared is None:
        return actual
    if declared.strip().lower() != actual:
        raise InvalidSignature(
            "The provided 'x-amz-content-sha256' header does not match what was computed."
        )
    return actual
