"""The real services on each database, plus the money engines built over the same database."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from core.app.bootstrap import Services, build_services
from core.clock import SteppedClock
from core.config import Settings
from core.ids import RandomIds
from engines.credit import CreditService
from engines.invoices import InvoiceService
from engines.ledger import Books, LedgerService
from tests.support.demo_template import seed_demo


@pytest.fixture
def clock() -> SteppedClock:
    return SteppedClock()


@pytest.fixture
async def services(any_database_url: str, clock: SteppedClock) -> AsyncIterator[Services]:
    settings = Settings(env="test", database_url=any_database_url, _env_file=None)
    built = build_services(settings, clock=clock, ids=RandomIds())
    await seed_demo(built.db, clock.now())
    yield built
    await built.close()


@pytest.fixture
async def ledger(services: Services, clock: SteppedClock) -> AsyncIterator[LedgerService]:
    service = LedgerService(services.db, clock, RandomIds())
    yield service
    await service.close()


@pytest.fixture
def books(ledger: LedgerService) -> Books:
    return Books(ledger)


@pytest.fixture
def invoices(services: Services) -> InvoiceService:
    return InvoiceService(services.db, RandomIds())


@pytest.fixture
def credit(services: Services, books: Books, clock: SteppedClock) -> CreditService:
    return CreditService(services.db, books, services.notifications, services.translate, clock)
