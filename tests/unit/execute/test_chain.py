from __future__ import annotations

from propylon.execute.chain import RequestClock, clf_time, request_id, substitute_stage_variables


def test_request_time_is_clf_and_epoch_is_milliseconds() -> None:
    clock = RequestClock(wall=lambda: 1583348638.390)
    assert clock() == ("04/Mar/2020:19:03:58 +0000", 1583348638390)


def test_request_time_text_follows_the_second() -> None:
    stamps = iter([100.2, 100.9, 101.1])
    clock = RequestClock(wall=lambda: next(stamps))
    texts = [clock()[0] for _ in range(3)]
    assert texts[0] == texts[1] != texts[2]


def test_clf_time_pads_the_day() -> None:
    from datetime import UTC, datetime

    assert clf_time(datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC)) == "02/Jan/2024:03:04:05 +0000"


def test_request_ids_look_like_aws_http_api_ids() -> None:
    ids = {request_id() for _ in range(50)}
    assert len(ids) == 50
    assert all(len(rid) == 16 and rid.endswith("=") for rid in ids)


def test_stage_variables_are_substituted_and_missing_ones_are_empty() -> None:
    uri = "http://${stageVariables.host}/v/${stageVariables.missing}x"
    assert substitute_stage_variables(uri, {"host": "a.example"}) == "http://a.example/v/x"
