"""Payments against every provider's local fake, through the real app and database."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient

from core.app.bootstrap import Services
from core.config import Settings
from tests.support.providers.payments import PaymentFakes, running_fakes

Client = TestClient[web.Request, web.Application]


@pytest.fixture
async def fakes() -> AsyncIterator[PaymentFakes]:
    async with running_fakes() as started:
        yield started


@pytest.fixture
def settings(database_url: str, fakes: PaymentFakes) -> Settings:
    return fakes.settings(database_url)


@pytest.fixture
async def gateway(client: Client, services: Services) -> Client:
    """Background loops stopped: the test drives deliveries, the relay and the requery."""
    await services.delivery.stop()
    if services.requery is not None:
        await services.requery.stop()
    return client
