"""The VTL mapping template derived from a model's JSON schema (GetModelTemplate)."""

from __future__ import annotations

from typing import Any

import pytest

from propylon.control.models import model_template

PROLOGUE = "#set($inputRoot = $input.path('$'))\n"

# The input model of AWS's "Photos example" (API Gateway developer guide).
PHOTOS: dict[str, Any] = {
    "$schema": "http://json-schema.org/draft-04/schema#",
    "title": "PhotosInputModel",
    "type": "object",
    "properties": {
        "photos": {
            "type": "object",
            "properties": {
                "page": {"type": "integer"},
                "pages": {"type": "string"},
                "perpage": {"type": "integer"},
                "total": {"type": "string"},
                "photo": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "properties": {
                            "id": {"type": "string"},
                            "owner": {"type": "string"},
                            "secret": {"type": "string"},
                            "server": {"type": "string"},
                            "farm": {"type": "integer"},
                            "title": {"type": "string"},
                            "ispublic": {"type": "integer"},
                            "isfriend": {"type": "integer"},
                            "isfamily": {"type": "integer"},
                        },
                    },
                },
            },
        }
    },
}

# AWS's input mapping template for that model, as the guide prints it (less a blank line).
PHOTOS_TEMPLATE = """#set($inputRoot = $input.path('$'))
{
  "photos": {
    "page": $inputRoot.photos.page,
    "pages": "$inputRoot.photos.pages",
    "perpage": $inputRoot.photos.perpage,
    "total": "$inputRoot.photos.total",
    "photo": [
#foreach($elem in $inputRoot.photos.photo)
      {
        "id": "$elem.id",
        "owner": "$elem.owner",
        "secret": "$elem.secret",
        "server": "$elem.server",
        "farm": $elem.farm,
        "title": "$elem.title",
        "ispublic": $elem.ispublic,
        "isfriend": $elem.isfriend,
        "isfamily": $elem.isfamily
      }#if($foreach.hasNext),#end
#end
    ]
  }
}"""


def test_photos_model_gives_the_template_of_aws_example() -> None:
    assert model_template(PHOTOS) == PHOTOS_TEMPLATE


@pytest.mark.parametrize(
    ("kind", "value"),
    [
        ("string", '"$inputRoot.v"'),
        ("integer", "$inputRoot.v"),
        ("number", "$inputRoot.v"),
        ("boolean", "$inputRoot.v"),
        ("null", "null"),
        (["number", "null"], "$inputRoot.v"),
        (["null", "string"], '"$inputRoot.v"'),
    ],
)
def test_strings_are_quoted_and_other_scalars_are_not(kind: Any, value: str) -> None:
    schema = {"type": "object", "properties": {"v": {"type": kind}}}
    assert model_template(schema) == PROLOGUE + '{\n  "v": ' + value + "\n}"


def test_a_value_without_type_is_written_as_a_string() -> None:
    schema = {"properties": {"v": {"description": "anything"}}}
    assert model_template(schema) == PROLOGUE + '{\n  "v": "$inputRoot.v"\n}'


def test_an_object_without_properties_is_an_empty_object() -> None:
    assert model_template({"type": "object"}) == PROLOGUE + "{ }"


def test_a_root_array_loops_over_the_input() -> None:
    schema = {"type": "array", "items": {"type": "integer"}}
    assert model_template(schema) == (
        PROLOGUE + "[\n#foreach($elem in $inputRoot)\n  $elem#if($foreach.hasNext),#end\n#end\n]"
    )


def test_nested_loops_use_their_own_variables() -> None:
    schema = {
        "type": "array",
        "items": {"type": "array", "items": {"type": "string"}},
    }
    assert model_template(schema) == PROLOGUE + "\n".join(
        [
            "[",
            "#foreach($elem in $inputRoot)",
            "  [",
            "#foreach($elem2 in $elem)",
            '    "$elem2"#if($foreach.hasNext),#end',
            "#end",
            "  ]#if($foreach.hasNext),#end",
            "#end",
            "]",
        ]
    )


def test_names_that_are_not_identifiers_are_read_with_get() -> None:
    schema = {"properties": {"first-name": {"type": "string"}, "it's": {"type": "integer"}}}
    assert model_template(schema) == PROLOGUE + "\n".join(
        [
            "{",
            '  "first-name": "$inputRoot.get(\'first-name\')",',
            "  \"it's\": $inputRoot.get('it''s')",
            "}",
        ]
    )


def test_local_references_are_followed() -> None:
    schema = {
        "type": "object",
        "properties": {"owner": {"$ref": "#/definitions/Person"}},
        "definitions": {"Person": {"type": "object", "properties": {"age": {"type": "integer"}}}},
    }
    assert model_template(schema) == PROLOGUE + "\n".join(
        ["{", '  "owner": {', '    "age": $inputRoot.owner.age', "  }", "}"]
    )


def test_references_to_other_models_use_the_resolver() -> None:
    pet = {"type": "object", "properties": {"name": {"type": "string"}}}
    models = {"https://apigateway.amazonaws.com/apis/a1/models/Pet": pet}
    schema = {
        "type": "array",
        "items": {"$ref": "https://apigateway.amazonaws.com/apis/a1/models/Pet"},
    }
    template = model_template(schema, models.get)
    assert '"name": "$elem.name"' in template


def test_an_unresolvable_reference_is_written_as_a_string() -> None:
    schema = {"properties": {"v": {"$ref": "#/definitions/Missing"}}}
    assert model_template(schema) == PROLOGUE + '{\n  "v": "$inputRoot.v"\n}'


def test_a_recursive_reference_stops_with_null() -> None:
    schema = {
        "$ref": "#/definitions/Node",
        "definitions": {
            "Node": {
                "type": "object",
                "properties": {
                    "name": {"type": "string"},
                    "children": {"type": "array", "items": {"$ref": "#/definitions/Node"}},
                },
            }
        },
    }
    assert model_template(schema) == PROLOGUE + "\n".join(
        [
            "{",
            '  "name": "$inputRoot.name",',
            '  "children": [',
            "#foreach($elem in $inputRoot.children)",
            "    null#if($foreach.hasNext),#end",
            "#end",
            "  ]",
            "}",
        ]
    )


def test_a_reference_to_the_root_is_recursive_at_once() -> None:
    schema = {"type": "array", "items": {"$ref": "#"}}
    assert "  null#if" in model_template(schema)


def test_all_of_merges_the_properties_of_its_parts() -> None:
    schema = {
        "allOf": [
            {"properties": {"a": {"type": "string"}}},
            {"properties": {"b": {"type": "boolean"}}},
        ]
    }
    assert model_template(schema) == PROLOGUE + '{\n  "a": "$inputRoot.a",\n  "b": $inputRoot.b\n}'


@pytest.mark.parametrize("choice", ["anyOf", "oneOf"])
def test_any_of_and_one_of_take_the_first_option(choice: str) -> None:
    schema = {"properties": {"v": {choice: [{"type": "integer"}, {"type": "string"}]}}}
    assert model_template(schema) == PROLOGUE + '{\n  "v": $inputRoot.v\n}'


def test_property_names_are_written_as_json_strings() -> None:
    schema = {"properties": {'say "hi"': {"type": "integer"}}}
    assert model_template(schema).splitlines()[2].startswith('  "say \\"hi\\"": ')
