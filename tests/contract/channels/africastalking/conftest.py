"""The fake Africa's Talking API for the SMS, voice and sender contracts (the USSD one needs none).

Modules that use it override `settings` with `fake_at.settings(database_url)`, so the shared
`services` and `client` fixtures build the gateway with its sender pointed at the fake.
"""

from __future__ import annotations

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient

from core.app.bootstrap import Services


@pytest.fixture
async def gateway(
    client: TestClient[web.Request, web.Application], services: Services
) -> TestClient[web.Request, web.Application]:
    """The client, with the background delivery worker stopped: tests flush the outbox
    themselves (`flush_outbox`), so every request the fake receives is one the test asked for."""
    await services.delivery.stop()
    return client
