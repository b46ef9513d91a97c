"""Token buckets for the account, stage and route levels, on a fake clock."""

from __future__ import annotations

from propylon.execute.throttle import Limits, Throttle, TokenBucket, route_limits, stage_limits


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def passed(throttle: Throttle, count: int, limits: Limits | None, route: str = "GET /") -> int:
    """How many of ``count`` immediate requests to ``route`` got through."""
    return sum(throttle.take("api", "prod", route, limits) for _ in range(count))


def test_a_bucket_starts_full_and_lets_a_burst_through() -> None:
    throttle = Throttle(10_000, 5_000, FakeClock())
    assert passed(throttle, 5, Limits(1.0, 3)) == 3


def test_a_bucket_refills_at_its_rate() -> None:
    clock = FakeClock()
    throttle = Throttle(10_000, 5_000, clock)
    limits = Limits(2.0, 3)
    assert passed(throttle, 3, limits) == 3
    assert not throttle.take("api", "prod", "GET /", limits)
    clock.now += 0.49  # 0.98 tokens: not yet one
    assert not throttle.take("api", "prod", "GET /", limits)
    clock.now += 0.01
    assert throttle.take("api", "prod", "GET /", limits)
    clock.now += 60  # refills no higher than the burst
    assert passed(throttle, 10, limits) == 3


def test_a_throttled_request_takes_no_token() -> None:
    clock = FakeClock()
    throttle = Throttle(10_000, 5_000, clock)
    limits = Limits(1.0, 1)
    assert throttle.take("api", "prod", "GET /", limits)
    for _ in range(5):
        assert not throttle.take("api", "prod", "GET /", limits)
    clock.now += 1.0
    assert throttle.take("api", "prod", "GET /", limits)


def test_burst_zero_throttles_every_request() -> None:
    clock = FakeClock()
    throttle = Throttle(10_000, 5_000, clock)
    assert passed(throttle, 3, Limits(0.0, 0)) == 0
    clock.now += 3600
    assert passed(throttle, 3, Limits(100.0, 0)) == 0


def test_rate_zero_allows_the_burst_and_never_refills() -> None:
    clock = FakeClock()
    throttle = Throttle(10_000, 5_000, clock)
    assert passed(throttle, 4, Limits(0.0, 2)) == 2
    clock.now += 3600
    assert passed(throttle, 4, Limits(0.0, 2)) == 0


def test_route_settings_override_the_stage_defaults_field_by_field() -> None:
    default = {"ThrottlingRateLimit": 5.0, "ThrottlingBurstLimit": 10}
    assert route_limits(default, {"ThrottlingBurstLimit": 2}) == Limits(5.0, 2)
    assert route_limits(default, None) == Limits(5.0, 10)
    assert route_limits(default, {"ThrottlingRateLimit": 0}) == Limits(0.0, 10)


def test_no_limit_at_either_level_means_no_route_bucket() -> None:
    assert route_limits({"DetailedMetricsEnabled": False}, {"DetailedMetricsEnabled": True}) is None
    assert route_limits(None, None) is None


def test_stage_limits_cover_every_route_with_a_limit() -> None:
    stage = {
        "DefaultRouteSettings": {"DetailedMetricsEnabled": False},
        "RouteSettings": {"GET /pets": {"ThrottlingBurstLimit": 1, "ThrottlingRateLimit": 2}},
    }
    assert stage_limits(stage, ["GET /pets", "POST /pets"]) == {"GET /pets": Limits(2.0, 1)}
    stage["DefaultRouteSettings"] = {"ThrottlingBurstLimit": 7}
    assert stage_limits(stage, ["GET /pets", "POST /pets"]) == {
        "GET /pets": Limits(2.0, 1),
        "POST /pets": Limits(None, 7),
    }


def test_a_missing_field_takes_the_account_value() -> None:
    clock = FakeClock()
    throttle = Throttle(1.0, 4, clock)
    assert passed(throttle, 6, Limits(None, 2)) == 2  # rate 1 from the account
    clock.now += 1.0
    assert passed(throttle, 6, Limits(None, 2)) == 1


def test_each_route_has_its_own_bucket() -> None:
    throttle = Throttle(10_000, 5_000, FakeClock())
    limits = Limits(1.0, 2)
    assert passed(throttle, 3, limits, "GET /a") == 2
    assert passed(throttle, 3, limits, "GET /b") == 2
    assert not throttle.take("api", "prod", "GET /a", limits)
    assert throttle.take("other", "prod", "GET /a", limits)
    assert throttle.take("api", "test", "GET /a", limits)


def test_the_account_bucket_limits_every_route_together() -> None:
    clock = FakeClock()
    throttle = Throttle(1.0, 3, clock)
    assert throttle.take("api", "prod", "GET /a", None)
    assert throttle.take("b", "$default", "GET /b", Limits(100.0, 100))
    assert throttle.take("api", "prod", "GET /c", None)
    assert not throttle.take("api", "prod", "GET /a", None)
    assert not throttle.take("b", "$default", "GET /b", Limits(100.0, 100))
    clock.now += 1.0
    assert throttle.take("api", "prod", "GET /a", None)


def test_a_refusal_by_the_account_bucket_keeps_the_route_token() -> None:
    clock = FakeClock()
    throttle = Throttle(0.0, 1, clock)
    limits = Limits(0.0, 1)
    assert throttle.take("api", "prod", "GET /x", None)  # the account's only token
    assert not throttle.take("api", "prod", "GET /a", limits)
    throttle.account.tokens = 1.0
    assert throttle.take("api", "prod", "GET /a", limits)  # the route token was kept


def test_equal_limits_keep_the_bucket_and_changed_limits_reset_it() -> None:
    throttle = Throttle(10_000, 5_000, FakeClock())
    assert passed(throttle, 2, Limits(0.0, 2)) == 2
    assert passed(throttle, 1, Limits(0.0, 2)) == 0  # an equal object: same bucket
    assert passed(throttle, 5, Limits(0.0, 3)) == 3  # new limits: a new, full bucket


def test_a_token_bucket_never_holds_more_than_its_burst() -> None:
    bucket = TokenBucket(rate=10.0, burst=5, now=0.0)
    bucket.tokens = 0.0
    assert bucket.refill(0.2) == 2.0
    assert bucket.refill(100.0) == 5.0
    assert bucket.refill(99.0) == 5.0  # a clock that went back adds nothing
