"""Records held as their JSON text until first read: the SQLite store's load, MemoryStore's swap."""

from __future__ import annotations

import json
import sqlite3
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from propylon.store import Key, MemoryStore, Record, SqliteStore, StoreError

API: Key = ("000000000000", "us-east-1", "apis", "a1b2c3d4e5")
SNAPSHOT: Key = API + ("snapshots", "d1")
STAGE: Key = API + ("stages", "$default")
RECORD: Record = {"Api": {"ApiId": "a1b2c3d4e5"}, "routes": [{"RouteKey": "GET /pets"}]}


@pytest.fixture
def path(tmp_path: Path) -> Path:
    """A state file holding an API, its stage and one deployment's snapshot."""
    store = SqliteStore(tmp_path / "state.sqlite3")
    store.put(API, {"ApiId": "a1b2c3d4e5"})
    store.put(STAGE, {"StageName": "$default", "DeploymentId": "d1"})
    store.put(SNAPSHOT, RECORD)
    store.close()
    return tmp_path / "state.sqlite3"


@pytest.fixture
def store(path: Path) -> Iterator[SqliteStore]:
    opened = SqliteStore(path)
    yield opened
    opened.close()


def test_a_loaded_record_is_the_same_object_on_every_read(store: SqliteStore) -> None:
    first = store.get(SNAPSHOT)
    assert first == RECORD
    assert store.get(SNAPSHOT) is first
    assert store.children(API, "snapshots")[0] is first


def test_a_record_read_first_through_children_is_the_one_get_returns(
    store: SqliteStore,
) -> None:
    (listed,) = store.children(API, "stages")
    assert store.get(STAGE) is listed


def test_loaded_records_survive_a_second_restart_unread(path: Path) -> None:
    SqliteStore(path).close()  # opened and closed without reading anything
    again = SqliteStore(path)
    try:
        assert again.get(SNAPSHOT) == RECORD
        assert again.get(STAGE) == {"StageName": "$default", "DeploymentId": "d1"}
    finally:
        again.close()


def test_a_put_replaces_a_record_not_yet_read(path: Path, store: SqliteStore) -> None:
    replacement: Record = {"Api": {"ApiId": "a1b2c3d4e5"}, "routes": []}
    store.put(SNAPSHOT, replacement)
    assert store.get(SNAPSHOT) is replacement
    assert store.children(API, "snapshots") == [replacement]
    store.close()
    reopened = SqliteStore(path)
    try:
        assert reopened.get(SNAPSHOT) == replacement
    finally:
        reopened.close()


def test_deleting_the_parent_removes_children_not_yet_read(path: Path, store: SqliteStore) -> None:
    assert store.delete(API) is True
    assert store.get(SNAPSHOT) is None
    assert store.children(API, "snapshots") == []
    assert store.delete(SNAPSHOT) is False
    store.close()
    reopened = SqliteStore(path)
    try:
        assert reopened.get(SNAPSHOT) is None
        assert reopened.children(API, "stages") == []
    finally:
        reopened.close()


def test_a_row_that_is_not_json_fails_when_read_not_when_opened(path: Path) -> None:
    db = sqlite3.connect(path)
    db.execute("UPDATE records SET data = '{not json' WHERE path LIKE '%snapshots%'")
    db.commit()
    db.close()
    opened = SqliteStore(path)
    try:
        assert opened.get(STAGE) == {"StageName": "$default", "DeploymentId": "d1"}
        with pytest.raises(StoreError, match="not valid JSON"):
            opened.get(SNAPSHOT)
    finally:
        opened.close()


# MemoryStore holding encoded records, as the SQLite store fills it


def test_threads_reading_one_encoded_record_all_get_the_same_object() -> None:
    store = MemoryStore(decode=json.loads)
    keys = [API + ("routes", f"r{n}") for n in range(200)]
    store.load_encoded((key, json.dumps({"Id": f"r{n}"})) for n, key in enumerate(keys))
    seen: list[list[Record]] = []

    def reader() -> None:
        seen.append([record for key in keys if (record := store.get(key)) is not None])

    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)  # switch threads as often as possible, to expose races
    threads = [threading.Thread(target=reader) for _ in range(4)]
    try:
        for thread in threads:
            thread.start()
    finally:
        for thread in threads:
            thread.join()
        sys.setswitchinterval(interval)
    assert len(seen) == 4
    for records in seen:
        assert all(a is b for a, b in zip(records, seen[0], strict=True))
    assert [record["Id"] for record in seen[0]] == [f"r{n}" for n in range(200)]


def test_a_write_made_while_a_record_is_decoded_is_kept() -> None:
    decoding, proceed = threading.Event(), threading.Event()

    def slow_decode(text: str) -> Record:
        decoding.set()
        proceed.wait(5)
        record: Record = json.loads(text)
        return record

    store = MemoryStore(decode=slow_decode)
    store.load_encoded([(SNAPSHOT, json.dumps({"Version": 1}))])
    read: list[Record | None] = []
    reader = threading.Thread(target=lambda: read.append(store.get(SNAPSHOT)))
    reader.start()
    assert decoding.wait(5)
    newer: Record = {"Version": 2}
    writer = threading.Thread(target=store.put, args=(SNAPSHOT, newer))
    writer.start()
    writer.join(0.2)  # a put that does not wait for the decode would be done by now
    proceed.set()
    reader.join()
    writer.join()
    assert read[0] in ({"Version": 1}, newer)  # the store before the write, or after it
    assert store.get(SNAPSHOT) is newer  # the decoded record did not take the write's place


def test_has_does_not_decode() -> None:
    store = MemoryStore(decode=lambda text: pytest.fail("decoded"))
    store.load_encoded([(SNAPSHOT, "{}")])
    assert store.has(SNAPSHOT)
    assert not store.has(STAGE)
