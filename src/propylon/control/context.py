"""What every handler receives: the caller's (account, region), the store and the clock."""

from __future__ import annotations

import secrets
import string
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from propylon.settings import Settings
from propylon.store import Key, Store

Params = dict[str, Any]
Output = dict[str, Any]

_ALPHABET = string.ascii_lowercase + string.digits


@dataclass(frozen=True, slots=True)
class Call:
    """One control-plane request, as handlers see it."""

    account: str
    region: str
    store: Store
    settings: Settings
    now: datetime

    @property
    def scope(self) -> Key:
        """The root of this (account, region)'s resource tree."""
        return (self.account, self.region)

    @property
    def timestamp(self) -> str:
        return self.now.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def new_id(length: int) -> str:
    """A random identifier in AWS's form: lower-case letters and digits."""
    return "".join(secrets.choice(_ALPHABET) for _ in range(length))
