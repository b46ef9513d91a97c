"""Handlers that parse the gateway's event with Powertools' models, as a Powertools user would.

Each answers 200 with ``{"errors": [...], "event": {...}}``: the validation errors Powertools
raised (empty when the event is valid) and the event as received, so a test can name the field
that failed and check what the event carried.
"""

import json
from typing import Any

from aws_lambda_powertools.utilities.parser import BaseModel, ValidationError, parse
from aws_lambda_powertools.utilities.parser.models import (
    APIGatewayProxyEventModel,
    APIGatewayProxyEventV2Model,
)


def _report(event: dict[str, Any], model: type[BaseModel]) -> dict[str, Any]:
    try:
        parse(event=event, model=model)
    except ValidationError as exc:
        errors = exc.errors(include_url=False, include_context=False)
    else:
        errors = []
    return {
        "statusCode": 200,
        "headers": {"content-type": "application/json"},
        "body": json.dumps({"errors": errors, "event": event}, default=str),
    }


def v2(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return _report(event, APIGatewayProxyEventV2Model)


def v1(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return _report(event, APIGatewayProxyEventModel)
