"""The database pool settings: refused at start-up when they cannot work, not a hang later."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from core.config import Settings


def test_a_pool_of_one_connection_is_refused_naming_the_setting(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Requests share the pool with the background loops: with 1 connection every request
    # would queue behind each of their passes.
    monkeypatch.setenv("OMNIROUTE_DATABASE_POOL_SIZE", "1")
    with pytest.raises(ValidationError, match="database_pool_size"):
        Settings(_env_file=None)


def test_pool_settings_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OMNIROUTE_DATABASE_POOL_SIZE", "64")
    monkeypatch.setenv("OMNIROUTE_DATABASE_MAX_OVERFLOW", "0")
    settings = Settings(_env_file=None)
    assert (settings.database_pool_size, settings.database_max_overflow) == (64, 0)
    assert (Settings(_env_file=None, database_pool_size=2).database_pool_size) == 2
