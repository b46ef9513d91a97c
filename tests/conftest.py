from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import httpx
import pytest
from botocore.config import Config
from hypothesis import settings

from propylon.settings import Settings
from tests.servers import threaded_server

# Property tests assert results, not speed: a slow example on a busy machine is not a failure.
settings.register_profile("propylon", deadline=None)
settings.load_profile("propylon")

REGION = "us-east-1"
ACCOUNT = "000000000000"


def make_client(url: str, region: str = REGION, validate: bool = True) -> Any:
    return boto3.client(
        "apigatewayv2",
        endpoint_url=url,
        region_name=region,
        aws_access_key_id="AKIDEXAMPLE",
        aws_secret_access_key="secret",
        config=Config(parameter_validation=validate, retries={"max_attempts": 1}),
    )


@pytest.fixture(scope="session")
def server_url() -> Iterator[str]:
    with threaded_server(Settings(in_memory=True)) as url:
        yield url


@pytest.fixture
def url(server_url: str) -> str:
    """The shared server's base URL, with its state wiped before the test."""
    httpx.post(f"{server_url}/_propylon/reset").raise_for_status()
    return server_url


@pytest.fixture
def client(url: str) -> Any:
    """A boto3 ``apigatewayv2`` client for the shared server."""
    return make_client(url)


@pytest.fixture
def raw_client(url: str) -> Any:
    """A boto3 client that skips boto3's own input checks, so the server's are tested."""
    return make_client(url, validate=False)


@pytest.fixture
def http(url: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=url) as session:
        yield session
