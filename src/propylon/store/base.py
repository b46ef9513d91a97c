"""The store interface every backend implements.

Records are JSON-ready dicts addressed by a ``Key``: a tuple naming the record's place in the
resource tree, e.g. ``(account, region, "apis", "a1b2c3d4e5", "routes", "abc1234")``. A record's
children of one kind are listed in the order they were created. Deleting a key deletes the whole
subtree under it (an API with its routes, integrations, stages ...).

Records handed out are shared, not copied: callers treat them as immutable and ``put`` a new
dict to change one. Writes come from one thread at a time; reads may run on another thread while
a write is under way, and see the store either before or after it.
"""

from __future__ import annotations

from typing import Any, Protocol

Key = tuple[str, ...]
Record = dict[str, Any]


class StoreError(Exception):
    """A backend cannot open or use its storage (a foreign error, translated at the boundary)."""


class Store(Protocol):
    name: str

    def get(self, key: Key) -> Record | None:
        """The record at ``key``, or None."""
        ...

    def put(self, key: Key, record: Record) -> None:
        """Create or replace the record at ``key``; a replaced record keeps its list position."""
        ...

    def delete(self, key: Key) -> bool:
        """Delete the record at ``key`` and everything under it; False if there was none."""
        ...

    def children(self, parent: Key, kind: str) -> list[Record]:
        """The records at ``parent + (kind, id)``, in creation order."""
        ...

    def parents(self, kind: str) -> list[Key]:
        """Every key that has children of ``kind`` (e.g. each (account, region) with APIs)."""
        ...

    def clear(self) -> None:
        """Delete every record."""
        ...

    def close(self) -> None:
        """Release the backend's resources; the store is not used afterwards."""
        ...
