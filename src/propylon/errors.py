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
