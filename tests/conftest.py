"""Shared fixtures: settings on a fresh migrated + seeded database, the app, a client, a phone."""

from __future__ import annotations

import functools
from collections.abc import AsyncIterator, Iterator

import pytest
from aiohttp.test_utils import TestClient, TestServer

import channels.graphql
from core.app.bootstrap import Services, build_services
from core.app.server import create_app
from core.clock import SteppedClock
from core.config import Settings
from core.ids import SeededIds
from tests.support.demo_template import seed_demo
from tests.support.phone import UssdPhone

pytest_plugins = [
    "tests.support.servers",
    "tests.support.databases",
    "tests.support.payment_fixtures",
    "tests.support.provider_fixtures",
]


@pytest.fixture(scope="session", autouse=True)
def one_graphql_schema_per_settings() -> Iterator[None]:
    """Every app the tests build mounts /graphql, whose strawberry schema took ~15 ms of CPU
    to build each time (some 1,600 tests build an app). It is the same for the same arguments
    and keeps nothing between requests (extensions are made per operation), so each distinct
    (production, max_depth, max_cost) is built once per session and shared."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(
            channels.graphql, "build_schema", functools.cache(channels.graphql.build_schema)
        )
        yield


@pytest.fixture
def clock() -> SteppedClock:
    return SteppedClock()


@pytest.fixture
def settings(database_url: str) -> Settings:
    return Settings(
        env="test",
        database_url=database_url,
        session_url="memory://",
        # The stepped clock never refills a bucket: journeys walk hundreds of screens at once.
        rate_limit_phone_burst=1_000_000,
        _env_file=None,
    )


@pytest.fixture
async def services(settings: Settings, clock: SteppedClock) -> AsyncIterator[Services]:
    built = build_services(settings, clock=clock, ids=SeededIds())
    await seed_demo(built.db, clock.now())
    yield built
    await built.close()


@pytest.fixture
async def client(services: Services) -> AsyncIterator[TestClient[object, object]]:
    app = create_app(services.settings, build=lambda _s: services)
    async with TestClient(TestServer(app)) as test_client:
        yield test_client


@pytest.fixture
def ngozi(client: TestClient[object, object]) -> UssdPhone:
    """Ngozi's feature phone in Lagos, dialling through the real USSD endpoint."""
    return UssdPhone(client, "+2348030000001")


@pytest.fixture
def juma(client: TestClient[object, object]) -> UssdPhone:
    return UssdPhone(client, "+254711000001")
