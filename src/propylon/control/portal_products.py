"""Portal products: what a portal publishes, the order its pages show in, and who may use it.

A product has a ``DisplayName``, a ``Description`` ("" unless given) and a ``DisplayOrder``: the
product pages it lists, its overview page, and sections of product REST endpoint pages. Pages are
drafts until the display order names them, so every ARN there must be a page of this product
(BadRequest otherwise); deleting a page takes it out of the display order. Deleting a product
takes it out of the account's portals (``IncludedPortalProductArns``): the portals stop showing it
once republished, as AWS describes.

Identifiers are 10 lower-case letters and digits (the model's minimum length); ARNs carry the
account, as AWS's do: ``arn:aws:apigateway:{region}:{account}:/portalproducts/{id}``.

The sharing policy is a JSON policy document (PutPortalProductSharingPolicy checks it parses as a
JSON object). A product never shared has none: Get and Delete answer NotFound. Propylon has one
account, so nothing is ever shared with the caller: ``ListPortalProducts`` with
``ResourceOwner=OTHER`` lists nothing, and a ``ResourceOwnerAccountId`` other than the caller's
finds nothing.
"""

from __future__ import annotations

import json
import re
from typing import Any

from propylon.control.arns import account_resource_arn
from propylon.control.context import Call, Output, Params, new_id
from propylon.control.crud import Behaviour, Handler, Parents, Registry, ResourceSpec
from propylon.control.pagination import paginate
from propylon.control.tags import check_tags
from propylon.errors import BadRequestException, NotFoundException
from propylon.store import Key, Record

PRODUCT = ("portalproducts", "PortalProductId")
ID_LENGTH = 10
NOT_FOUND = "Invalid portal product identifier specified {id}"
POLICY = ("sharingpolicy", "current")  # the single sharing-policy record under a product
PAGE_ARNS = {
    "productpages": "ProductPageArn",
    "productrestendpointpages": "ProductRestEndpointPageArn",
}
RESOURCE_OWNERS = ("SELF", "OTHER")
_PRODUCT_ARN = re.compile(
    r"arn:aws[a-z-]*:apigateway:(?P<region>[a-z0-9-]+):(?P<account>\d{12}):"
    r"/portalproducts/(?P<id>[a-z0-9]+)"
)


def account_arn(call: Call, path: str) -> str:
    """``arn:aws:apigateway:{region}:{account}:{path}``, the form of portal resources' ARNs."""
    return account_resource_arn(call.region, call.account, path)


def product_key(call: Call, product_id: str) -> Key:
    return call.scope + ("portalproducts", product_id)


def check_product_arn(call: Call, arn: str) -> None:
    """A portal product ARN; one of this account and region must name an existing product."""
    match = _PRODUCT_ARN.fullmatch(arn)
    if match is None:
        raise BadRequestException(f"Invalid portal product ARN specified: {arn}")
    mine = match["account"] == call.account and match["region"] == call.region
    if mine and call.store.get(product_key(call, match["id"])) is None:
        raise BadRequestException(f"The portal product {arn} does not exist")


def check_owner(call: Call, params: Params) -> None:
    """Products of other accounts are never visible here: NotFound, as for a missing product."""
    owner = params.get("ResourceOwnerAccountId")
    if owner is not None and owner != call.account:
        raise NotFoundException(NOT_FOUND.format(id=params["PortalProductId"]))


def _page_arns(call: Call, product_id: str, kind: str) -> set[str]:
    pages = call.store.children(product_key(call, product_id), kind)
    return {page[PAGE_ARNS[kind]] for page in pages}


def _check_display_order(call: Call, product_id: str, order: dict[str, Any]) -> None:
    pages = _page_arns(call, product_id, "productpages")
    endpoints = _page_arns(call, product_id, "productrestendpointpages")
    named = [*order.get("ProductPageArns", []), *filter(None, [order.get("OverviewPageArn")])]
    sections = [arn for s in order.get("Contents", []) for arn in s["ProductRestEndpointPageArns"]]
    missing = [arn for arn in named if arn not in pages]
    missing += [arn for arn in sections if arn not in endpoints]
    if missing:
        raise BadRequestException(
            f"The display order names {missing[0]}, which is not a page of portal product "
            f"{product_id}"
        )


def _drop(arns: list[str], arn: str) -> list[str]:
    return [kept for kept in arns if kept != arn]


def without_page(order: dict[str, Any], arn: str) -> dict[str, Any]:
    """``order`` with the page ``arn`` taken out of every place it appears."""
    sections = [
        {
            **section,
            "ProductRestEndpointPageArns": _drop(section["ProductRestEndpointPageArns"], arn),
        }
        for section in order.get("Contents", [])
    ]
    pages = _drop(order.get("ProductPageArns", []), arn)
    trimmed: dict[str, Any] = {**order, "ProductPageArns": pages, "Contents": sections}
    if trimmed.get("OverviewPageArn") == arn:
        del trimmed["OverviewPageArn"]
    return trimmed


class PortalProducts(Behaviour):
    def create(self, call: Call, spec: ResourceSpec, params: Params, parents: Parents) -> Record:
        check_tags(params.get("Tags"))
        product_id = new_id(ID_LENGTH)
        return {
            "PortalProductId": product_id,
            "PortalProductArn": account_arn(call, f"/portalproducts/{product_id}"),
            "DisplayName": params["DisplayName"],
            "Description": params.get("Description") or "",
            "DisplayOrder": {"Contents": [], "ProductPageArns": []},
            "LastModified": call.timestamp,
            "Tags": params.get("Tags") or {},
        }

    def update(
        self, call: Call, spec: ResourceSpec, record: Record, params: Params, parents: Parents
    ) -> Record:
        if params.get("DisplayOrder") is not None:
            _check_display_order(call, record["PortalProductId"], params["DisplayOrder"])
        updated = super().update(call, spec, record, params, parents)
        return {**updated, "LastModified": call.timestamp}


PRODUCT_SPEC = ResourceSpec(
    kind="portalproducts",
    path=(PRODUCT,),
    not_found=NOT_FOUND,
    id_length=ID_LENGTH,
    create="CreatePortalProduct",
    get="GetPortalProduct",
    list="ListPortalProducts",
    update="UpdatePortalProduct",
    delete="DeletePortalProduct",
    behaviour=PortalProducts(),
)


def _drop_from_portals(call: Call, arn: str) -> None:
    for portal in call.store.children(call.scope, "portals"):
        included = portal.get("IncludedPortalProductArns") or []
        if arn in included:
            kept = [a for a in included if a != arn]
            key = call.scope + ("portals", portal["PortalId"])
            call.store.put(key, {**portal, "IncludedPortalProductArns": kept})


def _policy_document(text: str) -> str:
    try:
        document = json.loads(text)
    except ValueError:
        document = None
    if not isinstance(document, dict):
        raise BadRequestException("Invalid policy document: it must be a JSON object")
    return text


def handlers(registry: Registry) -> dict[str, Handler]:
    get = registry.generic("GetPortalProduct")
    list_ = registry.generic("ListPortalProducts")
    delete = registry.generic("DeletePortalProduct")

    def policy_key(call: Call, params: Params) -> Key:
        product = registry.find(call, "portalproducts", params)
        return product_key(call, product["PortalProductId"]) + POLICY

    def existing_policy(call: Call, params: Params) -> tuple[Key, Record]:
        key = policy_key(call, params)
        policy = call.store.get(key)
        if policy is None:
            raise NotFoundException(
                f"Portal product {params['PortalProductId']} has no sharing policy"
            )
        return key, policy

    def put_policy(call: Call, params: Params) -> Output:
        document = _policy_document(params["PolicyDocument"])
        call.store.put(policy_key(call, params), {"PolicyDocument": document})
        return {}

    def get_policy(call: Call, params: Params) -> Output:
        _, policy = existing_policy(call, params)
        return {
            "PolicyDocument": policy["PolicyDocument"],
            "PortalProductId": params["PortalProductId"],
        }

    def delete_policy(call: Call, params: Params) -> None:
        key, _ = existing_policy(call, params)
        call.store.delete(key)

    def get_product(call: Call, params: Params) -> Output | None:
        check_owner(call, params)
        return get(call, params)

    def delete_product(call: Call, params: Params) -> None:
        product = registry.find(call, "portalproducts", params)
        delete(call, params)
        _drop_from_portals(call, product["PortalProductArn"])

    def list_products(call: Call, params: Params) -> Output | None:
        owner = params.get("ResourceOwner") or "SELF"
        if owner not in RESOURCE_OWNERS:
            raise BadRequestException(f"Invalid ResourceOwner {owner}: use SELF or OTHER")
        return list_(call, params) if owner == "SELF" else paginate([], params)

    return {
        "PutPortalProductSharingPolicy": put_policy,
        "GetPortalProductSharingPolicy": get_policy,
        "DeletePortalProductSharingPolicy": delete_policy,
        "GetPortalProduct": get_product,
        "DeletePortalProduct": delete_product,
        "ListPortalProducts": list_products,
    }
