"""State survives restarts of a real ``propylon serve`` process (SQLite in ``--state-dir``)."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx

from tests.conftest import ACCOUNT, make_client
from tests.servers import process_server

LOG_GROUP = f"arn:aws:logs:us-east-1:{ACCOUNT}:log-group:pets-access"
LOG_FORMAT = '{"requestId":"$context.requestId","status":"$context.status"}'
FUNCTION = f"arn:aws:lambda:us-east-1:{ACCOUNT}:function:pets"


@contextmanager
def serving(*args: str) -> Iterator[tuple[str, subprocess.Popen[str]]]:
    with process_server(*args) as served:
        yield served.url, served.process


def without_metadata(answer: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in answer.items() if k != "ResponseMetadata"}


def populate(client: Any) -> str:
    """An API with routes, integrations, a logged and tagged stage and a deployment."""
    api_id: str = client.create_api(
        Name="pets",
        ProtocolType="HTTP",
        Description="pet store",
        Tags={"team": "pets", "env": "test"},
        CorsConfiguration={"AllowOrigins": ["https://example.com"], "MaxAge": 300},
    )["ApiId"]
    http = client.create_integration(
        ApiId=api_id,
        IntegrationType="HTTP_PROXY",
        IntegrationMethod="GET",
        IntegrationUri="https://example.com/pets",
        PayloadFormatVersion="1.0",
        RequestParameters={"append:header.x-source": "propylon"},
    )["IntegrationId"]
    function = client.create_integration(
        ApiId=api_id,
        IntegrationType="AWS_PROXY",
        IntegrationUri=FUNCTION,
        PayloadFormatVersion="2.0",
    )["IntegrationId"]
    route_ids = [
        client.create_route(ApiId=api_id, RouteKey=key, Target=f"integrations/{target}")["RouteId"]
        for key, target in [
            ("GET /pets", http),
            ("POST /pets", function),
            ("GET /old", http),
            ("GET /pets/{id}", function),
            ("$default", http),
        ]
    ]
    client.delete_route(ApiId=api_id, RouteId=route_ids[2])
    # a replaced record keeps its place in GetRoutes
    client.update_route(ApiId=api_id, RouteId=route_ids[0], RouteKey="GET /pets/list")
    client.create_stage(
        ApiId=api_id,
        StageName="prod",
        Description="production",
        AccessLogSettings={"DestinationArn": LOG_GROUP, "Format": LOG_FORMAT},
        DefaultRouteSettings={"ThrottlingBurstLimit": 10, "ThrottlingRateLimit": 5.0},
        StageVariables={"backend": "example.com"},
        Tags={"stage": "prod"},
    )
    client.create_deployment(ApiId=api_id, StageName="prod", Description="first")
    return api_id


def snapshot(client: Any, api_id: str) -> dict[str, Any]:
    """Everything the control plane says about the API, with ``ApiEndpoint`` (it holds the
    port, which changes with each start) left out."""
    api = without_metadata(client.get_api(ApiId=api_id))
    api.pop("ApiEndpoint")
    routes = client.get_routes(ApiId=api_id)["Items"]
    integrations = client.get_integrations(ApiId=api_id)["Items"]
    deployments = client.get_deployments(ApiId=api_id)["Items"]
    api_arn = f"arn:aws:apigateway:us-east-1::/apis/{api_id}"
    return {
        "apis": [
            {k: v for k, v in a.items() if k != "ApiEndpoint"} for a in client.get_apis()["Items"]
        ],
        "api": api,
        "routes": routes,
        "route": [
            without_metadata(client.get_route(ApiId=api_id, RouteId=r["RouteId"])) for r in routes
        ],
        "integrations": integrations,
        "integration": [
            without_metadata(client.get_integration(ApiId=api_id, IntegrationId=i["IntegrationId"]))
            for i in integrations
        ],
        "stage": without_metadata(client.get_stage(ApiId=api_id, StageName="prod")),
        "deployments": deployments,
        "deployment": [
            without_metadata(client.get_deployment(ApiId=api_id, DeploymentId=d["DeploymentId"]))
            for d in deployments
        ],
        "api tags": client.get_tags(ResourceArn=api_arn)["Tags"],
        "stage tags": client.get_tags(ResourceArn=f"{api_arn}/stages/prod")["Tags"],
    }


def test_configuration_survives_a_restart(tmp_path: Path) -> None:
    with serving("--state-dir", str(tmp_path)) as (url, _):
        client = make_client(url)
        api_id = populate(client)
        before = snapshot(client, api_id)
    with serving("--state-dir", str(tmp_path)) as (url, _):
        client = make_client(url)
        after = snapshot(client, api_id)
        endpoint = client.get_api(ApiId=api_id)["ApiEndpoint"]
    assert after["api"]["ApiId"] == api_id
    assert after["api"]["CreatedDate"] == before["api"]["CreatedDate"]
    assert after["api"]["Tags"] == {"team": "pets", "env": "test"}
    assert [r["RouteKey"] for r in after["routes"]] == [
        "GET /pets/list",
        "POST /pets",
        "GET /pets/{id}",
        "$default",
    ]
    assert [r["RouteId"] for r in after["routes"]] == [r["RouteId"] for r in before["routes"]]
    assert after["stage"]["AccessLogSettings"] == {
        "DestinationArn": LOG_GROUP,
        "Format": LOG_FORMAT,
    }
    assert after["stage"]["Tags"] == {"stage": "prod"}
    assert after["stage"]["DeploymentId"] == after["deployments"][0]["DeploymentId"]
    assert after["stage tags"] == {"stage": "prod"}
    for part in before:
        assert after[part] == before[part], part
    assert endpoint.endswith(f":{url.rsplit(':', 1)[1]}")  # the new process's port


def test_writes_survive_a_killed_process(tmp_path: Path) -> None:
    with serving("--state-dir", str(tmp_path)) as (url, process):
        client = make_client(url)
        api_id = client.create_api(Name="survivor", ProtocolType="HTTP")["ApiId"]
        route_id = client.create_route(ApiId=api_id, RouteKey="GET /x")["RouteId"]
        process.kill()
        process.wait(timeout=10)
    with serving("--state-dir", str(tmp_path)) as (url, _):
        client = make_client(url)
        assert client.get_api(ApiId=api_id)["Name"] == "survivor"
        assert [r["RouteId"] for r in client.get_routes(ApiId=api_id)["Items"]] == [route_id]


def test_each_region_keeps_its_own_apis_across_a_restart(tmp_path: Path) -> None:
    with serving("--state-dir", str(tmp_path)) as (url, _):
        east = make_client(url).create_api(Name="east", ProtocolType="HTTP")["ApiId"]
        west = make_client(url, "eu-west-1").create_api(Name="west", ProtocolType="HTTP")["ApiId"]
    with serving("--state-dir", str(tmp_path)) as (url, _):
        assert [a["ApiId"] for a in make_client(url).get_apis()["Items"]] == [east]
        assert [a["ApiId"] for a in make_client(url, "eu-west-1").get_apis()["Items"]] == [west]


def test_health_reports_the_sqlite_backend(tmp_path: Path) -> None:
    with serving("--state-dir", str(tmp_path)) as (url, _):
        assert httpx.get(f"{url}/_propylon/health").json()["store"] == "sqlite"
    assert (tmp_path / "state.sqlite3").is_file()


def test_in_memory_state_is_lost_on_restart(tmp_path: Path) -> None:
    with serving("--in-memory", "--state-dir", str(tmp_path)) as (url, _):
        assert httpx.get(f"{url}/_propylon/health").json()["store"] == "memory"
        client = make_client(url)
        client.create_api(Name="ephemeral", ProtocolType="HTTP")
        assert len(client.get_apis()["Items"]) == 1
    with serving("--in-memory", "--state-dir", str(tmp_path)) as (url, _):
        assert make_client(url).get_apis()["Items"] == []
    assert list(tmp_path.iterdir()) == []


def test_reset_wipes_persisted_state(tmp_path: Path) -> None:
    with serving("--state-dir", str(tmp_path)) as (url, _):
        client = make_client(url)
        api_id = client.create_api(Name="doomed", ProtocolType="HTTP")["ApiId"]
        client.create_route(ApiId=api_id, RouteKey="GET /x")
        make_client(url, "eu-west-1").create_api(Name="doomed too", ProtocolType="HTTP")
        assert httpx.post(f"{url}/_propylon/reset").status_code == 200
    with serving("--state-dir", str(tmp_path)) as (url, _):
        client = make_client(url)
        assert client.get_apis()["Items"] == []
        assert make_client(url, "eu-west-1").get_apis()["Items"] == []
        created = client.create_api(Name="fresh", ProtocolType="HTTP")["ApiId"]
        assert [a["ApiId"] for a in client.get_apis()["Items"]] == [created]
