"""Loading a handler from a spec, with load failures typed as Lambda types them.

``module.func`` is imported with ``importlib.import_module`` while the code directory is at the
front of ``sys.path``; ``path/to/file.py:func`` is loaded from its file under a unique module
name, so two functions with an ``app.py`` each do not collide. In both cases the directory
(the code directory, else the file's own) is on ``sys.path`` only while the module executes:
imports at the top of a handler module work; an import from the code directory made later,
inside the handler, does not. Keeping the directory there for good would let one function's
modules shadow another's.

``module.func`` names go through the shared ``sys.modules``: if a module of that name was
already imported from somewhere else, loading fails rather than calling the wrong code.
"""

from __future__ import annotations

import importlib
import importlib.util
import inspect
import sys
import traceback
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

from propylon.functions.errors import FunctionError
from propylon.functions.spec import FunctionSpec, split_file_handler

Handler = Callable[[Any, Any], Any]

IMPORT_ERROR = "Runtime.ImportModuleError"
SYNTAX_ERROR = "Runtime.UserCodeSyntaxError"
HANDLER_NOT_FOUND = "Runtime.HandlerNotFound"


@dataclass(frozen=True)
class LoadedHandler:
    handler: Handler
    module_name: str
    owns_module: bool  # loaded from a file under a unique name: ours to drop on close
    is_async: bool = field(init=False)
    """Whether the handler is ``async def`` (awaited on the loop, not sent to a thread)."""

    def __post_init__(self) -> None:
        object.__setattr__(self, "is_async", inspect.iscoroutinefunction(self.handler))


def load_handler(spec: FunctionSpec) -> LoadedHandler:
    """Import the spec's module and return its handler; FunctionError if that fails."""
    if spec.is_file_handler:
        path_text, func = split_file_handler(spec.handler)
        module = _load_file(spec, path_text)
        return LoadedHandler(_attribute(spec, module, func), module.__name__, owns_module=True)
    module_name, _, func = spec.handler.rpartition(".")
    module = _import_module(spec, module_name)
    return LoadedHandler(_attribute(spec, module, func), module_name, owns_module=False)


def unload(loaded: LoadedHandler) -> None:
    if loaded.owns_module:
        sys.modules.pop(loaded.module_name, None)


def _load_file(spec: FunctionSpec, path_text: str) -> ModuleType:
    path = Path(path_text)
    if not path.is_absolute() and spec.code is not None:
        path = spec.code / path
    path = path.resolve()
    safe_name = spec.name.replace("-", "_")  # names are [A-Za-z0-9_-]
    module_name = f"_propylon_function_{safe_name}_{uuid.uuid4().hex[:8]}"
    module_spec = importlib.util.spec_from_file_location(module_name, path)
    if module_spec is None or module_spec.loader is None:
        raise _failure(spec, IMPORT_ERROR, f"Unable to import module {path.stem!r}: {path}")
    module = importlib.util.module_from_spec(module_spec)
    sys.modules[module_name] = module  # dataclasses, pickle and typing look the module up
    try:
        with _on_sys_path(spec.code or path.parent):
            module_spec.loader.exec_module(module)
    except (Exception, SystemExit) as exc:
        sys.modules.pop(module_name, None)
        raise _import_failure(spec, path.stem, exc) from exc
    return module


def _import_module(spec: FunctionSpec, module_name: str) -> ModuleType:
    importlib.invalidate_caches()  # the code directory may have changed since the last import
    try:
        with _on_sys_path(spec.code):
            module = importlib.import_module(module_name)
    except (Exception, SystemExit) as exc:
        raise _import_failure(spec, module_name, exc) from exc
    if spec.code is not None and not _is_inside(module, spec.code):
        where = getattr(module, "__file__", None) or "a built-in or namespace location"
        raise _failure(
            spec,
            IMPORT_ERROR,
            f"Unable to import module {module_name!r}: a module of that name is already "
            f"loaded from {where}, not from {spec.code}",
        )
    return module


def _attribute(spec: FunctionSpec, module: ModuleType, func: str) -> Handler:
    handler = getattr(module, func, None)
    if not callable(handler):
        short = module.__name__ if not spec.is_file_handler else split_file_handler(spec.handler)[0]
        raise _failure(spec, HANDLER_NOT_FOUND, f"Handler {func!r} missing on module {short!r}")
    return handler  # type: ignore[no-any-return]


def _is_inside(module: ModuleType, directory: Path) -> bool:
    file = getattr(module, "__file__", None)
    return file is not None and Path(file).resolve().is_relative_to(directory.resolve())


@contextmanager
def _on_sys_path(directory: Path | None) -> Iterator[None]:
    entry = None if directory is None else str(directory.resolve())
    if entry is None or entry in sys.path:
        yield
        return
    sys.path.insert(0, entry)
    try:
        yield
    finally:
        sys.path.remove(entry)


def _import_failure(spec: FunctionSpec, module_name: str, exc: BaseException) -> FunctionError:
    if isinstance(exc, SyntaxError):
        return _failure(spec, SYNTAX_ERROR, f"Syntax error in module {module_name!r}: {exc}", exc)
    if isinstance(exc, ImportError | OSError):
        return _failure(spec, IMPORT_ERROR, f"Unable to import module {module_name!r}: {exc}", exc)
    # Anything else raised while the module ran: Lambda reports the user's own exception.
    return _failure(spec, type(exc).__name__, str(exc), exc)


def _failure(
    spec: FunctionSpec, error_type: str, message: str, exc: BaseException | None = None
) -> FunctionError:
    trace = "".join(traceback.format_exception(exc)) if exc is not None else ""
    return FunctionError(spec.name, error_type, message, trace)
