from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import yaml

DATA = Path(__file__).parent.parent / "data" / "openapi"


def aws(url: str, tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """Run ``aws apigatewayv2 ARGS`` against the test server, isolated from any AWS setup."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env |= {
        "AWS_ACCESS_KEY_ID": "AKIDEXAMPLE",
        "AWS_SECRET_ACCESS_KEY": "secret",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_CONFIG_FILE": str(tmp_path / "no-config"),
        "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "no-credentials"),
    }
    command = [sys.executable, "-m", "awscli", "apigatewayv2", *args, "--endpoint-url", url]
    return subprocess.run(
        command, env=env, cwd=tmp_path, capture_output=True, text=True, timeout=60, check=False
    )


def ok(answer: subprocess.CompletedProcess[str]) -> Any:
    assert answer.returncode == 0, answer.stderr
    return json.loads(answer.stdout) if answer.stdout.strip() else None


def test_import_then_export_yaml_with_the_cli(url: str, tmp_path: Path) -> None:
    source = DATA / "bookshop.yaml"
    api = ok(aws(url, tmp_path, "import-api", "--body", f"file://{source}", "--output", "json"))
    assert api["Name"] == "Bookshop"
    ok(
        aws(
            url,
            tmp_path,
            "export-api",
            "--api-id",
            api["ApiId"],
            "--specification",
            "OAS30",
            "--output-type",
            "YAML",
            "out.yaml",
        )
    )
    exported = yaml.safe_load((tmp_path / "out.yaml").read_text())
    original = yaml.safe_load(source.read_text())
    assert exported["info"]["title"] == original["info"]["title"]
    assert list(exported["paths"]) == list(original["paths"])
    for path, item in original["paths"].items():
        for method, operation in item.items():
            written = exported["paths"][path][method]["x-amazon-apigateway-integration"]
            expected = operation["x-amazon-apigateway-integration"]
            assert written["type"] == expected["type"].lower()
            assert expected["uri"] in written["uri"]
    assert exported["x-amazon-apigateway-cors"] == original["x-amazon-apigateway-cors"]


def test_reimport_of_the_export_keeps_the_routes(url: str, tmp_path: Path) -> None:
    source = DATA / "petstore.json"
    api = ok(aws(url, tmp_path, "import-api", "--body", f"file://{source}", "--output", "json"))
    export = ("export-api", "--api-id", api["ApiId"], "--specification", "OAS30")
    ok(aws(url, tmp_path, *export, "--output-type", "JSON", "pets.json"))
    again = ok(
        aws(
            url,
            tmp_path,
            "reimport-api",
            "--api-id",
            api["ApiId"],
            "--body",
            f"file://{tmp_path / 'pets.json'}",
            "--fail-on-warnings",
            "--output",
            "json",
        )
    )
    assert again["ApiId"] == api["ApiId"]
    routes = ok(aws(url, tmp_path, "get-routes", "--api-id", api["ApiId"], "--output", "json"))
    assert {r["RouteKey"] for r in routes["Items"]} == {
        "GET /pets",
        "POST /pets",
        "GET /pets/{petId}",
        "DELETE /pets/{petId}",
        "ANY /owners/{proxy+}",
        "$default",
    }


def test_fail_on_warnings_fails_the_cli_command(url: str, tmp_path: Path) -> None:
    source = DATA / "warnings.json"
    answer = aws(url, tmp_path, "import-api", "--body", f"file://{source}", "--fail-on-warnings")
    assert answer.returncode != 0
    assert "BadRequestException" in answer.stderr
    assert "Warnings found during import" in answer.stderr
