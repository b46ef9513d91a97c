"""CreateModel, GetModel(s), UpdateModel, DeleteModel and GetModelTemplate."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from tests.helpers import body, status

ACCOUNT = "000000000000"
PET = json.dumps(
    {
        "$schema": "http://json-schema.org/draft-04/schema#",
        "title": "Pet",
        "type": "object",
        "properties": {"name": {"type": "string"}, "age": {"type": "integer"}},
    }
)


@pytest.fixture
def model_id(client: Any, ws_id: str) -> str:
    return str(client.create_model(ApiId=ws_id, Name="Pet", Schema=PET)["ModelId"])


# CreateModel


def test_create_model_answers_201_with_default_content_type(client: Any, ws_id: str) -> None:
    created = client.create_model(ApiId=ws_id, Name="Pet", Schema=PET)
    assert status(created) == 201
    assert re.fullmatch(r"[a-z0-9]{6}", created["ModelId"])
    assert body(created) == {
        "ModelId": created["ModelId"],
        "Name": "Pet",
        "Schema": PET,
        "ContentType": "application/json",
    }


def test_create_model_keeps_content_type_and_description(client: Any, ws_id: str) -> None:
    created = client.create_model(
        ApiId=ws_id, Name="Pet", Schema=PET, ContentType="application/vnd.pet+json", Description="d"
    )
    assert created["ContentType"] == "application/vnd.pet+json"
    assert created["Description"] == "d"


@pytest.mark.parametrize("name", ["pet-model", "pet model", "pét", "pet_1"])
def test_model_name_must_be_alphanumeric(client: Any, ws_id: str, name: str) -> None:
    with pytest.raises(client.exceptions.BadRequestException, match="alphanumeric"):
        client.create_model(ApiId=ws_id, Name=name, Schema=PET)


@pytest.mark.parametrize("schema", ["{not json", "[]", '"text"', "", "42"])
def test_schema_must_be_a_json_object(client: Any, ws_id: str, schema: str) -> None:
    with pytest.raises(client.exceptions.BadRequestException, match="Invalid model specified"):
        client.create_model(ApiId=ws_id, Name="Pet", Schema=schema)


def test_model_names_are_unique_per_api(client: Any, ws_id: str, model_id: str) -> None:
    with pytest.raises(client.exceptions.ConflictException, match="Pet already exists") as caught:
        client.create_model(ApiId=ws_id, Name="Pet", Schema=PET)
    assert caught.value.response["ResponseMetadata"]["HTTPStatusCode"] == 409


def test_the_same_name_is_fine_in_another_api(client: Any, ws_id: str, model_id: str) -> None:
    other = client.create_api(
        Name="other", ProtocolType="WEBSOCKET", RouteSelectionExpression="$request.body.action"
    )["ApiId"]
    assert status(client.create_model(ApiId=other, Name="Pet", Schema=PET)) == 201


def test_http_apis_have_no_models(client: Any) -> None:
    api_id = client.create_api(Name="pets", ProtocolType="HTTP")["ApiId"]
    with pytest.raises(client.exceptions.BadRequestException, match="only for WebSocket APIs"):
        client.create_model(ApiId=api_id, Name="Pet", Schema=PET)


def test_schema_and_name_are_required_by_the_model(raw_client: Any, ws_id: str) -> None:
    with pytest.raises(raw_client.exceptions.BadRequestException, match="schema"):
        raw_client.create_model(ApiId=ws_id, Name="Pet")


def test_create_model_on_unknown_api_is_404(client: Any) -> None:
    message = f"Invalid API identifier specified {ACCOUNT}:nope"
    with pytest.raises(client.exceptions.NotFoundException, match=message):
        client.create_model(ApiId="nope", Name="Pet", Schema=PET)


# GetModel, GetModels


def test_get_model_answers_what_create_answered(client: Any, ws_id: str) -> None:
    created = client.create_model(ApiId=ws_id, Name="Pet", Schema=PET)
    got = client.get_model(ApiId=ws_id, ModelId=created["ModelId"])
    assert status(got) == 200
    assert body(got) == body(created)


def test_get_unknown_model_is_404(client: Any, ws_id: str) -> None:
    with pytest.raises(
        client.exceptions.NotFoundException, match="Invalid Model identifier specified nope12"
    ):
        client.get_model(ApiId=ws_id, ModelId="nope12")


def test_get_models_lists_every_model(client: Any, ws_id: str, model_id: str) -> None:
    other = client.create_model(ApiId=ws_id, Name="Owner", Schema="{}")["ModelId"]
    listed = client.get_models(ApiId=ws_id)
    assert status(listed) == 200
    assert [m["ModelId"] for m in listed["Items"]] == [model_id, other]


# UpdateModel


def test_update_model_changes_only_what_is_given(client: Any, ws_id: str, model_id: str) -> None:
    updated = client.update_model(ApiId=ws_id, ModelId=model_id, Description="a pet")
    assert status(updated) == 200
    assert updated["Description"] == "a pet"
    assert updated["Schema"] == PET
    assert updated["Name"] == "Pet"


def test_update_model_may_keep_its_own_name(client: Any, ws_id: str, model_id: str) -> None:
    assert client.update_model(ApiId=ws_id, ModelId=model_id, Name="Pet")["Name"] == "Pet"


def test_update_to_a_taken_name_is_409(client: Any, ws_id: str, model_id: str) -> None:
    other = client.create_model(ApiId=ws_id, Name="Owner", Schema="{}")["ModelId"]
    with pytest.raises(client.exceptions.ConflictException, match="Pet"):
        client.update_model(ApiId=ws_id, ModelId=other, Name="Pet")


def test_update_to_an_invalid_schema_is_refused(client: Any, ws_id: str, model_id: str) -> None:
    with pytest.raises(client.exceptions.BadRequestException, match="Invalid model specified"):
        client.update_model(ApiId=ws_id, ModelId=model_id, Schema="nope")
    assert client.get_model(ApiId=ws_id, ModelId=model_id)["Schema"] == PET


# DeleteModel


def test_delete_model_answers_204(client: Any, ws_id: str, model_id: str) -> None:
    assert status(client.delete_model(ApiId=ws_id, ModelId=model_id)) == 204
    with pytest.raises(client.exceptions.NotFoundException):
        client.get_model(ApiId=ws_id, ModelId=model_id)


def test_delete_unknown_model_is_404(client: Any, ws_id: str) -> None:
    with pytest.raises(client.exceptions.NotFoundException, match="nope12"):
        client.delete_model(ApiId=ws_id, ModelId="nope12")


def test_a_model_a_route_requests_cannot_be_deleted(client: Any, ws_id: str, model_id: str) -> None:
    client.create_route(
        ApiId=ws_id,
        RouteKey="sendmessage",
        ModelSelectionExpression="$request.body.type",
        RequestModels={"$default": "Pet"},
    )
    message = "Cannot delete model 'Pet', is referenced in route: sendmessage"
    with pytest.raises(client.exceptions.ConflictException, match=message):
        client.delete_model(ApiId=ws_id, ModelId=model_id)


def test_a_model_a_route_response_names_cannot_be_deleted(
    client: Any, ws_id: str, model_id: str
) -> None:
    route_id = client.create_route(ApiId=ws_id, RouteKey="sendmessage")["RouteId"]
    client.create_route_response(
        ApiId=ws_id, RouteId=route_id, RouteResponseKey="$default", ResponseModels={"a": "Pet"}
    )
    with pytest.raises(client.exceptions.ConflictException, match="route response of route"):
        client.delete_model(ApiId=ws_id, ModelId=model_id)


# GetModelTemplate


def test_get_model_template_derives_the_template_from_the_schema(
    client: Any, ws_id: str, model_id: str
) -> None:
    template = client.get_model_template(ApiId=ws_id, ModelId=model_id)
    assert status(template) == 200
    assert template["Value"] == (
        "#set($inputRoot = $input.path('$'))\n"
        "{\n"
        '  "name": "$inputRoot.name",\n'
        '  "age": $inputRoot.age\n'
        "}"
    )


def test_model_template_follows_references_to_other_models(
    client: Any, ws_id: str, model_id: str
) -> None:
    owner = {
        "type": "object",
        "properties": {
            "pets": {
                "type": "array",
                "items": {"$ref": f"https://apigateway.amazonaws.com/apis/{ws_id}/models/Pet"},
            }
        },
    }
    owner_id = client.create_model(ApiId=ws_id, Name="Owner", Schema=json.dumps(owner))["ModelId"]
    value = client.get_model_template(ApiId=ws_id, ModelId=owner_id)["Value"]
    assert "#foreach($elem in $inputRoot.pets)" in value
    assert '"name": "$elem.name"' in value
    assert '"age": $elem.age' in value


def test_get_template_of_unknown_model_is_404(client: Any, ws_id: str) -> None:
    with pytest.raises(client.exceptions.NotFoundException, match="Model identifier"):
        client.get_model_template(ApiId=ws_id, ModelId="nope12")


# Auto-deploy and cascade


def test_model_changes_redeploy_auto_deploying_stages(client: Any, ws_id: str) -> None:
    client.create_route(ApiId=ws_id, RouteKey="$default")
    first = client.create_stage(ApiId=ws_id, StageName="prod", AutoDeploy=True)["DeploymentId"]
    model_id = client.create_model(ApiId=ws_id, Name="Pet", Schema=PET)["ModelId"]
    second = client.get_stage(ApiId=ws_id, StageName="prod")["DeploymentId"]
    client.delete_model(ApiId=ws_id, ModelId=model_id)
    third = client.get_stage(ApiId=ws_id, StageName="prod")["DeploymentId"]
    assert len({first, second, third}) == 3


def test_deleting_the_api_deletes_its_models(client: Any, ws_id: str, model_id: str) -> None:
    client.delete_api(ApiId=ws_id)
    with pytest.raises(client.exceptions.NotFoundException, match="Invalid API identifier"):
        client.get_model(ApiId=ws_id, ModelId=model_id)
