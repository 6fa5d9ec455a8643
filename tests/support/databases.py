"""Database fixtures parametrised over [embedded, real]: one test, SQLite and PostgreSQL.

Every test gets a database of its own, migrated with the real Alembic scripts. The scripts run
once per test session, into a template; each test's database is a copy of it (SQLite's backup
API, PostgreSQL's `CREATE DATABASE … TEMPLATE`), the same schema for a fraction of the time
running every migration again takes. The migrations themselves are tested in
tests/integration/db.
"""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest

from core.db.migrate import upgrade
from tests.support.demo_template import copy_sqlite, keep_demo_templates_in, remember_untouched
from tests.support.servers import PostgresServer

_db_numbers = itertools.count(1)
_PG_TEMPLATE = "omniroute_migrated"


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SQLite file the migrations ran on, once per session; copied, never used."""
    path = tmp_path_factory.mktemp("template") / "omniroute.db"
    upgrade(sqlite_url(path))
    keep_demo_templates_in(path.parent)
    return path


def sqlite_url(path: Path) -> str:
    return f"sqlite+aiosqlite:///{path}"


def migrated_sqlite(template: Path, path: Path) -> str:
    """Copy the migrated template to `path` and return its URL."""
    copy_sqlite(template, path)
    remember_untouched(path)
    return sqlite_url(path)


@pytest.fixture(scope="session")
def postgres_template(postgres_server: PostgresServer) -> str:
    """The name of a database on the real PostgreSQL the migrations ran on, once per session."""
    upgrade(postgres_server.create_database(_PG_TEMPLATE))
    return _PG_TEMPLATE


def migrated_postgres(server: PostgresServer, template: str, name: str) -> str:
    return server.create_database(name, template=template)


@pytest.fixture
def database_url(sqlite_template: Path, tmp_path: Path) -> str:
    """A fresh SQLite file per test, migrated (a copy of the session's template)."""
    return migrated_sqlite(sqlite_template, tmp_path / "omniroute.db")


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.real)])
def any_database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A fresh, migrated database: a SQLite file, or a new database on the real PostgreSQL."""
    if request.param == "sqlite":
        return migrated_sqlite(
            request.getfixturevalue("sqlite_template"), tmp_path / "omniroute.db"
        )
    server: PostgresServer = request.getfixturevalue("postgres_server")
    template: str = request.getfixturevalue("postgres_template")
    return migrated_postgres(server, template, f"t{next(_db_numbers)}")


@pytest.fixture
def pg_database_url(postgres_server: PostgresServer, postgres_template: str) -> str:
    return migrated_postgres(postgres_server, postgres_template, f"t{next(_db_numbers)}")
