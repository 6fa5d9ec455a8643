"""The fake Graph API for the Meta WhatsApp contracts.

`settings` is overridden with `fake_graph.settings(database_url)`, so the shared `services` and
`client` fixtures build the gateway with its webhook signed by the test app secret and its
sender pointed at the fake.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient

from core.app.bootstrap import Services
from core.config import Settings
from tests.support.providers.meta import FakeGraphApi


@pytest.fixture
async def fake_graph() -> AsyncIterator[FakeGraphApi]:
    fake = FakeGraphApi()
    await fake.start()
    yield fake
    await fake.close()


@pytest.fixture
def settings(database_url: str, fake_graph: FakeGraphApi) -> Settings:
    return fake_graph.settings(database_url)


@pytest.fixture
async def gateway(
    client: TestClient[web.Request, web.Application], services: Services
) -> TestClient[web.Request, web.Application]:
    """The client, with the background delivery worker stopped: tests flush the outbox
    themselves, so every request the fake receives is one the test asked for."""
    await services.delivery.stop()
    return client
