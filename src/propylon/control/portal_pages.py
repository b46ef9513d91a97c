"""Product pages and product REST endpoint pages: the documentation a portal product shows.

A product page is a ``Title`` and a Markdown ``Body``; lists show its title as ``PageTitle``.

A product REST endpoint page documents one method of a REST API stage
(``RestEndpointIdentifier.IdentifierParts``: ``RestApiId``, ``Stage``, ``Method``, ``Path`` from
``/``). Its display content is either ``None`` (API Gateway's defaults) or ``Overrides`` of
``Body``, ``Endpoint`` and ``OperationName``. The defaults are AWS's: the ``Endpoint`` is the
stage's default execute-api URL, ``https://{restApiId}.execute-api.{region}.amazonaws.com/
{stage}``, and the ``OperationName`` the path (``GET /pets`` shows as ``/pets``); Propylon hosts
no REST APIs, so there is no imported documentation body. Try it is off (``TryItState``
DISABLED) until enabled. Nothing is imported in the background, so ``Status`` is AVAILABLE at
once. ``IncludeRawDisplayContent=true`` adds ``RawDisplayContent``, the Markdown body as given.

Both kinds of page live under their product (deleted with it); their ids are 10 lower-case
letters and digits and their ARNs carry the account. Deleting a page takes it out of the product's
display order.
"""

from __future__ import annotations

from typing import Any

from propylon.control.context import Call, Output, Params, new_id
from propylon.control.crud import Behaviour, Handler, Parents, Registry, ResourceSpec
from propylon.control.portal_products import (
    ID_LENGTH,
    PAGE_ARNS,
    PRODUCT,
    account_arn,
    check_owner,
    product_key,
    without_page,
)
from propylon.errors import BadRequestException
from propylon.store import Record

METHODS = frozenset({"GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS", "ANY"})
OVERRIDES = ("Body", "Endpoint", "OperationName")


def _page_arn(call: Call, product_id: str, kind: str, page_id: str) -> str:
    return account_arn(call, f"/portalproducts/{product_id}/{kind}/{page_id}")


class ProductPages(Behaviour):
    def create(self, call: Call, spec: ResourceSpec, params: Params, parents: Parents) -> Record:
        page_id = new_id(ID_LENGTH)
        product_id = parents["portalproducts"]["PortalProductId"]
        return {
            "ProductPageId": page_id,
            "ProductPageArn": _page_arn(call, product_id, spec.kind, page_id),
            "DisplayContent": params["DisplayContent"],
            "LastModified": call.timestamp,
        }

    def update(
        self, call: Call, spec: ResourceSpec, record: Record, params: Params, parents: Parents
    ) -> Record:
        updated = super().update(call, spec, record, params, parents)
        return {**updated, "LastModified": call.timestamp}

    def present(self, call: Call, record: Record, parents: Parents) -> Output:
        return {**record, "PageTitle": record["DisplayContent"]["Title"]}


def _overrides(display_content: dict[str, Any] | None) -> Record:
    """The stored overrides of a page's display content: {} for ``None`` or no content."""
    if not display_content:
        return {}
    given = [kind for kind in ("None", "Overrides") if display_content.get(kind) is not None]
    if len(given) != 1:
        raise BadRequestException("Display content takes exactly one of none and overrides")
    overrides: Record = display_content.get("Overrides") or {}
    return {name: overrides[name] for name in OVERRIDES if overrides.get(name)}


def _check_identifier(identifier: dict[str, Any]) -> None:
    parts = identifier.get("IdentifierParts")
    if parts is None:
        raise BadRequestException("The REST endpoint identifier requires identifierParts")
    if parts["Method"].upper() not in METHODS:
        raise BadRequestException(f"Invalid HTTP method specified: {parts['Method']}")
    if not parts["Path"].startswith("/"):
        raise BadRequestException(f"Invalid path specified: {parts['Path']}. It starts with /")


class RestEndpointPages(Behaviour):
    def create(self, call: Call, spec: ResourceSpec, params: Params, parents: Parents) -> Record:
        _check_identifier(params["RestEndpointIdentifier"])
        page_id = new_id(ID_LENGTH)
        product_id = parents["portalproducts"]["PortalProductId"]
        return {
            "ProductRestEndpointPageId": page_id,
            "ProductRestEndpointPageArn": _page_arn(call, product_id, spec.kind, page_id),
            "RestEndpointIdentifier": params["RestEndpointIdentifier"],
            "Overrides": _overrides(params.get("DisplayContent")),
            "TryItState": params.get("TryItState") or "DISABLED",
            "Status": "AVAILABLE",
            "LastModified": call.timestamp,
        }

    def update(
        self, call: Call, spec: ResourceSpec, record: Record, params: Params, parents: Parents
    ) -> Record:
        updated = {**record, "LastModified": call.timestamp}
        if params.get("DisplayContent") is not None:
            updated["Overrides"] = _overrides(params["DisplayContent"])
        if params.get("TryItState") is not None:
            updated["TryItState"] = params["TryItState"]
        return updated

    def present(self, call: Call, record: Record, parents: Parents) -> Output:
        parts = record["RestEndpointIdentifier"]["IdentifierParts"]
        defaults = {
            "Endpoint": f"https://{parts['RestApiId']}.execute-api.{call.region}.amazonaws.com/"
            f"{parts['Stage']}",
            "OperationName": parts["Path"],
        }
        content = {**defaults, **record["Overrides"]}
        # Get shows DisplayContent; list items show Endpoint and OperationName at the top level.
        summary = {name: content[name] for name in ("Endpoint", "OperationName")}
        return {**record, "DisplayContent": content, **summary}


PRODUCT_PAGE_SPEC = ResourceSpec(
    kind="productpages",
    path=(PRODUCT, ("productpages", "ProductPageId")),
    not_found="Invalid product page identifier specified {id}",
    id_length=ID_LENGTH,
    create="CreateProductPage",
    get="GetProductPage",
    list="ListProductPages",
    update="UpdateProductPage",
    delete="DeleteProductPage",
    behaviour=ProductPages(),
)
REST_ENDPOINT_PAGE_SPEC = ResourceSpec(
    kind="productrestendpointpages",
    path=(PRODUCT, ("productrestendpointpages", "ProductRestEndpointPageId")),
    not_found="Invalid product REST endpoint page identifier specified {id}",
    id_length=ID_LENGTH,
    create="CreateProductRestEndpointPage",
    get="GetProductRestEndpointPage",
    list="ListProductRestEndpointPages",
    update="UpdateProductRestEndpointPage",
    delete="DeleteProductRestEndpointPage",
    behaviour=RestEndpointPages(),
)
SPECS = (PRODUCT_PAGE_SPEC, REST_ENDPOINT_PAGE_SPEC)


def handlers(registry: Registry) -> dict[str, Handler]:
    """Reads check ``ResourceOwnerAccountId``; deletes also trim the product's display order."""
    table: dict[str, Handler] = {}

    def owned(generic: Handler) -> Handler:
        def read(call: Call, params: Params) -> Output | None:
            check_owner(call, params)
            return generic(call, params)

        return read

    def trimming(spec: ResourceSpec, generic: Handler) -> Handler:
        def delete(call: Call, params: Params) -> None:
            page = registry.find(call, spec.kind, params)
            generic(call, params)
            key = product_key(call, params["PortalProductId"])
            product = call.store.get(key)
            assert product is not None, "found with the page"
            order = without_page(product["DisplayOrder"], page[PAGE_ARNS[spec.kind]])
            call.store.put(key, {**product, "DisplayOrder": order})

        return delete

    for spec in SPECS:
        for operation in (spec.get, spec.list):
            assert operation is not None
            table[operation] = owned(registry.generic(operation))
        assert spec.delete is not None
        table[spec.delete] = trimming(spec, registry.generic(spec.delete))
    get_endpoint_page = table["GetProductRestEndpointPage"]

    def get_with_raw_content(call: Call, params: Params) -> Output | None:
        page = get_endpoint_page(call, params) or {}
        raw = str(params.get("IncludeRawDisplayContent", "")).lower() == "true"
        body = page["DisplayContent"].get("Body")
        return {**page, "RawDisplayContent": body} if raw and body else page

    table["GetProductRestEndpointPage"] = get_with_raw_content
    return table
