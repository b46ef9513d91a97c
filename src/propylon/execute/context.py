"""The one typed context of an HTTP API request.

Every value a step of the chain reads or writes is a declared field here, named after the
``$context`` variable it backs where there is one (reference §10.2), so the Lambda payloads,
parameter mapping and the access log all read the same values. Headers and query parameters
keep every value in arrival order, because payload 1.0 wants the last of each, payload 2.0
wants them comma-joined, and the multi-value maps want them all.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from propylon.execute.body import RequestBody


@dataclass(slots=True)
class Invocation:
    """One request to an HTTP API, as the gateway knows it."""

    # --- the request as received -------------------------------------------------------
    http_method: str
    """``$context.httpMethod``: the method, as sent (upper-case for well-formed requests)."""
    raw_path: str
    """The path as sent, still percent-encoded, with the stage segment: 2.0 ``rawPath``."""
    path: str
    """``$context.path``: the decoded path with the stage segment (1.0 ``path``)."""
    route_path: str
    """The path after the stage segment, still encoded: what routes are matched against."""
    raw_query_string: str
    """The query string as sent, without ``?`` and still encoded; "" when absent."""
    query: list[tuple[str, str]]
    """Decoded query parameters in order, repeats kept."""
    headers: list[tuple[str, str]]
    """Request headers in order, names lower-cased, repeats kept."""
    body: bytes
    """The whole body once ``body_stream`` is None; empty until then."""
    source_ip: str
    """``$context.identity.sourceIp``: the TCP peer."""
    protocol: str
    """``$context.protocol``, e.g. ``HTTP/1.1``."""
    domain_name: str
    """``$context.domainName``: the Host the client used, without the port."""
    domain_prefix: str
    """``$context.domainPrefix``: the first label of the domain name."""

    # --- where it went -------------------------------------------------------------------
    api_id: str
    account_id: str
    stage: str
    """``$context.stage``: the stage name (``$default`` for the default stage)."""
    request_id: str
    """``$context.requestId``: also the ``apigw-requestid`` header."""
    request_time: str
    """``$context.requestTime``: CLF form ``dd/Mon/yyyy:HH:MM:SS +0000``."""
    request_time_epoch: int
    """``$context.requestTimeEpoch``, in milliseconds."""
    stage_variables: dict[str, str] = field(default_factory=dict)
    body_stream: RequestBody | None = None
    """The rest of a body the client was still sending when the chain started; None once
    ``body`` holds it all (``propylon.execute.body``)."""
    route_key: str = "-"
    """``$context.routeKey``: the matched route's key; ``-`` before (or without) a match."""
    path_parameters: dict[str, str] = field(default_factory=dict)
    authorizer: dict[str, Any] | None = None
    """What an authorizer returned, in the 2.0 event's shape (``{"jwt": ...}``,
    ``{"lambda": ...}``, ``{"iam": ...}``); None for routes without authorization."""
    principal_id: str | None = None
    """``$context.authorizer.principalId``: what a Lambda authorizer's policy answer named."""

    # --- the outcome -------------------------------------------------------------------
    status: int = 0
    """``$context.status``: the status sent to the client."""
    response_length: int = 0
    integration_status: str = "-"
    """``$context.integrationStatus`` (the integration's own status, or Lambda's)."""
    integration_latency: int | None = None
    """``$context.integrationLatency`` in milliseconds, None when nothing was called."""
    integration_error_message: str = "-"
    error_message: str = "-"
    """``$context.error.message``: the gateway's own error message, if it answered one."""
    integration_response_status: int | None = None
    """``$context.integration.status``: the status the integration answered (for Lambda, the
    function's ``statusCode``); None when no integration answered."""
    integration_request_id: str | None = None
    """``$context.awsEndpointRequestId`` / ``integration.requestId``: the id of the call the
    integration made (a Lambda invocation's request id), None when there is none."""
    authorizer_error: str | None = None
    """``$context.authorizer.error``: why the authorization step refused or failed."""
    authorize_status: int | None = None
    """``$context.authorize.status`` (``authorizer.status``): 200 when the authorization step
    let the request through, else the status it answered; None for routes without one."""
    authorize_latency: int | None = None
    """``$context.authorize.latency`` (``authorizer.latency``): the authorization step's time,
    in milliseconds; None for routes without one."""
    response_latency: int | None = None
    """``$context.responseLatency``: milliseconds from receipt until the response was sent."""
    base_path_matched: str | None = None
    """``$context.customDomain.basePathMatched``: the API mapping key a custom-domain request
    matched; None on the default endpoint."""

    def header(self, name: str) -> str | None:
        """The last value of a header (``name`` lower-case), or None."""
        for key, value in reversed(self.headers):
            if key == name:
                return value
        return None

    @property
    def user_agent(self) -> str:
        """``$context.identity.userAgent``."""
        return self.header("user-agent") or ""
