"""A function's ``FunctionConfiguration``: built from CreateFunction's members (or an update's
merged with the stored ones), with Lambda's defaults, and checked as Lambda checks it: the
runtime (refused when Lambda no longer takes it, or Propylon cannot run it), the timeout and
memory limits, reserved environment keys and the 4 KB of variables (reference 2.2, 5.3, 5.4).
"""

from __future__ import annotations

import json
import re
import uuid
from datetime import UTC, datetime

from propylon.control.context import Call, Params
from propylon.functions.lambda_api.errors import (
    InvalidParameterValueException,
    ValidationException,
)
from propylon.functions.logs import log_group
from propylon.functions.runtimes import RUNTIMES
from propylon.functions.spec import MAX_TIMEOUT, MEMORY_RANGE, RESERVED_VARIABLES
from propylon.store import Record

MAX_ENVIRONMENT = 4096
_DEPRECATED = re.compile(r"python2\.7|python3\.[67]|nodejs(\d|1[024])(\.\d+|\.x)?|nodejs4\.3-edge")


def function_arn(call: Call, name: str) -> str:
    return f"arn:aws:lambda:{call.region}:{call.account}:function:{name}"


def last_modified(moment: datetime) -> str:
    """``2023-11-29T02:27:20.703+0000``, Lambda's form."""
    moment = moment.astimezone(UTC)
    return f"{moment:%Y-%m-%dT%H:%M:%S}.{moment.microsecond // 1000:03d}+0000"


def configuration_of(call: Call, name: str, params: Params) -> Record:
    """A ``FunctionConfiguration`` from CreateFunction's (or a merged update's) members, with
    Lambda's defaults and checks."""
    runtime = params["Runtime"]
    if _DEPRECATED.fullmatch(runtime):
        raise InvalidParameterValueException(
            f"The runtime parameter of {runtime} is no longer supported for creating or "
            "updating AWS Lambda functions. We recommend you use a supported runtime while "
            "creating or updating functions."
        )
    if runtime not in RUNTIMES:
        raise InvalidParameterValueException(
            f"The runtime parameter of {runtime} is not supported by Propylon, which runs "
            "Python, Node.js and OS-only (provided) runtimes."
        )
    timeout = params.get("Timeout", 3)
    memory = params.get("MemorySize", 128)
    if timeout > MAX_TIMEOUT:
        raise _over("timeout", timeout, int(MAX_TIMEOUT))
    if memory > MEMORY_RANGE[1]:
        raise _over("memorySize", memory, MEMORY_RANGE[1])
    variables = (params.get("Environment") or {}).get("Variables") or {}
    _check_environment(variables)
    configuration: Record = {
        "FunctionName": name,
        "FunctionArn": function_arn(call, name),
        "Runtime": runtime,
        "Role": params["Role"],
        "Handler": params["Handler"],
        "CodeSize": 0,
        "Description": params.get("Description", ""),
        "Timeout": timeout,
        "MemorySize": memory,
        "LastModified": last_modified(call.now),
        "CodeSha256": "",
        "Version": "$LATEST",
        "TracingConfig": {"Mode": (params.get("TracingConfig") or {}).get("Mode", "PassThrough")},
        "RevisionId": str(uuid.uuid4()),
        "State": "Active",
        "LastUpdateStatus": "Successful",
        "PackageType": "Zip",
        "Architectures": list(params.get("Architectures") or ["x86_64"]),
        "EphemeralStorage": {"Size": (params.get("EphemeralStorage") or {}).get("Size", 512)},
        "SnapStart": {"ApplyOn": "None", "OptimizationStatus": "Off"},
        "LoggingConfig": {
            "LogFormat": (params.get("LoggingConfig") or {}).get("LogFormat", "Text"),
            "LogGroup": (params.get("LoggingConfig") or {}).get("LogGroup", log_group(name)),
        },
    }
    if variables:
        configuration["Environment"] = {"Variables": dict(variables)}
    return configuration


def _over(member: str, value: int, high: int) -> ValidationException:
    return ValidationException(
        f"1 validation error detected: Value '{value}' at '{member}' failed to satisfy "
        f"constraint: Member must have value less than or equal to {high}"
    )


def _check_environment(variables: dict[str, str]) -> None:
    reserved = [key for key in variables if key in RESERVED_VARIABLES]
    if reserved:
        raise InvalidParameterValueException(
            "Lambda was unable to configure your environment variables because the "
            "environment variables you have provided contains reserved keys that are currently "
            f"not supported for modification. Reserved keys used in this request: "
            f"{', '.join(reserved)}"
        )
    measured = json.dumps(variables, separators=(",", ":"))
    if len(measured.encode()) > MAX_ENVIRONMENT:
        raise InvalidParameterValueException(
            "Lambda was unable to configure your environment variables because the "
            "environment variables you have provided exceeded the 4KB limit. "
            f"String measured: {measured}"
        )
