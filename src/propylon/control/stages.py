"""Stages: names, access-log settings, route settings, stage variables and auto-deploy.

``UpdateStage`` merges as AWS does: members not given are kept, ``DefaultRouteSettings`` and each
``RouteSettings`` entry are merged field by field, and a stage variable set to "" is removed.
Removing access-log settings or one route's settings takes ``DeleteAccessLogSettings`` and
``DeleteRouteSettings``.
"""

from __future__ import annotations

import re
from typing import Any

from propylon.control.context import Call, Params
from propylon.control.crud import Behaviour, Handler, Parents, Registry, ResourceSpec
from propylon.control.deployments import auto_deploy_stage
from propylon.control.tags import check_tags
from propylon.errors import BadRequestException, NotFoundException
from propylon.store import Key, Record

DEFAULT_STAGE = "$default"
_STAGE_NAME = re.compile(r"[A-Za-z0-9_\-]{1,128}")
_VARIABLE_NAME = re.compile(r"[A-Za-z0-9_]{1,64}")
_VARIABLE_VALUE = re.compile(r"[A-Za-z0-9\-._~:/?#&=,]{1,512}")
_REQUEST_ID = re.compile(r"\$context\.(requestId|extendedRequestId)(?![A-Za-z0-9_])")
_LOG_GROUP = re.compile(
    r"arn:aws[a-z-]*:logs:[a-z0-9-]+:\d{12}:log-group:[A-Za-z0-9_\-/.#]{1,512}(:\*)?"
)
EXECUTION_LOGS_HTTP = "Execution logs are not supported on protocolType HTTP"
MAX_STAGE_VARIABLES = 100


def _api_key(call: Call, parents: Parents) -> Key:
    return call.scope + ("apis", parents["apis"]["ApiId"])


def check_stage_name(name: str, protocol: str) -> None:
    if name == DEFAULT_STAGE:
        if protocol != "HTTP":
            raise BadRequestException("The $default stage is supported only for HTTP APIs")
        return
    if not _STAGE_NAME.fullmatch(name):
        raise BadRequestException(
            "Stage name is invalid: use 1 to 128 alphanumeric characters, hyphens and underscores"
        )


def check_access_log_settings(settings: dict[str, Any]) -> None:
    arn = settings.get("DestinationArn")
    log_format = settings.get("Format")
    if arn is None or log_format is None:
        raise BadRequestException("Access log settings require both DestinationArn and Format")
    if not _LOG_GROUP.fullmatch(arn):
        raise BadRequestException(f"Invalid ARN specified in the request: {arn}")
    if "\n" in log_format:
        raise BadRequestException("Access log format must be a single line")
    if not _REQUEST_ID.search(log_format):
        raise BadRequestException(
            "Access log format must include at least $context.requestId or "
            "$context.extendedRequestId"
        )


def check_route_settings(settings: dict[str, Any], protocol: str) -> None:
    if protocol == "HTTP" and (
        settings.get("LoggingLevel") is not None or settings.get("DataTraceEnabled")
    ):
        raise BadRequestException(EXECUTION_LOGS_HTTP)
    burst = settings.get("ThrottlingBurstLimit")
    rate = settings.get("ThrottlingRateLimit")
    if burst is not None and burst < 0:
        raise BadRequestException("ThrottlingBurstLimit must be greater than or equal to 0")
    if rate is not None and rate < 0:
        raise BadRequestException("ThrottlingRateLimit must be greater than or equal to 0")


def check_stage_variables(variables: dict[str, str], allow_removal: bool) -> None:
    if len(variables) > MAX_STAGE_VARIABLES:
        raise BadRequestException(f"A stage can have at most {MAX_STAGE_VARIABLES} variables")
    for name, value in variables.items():
        if not _VARIABLE_NAME.fullmatch(name):
            raise BadRequestException(
                f"Stage variable name '{name}' is invalid: use 1 to 64 alphanumeric "
                "characters and underscores"
            )
        if value == "" and allow_removal:
            continue
        if not _VARIABLE_VALUE.fullmatch(value):
            raise BadRequestException(
                f"Stage variable value for '{name}' is invalid: use 1 to 512 characters "
                "from [A-Za-z0-9-._~:/?#&=,]"
            )


def default_route_settings(protocol: str) -> dict[str, Any]:
    if protocol == "HTTP":
        return {"DetailedMetricsEnabled": False}
    return {"DataTraceEnabled": False, "DetailedMetricsEnabled": False, "LoggingLevel": "OFF"}


class Stages(Behaviour):
    def _check(self, call: Call, params: Params, parents: Parents, creating: bool) -> None:
        api = parents["apis"]
        protocol = api["ProtocolType"]
        if params.get("AccessLogSettings") is not None:
            check_access_log_settings(params["AccessLogSettings"])
        if params.get("DefaultRouteSettings") is not None:
            check_route_settings(params["DefaultRouteSettings"], protocol)
        route_keys = {r["RouteKey"] for r in call.store.children(_api_key(call, parents), "routes")}
        for route_key, settings in (params.get("RouteSettings") or {}).items():
            if route_key not in route_keys:
                raise NotFoundException(
                    f"Unable to find Route by key {route_key} within the provided RouteSettings"
                )
            check_route_settings(settings, protocol)
        if params.get("StageVariables") is not None:
            # "" removes a variable on update; a new stage has nothing to remove.
            check_stage_variables(params["StageVariables"], allow_removal=not creating)
        deployment_id = params.get("DeploymentId")
        api_key = _api_key(call, parents)
        if deployment_id and call.store.get(api_key + ("deployments", deployment_id)) is None:
            raise NotFoundException(f"Invalid Deployment identifier specified {deployment_id}")

    def create(self, call: Call, spec: ResourceSpec, params: Params, parents: Parents) -> Record:
        protocol = parents["apis"]["ProtocolType"]
        check_stage_name(params["StageName"], protocol)
        self._check(call, params, parents, creating=True)
        check_tags(params.get("Tags"))
        record = super().create(call, spec, params, parents)
        return {
            **record,
            "CreatedDate": call.timestamp,
            "LastUpdatedDate": call.timestamp,
            "AutoDeploy": bool(params.get("AutoDeploy", False)),
            "DefaultRouteSettings": {
                **default_route_settings(protocol),
                **(params.get("DefaultRouteSettings") or {}),
            },
            "RouteSettings": params.get("RouteSettings") or {},
            "StageVariables": params.get("StageVariables") or {},
            "Tags": params.get("Tags") or {},
        }

    def update(
        self, call: Call, spec: ResourceSpec, record: Record, params: Params, parents: Parents
    ) -> Record:
        self._check(call, params, parents, creating=False)
        merged = super().update(call, spec, record, params, parents)
        if params.get("DefaultRouteSettings") is not None:
            merged["DefaultRouteSettings"] = {
                **record.get("DefaultRouteSettings", {}),
                **params["DefaultRouteSettings"],
            }
        if params.get("RouteSettings") is not None:
            route_settings = dict(record.get("RouteSettings", {}))
            for route_key, settings in params["RouteSettings"].items():
                route_settings[route_key] = {**route_settings.get(route_key, {}), **settings}
            merged["RouteSettings"] = route_settings
        if params.get("StageVariables") is not None:
            variables = {**record.get("StageVariables", {}), **params["StageVariables"]}
            merged["StageVariables"] = {k: v for k, v in variables.items() if v != ""}
        merged["LastUpdatedDate"] = call.timestamp
        return merged

    def after_write(
        self, call: Call, spec: ResourceSpec, old: Record | None, record: Record, parents: Parents
    ) -> None:
        if record.get("AutoDeploy") and not (old and old.get("AutoDeploy")):
            auto_deploy_stage(call, _api_key(call, parents), record)


def handlers(registry: Registry) -> dict[str, Handler]:
    def stage_and_key(call: Call, params: Params) -> tuple[Record, Key]:
        stage = registry.find(call, "stages", params)
        return stage, registry.specs["stages"].key(call, params)

    def delete_access_log_settings(call: Call, params: Params) -> None:
        stage, key = stage_and_key(call, params)
        updated = {k: v for k, v in stage.items() if k != "AccessLogSettings"}
        call.store.put(key, {**updated, "LastUpdatedDate": call.timestamp})

    def delete_route_settings(call: Call, params: Params) -> None:
        stage, key = stage_and_key(call, params)
        route_settings = dict(stage.get("RouteSettings", {}))
        if route_settings.pop(params["RouteKey"], None) is None:
            raise NotFoundException(
                f"Unable to find RouteSettings for route key {params['RouteKey']}"
            )
        call.store.put(
            key, {**stage, "RouteSettings": route_settings, "LastUpdatedDate": call.timestamp}
        )

    def reset_authorizers_cache(call: Call, params: Params) -> None:
        # Checks the stage, as AWS does. The cached results live in the gateway: the app
        # wraps this handler to clear them (propylon.app).
        registry.find(call, "stages", params)

    return {
        "DeleteAccessLogSettings": delete_access_log_settings,
        "DeleteRouteSettings": delete_route_settings,
        "ResetAuthorizersCache": reset_authorizers_cache,
    }
