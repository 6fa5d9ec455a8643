from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from core.app.bootstrap import Services, build_services
from core.clock import SteppedClock
from core.config import Settings
from core.ids import RandomIds
from tests.support.demo_template import seed_demo


@pytest.fixture
async def services(any_database_url: str, tmp_path: Path) -> AsyncIterator[Services]:
    clock = SteppedClock()
    settings = Settings(
        env="test",
        database_url=any_database_url,
        object_store_url=f"file://{tmp_path / 'objects'}",
        operator_phone="+2348039999999",
        _env_file=None,
    )
    built = build_services(settings, clock=clock, ids=RandomIds())
    await seed_demo(built.db, clock.now())
    yield built
    await built.close()
