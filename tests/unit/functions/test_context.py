"""The Lambda context object, driven by a fake clock."""

from __future__ import annotations

import re
from datetime import date
from uuid import RFC_4122, UUID

from propylon.functions.context import LambdaContext, log_stream_name, new_request_id


class FakeClock:
    def __init__(self, now: float = 1000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def make_context(clock: FakeClock, deadline: float) -> LambdaContext:
    return LambdaContext(
        aws_request_id="c6af9ac6-7b61-11e6-9a41-93e8deadbeef",
        function_name="orders",
        invoked_function_arn="arn:aws:lambda:us-east-1:000000000000:function:orders",
        memory_limit_in_mb=256,
        log_stream_name="2024/05/01/[$LATEST]" + "0" * 32,
        deadline=deadline,
        clock=clock,
    )


def test_context_carries_lambda_fields() -> None:
    context = make_context(FakeClock(), deadline=1003.0)
    assert context.aws_request_id == "c6af9ac6-7b61-11e6-9a41-93e8deadbeef"
    assert context.function_name == "orders"
    assert context.function_version == "$LATEST"
    assert context.invoked_function_arn.endswith(":function:orders")
    assert context.memory_limit_in_mb == "256"  # a string, as the Python runtime gives it
    assert context.log_group_name == "/aws/lambda/orders"
    assert context.identity is None
    assert context.client_context is None


def test_remaining_time_counts_down_with_the_clock() -> None:
    clock = FakeClock(1000.0)
    context = make_context(clock, deadline=1003.0)
    assert context.get_remaining_time_in_millis() == 3000
    clock.now = 1002.25
    assert context.get_remaining_time_in_millis() == 750


def test_remaining_time_is_never_negative() -> None:
    clock = FakeClock(1000.0)
    context = make_context(clock, deadline=1003.0)
    clock.now = 1010.0
    assert context.get_remaining_time_in_millis() == 0


def test_log_stream_name_has_aws_format() -> None:
    name = log_stream_name(date(2024, 5, 1))
    assert re.fullmatch(r"2024/05/01/\[\$LATEST\][0-9a-f]{32}", name)
    assert log_stream_name(date(2024, 5, 1)) != name  # one stream per environment
    assert log_stream_name(date(2024, 12, 31), "7", "ab" * 16) == "2024/12/31/[7]" + "ab" * 16


def test_a_renewed_context_has_its_own_request_id_deadline_and_attributes() -> None:
    first = make_context(FakeClock(1000.0), deadline=999.0)
    second = first.renewed("req-2", 1010.0)
    second.custom = "set by the handler"  # type: ignore[attr-defined]
    assert (second.aws_request_id, second.get_remaining_time_in_millis()) == ("req-2", 10_000)
    assert first.get_remaining_time_in_millis() == 0
    assert first.aws_request_id == "c6af9ac6-7b61-11e6-9a41-93e8deadbeef"
    assert (second.function_name, second.log_group_name) == ("orders", "/aws/lambda/orders")
    assert not hasattr(first, "custom")


def test_request_ids_are_random_version_4_uuids() -> None:
    ids = {new_request_id() for _ in range(1000)}
    assert len(ids) == 1000
    for text in ids:
        parsed = UUID(text)
        assert (str(parsed), parsed.version, parsed.variant) == (text, 4, RFC_4122)
