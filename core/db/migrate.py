"""Apply the Alembic migrations programmatically (`omniroute migrate`, tests, make run)."""

from __future__ import annotations

import asyncio
import functools
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory
from sqlalchemy import text
from sqlalchemy.engine import make_url

from core.db.database import Database

MIGRATIONS = Path(__file__).resolve().parent / "migrations"


def alembic_config(database_url: str, **attributes: Any) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", database_url.replace("%", "%%"))
    config.attributes.update(attributes)
    return config


def upgrade(database_url: str) -> None:
    parsed = make_url(database_url)
    if parsed.get_backend_name() == "sqlite" and parsed.database not in (None, "", ":memory:"):
        Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
    command.upgrade(alembic_config(database_url), "head")


async def upgrade_async(database_url: str) -> None:
    """For callers already inside an event loop (env.py runs its own loop)."""
    await asyncio.to_thread(upgrade, database_url)


@functools.cache
def revisions() -> tuple[str | None, frozenset[str]]:
    """This code's head revision and every revision it knows."""
    script = ScriptDirectory.from_config(alembic_config("sqlite://"))
    return script.get_current_head(), frozenset(r.revision for r in script.walk_revisions())


async def migrated(db: Database) -> bool:
    """The database answers and is at this code's head, or at a revision this code does not
    know (a newer release migrated it: the old pods of a rolling update keep serving)."""
    head, known = revisions()
    try:
        async with db.engine.connect() as conn:
            result = await conn.execute(text("SELECT version_num FROM alembic_version"))
            at = set(result.scalars())
    except Exception:
        return False
    return head in at or bool(at - known)
