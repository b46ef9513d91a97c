"""The execute-api door: the request's context as built from the ASGI scope, and the API and
stage it addresses, remembered per address until the deployed APIs change."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from propylon.errors import GatewayForbidden, GatewayNotFound
from propylon.execute import chain as chain_module
from propylon.execute.authorizers.iam import IamVerifier
from propylon.execute.chain import Gateway
from propylon.execute.door import _invocation
from propylon.execute.http_proxy import HttpProxy
from propylon.execute.logs import LogWriter
from propylon.functions import FunctionRegistry
from propylon.settings import Settings
from tests.unit.execute.test_deployed import Harness

HOST = "127.0.0.1:4580"


@pytest.fixture
def harness() -> Iterator[Harness]:
    opened = Harness()
    yield opened
    opened.close()


@pytest.fixture
def gateway(harness: Harness) -> Gateway:
    settings = Settings(in_memory=True)
    return Gateway(
        settings,
        harness.deployed,
        FunctionRegistry(()),
        HttpProxy(),
        IamVerifier({}),
        LogWriter(settings.logs),
    )


def test_the_context_takes_each_value_from_its_own_place(
    harness: Harness, gateway: Gateway
) -> None:
    api_id = harness.quick_api()
    harness.request("PATCH", f"/v2/apis/{api_id}/stages/$default", {"stageVariables": {"v": "1"}})
    raw_path = "/pets/a%20b"
    host = "Shop.Example.com:8443"
    address, resolved = gateway.locate(host, f"/_aws/execute-api/{api_id}{raw_path}")
    scope = {
        "method": "POST",
        "query_string": b"q=1&q=2&e",
        "client": ("203.0.113.7", 51000),
        "http_version": "2",
    }
    headers = [("host", host), ("user-agent", "curl/8")]
    inv = _invocation(scope, headers, host, address, resolved, b"{}")
    assert (inv.http_method, inv.raw_path, inv.path, inv.route_path) == (
        "POST",
        raw_path,
        "/pets/a b",
        raw_path,
    )
    assert inv.raw_query_string == "q=1&q=2&e"
    assert inv.query == [("q", "1"), ("q", "2"), ("e", "")]
    assert (inv.headers, inv.body, inv.source_ip) == (headers, b"{}", "203.0.113.7")
    assert inv.protocol == "HTTP/2"
    assert (inv.domain_name, inv.domain_prefix) == ("Shop.Example.com", "Shop")
    assert (inv.api_id, inv.account_id, inv.stage) == (api_id, "000000000000", "$default")
    assert len(inv.request_id) == 16
    assert inv.request_id.endswith("=")
    assert inv.request_time.endswith(" +0000")
    assert inv.request_time_epoch > 0
    assert inv.stage_variables == {"v": "1"}
    assert (inv.route_key, inv.status, inv.body_stream) == ("-", 0, None)


def test_an_ipv6_host_keeps_its_brackets(harness: Harness, gateway: Gateway) -> None:
    api_id = harness.quick_api()
    address, resolved = gateway.locate("[::1]", f"/_aws/execute-api/{api_id}/")
    scope = {"method": "GET", "query_string": b"", "client": None}
    inv = _invocation(scope, [], "[::1]", address, resolved, b"")
    assert (inv.domain_name, inv.source_ip, inv.protocol) == ("[::1]", "", "HTTP/1.1")


def test_an_address_is_resolved_once_until_the_apis_change(
    harness: Harness, gateway: Gateway, monkeypatch: pytest.MonkeyPatch
) -> None:
    api_id = harness.quick_api()
    path = f"/_aws/execute-api/{api_id}/pets"
    first = gateway.locate(HOST, path)
    calls: list[str] = []
    resolve = Gateway.resolve

    def counted(self: Gateway, address: chain_module.Address) -> chain_module.Resolved:
        calls.append(address.api_id)
        return resolve(self, address)

    monkeypatch.setattr(Gateway, "resolve", counted)
    assert gateway.locate(HOST, path) is first
    assert calls == []
    harness.request("POST", f"/v2/apis/{api_id}/stages", {"stageName": "prod"})
    again = gateway.locate(HOST, path)  # any write: looked up afresh
    assert calls == [api_id]
    assert again == first


def test_a_change_to_the_api_is_seen_by_the_next_request(
    harness: Harness, gateway: Gateway
) -> None:
    api_id = harness.quick_api()
    path = f"/_aws/execute-api/{api_id}/pets"
    gateway.locate(HOST, path)
    harness.request("PATCH", f"/v2/apis/{api_id}", {"disableExecuteApiEndpoint": True})
    harness.request("POST", f"/v2/apis/{api_id}/deployments", {"stageName": "$default"})
    with pytest.raises(GatewayForbidden):
        gateway.locate(HOST, path)
    harness.request("DELETE", f"/v2/apis/{api_id}")
    with pytest.raises(GatewayNotFound):
        gateway.locate(HOST, path)


def test_addresses_not_found_are_not_remembered_and_the_memory_is_bounded(
    harness: Harness, gateway: Gateway, monkeypatch: pytest.MonkeyPatch
) -> None:
    api_id = harness.quick_api()
    for path in ("/elsewhere", "/_aws/execute-api/zzzzzzzzzz/"):
        with pytest.raises(GatewayNotFound):
            gateway.locate(HOST, path)
    assert gateway._addresses == {}
    monkeypatch.setattr(chain_module, "_ADDRESSES_KEPT", 3)
    for n in range(10):
        gateway.locate(HOST, f"/_aws/execute-api/{api_id}/item/{n}")
        assert 1 <= len(gateway._addresses) <= 3
