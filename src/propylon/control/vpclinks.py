"""VPC links (version V2): private-integration links, account- and region-wide, taggable.

How the status lifecycle is modelled. On AWS a new VPC link is ``PENDING`` ("VPC link is
provisioning ENIs") while network interfaces are created, then ``AVAILABLE`` ("VPC link is ready
to route traffic"); deleting it passes through ``DELETING``. Propylon creates no network
interfaces, so provisioning takes no time: ``CreateVpcLink`` answers ``PENDING`` exactly as AWS
does at that moment, and the stored link is already ``AVAILABLE``, so the first read (and every
later one) says ``AVAILABLE``. Tools that wait for ``AVAILABLE`` after creating (Terraform, the
CDK) therefore finish on their first poll, and nothing depends on a clock. ``DeleteVpcLink``
answers 202 as the model says and the link is gone at once, so no read ever sees ``DELETING``.

Only ``Name`` can change after creation; subnets and security groups are fixed, as on AWS. A
link that an integration still uses (``ConnectionType`` VPC_LINK, ``ConnectionId``) cannot be
deleted.
"""

from __future__ import annotations

from propylon.control.context import Call, Output, Params
from propylon.control.crud import Behaviour, Handler, Parents, Registry, ResourceSpec
from propylon.control.tags import check_tags
from propylon.errors import BadRequestException
from propylon.store import Record

VERSION = "V2"
PROVISIONING = ("PENDING", "VPC link is provisioning ENIs")
READY = ("AVAILABLE", "VPC link is ready to route traffic")


def _user(call: Call, vpc_link_id: str) -> tuple[str, str] | None:
    """(api id, integration id) of an integration that still uses the link, if any."""
    for api in call.store.children(call.scope, "apis"):
        api_key = call.scope + ("apis", api["ApiId"])
        for integration in call.store.children(api_key, "integrations"):
            if (
                integration.get("ConnectionType") == "VPC_LINK"
                and integration.get("ConnectionId") == vpc_link_id
            ):
                return api["ApiId"], integration["IntegrationId"]
    return None


class VpcLinks(Behaviour):
    def create(self, call: Call, spec: ResourceSpec, params: Params, parents: Parents) -> Record:
        if not params["SubnetIds"]:
            raise BadRequestException("SubnetIds must name at least one subnet")
        check_tags(params.get("Tags"))
        record = super().create(call, spec, params, parents)
        status, message = READY
        return {
            "SecurityGroupIds": [],
            "Tags": {},
            **record,
            "CreatedDate": call.timestamp,
            "VpcLinkStatus": status,
            "VpcLinkStatusMessage": message,
            "VpcLinkVersion": VERSION,
        }

    def delete(self, call: Call, spec: ResourceSpec, record: Record, parents: Parents) -> None:
        user = _user(call, record["VpcLinkId"])
        if user is not None:
            api_id, integration_id = user
            raise BadRequestException(
                f"Cannot delete vpc link. Vpc link '{record['VpcLinkId']}', is referenced in "
                f"integration {integration_id} of API {api_id}"
            )


SPECS: tuple[ResourceSpec, ...] = (
    ResourceSpec(
        kind="vpclinks",
        path=(("vpclinks", "VpcLinkId"),),
        not_found="Invalid VpcLink identifier specified {id}",
        id_length=6,
        create="CreateVpcLink",
        get="GetVpcLink",
        list="GetVpcLinks",
        update="UpdateVpcLink",
        delete="DeleteVpcLink",
        behaviour=VpcLinks(),
    ),
)


def handlers(registry: Registry) -> dict[str, Handler]:
    create_generic = registry.generic("CreateVpcLink")

    def create_vpc_link(call: Call, params: Params) -> Output:
        link = create_generic(call, params) or {}
        status, message = PROVISIONING
        return {**link, "VpcLinkStatus": status, "VpcLinkStatusMessage": message}

    return {"CreateVpcLink": create_vpc_link}
