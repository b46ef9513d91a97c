"""The ``propylon`` command, run as a real process: flags, environment and ``propylon.toml``."""

from __future__ import annotations

import socket
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import quote

import httpx
import pytest

from propylon import __version__
from tests.conftest import make_client
from tests.servers import Served, clean_environment, process_server
from tests.servers import run_propylon as propylon

STARTUP_BOUND = 5.0  # seconds from spawn to a healthy answer: a loose sanity bound, not a benchmark


@contextmanager
def serving(*args: str, cwd: Path, env: dict[str, str]) -> Iterator[Served]:
    """``propylon serve ARGS`` in ``cwd`` with exactly ``env``; yields once it answers health."""
    with process_server(*args, cwd=cwd, env=env, ephemeral_port=False) as served:
        httpx.get(f"{served.url}/_propylon/health").raise_for_status()
        yield served


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


def health(url: str) -> dict[str, str]:
    document: dict[str, str] = httpx.get(f"{url}/_propylon/health").json()
    return document


def create_api_unsigned(url: str, name: str) -> dict[str, str]:
    """CreateApi with no SigV4 signature, so no credential scope names a region."""
    answer = httpx.post(
        f"{url}/v2/apis", json={"name": name, "protocolType": "HTTP", "tags": {"owner": name}}
    )
    assert answer.status_code == 201, answer.text
    document: dict[str, str] = answer.json()
    return document


def tags_unsigned(url: str, arn: str) -> httpx.Response:
    return httpx.get(f"{url}/v2/tags/{quote(arn, safe='')}")


def assert_one_line_error(result: subprocess.CompletedProcess[str], status: int, text: str) -> None:
    assert result.returncode == status, result.stderr
    assert result.stderr.startswith("propylon: ")
    assert result.stderr.count("\n") == 1
    assert text in result.stderr
    assert "Traceback" not in result.stderr


def test_version_prints_the_package_version(tmp_path: Path) -> None:
    result = propylon("version", cwd=tmp_path)
    assert result.returncode == 0
    assert result.stdout == f"{__version__}\n"


@pytest.mark.parametrize(
    ("flag", "value", "message"),
    [
        pytest.param("--port", "http", "--port: not a port number: 'http'", id="port-word"),
        pytest.param("--port", "70000", "--port: port out of range 0-65535: 70000", id="port-high"),
        pytest.param("--region", "mars", "--region: not a valid region: 'mars'", id="region"),
        pytest.param("--account-id", "42", "--account-id: not a valid account id", id="account"),
        pytest.param("--log-level", "loud", "--log-level: not a valid log level", id="log-level"),
    ],
)
def test_bad_flag_value_exits_2_with_one_line(
    tmp_path: Path, flag: str, value: str, message: str
) -> None:
    result = propylon("serve", flag, value, cwd=tmp_path)
    assert_one_line_error(result, 2, message)
    assert not (tmp_path / ".propylon").exists()


def test_bad_environment_value_exits_2_with_one_line(tmp_path: Path) -> None:
    result = propylon("serve", cwd=tmp_path, env=clean_environment(PROPYLON_PORT="eighty"))
    assert_one_line_error(result, 2, "PROPYLON_PORT: not a port number: 'eighty'")


def test_missing_config_file_exits_2_with_one_line(tmp_path: Path) -> None:
    result = propylon("serve", "--config", "absent.toml", cwd=tmp_path)
    assert_one_line_error(result, 2, "configuration file not found: absent.toml")


def test_malformed_toml_in_the_working_directory_exits_2_with_one_line(tmp_path: Path) -> None:
    (tmp_path / "propylon.toml").write_text("port = = 1\n")
    result = propylon("serve", cwd=tmp_path)
    assert_one_line_error(result, 2, "propylon.toml: not valid TOML")


def test_port_in_use_exits_1_with_one_line(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = propylon("serve", "--in-memory", "--port", str(port), cwd=tmp_path)
    assert_one_line_error(result, 1, f"cannot listen on 127.0.0.1:{port}")


def test_unusable_state_directory_exits_1_with_one_line(tmp_path: Path) -> None:
    (tmp_path / "state").write_text("a file where the state directory should be")
    result = propylon("serve", "--port", "0", "--state-dir", "state", cwd=tmp_path)
    assert_one_line_error(result, 1, "cannot open the state file state/state.sqlite3")


def test_second_process_on_the_same_state_directory_exits_1_with_one_line(
    tmp_path: Path,
) -> None:
    with serving("--port", "0", cwd=tmp_path, env=clean_environment()) as served:
        result = propylon("serve", "--port", "0", cwd=tmp_path)
        assert health(served.url)["status"] == "ok"
    assert_one_line_error(result, 1, "state.sqlite3 is in use by another process")


def test_environment_port_and_region_are_honoured(tmp_path: Path) -> None:
    port = free_port()
    env = clean_environment(PROPYLON_PORT=str(port), PROPYLON_REGION="eu-central-1")
    with serving(cwd=tmp_path, env=env) as served:
        assert served.port == port
        assert health(served.url)["region"] == "eu-central-1"
        api = create_api_unsigned(served.url, "configured")
        assert api["apiEndpoint"] == f"http://{api['apiId']}.execute-api.localhost:{port}"
        arn = f"arn:aws:apigateway:eu-central-1::/apis/{api['apiId']}"
        assert tags_unsigned(served.url, arn).json() == {"tags": {"owner": "configured"}}
        default_region_arn = f"arn:aws:apigateway:us-east-1::/apis/{api['apiId']}"
        assert tags_unsigned(served.url, default_region_arn).status_code == 404
        listed = make_client(served.url, "eu-central-1").get_apis()["Items"]
        assert [a["ApiId"] for a in listed] == [api["apiId"]]
        assert make_client(served.url, "us-east-1").get_apis()["Items"] == []
    assert served.startup_seconds < STARTUP_BOUND
    assert (tmp_path / ".propylon" / "state.sqlite3").is_file()  # the default state directory


def test_toml_in_the_working_directory_is_honoured(tmp_path: Path) -> None:
    (tmp_path / "propylon.toml").write_text(
        'port = 0\nregion = "ap-southeast-2"\naccount-id = "123456789012"\nin-memory = true\n'
    )
    with serving(cwd=tmp_path, env=clean_environment()) as served:
        assert health(served.url) | {"version": ""} == {
            "status": "ok",
            "version": "",
            "store": "memory",
            "region": "ap-southeast-2",
            "accountId": "123456789012",
        }
        api = create_api_unsigned(served.url, "from-toml")
        arn = f"arn:aws:apigateway:ap-southeast-2::/apis/{api['apiId']}"
        assert tags_unsigned(served.url, arn).json() == {"tags": {"owner": "from-toml"}}
    assert served.startup_seconds < STARTUP_BOUND
    assert not (tmp_path / ".propylon").exists()  # in memory: nothing written


def test_flag_beats_environment_beats_toml_in_a_real_process(tmp_path: Path) -> None:
    (tmp_path / "propylon.toml").write_text('region = "eu-west-1"\naccount-id = "111111111111"\n')
    env = clean_environment(PROPYLON_REGION="eu-west-2", PROPYLON_ACCOUNT_ID="222222222222")
    args = ("--port", "0", "--in-memory", "--region", "eu-west-3")
    with serving(*args, cwd=tmp_path, env=env) as served:
        document = health(served.url)
    assert (document["region"], document["accountId"]) == ("eu-west-3", "222222222222")


def test_no_in_memory_flag_overrides_the_environment(tmp_path: Path) -> None:
    env = clean_environment(PROPYLON_IN_MEMORY="true")
    with serving("--port", "0", "--no-in-memory", cwd=tmp_path, env=env) as served:
        assert health(served.url)["store"] == "sqlite"
