"""ARNs, built and read in one place."""

from __future__ import annotations

import re

# Most apigateway ARNs leave the account empty; portal, product, page and routing-rule ARNs name it.
_RESOURCE_ARN = re.compile(
    r"arn:aws[a-z-]*:apigateway:(?P<region>[a-z0-9-]+):(?P<account>\d{12})?:(?P<path>/.+)"
)


def resource_arn(region: str, path: str) -> str:
    """``arn:aws:apigateway:{region}::{path}`` for a path such as ``/apis/{id}``."""
    return f"arn:aws:apigateway:{region}::{path}"


def account_resource_arn(region: str, account: str, path: str) -> str:
    """``arn:aws:apigateway:{region}:{account}:{path}``, the form portals and rules use."""
    return f"arn:aws:apigateway:{region}:{account}:{path}"


def parse_resource_arn(arn: str) -> tuple[str, str | None, list[str]] | None:
    """The region, account (None when empty) and path segments of an apigateway resource ARN,
    or None if it is not one."""
    match = _RESOURCE_ARN.fullmatch(arn)
    if match is None:
        return None
    return match["region"], match["account"], match["path"].strip("/").split("/")


_LOG_GROUP_ARN = re.compile(
    r"arn:aws[a-z-]*:logs:[a-z0-9-]+:\d{12}:log-group:(?P<name>[A-Za-z0-9_\-/.#]{1,512})(:\*)?"
)


def log_group_name(arn: str) -> str | None:
    """The log group named by a CloudWatch Logs log-group ARN, or None if it is not one."""
    match = _LOG_GROUP_ARN.fullmatch(arn)
    return match["name"] if match else None


_LAMBDA_FUNCTION_ARN = re.compile(
    r"arn:aws[a-z-]*:lambda:[a-z0-9-]+:\d{12}:function:[A-Za-z0-9_-]+(:[A-Za-z0-9_$-]+)?"
)


def is_lambda_function_arn(text: str) -> bool:
    return _LAMBDA_FUNCTION_ARN.fullmatch(text) is not None


def lambda_invocation_uri(region: str, function_arn: str) -> str:
    return (
        f"arn:aws:apigateway:{region}:lambda:path/2015-03-31/functions/{function_arn}/invocations"
    )
