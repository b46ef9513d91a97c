"""Persistence: one interface (``Store``), several backends, chosen by name."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from propylon.store.base import Key, Record, Store, StoreError
from propylon.store.memory import MemoryStore
from propylon.store.sqlite import SqliteStore

BACKENDS: dict[str, Callable[[Path], Store]] = {
    "memory": lambda state_dir: MemoryStore(),
    "sqlite": lambda state_dir: SqliteStore(state_dir / "state.sqlite3"),
}


def open_store(backend: str, state_dir: Path) -> Store:
    """Open the named backend; ``state_dir`` is where file-backed stores keep their data."""
    return BACKENDS[backend](state_dir)


__all__ = [
    "BACKENDS",
    "Key",
    "MemoryStore",
    "Record",
    "SqliteStore",
    "Store",
    "StoreError",
    "open_store",
]
