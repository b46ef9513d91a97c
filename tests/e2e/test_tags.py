"""TagResource, UntagResource and GetTags on APIs and stages, addressed by ARN."""

from __future__ import annotations

from typing import Any

import pytest

from tests.helpers import status


def api_arn(api_id: str, region: str = "us-east-1") -> str:
    return f"arn:aws:apigateway:{region}::/apis/{api_id}"


def stage_arn(api_id: str, stage: str) -> str:
    return f"{api_arn(api_id)}/stages/{stage}"


def test_tag_resource_answers_201_and_get_tags_shows_them(client: Any, api_id: str) -> None:
    answer = client.tag_resource(ResourceArn=api_arn(api_id), Tags={"team": "blue"})
    assert status(answer) == 201
    tags = client.get_tags(ResourceArn=api_arn(api_id))
    assert status(tags) == 200
    assert tags["Tags"] == {"team": "blue"}


def test_new_api_has_no_tags(client: Any, api_id: str) -> None:
    assert client.get_tags(ResourceArn=api_arn(api_id))["Tags"] == {}


def test_tags_given_at_create_api_are_found_by_arn(client: Any) -> None:
    api_id = client.create_api(Name="pets", ProtocolType="HTTP", Tags={"env": "prod"})["ApiId"]
    assert client.get_tags(ResourceArn=api_arn(api_id))["Tags"] == {"env": "prod"}


def test_tag_resource_merges_and_overwrites(client: Any) -> None:
    api_id = client.create_api(Name="p", ProtocolType="HTTP", Tags={"a": "1", "b": "2"})["ApiId"]
    client.tag_resource(ResourceArn=api_arn(api_id), Tags={"b": "20", "c": "3"})
    assert client.get_tags(ResourceArn=api_arn(api_id))["Tags"] == {"a": "1", "b": "20", "c": "3"}


def test_tags_show_on_get_api(client: Any, api_id: str) -> None:
    client.tag_resource(ResourceArn=api_arn(api_id), Tags={"team": "blue"})
    assert client.get_api(ApiId=api_id)["Tags"] == {"team": "blue"}


def test_untag_resource_answers_204_and_removes_the_keys(client: Any) -> None:
    api_id = client.create_api(Name="p", ProtocolType="HTTP", Tags={"a": "1", "b": "2", "c": "3"})[
        "ApiId"
    ]
    answer = client.untag_resource(ResourceArn=api_arn(api_id), TagKeys=["a", "c", "absent"])
    assert status(answer) == 204
    assert client.get_tags(ResourceArn=api_arn(api_id))["Tags"] == {"b": "2"}


def test_stage_tags(client: Any, api_id: str) -> None:
    client.create_stage(ApiId=api_id, StageName="prod", Tags={"a": "1"})
    arn = stage_arn(api_id, "prod")
    assert client.get_tags(ResourceArn=arn)["Tags"] == {"a": "1"}
    client.tag_resource(ResourceArn=arn, Tags={"b": "2"})
    client.untag_resource(ResourceArn=arn, TagKeys=["a"])
    assert client.get_tags(ResourceArn=arn)["Tags"] == {"b": "2"}
    assert client.get_stage(ApiId=api_id, StageName="prod")["Tags"] == {"b": "2"}


def test_default_stage_tags(client: Any, api_id: str) -> None:
    client.create_stage(ApiId=api_id, StageName="$default")
    arn = stage_arn(api_id, "$default")
    client.tag_resource(ResourceArn=arn, Tags={"a": "1"})
    assert client.get_tags(ResourceArn=arn)["Tags"] == {"a": "1"}


def test_stage_tags_are_not_the_api_tags(client: Any, api_id: str) -> None:
    client.create_stage(ApiId=api_id, StageName="prod")
    client.tag_resource(ResourceArn=stage_arn(api_id, "prod"), Tags={"a": "1"})
    assert client.get_tags(ResourceArn=api_arn(api_id))["Tags"] == {}


def test_reserved_tag_keys_are_rejected(client: Any, api_id: str) -> None:
    with pytest.raises(client.exceptions.BadRequestException, match="aws:"):
        client.tag_resource(ResourceArn=api_arn(api_id), Tags={"aws:cloudformation": "x"})
    assert client.get_tags(ResourceArn=api_arn(api_id))["Tags"] == {}


def test_more_than_50_tags_are_rejected(client: Any, api_id: str) -> None:
    tags = {f"k{n}": "v" for n in range(51)}
    with pytest.raises(client.exceptions.BadRequestException, match="50"):
        client.tag_resource(ResourceArn=api_arn(api_id), Tags=tags)


def test_tags_of_unknown_api_are_not_found(client: Any) -> None:
    arn = api_arn("abcdefghij")
    with pytest.raises(client.exceptions.NotFoundException, match=arn) as caught:
        client.get_tags(ResourceArn=arn)
    assert status(caught.value.response) == 404
    with pytest.raises(client.exceptions.NotFoundException):
        client.tag_resource(ResourceArn=arn, Tags={"a": "1"})
    with pytest.raises(client.exceptions.NotFoundException):
        client.untag_resource(ResourceArn=arn, TagKeys=["a"])


def test_tags_of_unknown_stage_are_not_found(client: Any, api_id: str) -> None:
    with pytest.raises(client.exceptions.NotFoundException):
        client.get_tags(ResourceArn=stage_arn(api_id, "prod"))


def test_tags_of_an_api_in_another_region_are_not_found(client: Any, api_id: str) -> None:
    with pytest.raises(client.exceptions.NotFoundException):
        client.get_tags(ResourceArn=api_arn(api_id, region="eu-west-1"))


@pytest.mark.parametrize(
    "arn",
    [
        "not-an-arn",
        "arn:aws:lambda:us-east-1:000000000000:function:f",
        "arn:aws:apigateway:us-east-1::/apis",
    ],
)
def test_malformed_arn_is_rejected(client: Any, arn: str) -> None:
    with pytest.raises(client.exceptions.BadRequestException) as caught:
        client.get_tags(ResourceArn=arn)
    assert status(caught.value.response) == 400


def test_untaggable_resource_is_rejected(client: Any, api_id: str) -> None:
    route_id = client.create_route(ApiId=api_id, RouteKey="GET /pets")["RouteId"]
    with pytest.raises(client.exceptions.BadRequestException, match="cannot be tagged"):
        client.get_tags(ResourceArn=f"{api_arn(api_id)}/routes/{route_id}")
