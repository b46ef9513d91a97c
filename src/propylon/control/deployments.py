"""Deployments: immutable snapshots of an API's configuration, and auto-deploy.

A deployment is two records under the API: the ``deployments`` record the operations show, and a
``snapshots`` record with the same id holding copies of the API, its routes (with their route
responses), integrations (with their integration responses), authorizers and models as they
were. The data plane serves snapshots, never the live configuration. Stage-level settings
(variables, logging, throttling) belong to the stage and are not in the snapshot.

Auto-deploy: after any change to an API's configuration, each of its stages with ``AutoDeploy``
gets a new deployment (``AutoDeployed: true``) and says how that went in
``LastDeploymentStatusMessage``, as AWS does.
"""

from __future__ import annotations

from propylon.control.context import Call, Output, Params, new_id
from propylon.control.crud import Behaviour, Handler, Parents, Registry, ResourceSpec
from propylon.errors import BadRequestException
from propylon.store import Key, Record

# kind -> (id member, kind of its nested children or None)
SNAPSHOT_KINDS: dict[str, tuple[str, str | None]] = {
    "routes": ("RouteId", "routeresponses"),
    "integrations": ("IntegrationId", "integrationresponses"),
    "authorizers": ("AuthorizerId", None),
    "models": ("ModelId", None),
}
AUTO_DESCRIPTION = "Automatic deployment triggered by changes to the Api configuration"
NO_ROUTES = "Unable to deploy API because no routes exist in this API"
STAGE_IN_USE = "Active stages pointing to this deployment must be moved or deleted"


def snapshot(call: Call, api_key: Key) -> Record:
    """A copy of everything a stage serves from this API, as it is now."""
    taken: Record = {"Api": call.store.get(api_key)}
    for kind, (id_member, nested) in SNAPSHOT_KINDS.items():
        items = []
        for record in call.store.children(api_key, kind):
            entry = dict(record)
            if nested:
                child_key = api_key + (kind, record[id_member])
                entry["_" + nested] = call.store.children(child_key, nested)
            items.append(entry)
        taken[kind] = items
    return taken


def deploy(call: Call, api_key: Key, description: str | None, auto: bool) -> Record:
    """Take a snapshot and record it as a new deployment; refuse an API with no routes."""
    if not call.store.children(api_key, "routes"):
        raise BadRequestException(NO_ROUTES)
    deployment_id = new_id(6)
    record: Record = {
        "DeploymentId": deployment_id,
        "DeploymentStatus": "DEPLOYED",
        "CreatedDate": call.timestamp,
        "AutoDeployed": auto,
    }
    if description is not None:
        record["Description"] = description
    call.store.put(api_key + ("snapshots", deployment_id), snapshot(call, api_key))
    call.store.put(api_key + ("deployments", deployment_id), record)
    return record


def point_stage(call: Call, api_key: Key, stage: Record, deployment_id: str, **extra: str) -> None:
    updated = {**stage, "DeploymentId": deployment_id, "LastUpdatedDate": call.timestamp, **extra}
    call.store.put(api_key + ("stages", stage["StageName"]), updated)


def auto_deploy_stage(call: Call, api_key: Key, stage: Record) -> None:
    """Deploy the API to one auto-deploying stage, recording the outcome on the stage."""
    try:
        record = deploy(call, api_key, AUTO_DESCRIPTION, auto=True)
    except BadRequestException as exc:
        failed = {**stage, "LastDeploymentStatusMessage": f"Deployment attempt failed: {exc}"}
        call.store.put(api_key + ("stages", stage["StageName"]), failed)
        return
    deployment_id = record["DeploymentId"]
    message = f"Successfully deployed stage with deployment ID '{deployment_id}'"
    point_stage(call, api_key, stage, deployment_id, LastDeploymentStatusMessage=message)


def redeploy(call: Call, api_key: Key) -> None:
    """After a change to the API: a new deployment for every stage that auto-deploys."""
    if call.store.get(api_key) is None:
        return
    for stage in call.store.children(api_key, "stages"):
        if stage.get("AutoDeploy"):
            auto_deploy_stage(call, api_key, stage)


class Deployments(Behaviour):
    def delete(self, call: Call, spec: ResourceSpec, record: Record, parents: Parents) -> None:
        api_key = call.scope + ("apis", parents["apis"]["ApiId"])
        deployment_id = record["DeploymentId"]
        if any(
            s.get("DeploymentId") == deployment_id for s in call.store.children(api_key, "stages")
        ):
            raise BadRequestException(STAGE_IN_USE)
        call.store.delete(api_key + ("snapshots", deployment_id))


def handlers(registry: Registry) -> dict[str, Handler]:
    def create_deployment(call: Call, params: Params) -> Output:
        registry.find(call, "apis", params)
        api_key = call.scope + ("apis", params["ApiId"])
        stage = None
        if params.get("StageName") is not None:
            stage = registry.find(call, "stages", params)
        record = deploy(call, api_key, params.get("Description"), auto=False)
        if stage is not None:
            point_stage(call, api_key, stage, record["DeploymentId"])
        return record

    return {"CreateDeployment": create_deployment}
