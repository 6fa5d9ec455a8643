"""The demo rows, seeded once per clock start and copied into each test's fresh SQLite file.

`load_demo` inserts some thousand rows (catalogue, prices, stock, racks, drivers) in about a
tenth of a second; most tests want exactly those rows. They are the same for the same `now`, so
the first test to seed at a given `now` seeds a file kept as a template, and later tests get a
copy of it (SQLite's backup API) instead. Kept apart from tests.support.databases, a pytest
plugin, so that conftest.py can import it.
"""

from __future__ import annotations

import contextlib
import sqlite3
from datetime import datetime
from pathlib import Path

from sqlalchemy.engine import make_url

from core.app.demo import load_demo
from core.db.database import Database

# Copies of the migrated template nobody has opened yet: path -> (mtime_ns, size) just after
# the copy. Only these may be replaced by a copy of the demo template (see `seed_demo`).
_untouched: dict[Path, tuple[int, int]] = {}
# One migrated + demo-seeded SQLite file per clock start (the demo rows depend on `now`).
_demo_templates: dict[datetime, Path] = {}
_template_dirs: list[Path] = []  # where the session's templates live


def keep_demo_templates_in(directory: Path) -> None:
    _template_dirs.append(directory)


def remember_untouched(path: Path) -> None:
    """`path` is a fresh copy of the migrated template that nothing has opened."""
    stat = path.stat()
    _untouched[path] = (stat.st_mtime_ns, stat.st_size)


async def seed_demo(db: Database, now: datetime) -> None:
    """`load_demo(db, now)`, in a fraction of the time for a fresh SQLite copy not opened yet.

    The demo rows are the same for the same `now` (load_demo is deterministic), so the first
    test to seed at a given `now` seeds a copy kept as a template, and later fresh copies are
    replaced by a copy of that template before anything opens them. Anything else (a database
    a fixture already wrote to, PostgreSQL, a file not made here) gets `load_demo` itself.
    """
    path = _untouched_sqlite_path(db.url)
    if path is None:
        await load_demo(db, now)
        return
    template = _demo_templates.get(now)
    if template is None:
        template = _template_dirs[-1] / f"demo-{len(_demo_templates)}.db"
        copy_sqlite(path, template)
        seeding = Database(f"sqlite+aiosqlite:///{template}")
        try:
            await load_demo(seeding, now)
        finally:
            await seeding.dispose()
        _demo_templates[now] = template
    copy_sqlite(template, path)
    _untouched.pop(path, None)


def _untouched_sqlite_path(url: str) -> Path | None:
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or not parsed.database:
        return None
    path = Path(parsed.database)
    recorded = _untouched.get(path)
    if recorded is None or not path.exists():
        return None
    stat = path.stat()
    if (stat.st_mtime_ns, stat.st_size) != recorded or _has_sidecars(path):
        _untouched.pop(path, None)
        return None
    return path


def _has_sidecars(path: Path) -> bool:
    """A -wal or -journal beside it: something opened it since the copy."""
    return any(path.with_name(path.name + suffix).exists() for suffix in ("-wal", "-journal"))


def copy_sqlite(source_path: Path, target_path: Path) -> None:
    with (
        contextlib.closing(sqlite3.connect(source_path)) as source,
        contextlib.closing(sqlite3.connect(target_path)) as target,
    ):
        source.backup(target)
