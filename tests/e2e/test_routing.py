"""Route selection of a served HTTP API, rule by rule (reference 2.2): each route answers with
the event it received, so its ``routeKey`` and ``pathParameters`` say who was chosen."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from propylon.functions import FunctionSpec
from propylon.settings import Settings
from tests.conftest import make_client
from tests.servers import threaded_server

HANDLERS = Path(__file__).parent.parent / "data" / "functions" / "echo.py"
ECHO = "arn:aws:lambda:us-east-1:000000000000:function:echo"
NOT_FOUND = {"message": "Not Found"}


@pytest.fixture(scope="module")
def served() -> Iterator[str]:
    functions = (FunctionSpec("echo", f"{HANDLERS}:echo"),)
    with threaded_server(Settings(in_memory=True, functions=functions)) as url:
        yield url


@pytest.fixture
def control(served: str) -> Any:
    httpx.post(f"{served}/_propylon/reset").raise_for_status()
    return make_client(served)


def api_with(control: Any, *route_keys: str, stage: str = "$default") -> str:
    """An API whose routes all reach the echo function (payload 2.0), auto-deployed."""
    api_id = str(control.create_api(Name="routes", ProtocolType="HTTP")["ApiId"])
    integration = control.create_integration(
        ApiId=api_id, IntegrationType="AWS_PROXY", IntegrationUri=ECHO, PayloadFormatVersion="2.0"
    )
    for key in route_keys:
        control.create_route(
            ApiId=api_id, RouteKey=key, Target=f"integrations/{integration['IntegrationId']}"
        )
    control.create_stage(ApiId=api_id, StageName=stage, AutoDeploy=True)
    return api_id


def call(served: str, api_id: str, path: str, method: str = "GET") -> httpx.Response:
    return httpx.request(method, f"{served}/_aws/execute-api/{api_id}{path}")


def chosen(served: str, api_id: str, path: str, method: str = "GET") -> tuple[str, Any]:
    """The route key that served ``method path`` and the path parameters it captured."""
    answer = call(served, api_id, path, method)
    assert answer.status_code == 200, answer.text
    event = answer.json()
    return event["routeKey"], event.get("pathParameters")


DOCUMENTED = ("GET /pets/dog/1", "GET /pets/dog/{id}", "GET /pets/{proxy+}", "ANY /{proxy+}")


@pytest.mark.parametrize(
    ("method", "path", "route_key", "parameters"),
    [
        ("GET", "/pets/dog/1", "GET /pets/dog/1", None),
        ("GET", "/pets/dog/2", "GET /pets/dog/{id}", {"id": "2"}),
        ("GET", "/pets/cat/1", "GET /pets/{proxy+}", {"proxy": "cat/1"}),
        ("POST", "/test/5", "ANY /{proxy+}", {"proxy": "test/5"}),
        ("GET", "/", "$default", None),
    ],
)
def test_exact_beats_greedy_beats_default(
    served: str, control: Any, method: str, path: str, route_key: str, parameters: Any
) -> None:
    api_id = api_with(control, *DOCUMENTED, "$default")
    assert chosen(served, api_id, path, method) == (route_key, parameters)


def test_a_longer_greedy_prefix_wins(served: str, control: Any) -> None:
    api_id = api_with(control, "ANY /{proxy+}", "ANY /pets/{proxy+}")
    assert chosen(served, api_id, "/pets/a/b") == ("ANY /pets/{proxy+}", {"proxy": "a/b"})
    assert chosen(served, api_id, "/toys/a") == ("ANY /{proxy+}", {"proxy": "toys/a"})


def test_literal_segment_beats_parameter(served: str, control: Any) -> None:
    api_id = api_with(control, "GET /pets/{id}", "GET /pets/mine", "GET /{a}/b", "GET /a/{b}")
    assert chosen(served, api_id, "/pets/mine") == ("GET /pets/mine", None)
    assert chosen(served, api_id, "/pets/7") == ("GET /pets/{id}", {"id": "7"})
    # the first position where they differ decides, left to right
    assert chosen(served, api_id, "/a/b") == ("GET /a/{b}", {"b": "b"})
    assert chosen(served, api_id, "/x/b") == ("GET /{a}/b", {"a": "x"})


def test_method_beats_any(served: str, control: Any) -> None:
    api_id = api_with(control, "GET /pets", "ANY /pets")
    assert chosen(served, api_id, "/pets", "GET")[0] == "GET /pets"
    assert chosen(served, api_id, "/pets", "POST")[0] == "ANY /pets"
    assert chosen(served, api_id, "/pets", "DELETE")[0] == "ANY /pets"


def test_an_exact_any_route_beats_a_greedy_route_of_the_method(served: str, control: Any) -> None:
    api_id = api_with(control, "ANY /pets/{id}", "GET /pets/{proxy+}")
    assert chosen(served, api_id, "/pets/7") == ("ANY /pets/{id}", {"id": "7"})
    assert chosen(served, api_id, "/pets/7/toys")[0] == "GET /pets/{proxy+}"


def test_a_greedy_variable_needs_one_or_more_segments(served: str, control: Any) -> None:
    api_id = api_with(control, "ANY /pets/{proxy+}")
    assert chosen(served, api_id, "/pets/a") == ("ANY /pets/{proxy+}", {"proxy": "a"})
    assert chosen(served, api_id, "/pets/a/b/c") == ("ANY /pets/{proxy+}", {"proxy": "a/b/c"})
    for path in ("/pets", "/pets/"):
        answer = call(served, api_id, path)
        assert (answer.status_code, answer.json()) == (404, NOT_FOUND)


def test_no_route_and_no_default_is_not_found(served: str, control: Any) -> None:
    api_id = api_with(control, "GET /pets")
    answer = call(served, api_id, "/toys")
    assert (answer.status_code, answer.json()) == (404, NOT_FOUND)
    assert answer.headers["apigw-requestid"]
    assert call(served, api_id, "/Pets").status_code == 404  # paths are case-sensitive


def test_a_trailing_slash_is_routed_like_the_path_without_it(served: str, control: Any) -> None:
    api_id = api_with(control, "GET /hello", "GET /pets/{id}")
    answer = call(served, api_id, "/hello/")
    assert answer.json()["routeKey"] == "GET /hello"
    assert answer.json()["rawPath"] == "/hello/"  # the event still has the path as sent
    assert chosen(served, api_id, "/pets/7/") == ("GET /pets/{id}", {"id": "7"})


def test_head_does_not_fall_back_to_get(served: str, control: Any) -> None:
    get_only = api_with(control, "GET /pets")
    assert call(served, get_only, "/pets", "HEAD").status_code == 404
    assert call(served, get_only, "/pets", "GET").status_code == 200
    for route_key in ("HEAD /pets", "ANY /pets", "$default"):
        api_id = api_with(control, "GET /pets", route_key)
        assert call(served, api_id, "/pets", "HEAD").status_code == 200, route_key


@pytest.mark.parametrize(
    ("route_key", "path", "parameters"),
    [
        ("GET /files/{name}", "/files/a%20b", {"name": "a b"}),
        ("GET /files/{name}", "/files/caf%C3%A9", {"name": "café"}),
        ("GET /files/{name}", "/files/a%2Fb", {"name": "a/b"}),  # an encoded slash stays
        ("GET /files/{name}", "/files/50%25+off", {"name": "50%+off"}),  # "+" is no space
        ("ANY /g/{proxy+}", "/g/a%20b/c%3Fd", {"proxy": "a b/c?d"}),
    ],
)
def test_path_parameters_are_decoded(
    served: str, control: Any, route_key: str, path: str, parameters: dict[str, str]
) -> None:
    api_id = api_with(control, route_key)
    assert chosen(served, api_id, path) == (route_key, parameters)


def test_an_encoded_slash_does_not_split_a_segment(served: str, control: Any) -> None:
    api_id = api_with(control, "GET /files/a/b")
    assert call(served, api_id, "/files/a%2Fb").status_code == 404
    assert chosen(served, api_id, "/files/a/b")[0] == "GET /files/a/b"


def test_a_named_stage_is_not_part_of_the_routed_path(served: str, control: Any) -> None:
    api_id = api_with(control, "GET /pets/{id}", stage="prod")
    assert chosen(served, api_id, "/prod/pets/7") == ("GET /pets/{id}", {"id": "7"})
    assert call(served, api_id, "/pets/7").status_code == 404  # "pets" is no stage


def test_the_query_string_does_not_take_part(served: str, control: Any) -> None:
    api_id = api_with(control, "GET /pets", "GET /pets/{id}")
    assert chosen(served, api_id, "/pets?id=7&x=/y") == ("GET /pets", None)
