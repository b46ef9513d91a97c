from __future__ import annotations

from propylon.execute.addressing import is_execute_api, locate, select_stage

API = "a1b2c3d4e5"


def test_host_style_names_the_api_and_keeps_the_path() -> None:
    address = locate(f"{API}.execute-api.localhost:4580", "/prod/pets/6")
    assert address is not None
    assert (address.api_id, address.path, address.by_host) == (API, "/prod/pets/6", True)


def test_host_style_accepts_any_domain_after_execute_api() -> None:
    address = locate(f"{API}.execute-api.us-east-1.amazonaws.com", "/")
    assert address is not None
    assert address.api_id == API


def test_host_matching_ignores_case() -> None:
    address = locate(f"{API.upper()}.Execute-Api.LOCALHOST", "/x")
    assert address is not None
    assert address.api_id == API


def test_path_style_strips_the_prefix() -> None:
    address = locate("127.0.0.1:4580", f"/_aws/execute-api/{API}/prod/pets")
    assert address is not None
    assert (address.api_id, address.path, address.by_host) == (API, "/prod/pets", False)


def test_path_style_without_a_path_is_the_root() -> None:
    address = locate("127.0.0.1:4580", f"/_aws/execute-api/{API}")
    assert address is not None
    assert address.path == "/"


def test_other_hosts_and_paths_name_no_api() -> None:
    assert locate("127.0.0.1:4580", "/v2/apis") is None
    assert locate("example.com", f"/_aws/execute-api/{API}x/prod") is None
    assert locate("short.execute-api.localhost", "/") is None


def test_execute_api_door_is_told_apart_from_the_control_plane() -> None:
    assert is_execute_api(f"{API}.execute-api.localhost", "/v2/apis")
    assert is_execute_api("127.0.0.1", f"/_aws/execute-api/{API}/")
    assert not is_execute_api("127.0.0.1:4580", "/v2/apis")


def test_first_segment_naming_a_stage_selects_it_and_is_removed() -> None:
    selection = select_stage("/prod/pets/6", {"prod", "$default"})
    assert selection is not None
    assert (selection.stage, selection.route_path) == ("prod", "/pets/6")


def test_stage_root_routes_as_slash() -> None:
    for path in ("/prod", "/prod/"):
        selection = select_stage(path, {"prod"})
        assert selection is not None
        assert selection.route_path == "/"


def test_default_stage_serves_the_whole_path() -> None:
    selection = select_stage("/pets/6", {"prod", "$default"})
    assert selection is not None
    assert (selection.stage, selection.route_path) == ("$default", "/pets/6")


def test_default_stage_is_not_addressed_by_name() -> None:
    selection = select_stage("/$default/pets", {"$default"})
    assert selection is not None
    assert (selection.stage, selection.route_path) == ("$default", "/$default/pets")


def test_no_matching_stage_and_no_default_is_none() -> None:
    assert select_stage("/dev/pets", {"prod"}) is None
    assert select_stage("/", {"prod"}) is None


def test_stage_names_compare_case_sensitively() -> None:
    assert select_stage("/Prod/pets", {"prod"}) is None
