"""CreateVpcLink, GetVpcLink(s), UpdateVpcLink, DeleteVpcLink, and their tags."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

import pytest

from tests.conftest import make_client
from tests.helpers import body, status

SUBNETS = ["subnet-aaaa", "subnet-bbbb"]
GROUPS = ["sg-1234"]
LISTENER = (
    "arn:aws:elasticloadbalancing:us-east-1:000000000000:listener/app/pets/50dc6c495c0c9188/"
    "0467ef3c8400ae65"
)


def arn(vpc_link_id: str) -> str:
    return f"arn:aws:apigateway:us-east-1::/vpclinks/{vpc_link_id}"


@pytest.fixture
def link_id(client: Any) -> str:
    created = client.create_vpc_link(Name="private", SubnetIds=SUBNETS, SecurityGroupIds=GROUPS)
    return str(created["VpcLinkId"])


# CreateVpcLink


def test_create_vpc_link_answers_201_pending(client: Any) -> None:
    created = client.create_vpc_link(Name="private", SubnetIds=SUBNETS, SecurityGroupIds=GROUPS)
    assert status(created) == 201
    assert re.fullmatch(r"[a-z0-9]{6}", created["VpcLinkId"])
    assert isinstance(created.pop("CreatedDate"), datetime)
    assert body(created) == {
        "VpcLinkId": created["VpcLinkId"],
        "Name": "private",
        "SubnetIds": SUBNETS,
        "SecurityGroupIds": GROUPS,
        "Tags": {},
        "VpcLinkStatus": "PENDING",
        "VpcLinkStatusMessage": "VPC link is provisioning ENIs",
        "VpcLinkVersion": "V2",
    }


def test_vpc_link_is_available_at_the_first_read(client: Any, link_id: str) -> None:
    got = client.get_vpc_link(VpcLinkId=link_id)
    assert status(got) == 200
    assert got["VpcLinkStatus"] == "AVAILABLE"
    assert got["VpcLinkStatusMessage"] == "VPC link is ready to route traffic"


def test_security_groups_default_to_none(client: Any) -> None:
    created = client.create_vpc_link(Name="private", SubnetIds=SUBNETS)
    assert created["SecurityGroupIds"] == []


def test_subnets_are_required(client: Any, raw_client: Any) -> None:
    with pytest.raises(client.exceptions.BadRequestException, match="at least one subnet"):
        client.create_vpc_link(Name="private", SubnetIds=[])
    with pytest.raises(raw_client.exceptions.BadRequestException, match="subnetIds"):
        raw_client.create_vpc_link(Name="private")


def test_create_vpc_link_with_tags(client: Any) -> None:
    created = client.create_vpc_link(Name="private", SubnetIds=SUBNETS, Tags={"team": "pets"})
    assert created["Tags"] == {"team": "pets"}
    assert client.get_tags(ResourceArn=arn(created["VpcLinkId"]))["Tags"] == {"team": "pets"}


def test_reserved_tag_keys_are_refused(client: Any) -> None:
    with pytest.raises(client.exceptions.BadRequestException, match="reserved"):
        client.create_vpc_link(Name="private", SubnetIds=SUBNETS, Tags={"aws:owner": "x"})


# GetVpcLink, GetVpcLinks


def test_get_unknown_vpc_link_is_404(client: Any) -> None:
    message = "Invalid VpcLink identifier specified nope12"
    with pytest.raises(client.exceptions.NotFoundException, match=message) as caught:
        client.get_vpc_link(VpcLinkId="nope12")
    assert caught.value.response["ResponseMetadata"]["HTTPStatusCode"] == 404


def test_get_vpc_links_lists_and_pages(client: Any, link_id: str) -> None:
    other = client.create_vpc_link(Name="second", SubnetIds=SUBNETS)["VpcLinkId"]
    listed = client.get_vpc_links()
    assert status(listed) == 200
    assert [link["VpcLinkId"] for link in listed["Items"]] == [link_id, other]
    assert all(link["VpcLinkStatus"] == "AVAILABLE" for link in listed["Items"])
    page = client.get_vpc_links(MaxResults="1")
    assert [link["VpcLinkId"] for link in page["Items"]] == [link_id]
    assert "NextToken" in page


def test_vpc_links_belong_to_their_region(client: Any, url: str, link_id: str) -> None:
    elsewhere = make_client(url, region="eu-west-1")
    assert elsewhere.get_vpc_links()["Items"] == []
    with pytest.raises(elsewhere.exceptions.NotFoundException):
        elsewhere.get_vpc_link(VpcLinkId=link_id)


# UpdateVpcLink


def test_update_vpc_link_renames_it(client: Any, link_id: str) -> None:
    before = client.get_vpc_link(VpcLinkId=link_id)
    updated = client.update_vpc_link(VpcLinkId=link_id, Name="renamed")
    assert status(updated) == 200
    assert body(updated) == {**body(before), "Name": "renamed"}


def test_update_unknown_vpc_link_is_404(client: Any) -> None:
    with pytest.raises(client.exceptions.NotFoundException, match="VpcLink identifier"):
        client.update_vpc_link(VpcLinkId="nope12", Name="x")


# Tags


def test_tag_and_untag_a_vpc_link(client: Any, link_id: str) -> None:
    client.tag_resource(ResourceArn=arn(link_id), Tags={"team": "pets", "env": "dev"})
    client.untag_resource(ResourceArn=arn(link_id), TagKeys=["env"])
    assert client.get_vpc_link(VpcLinkId=link_id)["Tags"] == {"team": "pets"}


# DeleteVpcLink


def test_delete_vpc_link_answers_202(client: Any, link_id: str) -> None:
    deleted = client.delete_vpc_link(VpcLinkId=link_id)
    assert status(deleted) == 202
    assert body(deleted) == {}
    with pytest.raises(client.exceptions.NotFoundException):
        client.get_vpc_link(VpcLinkId=link_id)


def test_delete_unknown_vpc_link_is_404(client: Any) -> None:
    with pytest.raises(client.exceptions.NotFoundException, match="nope12"):
        client.delete_vpc_link(VpcLinkId="nope12")


def test_a_vpc_link_an_integration_uses_cannot_be_deleted(client: Any, link_id: str) -> None:
    api_id = client.create_api(Name="pets", ProtocolType="HTTP")["ApiId"]
    integration_id = client.create_integration(
        ApiId=api_id,
        IntegrationType="HTTP_PROXY",
        IntegrationMethod="ANY",
        IntegrationUri=LISTENER,
        ConnectionType="VPC_LINK",
        ConnectionId=link_id,
        PayloadFormatVersion="1.0",
    )["IntegrationId"]
    with pytest.raises(client.exceptions.BadRequestException, match=integration_id):
        client.delete_vpc_link(VpcLinkId=link_id)
    client.delete_integration(ApiId=api_id, IntegrationId=integration_id)
    assert status(client.delete_vpc_link(VpcLinkId=link_id)) == 202
