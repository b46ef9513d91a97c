"""Log files the gateway writes: access logs and execution logs, one file per log group.

A log group ``/aws/apigw/my-api`` (from an ``AccessLogSettings.DestinationArn`` such as
``arn:aws:logs:us-east-1:123456789012:log-group:/aws/apigw/my-api``) is the file
``<log dir>/aws/apigw/my-api.log``: the group's name without its leading ``/``, plus ``.log``.

Writing never blocks a request: ``LogWriter.write`` appends the line to a deque and returns;
one thread appends the queued lines to their files, in order, in batches, keeping each file
open. ``flush``
waits until everything written before it is on disk (tests and shutdown use it). A line may be
given as a function that makes it, called on that thread (what it reads, say a process's peak
memory for a Lambda ``REPORT`` line, is then read off the request path); ``echo``, when given,
also hands every line to a function on that thread (the console, for function logs).
"""

from __future__ import annotations

import logging
import threading
from collections import deque
from collections.abc import Callable
from pathlib import Path
from typing import IO

Line = str | Callable[[], str]

PERIOD = 0.02
"""Seconds between two batches: how long a line may wait before it is written."""

log = logging.getLogger("propylon.execute")

_LOG_GROUP_ARN_PREFIX = ":log-group:"


def log_group_of(destination_arn: str) -> str | None:
    """The log group named by a CloudWatch Logs ARN (a trailing ``:*`` is allowed), or None."""
    _, found, group = destination_arn.partition(_LOG_GROUP_ARN_PREFIX)
    if not found:
        return None
    group = group.removesuffix(":*")
    return group or None


def log_file(log_dir: Path, group: str) -> Path | None:
    """The file for a log group, or None when the name would leave the log directory."""
    relative = group.lstrip("/")
    parts = [part for part in relative.split("/") if part]
    if not parts or any(part in (".", "..") for part in parts):
        return None
    return log_dir.joinpath(*parts[:-1], parts[-1] + ".log")


class LogWriter:
    """Appends lines to log-group files on a thread of its own, in batches.

    ``write`` only appends to a deque: it wakes nobody, but for the first line after a quiet
    spell. The thread takes what has gathered every ``period`` seconds (and at once for
    ``flush`` and ``close``), writes it and flushes the files; when a round finds nothing, it
    sleeps until a line comes, so an idle server's thread does not wake at all. Woken for every
    line, the thread took the GIL from the event loop three or four times per Lambda
    invocation (START, END, REPORT), a context switch each time; a line now reaches its file
    within ``period``.
    """

    def __init__(
        self,
        log_dir: Path,
        echo: Callable[[str, str], None] | None = None,
        period: float = PERIOD,
    ) -> None:
        self.log_dir = log_dir
        self._echo = echo
        self._period = period
        self._lines: deque[tuple[str, Line] | threading.Event] = deque()
        self._wake = threading.Event()
        self._sleeping = False  # waiting for a line, not for the period to pass
        self._closing = False
        self._files: dict[str, IO[str]] = {}
        self._refused: set[str] = set()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    def write(self, group: str, line: Line) -> None:
        """Queue one line (without its newline), or a function making it, for a group's file."""
        if self._thread is None:
            self._start()
        self._lines.append((group, line))
        if self._sleeping:
            self._sleeping = False
            self._wake.set()

    def flush(self, timeout: float | None = 10.0) -> bool:
        """Wait until every line written so far is in its file; False on timeout."""
        if self._thread is None:
            return True
        done = threading.Event()
        self._lines.append(done)
        self._wake.set()
        return done.wait(timeout)

    def close(self) -> None:
        """Write what is queued, close the files and stop the thread."""
        thread = self._thread
        if thread is None:
            return
        self._closing = True
        self._wake.set()
        thread.join()
        self._thread = None
        self._closing = False

    def _start(self) -> None:
        with self._lock:
            if self._thread is None:
                thread = threading.Thread(target=self._run, name="propylon-logs", daemon=True)
                thread.start()
                self._thread = thread

    def _run(self) -> None:
        lines = self._lines
        quiet = False
        while True:
            if quiet:
                self._sleeping = True
                if not lines:  # a write after this sees _sleeping and wakes the thread
                    self._wake.wait()
                self._sleeping = False
            else:
                self._wake.wait(self._period)
            self._wake.clear()
            closing = self._closing
            quiet = not lines
            while lines:
                item = lines.popleft()
                if isinstance(item, threading.Event):
                    self._flush_files()
                    item.set()
                else:
                    self._append(*item)
            self._flush_files()
            if closing:
                break
        for handle in self._files.values():
            handle.close()
        self._files.clear()

    def _flush_files(self) -> None:
        for handle in self._files.values():
            try:
                handle.flush()
            except OSError as exc:
                log.error("cannot write log file %s: %s", handle.name, exc)

    def _append(self, group: str, line: Line) -> None:
        if not isinstance(line, str):
            try:
                line = line()
            except Exception:  # a line that cannot be made is lost, not the writer
                log.exception("cannot make a line for log group %s", group)
                return
        if self._echo is not None:
            self._echo(group, line)
        handle = self._files.get(group)
        if handle is None:
            if group in self._refused:
                return
            path = log_file(self.log_dir, group)
            try:
                if path is None:
                    raise OSError(f"log group {group!r} cannot be a file under {self.log_dir}")
                path.parent.mkdir(parents=True, exist_ok=True)
                handle = path.open("a", encoding="utf-8")
            except OSError as exc:
                log.error("cannot write log group %s: %s", group, exc)
                self._refused.add(group)
                return
            self._files[group] = handle
        try:
            handle.write(line.replace("\n", " ") + "\n")
        except OSError as exc:
            log.error("cannot write log group %s: %s", group, exc)
