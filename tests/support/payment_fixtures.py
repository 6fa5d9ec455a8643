"""Fixtures for tests that pay: every provider's local fake, and the gateway with its background
loops stopped so the test drives deliveries, the relay and the requery itself.

Loaded for every test by ``pytest_plugins`` in tests/conftest.py; nothing starts unless a test
asks for it. A module that pays overrides ``settings`` with ``fakes.settings(database_url)``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient

from core.app.bootstrap import Services
from tests.support.providers.payments import PaymentFakes, running_fakes

Client = TestClient[web.Request, web.Application]


@pytest.fixture
async def fakes() -> AsyncIterator[PaymentFakes]:
    async with running_fakes() as started:
        yield started


@pytest.fixture
async def gateway(client: Client, services: Services) -> Client:
    await services.delivery.stop()
    if services.requery is not None:
        await services.requery.stop()
    if services.payout_sweeper is not None:
        await services.payout_sweeper.stop()
    return client
