"""The SQLite backend (the default): a write-through journal behind the in-memory store.

Every record lives in one table, keyed by its path; the whole table is read into a
``MemoryStore`` when the store opens, so reads never touch the disk and a control-plane read
costs a dict lookup. Writes go to SQLite at once, in WAL mode with ``synchronous=NORMAL``: a
commit appends to the log without an fsync, so it is durable across a process exit and costs
microseconds; a power loss can lose the last commits, as with any WAL database in that mode.
Rows keep their rowid when replaced, which keeps children in creation order across restarts.

Opening does not decode the rows: each record is held as its JSON text and decoded the first
time it is read (``MemoryStore.load_encoded``), then kept, so a later read returns the same
object. Start-up reads only what the data plane's refresh needs (the APIs and their stages);
the deployments' snapshots, the bulk of the state, are decoded when a stage is first served,
and routes or integrations when the control plane first reads them. A row that is not valid
JSON is a ``StoreError`` when it is read.

Because reads are served from memory, a second process on the same file would serve stale
records and write over the first one's changes. So the store takes an exclusive lock on the
file when it opens and holds it until it closes (``locking_mode=EXCLUSIVE``); a second store
fails at once with a ``StoreError``. The operating system drops the lock if the process dies.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from propylon.store.base import Key, Record, StoreError
from propylon.store.memory import MemoryStore

_SEP = "\x1f"  # unit separator: cannot appear in ids, names or ARNs we store
_SCHEMA = """
CREATE TABLE IF NOT EXISTS records (
    path TEXT PRIMARY KEY,
    data TEXT NOT NULL
)
"""


def _encode(key: Key) -> str:
    return _SEP.join(key)


class _Loader:
    """Decodes the stored rows so that equal strings become one object.

    ``json.loads`` shares nothing between documents: loaded row by row, every record would get
    its own copy of each member name ("RouteId", "RouteKey" ...), of each repeated value
    ("AWS_PROXY", the API id in every key) and of everything a deployment's snapshot copies from
    the live records. Sharing them takes the decoded state of 1,000 APIs of 10 routes from
    about 30 MB to 11 MB. Records are decoded on first read, at any time, so the table of
    strings lives as long as the store; the store's lock serialises the decoding.
    """

    def __init__(self) -> None:
        self._strings: dict[str, str] = {}
        self._decoder = json.JSONDecoder(object_pairs_hook=self._object)

    def keys(self, rows: Iterable[tuple[str, str]]) -> Iterator[tuple[Key, str]]:
        """Each (path, data) row as (key, data). Siblings share their parent's path, so each
        parent is split once."""
        share = self._strings.setdefault
        parents: dict[str, Key] = {"": ()}
        for path_text, data in rows:
            parent_text, _, last = path_text.rpartition(_SEP)
            parent = parents.get(parent_text)
            if parent is None:
                parts = parent_text.split(_SEP)
                parent = parents[parent_text] = tuple([share(part, part) for part in parts])
            yield parent + (share(last, last),), data

    def record(self, data: str) -> Record:
        try:
            record: Record = self._decoder.decode(data)
        except ValueError as exc:
            raise StoreError(f"a stored record is not valid JSON: {exc}") from exc
        return record

    def _object(self, pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        share = self._strings.setdefault
        return {share(k, k): share(v, v) if type(v) is str else v for k, v in pairs}


class SqliteStore:
    name = "sqlite"

    def __init__(self, path: Path) -> None:
        self.path = path
        self._loader = _Loader()
        self._memory = MemoryStore(decode=self._loader.record)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            # timeout=0: a file locked by another store is an error now, not after a wait
            self._db = sqlite3.connect(
                path, isolation_level=None, check_same_thread=False, timeout=0
            )
        except (OSError, sqlite3.Error) as exc:
            raise StoreError(f"cannot open the state file {path}: {exc}") from exc
        try:
            self._load()
        except sqlite3.OperationalError as exc:
            self._db.close()
            if "locked" in str(exc):
                raise StoreError(f"the state file {path} is in use by another process") from exc
            raise StoreError(f"cannot read the state file {path}: {exc}") from exc
        except sqlite3.Error as exc:
            self._db.close()
            raise StoreError(f"cannot read the state file {path}: {exc}") from exc

    def _load(self) -> None:
        self._db.execute("PRAGMA locking_mode=EXCLUSIVE")
        self._db.execute("BEGIN EXCLUSIVE")  # take the lock; in exclusive mode it is kept
        self._db.execute("COMMIT")
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.execute(_SCHEMA)
        rows = self._db.execute("SELECT path, data FROM records ORDER BY rowid")
        self._memory.load_encoded(self._loader.keys(rows))

    def get(self, key: Key) -> Record | None:
        return self._memory.get(key)

    def put(self, key: Key, record: Record) -> None:
        data = json.dumps(record, separators=(",", ":"))
        self._db.execute(
            "INSERT INTO records (path, data) VALUES (?, ?) "
            "ON CONFLICT(path) DO UPDATE SET data = excluded.data",
            (_encode(key), data),
        )
        self._memory.put(key, record)

    def delete(self, key: Key) -> bool:
        if not self._memory.has(key):
            return False
        doomed = [key, *self._memory.keys_under(key)]
        self._db.execute("BEGIN")
        try:
            self._db.executemany(
                "DELETE FROM records WHERE path = ?", [(_encode(k),) for k in doomed]
            )
            self._db.execute("COMMIT")
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        return self._memory.delete(key)

    def children(self, parent: Key, kind: str) -> list[Record]:
        return self._memory.children(parent, kind)

    def parents(self, kind: str) -> list[Key]:
        return self._memory.parents(kind)

    def clear(self) -> None:
        self._db.execute("DELETE FROM records")
        self._memory.clear()

    def close(self) -> None:
        self._db.close()
        self._memory.clear()
