"""`omniroute serve` killed (SIGKILL: the OOM killer, a pulled plug) while it held work, then
started again on its embedded SQLite file: what the dead process had claimed goes out at once,
not after the claim (2 minutes) or the send lease (1 minute) ran out. Nothing else can be
sending from that file, so the new process takes the claims back (`core/app/alone.py`)."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import sys
import time
from collections.abc import Awaitable, Callable
from datetime import timedelta
from pathlib import Path
from typing import ClassVar

import pytest
from aiohttp import web
from sqlalchemy import select, update

from core.app.alone import AloneLock
from core.bus.events import DomainEvent
from core.bus.outbox import record
from core.bus.tables import outbox
from core.clock import SystemClock
from core.db import Database
from core.ids import RandomIds
from core.messages import ChannelKind, OutboundMessage, Reply
from core.phone import Phone
from engines.notifications import NotificationService
from tests.support.ports import free_port
from tests.support.providers.africastalking import API_KEY, USERNAME, FakeAfricasTalking

pytestmark = pytest.mark.slow

CLI = [sys.executable, "-m", "core.app.cli"]
NGOZI = "+2348030000001"
SOON = 15.0  # well within the send lease (60 s) and the outbox claim (120 s)


class StuckAfricasTalking(FakeAfricasTalking):
    """Africa's Talking that, while `stuck`, takes a send and never answers it."""

    def __init__(self) -> None:
        super().__init__()
        self.stuck = True
        self.taken = asyncio.Event()

    async def _handle(self, request: web.Request) -> web.Response:
        if self.stuck:
            self.taken.set()
            await asyncio.Event().wait()
        return await super()._handle(request)


class GatewayRestarted(DomainEvent):
    """An event no one subscribes to: only whether the relay publishes it matters here."""

    topic: ClassVar[str] = "omniroute.tests.gateway_restarted.v1"


def _environment(tmp_path: Path, fake: FakeAfricasTalking) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("OMNIROUTE_")}
    env.update(
        OMNIROUTE_DATABASE_URL=f"sqlite+aiosqlite:///{tmp_path / 'omniroute.db'}",
        OMNIROUTE_OBJECT_STORE_URL=f"file://{tmp_path / 'objects'}",
        OMNIROUTE_TEMPORAL="off",  # no Temporal dev server: this test is about the process
        OMNIROUTE_SMS_PROVIDER="africastalking",
        OMNIROUTE_AFRICASTALKING_BASE_URL=fake.url,
        OMNIROUTE_AFRICASTALKING_USERNAME=USERNAME,
        OMNIROUTE_AFRICASTALKING_API_KEY=API_KEY,
        OMNIROUTE_AFRICASTALKING_SENDER_ID="23456",
    )
    return env


async def _serve(tmp_path: Path, env: dict[str, str]) -> asyncio.subprocess.Process:
    process = await asyncio.create_subprocess_exec(
        *CLI,
        "serve",
        "--host",
        "127.0.0.1",
        "--port",
        str(free_port()),
        cwd=tmp_path,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    assert process.stdout is not None
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        line = await asyncio.wait_for(process.stdout.readline(), timeout=90)
        if not line and process.returncode is not None:
            raise AssertionError(f"serve exited with {process.returncode}")
        if line.startswith(b"OmniRoute serving"):
            return process
    raise AssertionError("serve did not announce itself within 90 s")


async def _until(check: Callable[[], Awaitable[bool]], within: float) -> bool:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        if await check():
            return True
        await asyncio.sleep(0.2)
    return False


async def _stop(process: asyncio.subprocess.Process) -> None:
    if process.returncode is None:
        with contextlib.suppress(ProcessLookupError):
            process.kill()
    await process.wait()


async def test_a_gateway_killed_mid_send_texts_her_at_once_when_started_again(
    tmp_path: Path,
) -> None:
    fake = StuckAfricasTalking()
    await fake.start()
    env = _environment(tmp_path, fake)
    migrate = await asyncio.create_subprocess_exec(*CLI, "migrate", cwd=tmp_path, env=env)
    assert await asyncio.wait_for(migrate.wait(), timeout=120) == 0
    db = Database(env["OMNIROUTE_DATABASE_URL"])
    clock = SystemClock()
    notifications = NotificationService(db, clock, RandomIds())
    await notifications.queue(
        OutboundMessage(
            provider="africastalking",
            kind=ChannelKind.SMS,
            to=Phone(NGOZI),
            reply=Reply("Order W62ACJ confirmed.", end=True, locale="en"),
            dedupe_key="test-order-sms:W62ACJ",
        )
    )
    first = second = None
    try:
        # The gateway takes her SMS (leased for a minute) and is killed while sending it.
        first = await _serve(tmp_path, env)
        await asyncio.wait_for(fake.taken.wait(), timeout=30)
        first.send_signal(signal.SIGKILL)
        await first.wait()
        # An event it had claimed for its relay (the claim written as `_claim` writes it).
        event = GatewayRestarted(
            event_id=RandomIds().uuid(), occurred_at=clock.now(), aggregate_id="gateway"
        )
        async with db.transaction() as s:
            await record(s, event)
            await s.execute(
                update(outbox)
                .where(outbox.c.id == event.event_id)
                .values(claimed_until=clock.now() + timedelta(seconds=120))
            )
        [waiting] = await notifications.for_recipient(Phone(NGOZI))
        assert waiting.next_attempt_at > clock.now() + timedelta(seconds=30)  # the lease held

        fake.stuck = False
        second = await _serve(tmp_path, env)

        async def texted() -> bool:
            return bool(fake.sent_to(NGOZI))

        async def published() -> bool:
            async with db.transaction() as s:
                sent = await s.scalar(select(outbox.c.sent_at).where(outbox.c.id == event.event_id))
            return sent is not None

        assert await _until(texted, SOON), "her SMS waited for the dead process's lease"
        assert [sms.message for sms in fake.sent_to(NGOZI)] == ["Order W62ACJ confirmed."]
        assert await _until(published, SOON), "the event waited for the dead relay's claim"
    finally:
        for process in (first, second):
            if process is not None:
                await _stop(process)
        await db.dispose()
        await fake.close()


def test_only_one_gateway_is_alone_on_a_sqlite_file_and_none_on_postgresql(
    tmp_path: Path,
) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'omniroute.db'}"
    first, second = AloneLock(), AloneLock()
    assert first.take(url)
    assert not second.take(url)  # another gateway on the same file: it takes nothing back
    first.release()
    assert second.take(url)
    second.release()
    assert not AloneLock().take("postgresql+asyncpg://u:pw@db:5432/omniroute")
    assert not AloneLock().take("sqlite+aiosqlite:///:memory:")
