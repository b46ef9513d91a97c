"""The in-memory backend: the reference implementation, and the read side of the SQLite one.

Reads run on the event loop while the control plane's writer thread changes the dicts, so a
read never iterates a live dict: ``list(d)`` copies one in a single step under the GIL, and a
key whose record a concurrent delete has just removed is skipped.

A record may also be held encoded, as its JSON text (``load_encoded``; the SQLite store loads
every row that way), and is decoded when it is first read. The decoded dict then takes the
text's place, so every later read returns that same object. Decoding swaps one value for
another under a lock that ``put``, ``delete`` and ``clear`` also take: a write made meanwhile
is never undone by the swap, and two threads reading the same encoded record decode it once.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable

from propylon.store.base import Key, Record


def _no_decoder(text: str) -> Record:
    raise TypeError("this store was given no decoder for encoded records")


class MemoryStore:
    """Records in a dict, with an ordered index of each parent's children by kind."""

    name = "memory"

    def __init__(self, decode: Callable[[str], Record] = _no_decoder) -> None:
        # a record, or its JSON text until it is first read
        self._records: dict[Key, Record | str] = {}
        # (parent key + (kind,)) -> child keys in creation order (dict keeps insertion order)
        self._index: dict[Key, dict[Key, None]] = {}
        # parent key -> kinds it has children of
        self._kinds: dict[Key, set[str]] = {}
        self._decode = decode
        self._lock = threading.Lock()

    def get(self, key: Key) -> Record | None:
        record = self._records.get(key)
        if isinstance(record, str):
            return self._decoded(key, record)
        return record

    def has(self, key: Key) -> bool:
        """Whether there is a record at ``key``, without decoding it."""
        return key in self._records

    def put(self, key: Key, record: Record) -> None:
        with self._lock:
            if key not in self._records:
                parent, kind = key[:-2], key[-2]
                self._index.setdefault(parent + (kind,), {})[key] = None
                self._kinds.setdefault(parent, set()).add(kind)
            self._records[key] = record

    def load_encoded(self, rows: Iterable[tuple[Key, str]]) -> None:
        """Hold each record as its JSON text, to be decoded when first read; as ``put`` would
        for each (key, text), in one step."""
        with self._lock:
            records, index, kinds = self._records, self._index, self._kinds
            for key, text in rows:
                if key not in records:
                    index.setdefault(key[:-1], {})[key] = None
                    kinds.setdefault(key[:-2], set()).add(key[-2])
                records[key] = text

    def _decoded(self, key: Key, text: str) -> Record:
        with self._lock:
            current = self._records.get(key)
            if current is text:
                record = self._decode(text)
                self._records[key] = record
                return record
            if current is None or isinstance(current, str):
                # deleted since it was read: the reader sees the store from before the delete
                return self._decode(text)
            return current  # decoded by another reader, or replaced by a write since

    def delete(self, key: Key) -> bool:
        with self._lock:
            if key not in self._records:
                return False
            siblings = self._index.get(key[:-1])
            if siblings is not None:
                siblings.pop(key, None)
            self._delete_tree(key)
            return True

    def _delete_tree(self, key: Key) -> None:
        self._records.pop(key, None)
        for kind in self._kinds.pop(key, ()):
            for child in self._index.pop(key + (kind,), {}):
                self._delete_tree(child)

    def children(self, parent: Key, kind: str) -> list[Record]:
        keys = list(self._index.get(parent + (kind,), ()))
        records = self._records
        found: list[Record] = []
        for key in keys:
            record = records.get(key)
            if isinstance(record, str):
                found.append(self._decoded(key, record))
            elif record is not None:
                found.append(record)
        return found

    def parents(self, kind: str) -> list[Key]:
        return [key[:-1] for key, kids in list(self._index.items()) if key[-1] == kind and kids]

    def keys_under(self, key: Key) -> list[Key]:
        """Every key in the subtree under ``key`` (``key`` itself excluded)."""
        found: list[Key] = []
        for kind in self._kinds.get(key, ()):
            for child in self._index.get(key + (kind,), {}):
                found.append(child)
                found.extend(self.keys_under(child))
        return found

    def clear(self) -> None:
        with self._lock:
            self._records.clear()
            self._index.clear()
            self._kinds.clear()

    def close(self) -> None:
        self.clear()
