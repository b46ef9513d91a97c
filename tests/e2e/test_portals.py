"""Portals, portal products, product pages, product REST endpoint pages and sharing policies."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.helpers import status

ACCOUNT = "000000000000"
COLORS = ("Accent", "Background", "ErrorValidation", "Header", "Navigation", "Text")
CONTENT = {
    "DisplayName": "Pet store",
    "Theme": {"CustomColors": {f"{name}Color": "#123456" for name in COLORS}},
}
CERTIFICATE = "arn:aws:acm:us-east-1:000000000000:certificate/1234abcd-12ab-34cd-56ef-1234567890ab"
USER_POOL = "arn:aws:cognito-idp:us-east-1:000000000000:userpool/us-east-1_AbCdEf123"
COGNITO = {
    "AppClientId": "client123",
    "UserPoolArn": USER_POOL,
    "UserPoolDomain": "https://pets.auth.us-east-1.amazoncognito.com",
}
ENDPOINT = {
    "IdentifierParts": {"Method": "GET", "Path": "/pets", "RestApiId": "a1b2c3", "Stage": "prod"}
}
POLICY = json.dumps({"Version": "2012-10-17", "Statement": []})


def error(caught: pytest.ExceptionInfo[ClientError]) -> tuple[str, int]:
    response: Any = caught.value.response
    return response["Error"]["Code"], response["ResponseMetadata"]["HTTPStatusCode"]


def make_portal(client: Any, **extra: Any) -> dict[str, Any]:
    args = {
        "Authorization": {"None": {}},
        "EndpointConfiguration": {"None": {}},
        "PortalContent": CONTENT,
        **extra,
    }
    portal: dict[str, Any] = client.create_portal(**args)
    return portal


@pytest.fixture
def product(client: Any) -> dict[str, Any]:
    created: dict[str, Any] = client.create_portal_product(DisplayName="Pets")
    return created


def make_page(client: Any, product_id: str, title: str = "Getting started") -> dict[str, Any]:
    page: dict[str, Any] = client.create_product_page(
        PortalProductId=product_id, DisplayContent={"Title": title, "Body": "# Hello"}
    )
    return page


def make_endpoint_page(client: Any, product_id: str, **extra: Any) -> dict[str, Any]:
    page: dict[str, Any] = client.create_product_rest_endpoint_page(
        PortalProductId=product_id, RestEndpointIdentifier=ENDPOINT, **extra
    )
    return page


# Portals


def test_create_portal_answers_201_disabled_on_the_default_domain(client: Any) -> None:
    portal = make_portal(client, Tags={"team": "pets"})
    assert status(portal) == 201
    portal_id = portal["PortalId"]
    assert re.fullmatch(r"[a-z0-9]{10}", portal_id)
    assert portal["PortalArn"] == f"arn:aws:apigateway:us-east-1:{ACCOUNT}:/portals/{portal_id}"
    assert portal["PublishStatus"] == "DISABLED"
    assert portal["EndpointConfiguration"] == {
        "PortalDefaultDomainName": f"p-{portal_id}.apigw-portal.us-east-1.on.aws",
        "PortalDomainHostedZoneId": "Z2FDTNDATAQYW2",
    }
    assert portal["Authorization"] == {"None": {}}
    assert portal["PortalContent"] == CONTENT
    assert portal["IncludedPortalProductArns"] == []
    assert portal["Tags"] == {"team": "pets"}
    assert portal["LastModified"]
    assert "LastPublished" not in portal
    assert "Preview" not in portal


def test_a_custom_domain_and_cognito_are_kept(client: Any) -> None:
    portal = make_portal(
        client,
        Authorization={"CognitoConfig": COGNITO},
        EndpointConfiguration={
            "AcmManaged": {"DomainName": "portal.example.com", "CertificateArn": CERTIFICATE}
        },
    )
    assert portal["Authorization"] == {"CognitoConfig": COGNITO}
    endpoint = portal["EndpointConfiguration"]
    assert endpoint["DomainName"] == "portal.example.com"
    assert endpoint["CertificateArn"] == CERTIFICATE
    assert endpoint["PortalDefaultDomainName"].endswith(".apigw-portal.us-east-1.on.aws")


FOREIGN_POOL = {**COGNITO, "UserPoolArn": USER_POOL.replace(":us-east-1:", ":eu-west-1:")}
FOREIGN_CERTIFICATE = {
    "DomainName": "portal.example.com",
    "CertificateArn": CERTIFICATE.replace("us-east-1", "eu-west-1"),
}
MISSING_PRODUCT = f"arn:aws:apigateway:us-east-1:{ACCOUNT}:/portalproducts/nope123456"


@pytest.mark.parametrize(
    "extra",
    [
        pytest.param({"Authorization": {}}, id="no-authorization"),
        pytest.param({"Authorization": {"None": {}, "CognitoConfig": COGNITO}}, id="two-kinds"),
        pytest.param({"Authorization": {"CognitoConfig": FOREIGN_POOL}}, id="foreign-pool"),
        pytest.param({"EndpointConfiguration": {}}, id="no-endpoint"),
        pytest.param(
            {"EndpointConfiguration": {"AcmManaged": FOREIGN_CERTIFICATE}},
            id="certificate-outside-us-east-1",
        ),
        pytest.param({"LogoUri": "https://example.com/logo.png"}, id="logo-not-on-s3"),
        pytest.param({"LogoUri": "s3://bucket/logo.gif"}, id="logo-not-an-image"),
        pytest.param({"IncludedPortalProductArns": [MISSING_PRODUCT]}, id="missing-product"),
        pytest.param(
            {"IncludedPortalProductArns": ["arn:aws:s3:::bucket/key-123"]}, id="not-a-product"
        ),
    ],
)
def test_create_portal_refuses_bad_settings(client: Any, extra: dict[str, Any]) -> None:
    with pytest.raises(ClientError) as caught:
        make_portal(client, **extra)
    assert error(caught) == ("BadRequestException", 400)


def test_a_logo_sets_when_it_was_uploaded(client: Any) -> None:
    portal = make_portal(client, LogoUri="s3://pets-assets/logo.svg")
    assert portal["PortalContent"]["Theme"]["LogoLastUploaded"]
    removed = client.update_portal(PortalId=portal["PortalId"], LogoUri="")
    assert "LogoLastUploaded" not in removed["PortalContent"]["Theme"]


def test_included_products_of_this_account_must_exist(client: Any, product: dict[str, Any]) -> None:
    portal = make_portal(client, IncludedPortalProductArns=[product["PortalProductArn"]])
    assert portal["IncludedPortalProductArns"] == [product["PortalProductArn"]]


def test_get_list_and_update_portals(client: Any) -> None:
    first = make_portal(client)
    make_portal(client)
    got = client.get_portal(PortalId=first["PortalId"])
    assert status(got) == 200
    assert got["PortalArn"] == first["PortalArn"]
    listed = client.list_portals(MaxResults="1")
    assert [p["PortalId"] for p in listed["Items"]] == [first["PortalId"]]
    assert len(client.list_portals(NextToken=listed["NextToken"])["Items"]) == 1
    content = {**CONTENT, "DisplayName": "Pet shop", "Description": "All about pets"}
    updated = client.update_portal(PortalId=first["PortalId"], PortalContent=content)
    assert status(updated) == 200
    assert updated["PortalContent"] == content
    assert updated["EndpointConfiguration"] == first["EndpointConfiguration"]


@pytest.mark.parametrize(
    "call",
    [
        lambda c: c.get_portal(PortalId="nope123456"),
        lambda c: c.update_portal(PortalId="nope123456", RumAppMonitorName="m"),
        lambda c: c.delete_portal(PortalId="nope123456"),
        lambda c: c.publish_portal(PortalId="nope123456"),
        lambda c: c.disable_portal(PortalId="nope123456"),
        lambda c: c.preview_portal(PortalId="nope123456"),
    ],
)
def test_a_missing_portal_is_not_found(client: Any, call: Any) -> None:
    with pytest.raises(ClientError) as caught:
        call(client)
    assert error(caught) == ("NotFoundException", 404)


def test_publish_then_disable_then_delete(client: Any) -> None:
    portal_id = make_portal(client)["PortalId"]
    assert status(client.publish_portal(PortalId=portal_id, Description="First release")) == 202
    published = client.get_portal(PortalId=portal_id)
    assert published["PublishStatus"] == "PUBLISHED"
    assert published["LastPublished"]
    assert published["LastPublishedDescription"] == "First release"
    with pytest.raises(ClientError) as caught:
        client.delete_portal(PortalId=portal_id)
    assert error(caught) == ("BadRequestException", 400)
    assert status(client.disable_portal(PortalId=portal_id)) == 204
    disabled = client.get_portal(PortalId=portal_id)
    assert disabled["PublishStatus"] == "DISABLED"
    assert disabled["LastPublished"] == published["LastPublished"]
    assert status(client.delete_portal(PortalId=portal_id)) == 204
    assert client.list_portals()["Items"] == []


def test_republishing_without_a_description_clears_the_old_one(client: Any) -> None:
    portal_id = make_portal(client)["PortalId"]
    client.publish_portal(PortalId=portal_id, Description="First release")
    client.publish_portal(PortalId=portal_id)
    assert "LastPublishedDescription" not in client.get_portal(PortalId=portal_id)


def test_disabling_a_portal_never_published_changes_nothing(client: Any) -> None:
    portal_id = make_portal(client)["PortalId"]
    assert status(client.disable_portal(PortalId=portal_id)) == 204
    assert client.get_portal(PortalId=portal_id)["PublishStatus"] == "DISABLED"


def test_preview_is_ready_at_once(client: Any) -> None:
    portal_id = make_portal(client)["PortalId"]
    assert status(client.preview_portal(PortalId=portal_id)) == 202
    preview = client.get_portal(PortalId=portal_id)["Preview"]
    assert preview["PreviewStatus"] == "PREVIEW_READY"
    assert preview["PreviewUrl"].startswith(f"https://p-{portal_id}.apigw-portal.us-east-1.on.aws/")


def test_tags_on_portals_and_products(client: Any, product: dict[str, Any]) -> None:
    portal = make_portal(client)
    portal_id = portal["PortalId"]
    # TagResource takes the ARNs the resources report, which name the account.
    for arn in (portal["PortalArn"], product["PortalProductArn"]):
        assert status(client.tag_resource(ResourceArn=arn, Tags={"team": "pets"})) == 201
        assert client.get_tags(ResourceArn=arn)["Tags"] == {"team": "pets"}
    assert client.get_portal(PortalId=portal_id)["Tags"] == {"team": "pets"}
    got = client.get_portal_product(PortalProductId=product["PortalProductId"])
    assert got["Tags"] == {"team": "pets"}


def test_tags_refuse_another_accounts_portal_arn(client: Any) -> None:
    portal_id = make_portal(client)["PortalId"]
    arn = f"arn:aws:apigateway:us-east-1:111122223333:/portals/{portal_id}"
    with pytest.raises(client.exceptions.NotFoundException):
        client.get_tags(ResourceArn=arn)


# Portal products


def test_create_portal_product_answers_201_with_defaults(client: Any) -> None:
    product = client.create_portal_product(DisplayName="Pets", Tags={"team": "pets"})
    assert status(product) == 201
    product_id = product["PortalProductId"]
    assert re.fullmatch(r"[a-z0-9]{10}", product_id)
    assert product["PortalProductArn"] == (
        f"arn:aws:apigateway:us-east-1:{ACCOUNT}:/portalproducts/{product_id}"
    )
    assert product["Description"] == ""
    assert product["DisplayOrder"] == {"Contents": [], "ProductPageArns": []}
    assert product["Tags"] == {"team": "pets"}
    assert product["LastModified"]


def test_get_list_and_update_products(client: Any, product: dict[str, Any]) -> None:
    product_id = product["PortalProductId"]
    assert client.get_portal_product(PortalProductId=product_id)["DisplayName"] == "Pets"
    listed = client.list_portal_products()
    assert [p["PortalProductId"] for p in listed["Items"]] == [product_id]
    assert client.list_portal_products(ResourceOwner="OTHER")["Items"] == []
    updated = client.update_portal_product(
        PortalProductId=product_id, DisplayName="Pet adoption", Description="Adopt a pet"
    )
    assert (updated["DisplayName"], updated["Description"]) == ("Pet adoption", "Adopt a pet")


def test_products_of_other_accounts_are_not_found(client: Any, product: dict[str, Any]) -> None:
    with pytest.raises(ClientError) as caught:
        client.get_portal_product(
            PortalProductId=product["PortalProductId"], ResourceOwnerAccountId="111122223333"
        )
    assert error(caught) == ("NotFoundException", 404)


def test_the_display_order_names_pages_of_the_product(client: Any, product: dict[str, Any]) -> None:
    product_id = product["PortalProductId"]
    page = make_page(client, product_id)["ProductPageArn"]
    endpoint = make_endpoint_page(client, product_id)["ProductRestEndpointPageArn"]
    order = {
        "OverviewPageArn": page,
        "ProductPageArns": [page],
        "Contents": [{"SectionName": "Pets", "ProductRestEndpointPageArns": [endpoint]}],
    }
    updated = client.update_portal_product(PortalProductId=product_id, DisplayOrder=order)
    assert updated["DisplayOrder"] == order
    other = client.create_portal_product(DisplayName="Other")["PortalProductId"]
    with pytest.raises(ClientError) as caught:
        client.update_portal_product(PortalProductId=other, DisplayOrder=order)
    assert error(caught) == ("BadRequestException", 400)


def test_deleting_a_product_takes_it_out_of_portals(client: Any, product: dict[str, Any]) -> None:
    portal_id = make_portal(client, IncludedPortalProductArns=[product["PortalProductArn"]])[
        "PortalId"
    ]
    assert status(client.delete_portal_product(PortalProductId=product["PortalProductId"])) == 204
    assert client.get_portal(PortalId=portal_id)["IncludedPortalProductArns"] == []
    with pytest.raises(ClientError) as caught:
        client.get_portal_product(PortalProductId=product["PortalProductId"])
    assert error(caught) == ("NotFoundException", 404)


# Sharing policies


def test_sharing_policy_put_get_delete(client: Any, product: dict[str, Any]) -> None:
    product_id = product["PortalProductId"]
    with pytest.raises(ClientError) as caught:
        client.get_portal_product_sharing_policy(PortalProductId=product_id)
    assert error(caught) == ("NotFoundException", 404)
    put = client.put_portal_product_sharing_policy(
        PortalProductId=product_id, PolicyDocument=POLICY
    )
    assert status(put) == 200
    got = client.get_portal_product_sharing_policy(PortalProductId=product_id)
    assert (got["PolicyDocument"], got["PortalProductId"]) == (POLICY, product_id)
    deleted = client.delete_portal_product_sharing_policy(PortalProductId=product_id)
    assert status(deleted) == 204
    with pytest.raises(ClientError) as caught:
        client.delete_portal_product_sharing_policy(PortalProductId=product_id)
    assert error(caught) == ("NotFoundException", 404)


@pytest.mark.parametrize("document", ["not json", "[1, 2]"])
def test_a_policy_must_be_a_json_object(
    client: Any, product: dict[str, Any], document: str
) -> None:
    with pytest.raises(ClientError) as caught:
        client.put_portal_product_sharing_policy(
            PortalProductId=product["PortalProductId"], PolicyDocument=document
        )
    assert error(caught) == ("BadRequestException", 400)


def test_a_policy_of_a_missing_product_is_not_found(client: Any) -> None:
    with pytest.raises(ClientError) as caught:
        client.put_portal_product_sharing_policy(
            PortalProductId="nope123456", PolicyDocument=POLICY
        )
    assert error(caught) == ("NotFoundException", 404)


# Product pages


def test_product_page_lifecycle(client: Any, product: dict[str, Any]) -> None:
    product_id = product["PortalProductId"]
    page = make_page(client, product_id)
    assert status(page) == 201
    page_id = page["ProductPageId"]
    assert re.fullmatch(r"[a-z0-9]{10}", page_id)
    assert page["ProductPageArn"] == (
        f"arn:aws:apigateway:us-east-1:{ACCOUNT}:/portalproducts/{product_id}/productpages/{page_id}"
    )
    assert page["DisplayContent"] == {"Title": "Getting started", "Body": "# Hello"}
    got = client.get_product_page(PortalProductId=product_id, ProductPageId=page_id)
    assert got["DisplayContent"] == page["DisplayContent"]
    (listed,) = client.list_product_pages(PortalProductId=product_id)["Items"]
    assert (listed["PageTitle"], listed["ProductPageId"]) == ("Getting started", page_id)
    assert "DisplayContent" not in listed
    content = {"Title": "Start here", "Body": "# Welcome"}
    updated = client.update_product_page(
        PortalProductId=product_id, ProductPageId=page_id, DisplayContent=content
    )
    assert (status(updated), updated["DisplayContent"]) == (200, content)
    deleted = client.delete_product_page(PortalProductId=product_id, ProductPageId=page_id)
    assert status(deleted) == 204
    assert client.list_product_pages(PortalProductId=product_id)["Items"] == []


def test_deleting_a_page_takes_it_out_of_the_display_order(
    client: Any, product: dict[str, Any]
) -> None:
    product_id = product["PortalProductId"]
    page = make_page(client, product_id)
    endpoint = make_endpoint_page(client, product_id)
    client.update_portal_product(
        PortalProductId=product_id,
        DisplayOrder={
            "OverviewPageArn": page["ProductPageArn"],
            "ProductPageArns": [page["ProductPageArn"]],
            "Contents": [
                {
                    "SectionName": "Pets",
                    "ProductRestEndpointPageArns": [endpoint["ProductRestEndpointPageArn"]],
                }
            ],
        },
    )
    client.delete_product_page(PortalProductId=product_id, ProductPageId=page["ProductPageId"])
    client.delete_product_rest_endpoint_page(
        PortalProductId=product_id,
        ProductRestEndpointPageId=endpoint["ProductRestEndpointPageId"],
    )
    order = client.get_portal_product(PortalProductId=product_id)["DisplayOrder"]
    assert order == {
        "Contents": [{"SectionName": "Pets", "ProductRestEndpointPageArns": []}],
        "ProductPageArns": [],
    }


def test_pages_of_a_missing_product_or_page_are_not_found(
    client: Any, product: dict[str, Any]
) -> None:
    with pytest.raises(ClientError) as caught:
        make_page(client, "nope123456")
    assert error(caught) == ("NotFoundException", 404)
    with pytest.raises(ClientError) as caught:
        client.get_product_page(
            PortalProductId=product["PortalProductId"], ProductPageId="nope123456"
        )
    assert error(caught) == ("NotFoundException", 404)


# Product REST endpoint pages


def test_rest_endpoint_page_defaults(client: Any, product: dict[str, Any]) -> None:
    product_id = product["PortalProductId"]
    page = make_endpoint_page(client, product_id)
    assert status(page) == 201
    assert re.fullmatch(r"[a-z0-9]{10}", page["ProductRestEndpointPageId"])
    assert page["ProductRestEndpointPageArn"].startswith(
        f"arn:aws:apigateway:us-east-1:{ACCOUNT}:/portalproducts/{product_id}"
        "/productrestendpointpages/"
    )
    assert page["RestEndpointIdentifier"] == ENDPOINT
    assert page["DisplayContent"] == {
        "Endpoint": "https://a1b2c3.execute-api.us-east-1.amazonaws.com/prod",
        "OperationName": "/pets",
    }
    assert (page["TryItState"], page["Status"]) == ("DISABLED", "AVAILABLE")


def test_rest_endpoint_page_overrides_and_raw_content(client: Any, product: dict[str, Any]) -> None:
    product_id = product["PortalProductId"]
    overrides = {"Body": "# Pets", "OperationName": "List pets", "Endpoint": "https://api.pets.io"}
    page = make_endpoint_page(
        client, product_id, DisplayContent={"Overrides": overrides}, TryItState="ENABLED"
    )
    assert page["DisplayContent"] == overrides
    assert page["TryItState"] == "ENABLED"
    page_id = page["ProductRestEndpointPageId"]
    plain = client.get_product_rest_endpoint_page(
        PortalProductId=product_id, ProductRestEndpointPageId=page_id
    )
    assert "RawDisplayContent" not in plain
    raw = client.get_product_rest_endpoint_page(
        PortalProductId=product_id,
        ProductRestEndpointPageId=page_id,
        IncludeRawDisplayContent="true",
    )
    assert raw["RawDisplayContent"] == "# Pets"
    (listed,) = client.list_product_rest_endpoint_pages(PortalProductId=product_id)["Items"]
    assert (listed["Endpoint"], listed["OperationName"]) == ("https://api.pets.io", "List pets")


def test_rest_endpoint_page_update_and_delete(client: Any, product: dict[str, Any]) -> None:
    product_id = product["PortalProductId"]
    page = make_endpoint_page(
        client, product_id, DisplayContent={"Overrides": {"OperationName": "List pets"}}
    )
    page_id = page["ProductRestEndpointPageId"]
    updated = client.update_product_rest_endpoint_page(
        PortalProductId=product_id,
        ProductRestEndpointPageId=page_id,
        DisplayContent={"None": {}},
        TryItState="ENABLED",
    )
    assert status(updated) == 200
    assert updated["DisplayContent"]["OperationName"] == "/pets"
    assert updated["TryItState"] == "ENABLED"
    deleted = client.delete_product_rest_endpoint_page(
        PortalProductId=product_id, ProductRestEndpointPageId=page_id
    )
    assert status(deleted) == 204
    with pytest.raises(ClientError) as caught:
        client.get_product_rest_endpoint_page(
            PortalProductId=product_id, ProductRestEndpointPageId=page_id
        )
    assert error(caught) == ("NotFoundException", 404)


def identifier(**parts: str) -> dict[str, Any]:
    return {"IdentifierParts": {**ENDPOINT["IdentifierParts"], **parts}}


@pytest.mark.parametrize(
    "extra",
    [
        pytest.param({"DisplayContent": {"None": {}, "Overrides": {"Body": "x"}}}, id="both-kinds"),
        pytest.param({"RestEndpointIdentifier": identifier(Method="FETCH")}, id="bad-method"),
        pytest.param({"RestEndpointIdentifier": identifier(Path="pets")}, id="relative-path"),
        pytest.param({"RestEndpointIdentifier": {}}, id="no-identifier-parts"),
    ],
)
def test_rest_endpoint_page_refuses_bad_input(
    client: Any, product: dict[str, Any], extra: dict[str, Any]
) -> None:
    args = {
        "PortalProductId": product["PortalProductId"],
        "RestEndpointIdentifier": ENDPOINT,
        **extra,
    }
    with pytest.raises(ClientError) as caught:
        client.create_product_rest_endpoint_page(**args)
    assert error(caught) == ("BadRequestException", 400)


def test_deleting_a_product_deletes_its_pages(client: Any, product: dict[str, Any]) -> None:
    product_id = product["PortalProductId"]
    make_page(client, product_id)
    client.delete_portal_product(PortalProductId=product_id)
    with pytest.raises(ClientError) as caught:
        client.list_product_pages(PortalProductId=product_id)
    assert error(caught) == ("NotFoundException", 404)
