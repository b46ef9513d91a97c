"""Every form of integration URI that names a Lambda function resolves to its name."""

from __future__ import annotations

import pytest

from propylon.functions.arns import (
    FunctionRef,
    function_arn,
    function_name_from_uri,
    parse_function_uri,
)

ARN = "arn:aws:lambda:us-east-1:123456789012:function:my-function"
INVOCATIONS = "arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/{}/invocations"


@pytest.mark.parametrize(
    ("uri", "expected"),
    [
        ("my-function", FunctionRef("my-function")),
        ("my-function:live", FunctionRef("my-function", "live")),
        ("123456789012:function:my-function", FunctionRef("my-function")),
        (ARN, FunctionRef("my-function", None, ARN)),
        (ARN + ":$LATEST", FunctionRef("my-function", "$LATEST", ARN + ":$LATEST")),
        (ARN + ":3", FunctionRef("my-function", "3", ARN + ":3")),
        (ARN + ":prod", FunctionRef("my-function", "prod", ARN + ":prod")),
        (INVOCATIONS.format(ARN), FunctionRef("my-function", None, ARN)),
        (INVOCATIONS.format(ARN + ":prod"), FunctionRef("my-function", "prod", ARN + ":prod")),
    ],
)
def test_uri_forms_resolve_to_the_function(uri: str, expected: FunctionRef) -> None:
    assert parse_function_uri(uri) == expected
    assert function_name_from_uri(uri) == "my-function"


@pytest.mark.parametrize("partition", ["aws-cn", "aws-us-gov"])
def test_other_partitions_resolve(partition: str) -> None:
    arn = f"arn:{partition}:lambda:cn-north-1:123456789012:function:fn_1"
    uri = (
        f"arn:{partition}:apigateway:cn-north-1:lambda:path/2015-03-31/functions/{arn}/invocations"
    )
    assert parse_function_uri(uri) == FunctionRef("fn_1", None, arn)


@pytest.mark.parametrize(
    "uri",
    [
        "",
        "https://example.com/orders",
        "arn:aws:lambda:us-east-1:123456789012:layer:my-layer",
        "arn:aws:sqs:us-east-1:123456789012:queue",
        INVOCATIONS.format("arn:aws:lambda:us-east-1:123456789012:function:${stageVariables.fn}"),
        INVOCATIONS.format(ARN).replace("/invocations", ""),
        "x" * 65,
    ],
)
def test_uri_naming_no_function_gives_none(uri: str) -> None:
    assert function_name_from_uri(uri) is None


def test_function_arn_is_built_in_the_lambda_format() -> None:
    assert function_arn("eu-west-1", "000000000000", "fn") == (
        "arn:aws:lambda:eu-west-1:000000000000:function:fn"
    )
