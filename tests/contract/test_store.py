"""The ``Store`` contract (``propylon.store.base``), run against every backend in ``BACKENDS``."""

from __future__ import annotations

import sqlite3
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from propylon.store import BACKENDS, Key, SqliteStore, Store, StoreError, open_store

SCOPE: Key = ("000000000000", "us-east-1")
API: Key = SCOPE + ("apis", "a1b2c3d4e5")
OTHER_API: Key = SCOPE + ("apis", "f6g7h8i9j0")


def route(route_id: str) -> Key:
    return API + ("routes", route_id)


def ids(records: list[dict[str, str]], member: str = "Id") -> list[str]:
    return [record[member] for record in records]


@pytest.fixture(params=sorted(BACKENDS))
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    opened = open_store(request.param, tmp_path)
    yield opened
    opened.close()


def test_get_of_a_missing_key_is_none(store: Store) -> None:
    assert store.get(API) is None


def test_put_record_is_returned_by_get(store: Store) -> None:
    record = {"ApiId": "a1b2c3d4e5", "Tags": {"team": "pets"}, "Items": [1, 2.5, None, True]}
    store.put(API, record)
    assert store.get(API) == record


def test_put_on_an_existing_key_replaces_the_record(store: Store) -> None:
    store.put(API, {"Name": "old", "Description": "gone"})
    store.put(API, {"Name": "new"})
    assert store.get(API) == {"Name": "new"}


def test_replaced_record_keeps_its_list_position(store: Store) -> None:
    for route_id in ("r1", "r2", "r3"):
        store.put(route(route_id), {"Id": route_id, "Version": 1})
    store.put(route("r1"), {"Id": "r1", "Version": 2})
    children = store.children(API, "routes")
    assert ids(children) == ["r1", "r2", "r3"]
    assert children[0]["Version"] == 2


def test_children_are_listed_in_creation_order_not_by_id(store: Store) -> None:
    for route_id in ("zz", "aa", "mm", "bb"):
        store.put(route(route_id), {"Id": route_id})
    assert ids(store.children(API, "routes")) == ["zz", "aa", "mm", "bb"]


def test_children_are_only_those_of_the_kind_asked_for(store: Store) -> None:
    store.put(route("r1"), {"Id": "r1"})
    store.put(API + ("integrations", "i1"), {"Id": "i1"})
    store.put(route("r2"), {"Id": "r2"})
    assert ids(store.children(API, "routes")) == ["r1", "r2"]
    assert ids(store.children(API, "integrations")) == ["i1"]
    assert store.children(API, "stages") == []


def test_children_exclude_grandchildren_and_other_parents(store: Store) -> None:
    store.put(route("r1"), {"Id": "r1"})
    store.put(route("r1") + ("routeresponses", "rr1"), {"Id": "rr1"})
    store.put(OTHER_API + ("routes", "r9"), {"Id": "r9"})
    assert ids(store.children(API, "routes")) == ["r1"]
    assert ids(store.children(SCOPE, "apis")) == []  # the APIs themselves were never put


def test_children_of_a_missing_parent_are_empty(store: Store) -> None:
    assert store.children(OTHER_API, "routes") == []


def test_delete_returns_true_and_removes_the_record(store: Store) -> None:
    store.put(API, {"Id": "api"})
    assert store.delete(API) is True
    assert store.get(API) is None
    assert store.children(SCOPE, "apis") == []


def test_delete_of_a_missing_key_returns_false(store: Store) -> None:
    store.put(API, {"Id": "api"})
    assert store.delete(route("nope")) is False
    assert store.delete(OTHER_API) is False
    assert store.get(API) == {"Id": "api"}


def test_delete_removes_the_whole_subtree(store: Store) -> None:
    store.put(API, {"Id": "api"})
    store.put(route("r1"), {"Id": "r1"})
    store.put(route("r1") + ("routeresponses", "rr1"), {"Id": "rr1"})
    store.put(API + ("stages", "prod"), {"Id": "prod"})
    assert store.delete(API) is True
    for key in (route("r1"), route("r1") + ("routeresponses", "rr1"), API + ("stages", "prod")):
        assert store.get(key) is None
    assert store.children(API, "routes") == []
    assert store.children(route("r1"), "routeresponses") == []
    assert store.children(API, "stages") == []


def test_delete_leaves_siblings_and_their_subtrees(store: Store) -> None:
    for api in (API, OTHER_API):
        store.put(api, {"Id": api[-1]})
        store.put(api + ("routes", "r1"), {"Id": "r1"})
    store.put(API + ("routes", "r2"), {"Id": "r2"})
    store.delete(API)
    assert ids(store.children(SCOPE, "apis")) == ["f6g7h8i9j0"]
    assert ids(store.children(OTHER_API, "routes")) == ["r1"]
    store.delete(OTHER_API + ("routes", "r1"))
    assert store.get(OTHER_API) == {"Id": "f6g7h8i9j0"}


def test_deleting_one_child_keeps_the_order_of_the_others(store: Store) -> None:
    for route_id in ("r1", "r2", "r3"):
        store.put(route(route_id), {"Id": route_id})
    store.delete(route("r2"))
    assert ids(store.children(API, "routes")) == ["r1", "r3"]


def test_a_key_put_again_after_delete_goes_last(store: Store) -> None:
    for route_id in ("r1", "r2"):
        store.put(route(route_id), {"Id": route_id})
    store.delete(route("r1"))
    store.put(route("r1"), {"Id": "r1"})
    assert ids(store.children(API, "routes")) == ["r2", "r1"]


def test_a_parent_put_again_after_delete_has_no_old_children(store: Store) -> None:
    store.put(API, {"Id": "api"})
    store.put(route("r1"), {"Id": "r1"})
    store.delete(API)
    store.put(API, {"Id": "api"})
    assert store.children(API, "routes") == []
    assert store.get(route("r1")) is None


def test_clear_removes_every_record(store: Store) -> None:
    store.put(API, {"Id": "api"})
    store.put(route("r1"), {"Id": "r1"})
    store.put(("999999999999", "eu-west-1", "apis", "x"), {"Id": "x"})
    store.clear()
    assert store.get(API) is None
    assert store.get(("999999999999", "eu-west-1", "apis", "x")) is None
    assert store.children(API, "routes") == []
    assert store.children(SCOPE, "apis") == []


def test_keys_and_records_may_hold_unicode(store: Store) -> None:
    key = SCOPE + ("domainnames", "bücher.例え.テスト") + ("apimappings", "ünï 😀")
    store.put(key, {"Name": "Grüße 😀", "Tags": {"ключ": "значение"}})
    assert store.get(key) == {"Name": "Grüße 😀", "Tags": {"ключ": "значение"}}
    parent = SCOPE + ("domainnames", "bücher.例え.テスト")
    assert store.children(parent, "apimappings") == [
        {"Name": "Grüße 😀", "Tags": {"ключ": "значение"}}
    ]


def test_regions_and_accounts_are_separate_trees(store: Store) -> None:
    store.put(API, {"Region": "us-east-1"})
    store.put(("000000000000", "eu-west-1") + API[2:], {"Region": "eu-west-1"})
    store.put(("111111111111", "us-east-1") + API[2:], {"Region": "other account"})
    assert store.get(API) == {"Region": "us-east-1"}
    assert store.children(SCOPE, "apis") == [{"Region": "us-east-1"}]


def test_children_can_be_read_while_another_thread_writes(store: Store) -> None:
    """Reads run on the event loop while the writer thread puts and deletes (control/plane.py)."""
    store.put(API, {"Id": "api"})
    done = threading.Event()

    def writer() -> None:
        for n in range(1000):
            store.put(route(f"r{n}"), {"Id": f"r{n}"})
            if n >= 20:
                store.delete(route(f"r{n - 20}"))
        done.set()

    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)  # switch threads as often as possible, to expose unsafe reads
    thread = threading.Thread(target=writer)
    try:
        thread.start()
        while not done.is_set():
            for record in store.children(API, "routes"):
                assert record["Id"].startswith("r")
    finally:
        sys.setswitchinterval(interval)
        thread.join()
    assert len(store.children(API, "routes")) == 20


# SQLite only: the default backend survives a restart.


def reopen(store: SqliteStore) -> SqliteStore:
    store.close()
    return SqliteStore(store.path)


@pytest.fixture
def sqlite_store(tmp_path: Path) -> Iterator[SqliteStore]:
    opened = SqliteStore(tmp_path / "state.sqlite3")
    yield opened
    opened.close()


def test_sqlite_reopen_restores_records_and_their_order(sqlite_store: SqliteStore) -> None:
    sqlite_store.put(API, {"Id": "api", "Tags": {"k": "v"}, "Items": [1, 2.5, None, True]})
    for route_id in ("zz", "aa", "mm"):
        sqlite_store.put(route(route_id), {"Id": route_id, "Version": 1})
    sqlite_store.put(route("zz"), {"Id": "zz", "Version": 2})
    sqlite_store.put(API + ("integrations", "i1"), {"Id": "i1"})
    reopened = reopen(sqlite_store)
    try:
        assert reopened.get(API) == {"Id": "api", "Tags": {"k": "v"}, "Items": [1, 2.5, None, True]}
        assert reopened.children(API, "routes") == [
            {"Id": "zz", "Version": 2},
            {"Id": "aa", "Version": 1},
            {"Id": "mm", "Version": 1},
        ]
        assert ids(reopened.children(API, "integrations")) == ["i1"]
    finally:
        reopened.close()


def test_sqlite_reopen_keeps_deleted_subtrees_deleted(sqlite_store: SqliteStore) -> None:
    for api in (API, OTHER_API):
        sqlite_store.put(api, {"Id": api[-1]})
        sqlite_store.put(api + ("routes", "r1"), {"Id": "r1"})
        sqlite_store.put(api + ("routes", "r1", "routeresponses", "rr1"), {"Id": "rr1"})
    sqlite_store.delete(API)
    reopened = reopen(sqlite_store)
    try:
        assert reopened.get(API) is None
        assert reopened.get(route("r1")) is None
        assert reopened.get(route("r1") + ("routeresponses", "rr1")) is None
        assert ids(reopened.children(SCOPE, "apis")) == ["f6g7h8i9j0"]
        assert ids(reopened.children(OTHER_API + ("routes", "r1"), "routeresponses")) == ["rr1"]
    finally:
        reopened.close()


def test_sqlite_reopen_after_clear_is_empty(sqlite_store: SqliteStore) -> None:
    sqlite_store.put(API, {"Id": "api"})
    sqlite_store.put(route("r1"), {"Id": "r1"})
    sqlite_store.clear()
    reopened = reopen(sqlite_store)
    try:
        assert reopened.get(API) is None
        assert reopened.children(API, "routes") == []
    finally:
        reopened.close()


def test_sqlite_reopen_restores_unicode_keys(sqlite_store: SqliteStore) -> None:
    key = SCOPE + ("domainnames", "bücher.例え") + ("apimappings", "😀")
    sqlite_store.put(key, {"Name": "Grüße"})
    reopened = reopen(sqlite_store)
    try:
        assert reopened.get(key) == {"Name": "Grüße"}
    finally:
        reopened.close()


def test_sqlite_reopen_shares_equal_strings_between_records(sqlite_store: SqliteStore) -> None:
    # Loaded row by row, each record would own its copy of every member name and value.
    for route_id in ("r1", "r2"):
        sqlite_store.put(route(route_id), {"AuthorizationType": "NONE", "Id": route_id})
    reopened = reopen(sqlite_store)
    try:
        first, second = reopened.children(API, "routes")
        assert first == {"AuthorizationType": "NONE", "Id": "r1"}
        assert second == {"AuthorizationType": "NONE", "Id": "r2"}
        assert next(iter(first)) is next(iter(second))
        assert first["AuthorizationType"] is second["AuthorizationType"]
    finally:
        reopened.close()


def test_sqlite_database_is_in_wal_mode(sqlite_store: SqliteStore) -> None:
    sqlite_store.put(API, {"Id": "api"})
    sqlite_store.close()  # the store holds the file exclusively while it is open
    other = sqlite3.connect(sqlite_store.path)
    try:
        assert other.execute("PRAGMA journal_mode").fetchone() == ("wal",)
    finally:
        other.close()


def test_sqlite_file_is_refused_to_a_second_store_while_open(sqlite_store: SqliteStore) -> None:
    sqlite_store.put(API, {"Id": "api"})
    with pytest.raises(StoreError, match="is in use by another process"):
        SqliteStore(sqlite_store.path)
    assert sqlite_store.get(API) == {"Id": "api"}
    sqlite_store.put(route("r1"), {"Id": "r1"})  # the first store still writes


def test_sqlite_file_is_free_again_once_closed(sqlite_store: SqliteStore) -> None:
    sqlite_store.put(API, {"Id": "api"})
    reopened = reopen(sqlite_store)
    try:
        assert reopened.get(API) == {"Id": "api"}
    finally:
        reopened.close()


def test_sqlite_backend_keeps_its_file_in_the_state_directory(tmp_path: Path) -> None:
    opened = open_store("sqlite", tmp_path / "nested" / "state")
    try:
        opened.put(API, {"Id": "api"})
        assert (tmp_path / "nested" / "state" / "state.sqlite3").is_file()
    finally:
        opened.close()


def test_sqlite_state_directory_that_is_a_file_is_a_store_error(tmp_path: Path) -> None:
    (tmp_path / "taken").write_text("not a directory")
    with pytest.raises(StoreError, match="taken"):
        open_store("sqlite", tmp_path / "taken")


def test_sqlite_file_that_is_not_a_database_is_a_store_error(tmp_path: Path) -> None:
    (tmp_path / "state.sqlite3").write_bytes(b"this is not a database" * 100)
    with pytest.raises(StoreError, match=r"state\.sqlite3"):
        open_store("sqlite", tmp_path)


def test_parents_lists_every_key_with_children_of_a_kind(store: Store) -> None:
    store.put(("000000000000", "us-east-1", "apis", "a"), {"ApiId": "a"})
    store.put(("000000000000", "eu-west-1", "apis", "b"), {"ApiId": "b"})
    store.put(("000000000000", "eu-west-1", "vpclinks", "v"), {"VpcLinkId": "v"})
    parents = sorted(store.parents("apis"))
    assert parents == [("000000000000", "eu-west-1"), ("000000000000", "us-east-1")]


def test_parents_forgets_a_parent_whose_children_are_all_deleted(store: Store) -> None:
    store.put(("000000000000", "us-east-1", "apis", "a"), {"ApiId": "a"})
    store.delete(("000000000000", "us-east-1", "apis", "a"))
    assert store.parents("apis") == []
