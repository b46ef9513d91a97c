"""Function references: every way an integration URI can name a Lambda function.

API Gateway accepts, and Propylon resolves to a function name:

- ``my-function`` and ``my-function:alias`` (a bare name, as Lambda's FunctionName takes it);
- ``123456789012:function:my-function`` (Lambda's "partial ARN");
- ``arn:aws:lambda:us-east-1:123456789012:function:my-function`` with an optional qualifier
  ``:$LATEST``, ``:3`` or ``:alias``, in any partition (``aws``, ``aws-cn``, ``aws-us-gov`` ...);
- ``arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/{any of the above}/invocations``,
  the integration URI form.

Stage variables (``${stageVariables.fn}``) must be substituted before a URI is resolved; an
unsubstituted one names no function.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_QUALIFIER = r"(?::(?P<qualifier>\$LATEST|[A-Za-z0-9_-]{1,128}))?"
_NAME = r"(?P<name>[A-Za-z0-9_-]{1,64})"

_FUNCTION_ARN = re.compile(
    r"arn:(?P<partition>aws[a-z-]*):lambda:(?P<region>[a-z0-9-]+):(?P<account>\d{12}):function:"
    + _NAME
    + _QUALIFIER
)
_PARTIAL_ARN = re.compile(r"(?P<account>\d{12}):function:" + _NAME + _QUALIFIER)
_BARE_NAME = re.compile(_NAME + _QUALIFIER)
_INVOCATION_URI = re.compile(
    r"arn:aws[a-z-]*:apigateway:[a-z0-9-]+:lambda:path/\d{4}-\d{2}-\d{2}/functions/"
    r"(?P<target>.+)/invocations"
)


@dataclass(frozen=True)
class FunctionRef:
    """A function named by a URI: its name, the qualifier if any, and the function ARN if the
    URI held a full one."""

    name: str
    qualifier: str | None = None
    arn: str | None = None


def parse_function_uri(uri: str) -> FunctionRef | None:
    """The function a URI names, or None if it names none."""
    invocation = _INVOCATION_URI.fullmatch(uri)
    target = invocation["target"] if invocation else uri
    match = _FUNCTION_ARN.fullmatch(target)
    if match is not None:
        return FunctionRef(match["name"], match["qualifier"], target)
    match = _PARTIAL_ARN.fullmatch(target) or _BARE_NAME.fullmatch(target)
    if match is not None:
        return FunctionRef(match["name"], match["qualifier"])
    return None


def function_name_from_uri(uri: str) -> str | None:
    """The name of the function a URI names, or None if it names none."""
    ref = parse_function_uri(uri)
    return ref.name if ref else None


def function_arn(region: str, account: str, name: str, partition: str = "aws") -> str:
    """``arn:{partition}:lambda:{region}:{account}:function:{name}``."""
    return f"arn:{partition}:lambda:{region}:{account}:function:{name}"
