"""Migration 0022 on credits written by the code before it, on SQLite and PostgreSQL: credits
fall due their term after delivery."""

from __future__ import annotations

import asyncio
import itertools
import uuid
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from alembic import command
from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from core.db.migrate import alembic_config
from engines.credit.tables import credit_orders
from engines.orders.tables import orders
from tests.support.databases import sqlite_url
from tests.support.servers import PostgresServer

JUMA = "+254711000001"
_names = itertools.count(1)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.real)])
async def at_0021(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """An empty database migrated to 0021, the revision before the credit changes."""
    if request.param == "sqlite":
        url = sqlite_url(tmp_path / "omniroute.db")
    else:
        server: PostgresServer = request.getfixturevalue("postgres_server")
        url = server.create_database(f"credit_migration_{next(_names)}")
    await asyncio.to_thread(command.upgrade, alembic_config(url), "0021")
    return url


async def _order(engine: AsyncEngine, reference: str, status: str, updated: datetime) -> None:
    async with engine.begin() as conn:
        await conn.execute(
            insert(orders).values(
                id=uuid.uuid4(),
                reference=reference,
                customer=JUMA,
                region="nairobi",
                currency="KES",
                subtotal=Decimal(1000),
                discount=Decimal(0),
                tax=Decimal(0),
                total=Decimal(1000),
                payment_method="CREDIT",
                status=status,
                idempotency_key=f"key-{reference}",
                created_at=datetime(2026, 3, 1, 9, tzinfo=UTC),
                delivery_fee=Decimal(0),
                updated_at=updated,
            )
        )


async def _credit(engine: AsyncEngine, reference: str, **values: Any) -> None:
    row: dict[str, Any] = {
        "order_reference": reference,
        "customer": JUMA,
        "currency": "KES",
        "amount": Decimal(1000),
        "outstanding": Decimal(1000),
        "due_on": date(2026, 3, 15),  # the old rule: ordered 1 March (Nairobi) + 14 days
        "status": "open",
        "late_fee_charged": False,
        "reminded_due_soon": False,
        "reminded_overdue": False,
        "repaid_on": None,
        "created_at": datetime(2026, 3, 1, 9, tzinfo=UTC),
    }
    row.update(values)
    async with engine.begin() as conn:
        # the 0021 table: no term_days yet
        await conn.execute(insert(credit_orders).values(row))


async def test_existing_credits_fall_due_their_term_after_delivery(at_0021: str) -> None:
    engine = create_async_engine(at_0021)
    try:
        # delivered on 10 March at 23:30 UTC: 11 March in Nairobi
        await _order(engine, "DLVRD1", "delivered", datetime(2026, 3, 10, 23, 30, tzinfo=UTC))
        await _order(engine, "ONWAY1", "dispatched", datetime(2026, 3, 2, 9, tzinfo=UTC))
        await _credit(engine, "DLVRD1")
        await _credit(engine, "ONWAY1")
        await asyncio.to_thread(command.upgrade, alembic_config(at_0021), "head")
        async with engine.connect() as conn:
            rows = {
                r.order_reference: (r.term_days, r.due_on)
                for r in await conn.execute(select(credit_orders))
            }
    finally:
        await engine.dispose()
    assert rows == {
        "DLVRD1": (14, date(2026, 3, 25)),  # 14 days after the day it arrived
        "ONWAY1": (14, None),  # not delivered: due 14 days after delivery
    }
