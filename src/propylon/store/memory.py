"""The in-memory backend: the reference implementation, and the read side of the SQLite one.

Reads run on the event loop while the control plane's writer thread changes the dicts, so a
read never iterates a live dict: ``list(d)`` copies one in a single step under the GIL, and a
key whose record a concurrent delete has just removed is skipped.
"""

from __future__ import annotations

from propylon.store.base import Key, Record


class MemoryStore:
    """Records in a dict, with an ordered index of each parent's children by kind."""

    name = "memory"

    def __init__(self) -> None:
        self._records: dict[Key, Record] = {}
        # (parent key + (kind,)) -> child keys in creation order (dict keeps insertion order)
        self._index: dict[Key, dict[Key, None]] = {}
        # parent key -> kinds it has children of
        self._kinds: dict[Key, set[str]] = {}

    def get(self, key: Key) -> Record | None:
        return self._records.get(key)

    def put(self, key: Key, record: Record) -> None:
        if key not in self._records:
            parent, kind = key[:-2], key[-2]
            self._index.setdefault(parent + (kind,), {})[key] = None
            self._kinds.setdefault(parent, set()).add(kind)
        self._records[key] = record

    def delete(self, key: Key) -> bool:
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
        return [record for k in keys if (record := records.get(k)) is not None]

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
        self._records.clear()
        self._index.clear()
        self._kinds.clear()

    def close(self) -> None:
        self.clear()
