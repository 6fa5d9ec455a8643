"""Log lines a test can read, whatever configured structlog before it in the same run."""

from __future__ import annotations

from collections.abc import Iterator, MutableMapping
from contextlib import contextmanager
from types import ModuleType
from typing import Any

import structlog
from structlog.testing import capture_logs


@contextmanager
def captured_logs(*modules: ModuleType) -> Iterator[list[MutableMapping[str, Any]]]:
    """structlog's `capture_logs`, with each module's `log` a fresh logger meanwhile.

    Why: `configure_logging` caches a logger on first use, with the processors list of that
    moment. A later `configure_logging` (a command run in-process by another test) installs a
    new list, which is the one `capture_logs` edits, so a cached module logger's lines are not
    seen: such a test passes alone and fails in a full run."""
    with capture_logs() as logs:
        saved = [(module, module.log) for module in modules]
        try:
            for module in modules:
                module.log = structlog.get_logger(module.__name__)
            yield logs
        finally:
            for module, old in saved:
                module.log = old
