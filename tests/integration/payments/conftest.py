"""Payments against every provider's local fake, through the real app and database."""

from __future__ import annotations

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient

from core.config import Settings
from tests.support.providers.payments import PaymentFakes

Client = TestClient[web.Request, web.Application]


@pytest.fixture
def settings(database_url: str, fakes: PaymentFakes) -> Settings:
    return fakes.settings(database_url)
