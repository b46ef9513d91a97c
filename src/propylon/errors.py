"""The error hierarchy: one base per plane, one class per AWS error code.

Control-plane errors carry the error code of the ``apigatewayv2`` service model; the HTTP status
is not written here but read from the model's error shape when the error is serialized
(``propylon.spec.serialize``), so a class cannot drift from the model.
"""

from __future__ import annotations

from typing import ClassVar


class PropylonError(Exception):
    """Base of every error Propylon raises on purpose."""


class ControlPlaneError(PropylonError):
    """An error answered to a control-plane client as ``x-amzn-ErrorType`` plus a message."""

    code: ClassVar[str] = "BadRequestException"
    status: ClassVar[int | None] = None
    """The HTTP status, for an error the service model does not list (else the model's)."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class BadRequestException(ControlPlaneError):
    code = "BadRequestException"


class NotFoundException(ControlPlaneError):
    code = "NotFoundException"


class ConflictException(ControlPlaneError):
    code = "ConflictException"


class TooManyRequestsException(ControlPlaneError):
    code = "TooManyRequestsException"


class AccessDeniedException(ControlPlaneError):
    code = "AccessDeniedException"


class GatewayError(PropylonError):
    """An answer the gateway itself gives to a caller of an API (reference §6): a compact
    ``{"message": ...}`` body with the class's status. ``detail`` says why, for logs and
    ``$context`` variables; callers never see it."""

    status: ClassVar[int] = 500
    message: ClassVar[str] = "Internal Server Error"

    def __init__(self, detail: str = "", headers: tuple[tuple[str, str], ...] = ()) -> None:
        super().__init__(detail or self.message)
        self.detail = detail
        self.headers = headers
        """Extra response headers (``www-authenticate`` on a refused JWT ...)."""


class GatewayNotFound(GatewayError):
    status = 404
    message = "Not Found"


class GatewayUnauthorized(GatewayError):
    status = 401
    message = "Unauthorized"


class GatewayTooManyRequests(GatewayError):
    status = 429
    message = "Too Many Requests"


class GatewayForbidden(GatewayError):
    status = 403
    message = "Forbidden"


class GatewayInternalError(GatewayError):
    status = 500
    message = "Internal Server Error"


class GatewayServiceUnavailable(GatewayError):
    status = 503
    message = "Service Unavailable"


class GatewayPayloadTooLarge(GatewayError):
    status = 413
    message = "Request Entity Too Large"
