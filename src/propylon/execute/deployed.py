"""What each stage serves, compiled once per deployment, kept in memory for the request path.

How this works: the request path never reads the store. ``DeployedApis.refresh`` runs after
every control-plane write (on the writer thread) and after start-up; it walks the APIs of every
(account, region) and, for each stage that has a deployment, compiles the deployment's snapshot
(reference §11.2: routes, integrations, authorizers and API settings as deployed) together with
the stage's own settings (variables, route settings) into a ``CompiledStage``. Records in the
store are replaced, never changed in place, so a stage whose stage record and snapshot are the
same objects as last time keeps its compiled form. The new table replaces the old one in one
assignment: a request sees either the old or the new configuration, never a mix.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass

from propylon.execute.access_log import StageAccessLog, compile_access_log
from propylon.execute.authorizers import Authorizer, compile_authorizer
from propylon.execute.cors import Cors, compile_cors
from propylon.execute.mapping import (
    MappingError,
    RequestMapping,
    ResponseMapping,
    compile_request_mapping,
    compile_response_mapping,
)
from propylon.execute.routing import RouteTable, compile_routes
from propylon.execute.throttle import Limits, stage_limits
from propylon.store import Key, Record, Store
from propylon.websocket.routes import WsRoutes
from propylon.websocket.routes import compile_routes as compile_websocket_routes

log = logging.getLogger("propylon.execute")


@dataclass(frozen=True, slots=True)
class CompiledIntegration:
    record: Record
    request_mapping: RequestMapping | None
    response_mapping: ResponseMapping | None


@dataclass(frozen=True, slots=True)
class CompiledStage:
    name: str
    stage: Record
    snapshot: Record
    routes: RouteTable
    integrations: Mapping[str, CompiledIntegration]
    authorizers: Mapping[str, Authorizer]
    cors: Cors | None
    limits: Mapping[str, Limits]
    """Route key → throttling limits, for the routes the stage limits (see ``throttle``)."""
    access_log: StageAccessLog | None
    """The stage's access log; None when it has no ``AccessLogSettings``."""
    websocket: WsRoutes | None = None
    """A WebSocket API's routes by key and its route selection expression (None for HTTP)."""

    @property
    def api(self) -> Record:
        """The API record as deployed (CORS, DisableExecuteApiEndpoint ...)."""
        deployed: Record = self.snapshot["Api"]
        return deployed

    @property
    def stage_variables(self) -> dict[str, str]:
        variables: dict[str, str] = self.stage.get("StageVariables") or {}
        return variables


@dataclass(frozen=True, slots=True)
class DeployedApi:
    api_id: str
    account_id: str
    region: str
    protocol: str
    stages: Mapping[str, CompiledStage]


def compile_integration(record: Record, websocket: bool = False) -> CompiledIntegration:
    """An integration with its HTTP API parameter mappings compiled. AWS service integrations
    (with an ``IntegrationSubtype``) use ``RequestParameters`` for the action's own parameters;
    WebSocket integrations map with their own expressions (``propylon.websocket``)."""
    if websocket:
        return CompiledIntegration(record, None, None)
    requests = None if record.get("IntegrationSubtype") else record.get("RequestParameters")
    try:
        return CompiledIntegration(
            record,
            compile_request_mapping(requests),
            compile_response_mapping(record.get("ResponseParameters")),
        )
    except MappingError as exc:
        log.error("integration %s: mapping not served: %s", record.get("IntegrationId"), exc)
        return CompiledIntegration(record, None, None)


def compile_stage(stage: Record, snapshot: Record) -> CompiledStage:
    websocket = snapshot["Api"].get("ProtocolType") == "WEBSOCKET"
    return CompiledStage(
        name=stage["StageName"],
        stage=stage,
        snapshot=snapshot,
        routes=compile_routes(() if websocket else snapshot.get("routes", ())),
        websocket=compile_websocket_routes(snapshot) if websocket else None,
        integrations={
            i["IntegrationId"]: compile_integration(i, websocket)
            for i in snapshot.get("integrations", ())
        },
        authorizers={
            a["AuthorizerId"]: compile_authorizer(a) for a in snapshot.get("authorizers", ())
        },
        cors=compile_cors(snapshot["Api"].get("CorsConfiguration")),
        limits=stage_limits(stage, (r["RouteKey"] for r in snapshot.get("routes", ()))),
        access_log=compile_access_log(stage.get("AccessLogSettings")),
    )


class DeployedApis:
    """The compiled stages of every API, by API id."""

    def __init__(self, store: Store) -> None:
        self._store = store
        self._apis: Mapping[str, DeployedApi] = {}

    def get(self, api_id: str) -> DeployedApi | None:
        return self._apis.get(api_id)

    def refresh(self) -> None:
        """Recompile what changed since the last refresh; keep what did not."""
        previous = self._apis
        fresh: dict[str, DeployedApi] = {}
        for scope in self._store.parents("apis"):
            for api in self._store.children(scope, "apis"):
                api_id = api["ApiId"]
                stages = self._stages(scope + ("apis", api_id), previous.get(api_id))
                fresh[api_id] = DeployedApi(api_id, scope[0], scope[1], api["ProtocolType"], stages)
        self._apis = fresh

    def _stages(self, api_key: Key, known: DeployedApi | None) -> dict[str, CompiledStage]:
        compiled: dict[str, CompiledStage] = {}
        for stage in self._store.children(api_key, "stages"):
            deployment_id = stage.get("DeploymentId")
            snapshot = self._store.get(api_key + ("snapshots", deployment_id or ""))
            if not deployment_id or snapshot is None:
                continue  # a stage without a deployment is not served
            before = known.stages.get(stage["StageName"]) if known else None
            if before is not None and before.stage is stage and before.snapshot is snapshot:
                compiled[before.name] = before
            else:
                compiled[stage["StageName"]] = compile_stage(stage, snapshot)
        return compiled
