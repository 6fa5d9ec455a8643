"""Database fixtures parametrised over [embedded, real]: one test, SQLite and PostgreSQL."""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest

from core.db.migrate import upgrade
from tests.support.servers import PostgresServer

_db_numbers = itertools.count(1)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.real)])
def any_database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A fresh, migrated database: a SQLite file, or a new database on the real PostgreSQL."""
    if request.param == "sqlite":
        url = f"sqlite+aiosqlite:///{tmp_path / 'omniroute.db'}"
    else:
        server: PostgresServer = request.getfixturevalue("postgres_server")
        url = server.create_database(f"t{next(_db_numbers)}")
    upgrade(url)
    return url


@pytest.fixture
def pg_database_url(postgres_server: PostgresServer) -> str:
    url = postgres_server.create_database(f"t{next(_db_numbers)}")
    upgrade(url)
    return url
