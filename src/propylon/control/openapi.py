"""ImportApi, ReimportApi and ExportApi: HTTP APIs from and to OpenAPI 3.0 definitions.

An import reads the whole document into a plan first (``openapi_import``), so every warning is
known before anything is written: with ``FailOnWarnings`` a warning is a BadRequest and nothing
is created; without it the output lists them under ``Warnings``. The plan is then carried out
through the generic CreateApi, CreateIntegration, CreateAuthorizer and CreateRoute handlers,
each input checked against the model first, so an imported API obeys every rule a hand-built one
does; a refusal names where in the document it came from.

The plan runs on a registry that does not redeploy after each step: a new API has no stages,
and a re-import redeploys its auto-deploying stages once, at the end. A failure part-way undoes
everything: an import deletes the API it created; a re-import puts back the API record, routes,
integrations and authorizers (with their children) it replaced. ReimportApi keeps the API's id,
stages, deployments and tags (adding the document's tags) and replaces its name, version,
description, CORS configuration and endpoint settings with the document's.

ExportApi writes the live configuration, or with ``StageName`` the snapshot of the deployment
the stage serves (``openapi_export``); the document is the output's payload member.
"""

from __future__ import annotations

from typing import Any

from propylon.control import deployments
from propylon.control.context import Call, Output, Params
from propylon.control.crud import SERVICE, Handler, Registry, ResourceSpec, body_members
from propylon.control.openapi_export import Source, export_document, render
from propylon.control.openapi_extensions import ENDPOINT_DEFAULTS, EXPORT_VERSION
from propylon.control.openapi_import import Plan, plan_import
from propylon.control.openapi_source import check_document, parse_body, substitute
from propylon.errors import BadRequestException, ControlPlaneError, NotFoundException
from propylon.spec.model import load_service_model
from propylon.spec.validate import validate_input
from propylon.store import Key, Record

SPECS: tuple[ResourceSpec, ...] = ()
REPLACED_KINDS = ("routes", "integrations", "authorizers")
REPLACED_API_MEMBERS = ("Description", "Version", "CorsConfiguration")
Saved = list[tuple[Key, Record]]


def _no_redeploy(call: Call, api_key: Key) -> None:
    """The plan's steps do not redeploy one by one; the handler redeploys once at the end."""


def _run(registry: Registry, call: Call, operation: str, where: str, params: Params) -> Output:
    """Run a generic handler on model-checked input; a refusal says where it came from."""
    try:
        handler = registry.generic(operation)
    except KeyError:
        raise BadRequestException(f"{where}: {operation} is not supported yet") from None
    try:
        validate_input(load_service_model(SERVICE).operation_model(operation).input_shape, params)
        return handler(call, params) or {}
    except ControlPlaneError as exc:
        raise type(exc)(f"{where}: {exc.message}") from None


def _plan(call: Call, params: Params) -> Plan:
    document = substitute(parse_body(params["Body"]), call.account, call.region)
    check_document(document)
    plan = plan_import(document, str(params.get("Basepath") or "ignore").lower())
    if plan.warnings and params.get("FailOnWarnings"):
        raise BadRequestException("Warnings found during import:\n\t" + "\n\t".join(plan.warnings))
    return plan


def _tag(call: Call, api_id: str, tags: dict[str, str]) -> None:
    key = call.scope + ("apis", api_id)
    api = call.store.get(key)
    if tags and api is not None:
        call.store.put(key, {**api, "Tags": {**(api.get("Tags") or {}), **tags}})


def _build(registry: Registry, call: Call, api_id: str, plan: Plan) -> None:
    """Create the plan's integrations, authorizers and routes under the API."""
    integrations = {
        key: _run(registry, call, "CreateIntegration", step.where, {"ApiId": api_id, **step.params})
        for key, step in plan.integrations.items()
    }
    authorizers = {
        name: _run(registry, call, "CreateAuthorizer", step.where, {"ApiId": api_id, **step.params})
        for name, step in plan.authorizers.items()
    }
    for route in plan.routes:
        params: Params = {"ApiId": api_id, **route.params}
        if route.integration is not None:
            params["Target"] = f"integrations/{integrations[route.integration]['IntegrationId']}"
        if route.authorizer is not None:
            params["AuthorizerId"] = authorizers[route.authorizer]["AuthorizerId"]
        _run(registry, call, "CreateRoute", route.where, params)


def _output(registry: Registry, call: Call, api_id: str, plan: Plan) -> Output:
    api = dict(registry.generic("GetApi")(call, {"ApiId": api_id}) or {})
    if plan.warnings:
        api["Warnings"] = plan.warnings
    if plan.info:
        api["ImportInfo"] = plan.info
    return api


# -- re-import ----------------------------------------------------------------------------------


def _saved(registry: Registry, call: Call, key: Key, kinds: tuple[str, ...]) -> Saved:
    """The records of ``kinds`` under ``key`` and, recursively, their children, parents first."""
    found: Saved = []
    for kind in kinds:
        spec = registry.specs.get(kind)
        if spec is None:
            continue
        nested = tuple(
            s.kind
            for s in registry.specs.values()
            if len(s.path) == len(spec.path) + 1 and s.path[: len(spec.path)] == spec.path
        )
        for record in call.store.children(key, kind):
            child = key + (kind, str(record[spec.id_member]))
            found.append((child, record))
            found.extend(_saved(registry, call, child, nested))
    return found


def _clear(call: Call, api_key: Key, saved: Saved) -> None:
    for key, _ in saved:
        if len(key) == len(api_key) + 2:
            call.store.delete(key)


def _restore(registry: Registry, call: Call, api: Record, api_key: Key, saved: Saved) -> None:
    _clear(call, api_key, _saved(registry, call, api_key, REPLACED_KINDS))
    call.store.put(api_key, api)
    for key, record in saved:
        call.store.put(key, record)


def _replace_api(registry: Registry, call: Call, api: Record, api_key: Key, plan: Plan) -> None:
    """Give the API the document's name, version, description, CORS and endpoint settings."""
    changes = {k: v for k, v in plan.api.items() if k in body_members("UpdateApi")}
    changes.pop("Tags", None)
    _run(registry, call, "UpdateApi", "/", {"ApiId": api["ApiId"], **changes})
    updated: dict[str, Any] = dict(call.store.get(api_key) or api)
    for member in REPLACED_API_MEMBERS:
        if member not in changes:
            updated.pop(member, None)
    for member, default in ENDPOINT_DEFAULTS.items():
        updated[member] = changes.get(member, default)
    updated["Tags"] = {**(api.get("Tags") or {}), **plan.api.get("Tags", {})}
    call.store.put(api_key, updated)


# -- export -------------------------------------------------------------------------------------


def _source(registry: Registry, call: Call, params: Params, api: Record) -> Source:
    api_key = call.scope + ("apis", api["ApiId"])
    if params.get("StageName") is None:
        children = [call.store.children(api_key, kind) for kind in REPLACED_KINDS]
        return Source(api, *children)
    stage = registry.find(call, "stages", params)
    deployment_id = stage.get("DeploymentId")
    snapshot = call.store.get(api_key + ("snapshots", deployment_id)) if deployment_id else None
    if snapshot is None:
        raise NotFoundException(f"Stage {stage['StageName']} has no deployment to export")
    return Source(snapshot["Api"], *(list(snapshot.get(kind) or []) for kind in REPLACED_KINDS))


def _payload_member() -> str:
    shape = load_service_model(SERVICE).operation_model("ExportApi").output_shape
    member: str = shape.serialization["payload"]
    return member


def _check_http(api: Record, operation: str) -> None:
    if api["ProtocolType"] != "HTTP":
        raise BadRequestException(f"{operation} is supported only for HTTP APIs")


def handlers(registry: Registry) -> dict[str, Handler]:
    quiet = Registry(registry.specs.values(), _no_redeploy)

    def import_api(call: Call, params: Params) -> Output:
        plan = _plan(call, params)
        # A document's tag may have no value (""), which CreateApi's model refuses: the tags
        # are set on the record directly, as ReimportApi does.
        create = {k: v for k, v in plan.api.items() if k != "Tags"}
        api_id = _run(quiet, call, "CreateApi", "/", create)["ApiId"]
        try:
            _tag(call, api_id, plan.api.get("Tags") or {})
            _build(quiet, call, api_id, plan)
        except BaseException:
            call.store.delete(call.scope + ("apis", api_id))
            raise
        return _output(registry, call, api_id, plan)

    def reimport_api(call: Call, params: Params) -> Output:
        api = registry.find(call, "apis", params)
        _check_http(api, "ReimportApi")
        plan = _plan(call, params)
        api_key = call.scope + ("apis", api["ApiId"])
        saved = _saved(quiet, call, api_key, REPLACED_KINDS)
        try:
            _clear(call, api_key, saved)
            _replace_api(quiet, call, api, api_key, plan)
            _build(quiet, call, api["ApiId"], plan)
        except BaseException:
            _restore(quiet, call, api, api_key, saved)
            raise
        deployments.redeploy(call, api_key)
        return _output(registry, call, api["ApiId"], plan)

    def export_api(call: Call, params: Params) -> Output:
        api = registry.find(call, "apis", params)
        _check_http(api, "ExportApi")
        version = params.get("ExportVersion")
        if version is not None and version != EXPORT_VERSION:
            raise BadRequestException(
                f"Unsupported export version {version}: "
                f"the only supported version is {EXPORT_VERSION}"
            )
        source = _source(registry, call, params, api)
        extensions = params.get("IncludeExtensions", True)
        document = export_document(call, source, params.get("StageName"), extensions)
        return {_payload_member(): render(document, params["OutputType"])}

    return {"ImportApi": import_api, "ReimportApi": reimport_api, "ExportApi": export_api}
