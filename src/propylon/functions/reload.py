"""Hot reload: a change under a function's code or layer directories retires its workers.

One watcher (watchfiles, on a thread) looks at the directories of every worker function.
A batch of changes names the functions whose directories hold a changed path; their pools stop
idle workers at once and the others when they finish (``pool.py``), so the next invocation
starts on the new code and one in flight ends on the old. What runtimes and tools write
themselves (``__pycache__``, ``*.pyc``, ``.git``, ``node_modules/.cache`` ...) is ignored by
watchfiles' default filter, so a function's own import does not reload it.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Callable, Iterable
from pathlib import Path

from watchfiles import DefaultFilter, watch

from propylon.functions.launch import task_root_and_handler
from propylon.functions.spec import FunctionSpec

log = logging.getLogger("propylon.functions")


def watched_directories(specs: Iterable[FunctionSpec]) -> dict[Path, set[str]]:
    """Each directory to watch, and the functions whose code or layers it holds."""
    directories: dict[Path, set[str]] = {}
    for spec in specs:
        if spec.invoker != "worker":
            continue
        try:
            root, _ = task_root_and_handler(spec)
        except ValueError:
            continue
        for directory in (root, *(layer.resolve() for layer in spec.layers)):
            if directory.is_dir():
                directories.setdefault(directory, set()).add(spec.name)
    return directories


def functions_changed(directories: dict[Path, set[str]], changed: Iterable[str]) -> set[str]:
    """The functions one of whose directories holds one of the ``changed`` paths."""
    names: set[str] = set()
    for text in changed:
        path = Path(text)
        for directory, functions in directories.items():
            if path.is_relative_to(directory):
                names |= functions
    return names


class CodeWatcher:
    """Watches the functions' directories on a thread of its own (setting up the watches takes
    a while on a big tree, and must not hold up the event loop) and tells ``retire``, on the
    loop, which functions changed."""

    def __init__(self, specs: Iterable[FunctionSpec], retire: Callable[[list[str]], None]) -> None:
        self.directories = watched_directories(specs)
        self._retire = retire
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.watching = threading.Event()
        """Set once the watches are in place (a change made before that may be missed)."""

    def start(self) -> None:
        if self.directories and self._thread is None:
            loop = asyncio.get_running_loop()
            self._thread = threading.Thread(
                target=self._run, args=(loop,), name="propylon-reload", daemon=True
            )
            self._thread.start()

    def _run(self, loop: asyncio.AbstractEventLoop) -> None:
        try:
            changes_seen = watch(
                *self.directories,
                watch_filter=DefaultFilter(),
                stop_event=self._stop,
                debounce=50,
                step=10,
                rust_timeout=100,
                yield_on_timeout=True,
            )
            for changes in changes_seen:
                self.watching.set()
                names = functions_changed(self.directories, (path for _, path in changes))
                if names:
                    log.info("code changed: reloading %s", ", ".join(sorted(names)))
                    loop.call_soon_threadsafe(self._retire, sorted(names))
        except (OSError, RuntimeError) as exc:  # no inotify to be had, or the loop closed
            if not self._stop.is_set():
                log.warning("cannot watch function code (%s); hot reload is off", exc)

    async def aclose(self) -> None:
        self._stop.set()
        thread, self._thread = self._thread, None
        if thread is not None:
            await asyncio.to_thread(thread.join, 5)
