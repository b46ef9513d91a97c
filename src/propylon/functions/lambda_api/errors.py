"""The Lambda API's errors, one class per error code (``x-amzn-ErrorType``).

Statuses come from the ``lambda`` service model when it lists the code; the two codes it does
not list (``ValidationException`` for input that breaks the model's rules, and
``RequestEntityTooLargeException``, the wire name SDKs see for ``RequestTooLargeException``)
carry their own. Message texts are Lambda's (reference, section 5).
"""

from __future__ import annotations

from typing import Any

from propylon.errors import ControlPlaneError


class LambdaError(ControlPlaneError):
    """An error of the Lambda API; ``document`` replaces the ``{"Type", "Message"}`` body when a
    code has a body of its own (throttling)."""

    document: dict[str, Any] | None = None


class ValidationException(LambdaError):
    code = "ValidationException"
    status = 400


class InvalidParameterValueException(LambdaError):
    code = "InvalidParameterValueException"


class InvalidRequestContentException(LambdaError):
    code = "InvalidRequestContentException"


class ResourceNotFoundException(LambdaError):
    code = "ResourceNotFoundException"


class ResourceConflictException(LambdaError):
    code = "ResourceConflictException"


class PreconditionFailedException(LambdaError):
    code = "PreconditionFailedException"


class RequestTooLargeException(LambdaError):
    code = "RequestEntityTooLargeException"
    status = 413


class TooManyRequestsException(LambdaError):
    code = "TooManyRequestsException"

    def __init__(self, reason: str = "ReservedFunctionConcurrentInvocationLimitExceeded") -> None:
        super().__init__("Rate Exceeded.")
        self.document = {"Reason": reason, "Type": "User", "message": "Rate Exceeded."}


class ServiceException(LambdaError):
    code = "ServiceException"


def function_not_found(arn: str) -> ResourceNotFoundException:
    return ResourceNotFoundException(f"Function not found: {arn}")
