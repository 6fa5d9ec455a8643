"""Pytest plugin: Africa's Talking's fake API on a loopback port, one per test that asks for it."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from tests.support.providers.africastalking import FakeAfricasTalking


@pytest.fixture
async def fake_at() -> AsyncIterator[FakeAfricasTalking]:
    fake = FakeAfricasTalking()
    await fake.start()
    yield fake
    await fake.close()
