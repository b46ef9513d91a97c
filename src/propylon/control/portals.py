"""Portals: developer portals of portal products, their publication and their preview.

A portal has an ``Authorization`` (exactly one of ``CognitoConfig``, with a user pool of the
portal's region, and ``None``), an ``EndpointConfiguration`` (exactly one of ``AcmManaged``, a
domain name with an ACM certificate of us-east-1 as CloudFront requires, and ``None``), its
content and theme, the portal products it includes (ARNs; those of this account must exist) and
an optional logo (an ``s3://`` URI of a .svg, .png or .jpg; the theme's ``LogoLastUploaded`` is
when it was last set). Whatever the endpoint configuration, AWS gives each portal the default
domain ``p-{portalId}.apigw-portal.{region}.on.aws``, served through CloudFront (hosted zone
Z2FDTNDATAQYW2). Ids are 10 lower-case letters and digits; ARNs carry the account.

Publication, as AWS's documentation describes it: a new portal is DISABLED (not on the web).
PublishPortal publishes it, DisablePortal takes it off the web (DISABLED again), and only a portal
that is not published can be deleted (BadRequest otherwise). On AWS publishing runs in the
background (PUBLISH_IN_PROGRESS, then PUBLISHED or PUBLISH_FAILED with a ``StatusException``) while
the call answers 202. Propylon renders no portal pages, so there is nothing to wait for: the work
is done before the 202 answer and the next read shows PUBLISHED, with ``LastPublished`` and the
call's ``Description`` as ``LastPublishedDescription``. Clients that poll for PUBLISHED, as AWS
advises, see it on their first poll; no other state is ever shown. Disabling a portal that is not
published changes nothing. PreviewPortal likewise answers 202 with the preview ready:
``Preview.PreviewStatus`` PREVIEW_READY and a ``PreviewUrl`` on the portal's default domain.
Changes to a published portal stay PUBLISHED; as on AWS, they show once republished.
"""

from __future__ import annotations

import re
from typing import Any

from propylon.control import portal_pages, portal_products
from propylon.control.context import Call, Output, Params, new_id
from propylon.control.crud import Behaviour, Handler, Parents, Registry, ResourceSpec
from propylon.control.domain_names import check_certificate, check_host_name
from propylon.control.portal_products import ID_LENGTH, account_arn, check_product_arn
from propylon.control.tags import check_tags
from propylon.errors import BadRequestException
from propylon.store import Record

PORTAL = ("portals", "PortalId")
CLOUDFRONT_HOSTED_ZONE = "Z2FDTNDATAQYW2"
CERTIFICATE_REGION = "us-east-1"  # CloudFront takes certificates from us-east-1 only
_USER_POOL = re.compile(
    r"arn:aws[a-z-]*:cognito-idp:(?P<region>[a-z0-9-]+):\d{12}:userpool/[a-z0-9-]+_[A-Za-z0-9]+"
)
_LOGO = re.compile(r"s3://[a-z0-9][a-z0-9.\-]{1,61}[a-z0-9]/\S+\.(svg|png|jpg)", re.IGNORECASE)


def _one_of(value: dict[str, Any], names: tuple[str, str], what: str) -> str:
    given = [name for name in names if value.get(name) is not None]
    if len(given) != 1:
        raise BadRequestException(f"{what} takes exactly one of {names[0]} and {names[1]}")
    return given[0]


def _check_authorization(call: Call, authorization: dict[str, Any]) -> None:
    if _one_of(authorization, ("CognitoConfig", "None"), "Authorization") == "None":
        return
    pool = authorization["CognitoConfig"]["UserPoolArn"]
    match = _USER_POOL.fullmatch(pool)
    if match is None or match["region"] != call.region:
        raise BadRequestException(
            f"Invalid user pool ARN specified: {pool}. Use a user pool in {call.region}"
        )


def _endpoint(call: Call, portal_id: str, request: dict[str, Any]) -> Record:
    """The endpoint configuration AWS answers with, from the one a request gives."""
    endpoint: Record = {
        "PortalDefaultDomainName": f"p-{portal_id}.apigw-portal.{call.region}.on.aws",
        "PortalDomainHostedZoneId": CLOUDFRONT_HOSTED_ZONE,
    }
    if _one_of(request, ("AcmManaged", "None"), "EndpointConfiguration") == "AcmManaged":
        managed = request["AcmManaged"]
        check_host_name(managed["DomainName"])
        check_certificate(managed["CertificateArn"], CERTIFICATE_REGION)
        endpoint |= {
            "DomainName": managed["DomainName"],
            "CertificateArn": managed["CertificateArn"],
        }
    return endpoint


def _with_logo(call: Call, record: Record, uri: str | None) -> Record:
    if uri is None:
        return record
    updated = {k: v for k, v in record.items() if k not in ("LogoUri", "LogoLastUploaded")}
    if uri == "":
        return updated
    if not _LOGO.fullmatch(uri):
        raise BadRequestException(
            f"Invalid logo URI specified: {uri}. Use an Amazon S3 URI of a .svg, .png or .jpg"
        )
    return {**updated, "LogoUri": uri, "LogoLastUploaded": call.timestamp}


def _apply(call: Call, record: Record, params: Params) -> Record:
    """``record`` with what ``params`` set, each member checked."""
    updated = dict(record)
    if params.get("Authorization") is not None:
        _check_authorization(call, params["Authorization"])
        updated["Authorization"] = params["Authorization"]
    if params.get("EndpointConfiguration") is not None:
        updated["EndpointConfiguration"] = _endpoint(
            call, record["PortalId"], params["EndpointConfiguration"]
        )
    if params.get("IncludedPortalProductArns") is not None:
        for arn in params["IncludedPortalProductArns"]:
            check_product_arn(call, arn)
        updated["IncludedPortalProductArns"] = params["IncludedPortalProductArns"]
    for name in ("PortalContent", "RumAppMonitorName"):
        if params.get(name) is not None:
            updated[name] = params[name]
    updated = _with_logo(call, updated, params.get("LogoUri"))
    return {**updated, "LastModified": call.timestamp}


class Portals(Behaviour):
    def create(self, call: Call, spec: ResourceSpec, params: Params, parents: Parents) -> Record:
        check_tags(params.get("Tags"))
        portal_id = new_id(ID_LENGTH)
        record: Record = {
            "PortalId": portal_id,
            "PortalArn": account_arn(call, f"/portals/{portal_id}"),
            "IncludedPortalProductArns": [],
            "PublishStatus": "DISABLED",
            "Tags": params.get("Tags") or {},
        }
        return _apply(call, record, params)

    def update(
        self, call: Call, spec: ResourceSpec, record: Record, params: Params, parents: Parents
    ) -> Record:
        return _apply(call, record, params)

    def delete(self, call: Call, spec: ResourceSpec, record: Record, parents: Parents) -> None:
        if record["PublishStatus"] == "PUBLISHED":
            raise BadRequestException("A published portal must be disabled before it is deleted")

    def present(self, call: Call, record: Record, parents: Parents) -> Output:
        if not record.get("LogoLastUploaded"):
            return record
        content = record["PortalContent"]
        theme = {**content["Theme"], "LogoLastUploaded": record["LogoLastUploaded"]}
        return {**record, "PortalContent": {**content, "Theme": theme}}


PORTAL_SPEC = ResourceSpec(
    kind="portals",
    path=(PORTAL,),
    not_found="Invalid portal identifier specified {id}",
    id_length=ID_LENGTH,
    create="CreatePortal",
    get="GetPortal",
    list="ListPortals",
    update="UpdatePortal",
    delete="DeletePortal",
    behaviour=Portals(),
)
SPECS: tuple[ResourceSpec, ...] = (
    PORTAL_SPEC,
    portal_products.PRODUCT_SPEC,
    *portal_pages.SPECS,
)


def _publication(registry: Registry) -> dict[str, Handler]:
    def change(call: Call, params: Params, changes: Record, dropped: tuple[str, ...]) -> None:
        portal = registry.find(call, "portals", params)
        kept = {k: v for k, v in portal.items() if k not in dropped}
        call.store.put(PORTAL_SPEC.key(call, params), {**kept, **changes})

    def publish_portal(call: Call, params: Params) -> Output:
        changes: Record = {"PublishStatus": "PUBLISHED", "LastPublished": call.timestamp}
        if params.get("Description") is not None:
            changes["LastPublishedDescription"] = params["Description"]
        change(call, params, changes, ("StatusException", "LastPublishedDescription"))
        return {}

    def disable_portal(call: Call, params: Params) -> None:
        change(call, params, {"PublishStatus": "DISABLED"}, ("StatusException",))

    def preview_portal(call: Call, params: Params) -> Output:
        domain = f"p-{params['PortalId']}.apigw-portal.{call.region}.on.aws"
        url = f"https://{domain}/preview/{new_id(32)}"
        change(call, params, {"Preview": {"PreviewStatus": "PREVIEW_READY", "PreviewUrl": url}}, ())
        return {}

    return {
        "PublishPortal": publish_portal,
        "DisablePortal": disable_portal,
        "PreviewPortal": preview_portal,
    }


def handlers(registry: Registry) -> dict[str, Handler]:
    return {
        **_publication(registry),
        **portal_products.handlers(registry),
        **portal_pages.handlers(registry),
    }
