"""Request throttling (reference §9): token buckets for the account, stage and route levels.

How this works: a token bucket holds at most ``burst`` tokens and gains ``rate`` tokens per
second; a request takes one token, and a request that finds less than one token is throttled
(429 ``{"message":"Too Many Requests"}``). A bucket starts full.

Two buckets guard every request:

* the account bucket, one for the whole gateway (``Settings.throttle_rate`` and
  ``throttle_burst``: AWS's 10,000 requests per second with a burst of 5,000 by default), shared by
  every API, stage and route, HTTP and WebSocket alike;
* a route bucket per (API, stage, route key), when the stage sets limits for that route: the
  route's ``RouteSettings`` entry, field by field over the stage's ``DefaultRouteSettings``. A
  route without any limit at either level has no bucket of its own (only the account bucket
  applies). A limit of 0 is a limit: burst 0 throttles every request, rate 0 never refills.

A request passes only when every bucket that guards it has a token; a throttled request takes
no token from any bucket. ``stage_limits`` resolves the limits of every route key once per
compiled stage, so the request path does one dict lookup and a little arithmetic.

Route buckets live in the ``Throttle`` object, not in the compiled stage, so a recompiled stage
with the same limits keeps its buckets; when the limits of a route change, its bucket starts
again, full, with the new limits.

The clock is injected (``time.monotonic`` by default); nothing here reads the time otherwise.
All calls come from the one event loop, so no lock is needed.

Use from the HTTP chain and from WebSocket message routing alike::

    limits = stage_limits(stage_record, route_keys)          # once per compiled stage
    if not gateway.throttle.take(api_id, stage_name, route_key, limits.get(route_key)):
        raise GatewayTooManyRequests(...)
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

Clock = Callable[[], float]

_RATE = "ThrottlingRateLimit"
_BURST = "ThrottlingBurstLimit"


@dataclass(frozen=True, slots=True)
class Limits:
    """The limits of one bucket. None means "not set here": the account's value applies."""

    rate: float | None
    """Steady-state requests per second (``ThrottlingRateLimit``)."""
    burst: int | None
    """Bucket capacity (``ThrottlingBurstLimit``)."""


class TokenBucket:
    """``burst`` tokens at most, ``rate`` more per second; starts full."""

    __slots__ = ("burst", "rate", "stamp", "tokens")

    def __init__(self, rate: float, burst: int, now: float) -> None:
        self.rate = rate
        self.burst = burst
        self.tokens = float(burst)
        self.stamp = now

    def refill(self, now: float) -> float:
        """Bring the bucket up to ``now``; return the tokens it holds."""
        elapsed = now - self.stamp
        if elapsed > 0:
            tokens = self.tokens + elapsed * self.rate
            self.tokens = tokens if tokens < self.burst else float(self.burst)
            self.stamp = now
        return self.tokens


class _RouteBucket(TokenBucket):
    __slots__ = ("limits",)

    def __init__(self, limits: Limits, rate: float, burst: int, now: float) -> None:
        super().__init__(rate, burst, now)
        self.limits = limits


def _limit(settings: Mapping[str, Any] | None, name: str) -> Any:
    return None if settings is None else settings.get(name)


def route_limits(
    default: Mapping[str, Any] | None, route: Mapping[str, Any] | None
) -> Limits | None:
    """A route's limits: its ``RouteSettings`` fields over the stage's ``DefaultRouteSettings``;
    None when neither sets a throttling limit."""
    rate = _limit(route, _RATE)
    if rate is None:
        rate = _limit(default, _RATE)
    burst = _limit(route, _BURST)
    if burst is None:
        burst = _limit(default, _BURST)
    if rate is None and burst is None:
        return None
    return Limits(None if rate is None else float(rate), None if burst is None else int(burst))


def stage_limits(stage: Mapping[str, Any], route_keys: Iterable[str]) -> dict[str, Limits]:
    """Route key → limits, for the routes that have any, from a stage record."""
    default = stage.get("DefaultRouteSettings")
    per_route: Mapping[str, Mapping[str, Any]] = stage.get("RouteSettings") or {}
    limits: dict[str, Limits] = {}
    for route_key in {*route_keys, *per_route}:
        found = route_limits(default, per_route.get(route_key))
        if found is not None:
            limits[route_key] = found
    return limits


class Throttle:
    """The account bucket and every route bucket of the gateway."""

    def __init__(self, rate: float, burst: int, clock: Clock = time.monotonic) -> None:
        self._clock = clock
        self.account = TokenBucket(rate, burst, clock())
        self._routes: dict[tuple[str, str, str], _RouteBucket] = {}

    def take(self, api_id: str, stage: str, route_key: str, limits: Limits | None) -> bool:
        """Take a token for one request (or WebSocket message) to a route; False when the
        request is throttled. ``limits`` is the route's entry from ``stage_limits`` (None when
        the stage sets none for it)."""
        now = self._clock()
        account = self.account
        if limits is None:
            if account.refill(now) < 1:
                return False
            account.tokens -= 1
            return True
        bucket = self._bucket((api_id, stage, route_key), limits, now)
        if bucket.refill(now) < 1 or account.refill(now) < 1:
            return False
        bucket.tokens -= 1
        account.tokens -= 1
        return True

    def _bucket(self, key: tuple[str, str, str], limits: Limits, now: float) -> _RouteBucket:
        bucket = self._routes.get(key)
        if bucket is not None and (bucket.limits is limits or bucket.limits == limits):
            bucket.limits = limits
            return bucket
        rate = self.account.rate if limits.rate is None else limits.rate
        burst = self.account.burst if limits.burst is None else limits.burst
        bucket = _RouteBucket(limits, rate, burst, now)
        self._routes[key] = bucket
        return bucket
