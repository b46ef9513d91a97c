"""APIs: protocol defaults, CORS rules, the endpoint address, and quick create.

Quick create (``Target`` on an HTTP API) makes, as AWS does, an integration for the target (a
Lambda proxy with payload 2.0 for a function ARN, an HTTP proxy for ANY otherwise), a route for
``RouteKey`` (``$default`` when absent) and an auto-deploying ``$default`` stage, all marked
``ApiGatewayManaged``. ``UpdateApi`` with ``Target`` or ``RouteKey`` changes those managed
resources.
"""

from __future__ import annotations

from typing import Any

from propylon.control.arns import is_lambda_function_arn
from propylon.control.context import Call, Output, Params
from propylon.control.crud import Behaviour, Handler, Parents, Registry, ResourceSpec
from propylon.control.tags import check_tags
from propylon.errors import BadRequestException
from propylon.store import Key, Record

HTTP_ROUTE_SELECTION = "$request.method $request.path"
# The form AWS documents for CreateApi; AWS answers with HTTP_ROUTE_SELECTION either way.
HTTP_ROUTE_SELECTION_BRACED = "${request.method} ${request.path}"
API_KEY_SELECTION = "$request.header.x-api-key"
QUICK_CREATE = ("Target", "RouteKey", "CredentialsArn")
_CORS_METHODS = frozenset({"GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS", "*"})


def check_cors(cors: dict[str, Any]) -> None:
    origins = cors.get("AllowOrigins") or []
    if cors.get("AllowCredentials") and "*" in origins:
        raise BadRequestException(
            "CORS configuration with AllowCredentials true cannot allow all origins ('*')"
        )
    for method in cors.get("AllowMethods") or []:
        if method.upper() not in _CORS_METHODS:
            raise BadRequestException(f"Invalid HTTP method in CORS AllowMethods: {method}")


def _check(params: Params, protocol: str) -> None:
    if protocol == "WEBSOCKET":
        if params.get("CorsConfiguration") is not None:
            raise BadRequestException("CORS configuration is supported only for HTTP APIs")
        if any(params.get(name) is not None for name in QUICK_CREATE):
            raise BadRequestException("Quick create is supported only for HTTP APIs")
        return
    selection = params.get("RouteSelectionExpression")
    if selection not in (None, HTTP_ROUTE_SELECTION, HTTP_ROUTE_SELECTION_BRACED):
        raise BadRequestException(
            f"Unsupported route selection expression for HTTP APIs: {selection}. "
            f"Only {HTTP_ROUTE_SELECTION} is supported"
        )
    if params.get("CorsConfiguration") is not None:
        check_cors(params["CorsConfiguration"])


class Apis(Behaviour):
    def create(self, call: Call, spec: ResourceSpec, params: Params, parents: Parents) -> Record:
        protocol = params["ProtocolType"]
        _check(params, protocol)
        if protocol == "WEBSOCKET" and not params.get("RouteSelectionExpression"):
            raise BadRequestException("RouteSelectionExpression is required for WEBSOCKET APIs")
        if params.get("Target") is None and any(params.get(n) for n in QUICK_CREATE[1:]):
            raise BadRequestException("RouteKey and CredentialsArn require Target (quick create)")
        check_tags(params.get("Tags"))
        record = super().create(call, spec, params, parents)
        for name in QUICK_CREATE:
            record.pop(name, None)
        defaults: Record = {
            "ApiKeySelectionExpression": API_KEY_SELECTION,
            "CreatedDate": call.timestamp,
            "DisableExecuteApiEndpoint": False,
            "IpAddressType": "ipv4",
            "Tags": {},
        }
        if protocol == "HTTP":
            record["RouteSelectionExpression"] = HTTP_ROUTE_SELECTION
        else:
            defaults["DisableSchemaValidation"] = False
        return {**defaults, **record}

    def update(
        self, call: Call, spec: ResourceSpec, record: Record, params: Params, parents: Parents
    ) -> Record:
        _check(params, record["ProtocolType"])
        updated = super().update(call, spec, record, params, parents)
        for name in QUICK_CREATE:
            updated.pop(name, None)
        if record["ProtocolType"] == "HTTP":
            updated["RouteSelectionExpression"] = HTTP_ROUTE_SELECTION
        return updated

    def present(self, call: Call, record: Record, parents: Parents) -> Output:
        return {**record, "ApiEndpoint": api_endpoint(call, record)}


def api_endpoint(call: Call, api: Record) -> str:
    scheme = "http" if api["ProtocolType"] == "HTTP" else "ws"
    return f"{scheme}://{api['ApiId']}.execute-api.localhost:{call.settings.port}"


def _quick_create(registry: Registry, call: Call, api_id: str, params: Params) -> None:
    target = params["Target"]
    integration: Params = {"ApiId": api_id, "IntegrationUri": target}
    if is_lambda_function_arn(target):
        integration |= {"IntegrationType": "AWS_PROXY", "PayloadFormatVersion": "2.0"}
    else:
        integration |= {"IntegrationType": "HTTP_PROXY", "IntegrationMethod": "ANY"}
    if params.get("CredentialsArn"):
        integration["CredentialsArn"] = params["CredentialsArn"]
    created = registry.generic("CreateIntegration")(call, integration) or {}
    integration_id = created["IntegrationId"]
    _mark_managed(call, api_id, "integrations", integration_id)
    route = {
        "ApiId": api_id,
        "RouteKey": params.get("RouteKey") or "$default",
        "Target": f"integrations/{integration_id}",
    }
    route_id = (registry.generic("CreateRoute")(call, route) or {})["RouteId"]
    _mark_managed(call, api_id, "routes", route_id)
    stage = {"ApiId": api_id, "StageName": "$default", "AutoDeploy": True}
    registry.generic("CreateStage")(call, stage)
    _mark_managed(call, api_id, "stages", "$default")


def _mark_managed(call: Call, api_id: str, kind: str, identifier: str) -> None:
    key: Key = call.scope + ("apis", api_id, kind, identifier)
    record = call.store.get(key)
    if record is not None:
        call.store.put(key, {**record, "ApiGatewayManaged": True})


def _managed(call: Call, api_id: str, kind: str) -> Record | None:
    for record in call.store.children(call.scope + ("apis", api_id), kind):
        if record.get("ApiGatewayManaged"):
            return record
    return None


def _check_managed(call: Call, params: Params) -> None:
    api_id = params["ApiId"]
    targeted = params.get("Target") is not None or params.get("CredentialsArn") is not None
    if targeted and _managed(call, api_id, "integrations") is None:
        raise BadRequestException("Target and CredentialsArn apply only to quick-created APIs")
    if params.get("RouteKey") is not None and _managed(call, api_id, "routes") is None:
        raise BadRequestException("RouteKey applies only to quick-created APIs")


def _managed_changes(call: Call, params: Params) -> list[tuple[str, Params]]:
    """The (kind, update input) pairs an UpdateApi makes to the quick-created resources."""
    api_id = params["ApiId"]
    found: list[tuple[str, Params]] = []
    integration = _managed(call, api_id, "integrations")
    if integration is not None and (
        params.get("Target") is not None or params.get("CredentialsArn") is not None
    ):
        changes = {"ApiId": api_id, "IntegrationId": integration["IntegrationId"]}
        if params.get("Target") is not None:
            changes["IntegrationUri"] = params["Target"]
        if params.get("CredentialsArn") is not None:
            changes["CredentialsArn"] = params["CredentialsArn"]
        found.append(("integrations", changes))
    route = _managed(call, api_id, "routes")
    if route is not None and params.get("RouteKey") is not None:
        changes = {"ApiId": api_id, "RouteId": route["RouteId"], "RouteKey": params["RouteKey"]}
        found.append(("routes", changes))
    return found


def _preview(registry: Registry, call: Call, kind: str, params: Params) -> None:
    """Run ``kind``'s update checks on ``params`` without writing, so UpdateApi is all or none."""
    spec = registry.specs[kind]
    record = registry.find(call, kind, params)
    spec.behaviour.update(call, spec, record, params, registry.parents(call, spec, params))


def _apply(registry: Registry, call: Call, kind: str, params: Params) -> None:
    operation = registry.specs[kind].update
    assert operation is not None
    registry.generic(operation)(call, params)


def handlers(registry: Registry) -> dict[str, Handler]:
    create_generic = registry.generic("CreateApi")
    update_generic = registry.generic("UpdateApi")

    def create_api(call: Call, params: Params) -> Output | None:
        api = create_generic(call, params) or {}
        if params.get("Target") is not None:
            try:
                _quick_create(registry, call, api["ApiId"], params)
            except Exception:
                # A quick create that fails leaves nothing behind, as on AWS.
                call.store.delete(call.scope + ("apis", api["ApiId"]))
                raise
        return api

    def update_api(call: Call, params: Params) -> Output | None:
        registry.find(call, "apis", params)
        _check_managed(call, params)
        changes = _managed_changes(call, params)
        for kind, change in changes:
            _preview(registry, call, kind, change)
        api = update_generic(call, params)
        for kind, change in changes:
            _apply(registry, call, kind, change)
        return api

    def delete_cors_configuration(call: Call, params: Params) -> None:
        api = registry.find(call, "apis", params)
        key = registry.specs["apis"].key(call, params)
        call.store.put(key, {k: v for k, v in api.items() if k != "CorsConfiguration"})
        registry.changed(call, registry.specs["apis"], params)

    return {
        "CreateApi": create_api,
        "UpdateApi": update_api,
        "DeleteCorsConfiguration": delete_cors_configuration,
    }
