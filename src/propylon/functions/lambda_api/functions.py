"""Functions through the Lambda API: CreateFunction, GetFunction, GetFunctionConfiguration,
ListFunctions, UpdateFunctionCode, UpdateFunctionConfiguration, DeleteFunction.

A function is a record in the store, at ``(account, region, "functions", name)``: its
``FunctionConfiguration`` as Lambda answers it, its tags, and where its unpacked code is
(``code.py``). The record is the truth; the function registry holds a ``FunctionSpec`` built
from it (``spec_of``), so the data plane and ``Invoke`` run it in workers like any configured
function, and ``LambdaFunctions.load`` rebuilds the specs from the store at start-up.

Lambda creates a function ``Pending`` and updates it ``InProgress``; here the work is done
before the call returns, so a function is ``Active`` and ``Successful`` at once (reference
2.8), and an update retires the workers of the previous code or configuration: an invocation
in flight finishes on them, the next one starts on the new.
"""

from __future__ import annotations

import logging
import re
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

from propylon.control.context import Call, Output, Params
from propylon.functions.errors import FunctionConfigError
from propylon.functions.lambda_api.code import CodeStore, Package
from propylon.functions.lambda_api.configuration import (
    configuration_of,
    function_arn,
    last_modified,
)
from propylon.functions.lambda_api.errors import (
    InvalidParameterValueException,
    PreconditionFailedException,
    ResourceConflictException,
    ValidationException,
    function_not_found,
)
from propylon.functions.registry import FunctionRegistry
from propylon.functions.spec import FunctionSpec
from propylon.store import Key, Record, Store

Handler = Callable[[Call, Params], Output | None]
log = logging.getLogger("propylon.functions")

KIND = "functions"
PAGE = 50
"""ListFunctions answers at most 50 functions a page, whatever MaxItems asks."""
_NAME = re.compile(r"[a-zA-Z0-9-_]{1,64}")
_ARN_NAME = re.compile(
    r"(?:arn:aws[a-zA-Z-]*:lambda:(?P<region>[a-z0-9-]+):)?(?:(?P<account>\d{12}):)?"
    r"(?:function:)?(?P<name>[a-zA-Z0-9-_]+)(?::(?P<qualifier>\$LATEST|[a-zA-Z0-9-_]+))?"
)
_MUTABLE = (
    "Role",
    "Handler",
    "Description",
    "Timeout",
    "MemorySize",
    "Environment",
    "Runtime",
    "TracingConfig",
    "EphemeralStorage",
    "LoggingConfig",
)


def name_and_qualifier(call: Call, text: str) -> tuple[str, str | None]:
    """The function a ``FunctionName`` names (a name, a partial or a full ARN) and its
    qualifier; not found for an ARN of another region or account."""
    match = _ARN_NAME.fullmatch(text)
    if match is None:
        raise ValidationException(
            f"1 validation error detected: Value '{text}' at 'functionName' failed to satisfy "
            "constraint: Member must satisfy regular expression pattern: "
            "(arn:(aws[a-zA-Z-]*)?:lambda:)?([a-z]{2}(-gov)?-[a-z]+-\\d{1}:)?(\\d{12}:)?"
            "(function:)?([a-zA-Z0-9-_]+)(:(\\$LATEST|[a-zA-Z0-9-_]+))?"
        )
    name = match["name"]
    region, account = match["region"], match["account"]
    if (region and region != call.region) or (account and account != call.account):
        raise function_not_found(text)
    return name, match["qualifier"]


class LambdaFunctions:
    """The Lambda API's functions: their records, their code, their place in the registry."""

    def __init__(self, registry: FunctionRegistry, code: CodeStore) -> None:
        self.registry = registry
        self.code = code

    # --- the store and the registry ------------------------------------------------------------

    def load(self, store: Store) -> None:
        """Define every stored function in the registry (at start-up). One that cannot run
        here any more (its runtime's interpreter is gone) is logged and left out: the others
        are served, and its record stays for when it can run again."""
        for parent in store.parents(KIND):
            for record in store.children(parent, KIND):
                try:
                    self.registry.define(parent[1], spec_of(record, parent[1]))
                except (FunctionConfigError, InvalidParameterValueException, ValueError) as exc:
                    name = record["Configuration"]["FunctionName"]
                    log.error("function %s (Lambda API) cannot run here: %s", name, exc)

    def forget_all(self) -> None:
        """The store was wiped (``/_propylon/reset``): no function of the API remains."""
        self.registry.undefine_all()
        self.code.clear()

    def record(self, call: Call, name: str) -> Record:
        record = call.store.get(_key(call, name))
        if record is None:
            raise function_not_found(function_arn(call, name))
        return record

    def find(self, call: Call, text: str) -> Record:
        """The record of the function ``text`` names; qualifiers other than ``$LATEST`` name
        published versions, which do not exist yet."""
        name, qualifier = name_and_qualifier(call, text)
        record = self.record(call, name)
        if qualifier not in (None, "$LATEST"):
            raise function_not_found(f"{function_arn(call, name)}:{qualifier}")
        return record

    def _save(self, call: Call, record: Record) -> None:
        """Put ``record`` in the registry (refused as Lambda refuses a runtime it cannot run)
        and then in the store."""
        name = record["Configuration"]["FunctionName"]
        try:
            self.registry.define(call.region, spec_of(record, call.region))
        except (FunctionConfigError, ValueError) as exc:
            raise InvalidParameterValueException(str(exc)) from None
        call.store.put(_key(call, name), record)

    # --- handlers ------------------------------------------------------------------------------

    def handlers(self) -> dict[str, Handler]:
        return {
            "CreateFunction": self.create,
            "GetFunction": self.get,
            "GetFunctionConfiguration": self.get_configuration,
            "ListFunctions": self.list,
            "UpdateFunctionCode": self.update_code,
            "UpdateFunctionConfiguration": self.update_configuration,
            "DeleteFunction": self.delete,
            "TagResource": self.tag,
            "UntagResource": self.untag,
            "ListTags": self.list_tags,
        }

    def create(self, call: Call, params: Params) -> Output:
        name, _ = name_and_qualifier(call, params["FunctionName"])
        if not _NAME.fullmatch(name):
            raise ValidationException(f"Function name {name!r} is not valid")
        if call.store.get(_key(call, name)) is not None or self.registry.configured(name):
            raise ResourceConflictException(f"Function already exist: {name}")
        _check_package_type(params)
        if not params.get("Runtime") or not params.get("Handler"):
            raise InvalidParameterValueException(
                "Runtime and Handler are mandatory parameters for functions created with "
                "deployment packages."
            )
        configuration = configuration_of(call, name, params)
        package = self.code.unpack(call.account, call.region, name, _zip_of(params["Code"]))
        record = _with_code({"Configuration": configuration}, package)
        if params.get("Tags"):
            record["Tags"] = dict(params["Tags"])
        try:
            self._save(call, record)
        except Exception:
            self.code.remove(call.account, call.region, name)
            raise
        return _public(record["Configuration"])

    def get(self, call: Call, params: Params) -> Output:
        record = self.find(call, params["FunctionName"])
        configuration = record["Configuration"]
        name = configuration["FunctionName"]
        location = (
            f"http://{call.settings.host}:{call.settings.port}/_propylon/lambda/code/"
            f"{call.region}/{name}/{record['CodeDigest']}.zip"
        )
        output: Output = {
            "Configuration": _public(configuration),
            "Code": {"RepositoryType": "S3", "Location": location},
        }
        if record.get("Tags"):
            output["Tags"] = dict(record["Tags"])
        return output

    def get_configuration(self, call: Call, params: Params) -> Output:
        return _public(self.find(call, params["FunctionName"])["Configuration"])

    def list(self, call: Call, params: Params) -> Output:
        records = call.store.children(call.scope, KIND)
        start = 0
        if params.get("Marker"):
            try:
                start = int(params["Marker"])
            except ValueError:
                raise InvalidParameterValueException("Invalid marker") from None
        size = min(PAGE, params.get("MaxItems") or PAGE)
        page = records[start : start + size]
        output: Output = {"Functions": [_public(r["Configuration"]) for r in page]}
        if start + size < len(records):
            output["NextMarker"] = str(start + size)
        return output

    def update_code(self, call: Call, params: Params) -> Output:
        record = self.find(call, params["FunctionName"])
        _check_revision(record, params)
        if params.get("ImageUri") or params.get("S3Bucket") or "ZipFile" not in params:
            raise InvalidParameterValueException(
                "Propylon takes function code as ZipFile only (no S3 bucket, no image)"
            )
        configuration = record["Configuration"]
        name = configuration["FunctionName"]
        package = self.code.unpack(call.account, call.region, name, params["ZipFile"])
        if params.get("DryRun"):
            return _public(configuration)
        updated = _with_code({**record, "Configuration": _touched(call, configuration)}, package)
        self._save(call, updated)
        self.code.remove(call.account, call.region, name, keep=package.directory)
        return _public(updated["Configuration"])

    def update_configuration(self, call: Call, params: Params) -> Output:
        record = self.find(call, params["FunctionName"])
        _check_revision(record, params)
        configuration = record["Configuration"]
        merged = {key: value for key, value in configuration.items()}
        changes = {key: params[key] for key in _MUTABLE if key in params}
        merged.update(configuration_of(call, configuration["FunctionName"], {**merged, **changes}))
        for key in ("CodeSha256", "CodeSize"):
            merged[key] = configuration[key]
        if not (params.get("Environment") or {}).get("Variables") and "Environment" in params:
            merged.pop("Environment", None)
        updated = {**record, "Configuration": _touched(call, merged)}
        self._save(call, updated)
        return _public(updated["Configuration"])

    def delete(self, call: Call, params: Params) -> None:
        name, qualifier = name_and_qualifier(call, params["FunctionName"])
        if params.get("Qualifier") or qualifier not in (None, "$LATEST"):
            version = params.get("Qualifier") or qualifier
            if version != "$LATEST":
                raise function_not_found(f"{function_arn(call, name)}:{version}")
        self.record(call, name)
        call.store.delete(_key(call, name))
        self.registry.undefine(call.region, name)
        self.code.remove(call.account, call.region, name)

    def tag(self, call: Call, params: Params) -> None:
        record = self.find(call, params["Resource"])
        tags = {**record.get("Tags", {}), **params["Tags"]}
        call.store.put(
            _key(call, record["Configuration"]["FunctionName"]), {**record, "Tags": tags}
        )

    def untag(self, call: Call, params: Params) -> None:
        record = self.find(call, params["Resource"])
        removed = set(params["TagKeys"])
        tags = {key: value for key, value in record.get("Tags", {}).items() if key not in removed}
        call.store.put(
            _key(call, record["Configuration"]["FunctionName"]), {**record, "Tags": tags}
        )

    def list_tags(self, call: Call, params: Params) -> Output:
        return {"Tags": dict(self.find(call, params["Resource"]).get("Tags", {}))}


def spec_of(record: Record, region: str) -> FunctionSpec:
    """The registry's spec for a stored function."""
    configuration = record["Configuration"]
    try:
        return FunctionSpec(
            name=configuration["FunctionName"],
            handler=configuration["Handler"],
            code=Path(record["CodeDirectory"]),
            environment=(configuration.get("Environment") or {}).get("Variables") or {},
            timeout=float(configuration["Timeout"]),
            memory=int(configuration["MemorySize"]),
            runtime=configuration["Runtime"],
            region=region,
        )
    except ValueError as exc:
        raise InvalidParameterValueException(str(exc)) from None


def _key(call: Call, name: str) -> Key:
    return call.scope + (KIND, name)


def _public(configuration: Record) -> Output:
    return dict(configuration)


def _with_code(record: Record, package: Package) -> Record:
    configuration = dict(record["Configuration"])
    configuration["CodeSha256"] = package.sha256
    configuration["CodeSize"] = package.size
    return {
        **record,
        "Configuration": configuration,
        "CodeDirectory": str(package.directory),
        "CodeDigest": package.directory.name,
    }


def _touched(call: Call, configuration: Record) -> Record:
    return {
        **configuration,
        "LastModified": last_modified(call.now),
        "RevisionId": str(uuid.uuid4()),
        "LastUpdateStatus": "Successful",
    }


def _check_revision(record: Record, params: Params) -> None:
    revision = params.get("RevisionId")
    if revision is not None and revision != record["Configuration"]["RevisionId"]:
        raise PreconditionFailedException(
            "The Revision Id provided does not match the latest Revision Id. Call the "
            "GetFunction/GetAlias API to retrieve the latest Revision Id"
        )


def _check_package_type(params: Params) -> None:
    code = params.get("Code") or {}
    if params.get("PackageType") == "Image" or code.get("ImageUri"):
        raise InvalidParameterValueException(
            "Propylon runs .zip deployment packages only (PackageType Zip, Code.ZipFile)"
        )
    if "ZipFile" not in code:
        raise InvalidParameterValueException(
            "Propylon takes function code as Code.ZipFile (no S3 bucket, no image)"
        )


def _zip_of(code: dict[str, Any]) -> bytes:
    data = code["ZipFile"]
    return data if isinstance(data, bytes) else bytes(data)
