"""The gateway as Twilio sees it: its account configured, on a port known in advance.

Twilio signs the URL it calls, so the gateway's `OMNIROUTE_PUBLIC_URL` is the test server's own
base URL and every webhook here is signed for exactly the URL the test client calls. `settings`
overrides the shared fixture, so the shared `services` are built with the Twilio account and a
sender pointed at the fake API.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from core.app.bootstrap import Services
from core.config import Settings
from tests.support.ports import free_port
from tests.support.providers.twilio import FakeTwilio, TwilioWebhooks, twilio_gateway


@pytest.fixture
def port() -> int:
    return free_port()


@pytest.fixture
async def fake_twilio() -> AsyncIterator[FakeTwilio]:
    fake = FakeTwilio()
    await fake.start()
    yield fake
    await fake.close()


@pytest.fixture
def settings(database_url: str, port: int, fake_twilio: FakeTwilio) -> Settings:
    return fake_twilio.settings(database_url, public_url=f"http://127.0.0.1:{port}")


@pytest.fixture
async def twilio(services: Services, port: int) -> AsyncIterator[TwilioWebhooks]:
    """Twilio posting to the gateway, with the background delivery worker stopped so that
    deliveries move only when a test moves them."""
    async with twilio_gateway(services, port) as webhooks:
        await services.delivery.stop()
        yield webhooks
