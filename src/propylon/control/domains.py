"""(placeholder, filled in by the control-plane-complete work)"""

from __future__ import annotations

from propylon.control.crud import Handler, Registry, ResourceSpec

SPECS: tuple[ResourceSpec, ...] = ()


def handlers(registry: Registry) -> dict[str, Handler]:
    return {}
