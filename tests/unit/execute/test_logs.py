"""The log-file writer: one file per log group, written off the request path."""

from __future__ import annotations

from pathlib import Path

import pytest

from propylon.execute.logs import LogWriter, log_file, log_group_of


@pytest.mark.parametrize(
    ("arn", "group"),
    [
        ("arn:aws:logs:us-east-1:123456789012:log-group:/aws/apigw/my-api", "/aws/apigw/my-api"),
        ("arn:aws:logs:us-east-1:123456789012:log-group:my-api:*", "my-api"),
        ("arn:aws:logs:us-east-1:123456789012:log-group:", None),
        ("arn:aws:firehose:us-east-1:123456789012:deliverystream/x", None),
    ],
)
def test_the_log_group_comes_from_the_destination_arn(arn: str, group: str | None) -> None:
    assert log_group_of(arn) == group


def test_a_log_group_is_a_file_under_the_log_dir(tmp_path: Path) -> None:
    assert log_file(tmp_path, "/aws/apigw/my-api") == tmp_path / "aws/apigw/my-api.log"
    assert log_file(tmp_path, "API-Gateway-Execution-Logs_abc/prod") == (
        tmp_path / "API-Gateway-Execution-Logs_abc/prod.log"
    )


@pytest.mark.parametrize("group", ["/", "", "../escape", "/a/../../b", "a/./b"])
def test_a_log_group_cannot_leave_the_log_dir(tmp_path: Path, group: str) -> None:
    assert log_file(tmp_path, group) is None


def test_lines_are_appended_in_order_one_per_line(tmp_path: Path) -> None:
    writer = LogWriter(tmp_path)
    (tmp_path / "g.log").write_text("before\n")
    for number in range(100):
        writer.write("/g", f"line {number}")
    writer.write("/other/h", "multi\nline")
    assert writer.flush()
    assert (tmp_path / "g.log").read_text().splitlines() == ["before"] + [
        f"line {n}" for n in range(100)
    ]
    assert (tmp_path / "other/h.log").read_text() == "multi line\n"
    writer.close()
    writer.close()


def test_a_group_that_cannot_be_written_is_refused_and_others_go_on(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    (tmp_path / "blocked").write_text("a file where a directory should be")
    writer = LogWriter(tmp_path)
    writer.write("/blocked/g", "lost")
    writer.write("../escape", "lost")
    writer.write("/fine", "kept")
    assert writer.flush()
    writer.close()
    assert (tmp_path / "fine.log").read_text() == "kept\n"
    assert not (tmp_path.parent / "escape.log").exists()
    assert sum("cannot write log group" in r.message for r in caplog.records) == 2


def test_flush_and_close_without_writes_do_nothing(tmp_path: Path) -> None:
    writer = LogWriter(tmp_path / "never")
    assert writer.flush()
    writer.close()
    assert not (tmp_path / "never").exists()
