"""The resource table: every resource the generic CRUD path serves, and its specific rules."""

from __future__ import annotations

from propylon.control import (
    apis,
    authorizers,
    deployments,
    domains,
    models,
    openapi,
    portals,
    responses,
    routes,
    stages,
    tags,
    vpclinks,
)
from propylon.control.crud import Handler, Registry, ResourceSpec
from propylon.control.deployments import Deployments
from propylon.control.integrations import Integrations

API = ("apis", "ApiId")

CORE_SPECS = (
    ResourceSpec(
        kind="apis",
        path=(API,),
        not_found="Invalid API identifier specified {account}:{id}",
        id_length=10,
        create="CreateApi",
        get="GetApi",
        list="GetApis",
        update="UpdateApi",
        delete="DeleteApi",
        behaviour=apis.Apis(),
        deploys=True,
    ),
    ResourceSpec(
        kind="routes",
        path=(API, ("routes", "RouteId")),
        not_found="Invalid Route identifier specified {id}",
        id_length=7,
        create="CreateRoute",
        get="GetRoute",
        list="GetRoutes",
        update="UpdateRoute",
        delete="DeleteRoute",
        behaviour=routes.Routes(),
        deploys=True,
    ),
    ResourceSpec(
        kind="integrations",
        path=(API, ("integrations", "IntegrationId")),
        not_found="Invalid Integration identifier specified {id}",
        id_length=7,
        create="CreateIntegration",
        get="GetIntegration",
        list="GetIntegrations",
        update="UpdateIntegration",
        delete="DeleteIntegration",
        behaviour=Integrations(),
        deploys=True,
    ),
    ResourceSpec(
        kind="stages",
        path=(API, ("stages", "StageName")),
        not_found="Invalid stage identifier specified {id}",
        create="CreateStage",
        get="GetStage",
        list="GetStages",
        update="UpdateStage",
        delete="DeleteStage",
        behaviour=stages.Stages(),
        conflict="Stage {id} already exists",
    ),
    ResourceSpec(
        kind="deployments",
        path=(API, ("deployments", "DeploymentId")),
        not_found="Invalid Deployment identifier specified {id}",
        id_length=6,
        get="GetDeployment",
        list="GetDeployments",
        update="UpdateDeployment",
        delete="DeleteDeployment",
        behaviour=Deployments(),
    ),
)


# Modules with their own resources (``SPECS``) and specific handlers (``handlers(registry)``).
MODULES = (authorizers, models, responses, vpclinks, domains, portals, openapi)
SPECS = CORE_SPECS + tuple(spec for module in MODULES for spec in module.SPECS)


def build_handlers() -> dict[str, Handler]:
    """Every implemented operation's handler: the generic ones, then the specific ones."""
    registry = Registry(SPECS, deployments.redeploy)
    table = registry.handlers()
    for module in (apis, routes, stages, deployments, *MODULES):
        table.update(module.handlers(registry))
    table.update(tags.handlers())
    return table
