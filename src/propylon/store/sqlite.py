"""The SQLite backend (the default): a write-through journal behind the in-memory store.

Every record lives in one table, keyed by its path; the whole table is loaded into a
``MemoryStore`` when the store opens, so reads never touch the disk and a control-plane read
costs a dict lookup. Writes go to SQLite at once, in WAL mode with ``synchronous=NORMAL``: a
commit appends to the log without an fsync, so it is durable across a process exit and costs
microseconds; a power loss can lose the last commits, as with any WAL database in that mode.
Rows keep their rowid when replaced, which keeps children in creation order across restarts.
"""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

from propylon.store.base import Key, Record
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


class SqliteStore:
    name = "sqlite"

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.execute(_SCHEMA)
        self._memory = MemoryStore()
        for path_text, data in self._db.execute("SELECT path, data FROM records ORDER BY rowid"):
            self._memory.put(tuple(path_text.split(_SEP)), json.loads(data))

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
        if self._memory.get(key) is None:
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

    def clear(self) -> None:
        self._db.execute("DELETE FROM records")
        self._memory.clear()

    def close(self) -> None:
        self._db.close()
        self._memory.clear()
