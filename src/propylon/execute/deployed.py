"""What each stage serves, compiled when first served, kept in memory for the request path.

How this works: ``DeployedApis.refresh`` runs at start-up (for every API) and after every
control-plane write (on the writer thread), for the one API the write was under, or for every
API when a write may have touched more (``refresh(None)``). For each stage that names a
deployment it records a slot: the stage record and the key of the deployment's snapshot
(reference §11.2: routes, integrations, authorizers and API settings as deployed). Nothing is
compiled and no snapshot is read then: a slot is compiled, with the stage's own settings
(variables, route settings), into a ``CompiledStage`` the first time a request asks for it, and
kept. So start-up reads the APIs and their stage records only, whatever the size of the
snapshots, and a stage no request reaches is never compiled. The first request to a stage reads
its snapshot from the store (in memory; the SQLite store decodes it then); later ones do not.

``DeployedApi.stages`` maps stage names to compiled stages: its keys are the stages that name a
deployment, known without reading any snapshot; looking one up (``in``, ``[]``) compiles it,
and a stage whose snapshot is missing is not there (``KeyError``) and so is not served.

Records in the store are replaced, never changed in place, and a snapshot is written once, so a
slot whose stage record is the same object as last time, and whose compiled snapshot (if it has
been compiled) is the one the store still holds, is kept with what it compiled; an API whose
slots are all kept keeps its ``DeployedApi``. Threads: a request (event loop) sees one
``DeployedApi``, replaced whole by a refresh (a single dict assignment), never changed; a slot
is fixed to one stage record and one snapshot, and its compiled stage is built whole, then
stored in one assignment, so a request never sees a half-built stage or a mix of two
configurations. Two threads may compile the same slot at once; both results are equal, and the
slot keeps one.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Mapping
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
    api: Record
    """The API record as deployed (CORS, DisableExecuteApiEndpoint ...)."""
    stage_variables: dict[str, str]
    websocket: WsRoutes | None = None
    """A WebSocket API's routes by key and its route selection expression (None for HTTP)."""


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
        api=snapshot["Api"],
        stage_variables=stage.get("StageVariables") or {},
    )


class _Slot:
    """One served stage: its record, the key of its snapshot, and its compiled form once asked."""

    __slots__ = ("compiled", "snapshot_key", "stage")

    def __init__(self, stage: Record, snapshot_key: Key) -> None:
        self.stage = stage
        self.snapshot_key = snapshot_key
        self.compiled: CompiledStage | None = None

    def compile(self, store: Store) -> CompiledStage | None:
        """The compiled stage, compiled now if it is the first time; None without a snapshot."""
        compiled = self.compiled
        if compiled is None:
            snapshot = store.get(self.snapshot_key)
            if snapshot is None:
                return None
            compiled = self.compiled = compile_stage(self.stage, snapshot)
        return compiled

    def serves(self, stage: Record, store: Store) -> bool:
        """Whether this slot still serves what the store holds for ``stage``."""
        if self.stage is not stage:
            return False
        compiled = self.compiled
        return compiled is None or store.get(self.snapshot_key) is compiled.snapshot


class Stages(Mapping[str, CompiledStage]):
    """An API's served stages by name, each compiled when it is first looked up."""

    __slots__ = ("_slots", "_store")

    def __init__(self, store: Store, slots: dict[str, _Slot]) -> None:
        self._store = store
        self._slots = slots

    def __getitem__(self, name: str) -> CompiledStage:
        slot = self._slots[name]
        compiled = slot.compiled or slot.compile(self._store)  # every request: keep it short
        if compiled is None:
            raise KeyError(name)
        return compiled

    def __contains__(self, name: object) -> bool:
        slot = self._slots.get(name) if isinstance(name, str) else None
        return slot is not None and (slot.compiled or slot.compile(self._store)) is not None

    def __iter__(self) -> Iterator[str]:
        return iter(self._slots)

    def __len__(self) -> int:
        return len(self._slots)

    def slot(self, name: str) -> _Slot | None:
        return self._slots.get(name)

    def is_compiled(self, name: str) -> bool:
        """Whether the stage has been compiled (a request or lookup has asked for it)."""
        slot = self._slots.get(name)
        return slot is not None and slot.compiled is not None


class DeployedApis:
    """The served stages of every API, by API id."""

    def __init__(self, store: Store) -> None:
        self._store = store
        self._apis: dict[str, DeployedApi] = {}
        self.generation = 0
        """Counts refreshes, each counted once its change is in place: what was looked up
        under one generation holds until the count moves on."""

    def get(self, api_id: str) -> DeployedApi | None:
        return self._apis.get(api_id)

    def refresh(self, api_key: Key | None = None) -> None:
        """Take up what changed: under the API at ``api_key`` (``scope + ("apis", id)``), or
        anywhere when it is None. Keep what did not change."""
        if api_key is None:
            self._refresh_all()
        else:
            self._refresh_api(api_key)
        self.generation += 1

    def _refresh_all(self) -> None:
        previous = self._apis
        fresh: dict[str, DeployedApi] = {}
        for scope in self._store.parents("apis"):
            for api in self._store.children(scope, "apis"):
                api_id = api["ApiId"]
                fresh[api_id] = self._deploy(scope + ("apis", api_id), api, previous.get(api_id))
        self._apis = fresh

    def _refresh_api(self, api_key: Key) -> None:
        api_id = api_key[-1]
        known = self._apis.get(api_id)
        api = self._store.get(api_key)
        if api is not None:
            self._apis[api_id] = self._deploy(api_key, api, known)
        elif known is not None and (known.account_id, known.region) == api_key[:2]:
            del self._apis[api_id]  # an API of that id elsewhere is not this one

    def _deploy(self, api_key: Key, api: Record, known: DeployedApi | None) -> DeployedApi:
        if known is not None and (known.account_id, known.region) != api_key[:2]:
            known = None
        before = known.stages if known is not None else None
        slots: dict[str, _Slot] = {}
        kept = 0
        for stage in self._store.children(api_key, "stages"):
            deployment_id = stage.get("DeploymentId")
            if not deployment_id:
                continue  # a stage without a deployment is not served
            name = stage["StageName"]
            old = before.slot(name) if isinstance(before, Stages) else None
            if old is not None and old.serves(stage, self._store):
                slots[name] = old
                kept += 1
            else:
                slots[name] = _Slot(stage, api_key + ("snapshots", deployment_id))
        protocol = api["ProtocolType"]
        if (
            known is not None
            and known.protocol == protocol
            and kept == len(slots) == len(before or ())
        ):
            return known
        return DeployedApi(
            api_id=api["ApiId"],
            account_id=api_key[0],
            region=api_key[1],
            protocol=protocol,
            stages=Stages(self._store, slots),
        )
