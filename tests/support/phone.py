"""A scripted feature phone: walks a USSD journey through the HTTP endpoint as Africa's Talking."""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass, field
from typing import Any

from aiohttp.test_utils import TestClient
from sqlalchemy import select

from core.bus.tables import outbox
from core.db import Database
from core.gsm7 import gsm7_length
from engines.catalogue.tables import stock_levels
from engines.customers.tables import customers
from engines.orders.tables import carts, order_lines, orders

USSD_PATH = "/channels/africastalking/ussd"
SCREEN_LIMIT = 182
MORE_KEY = "98"
_session_numbers = itertools.count(1)
_OPTION = re.compile(r"^(\d+)\. (.*)$")


@dataclass
class Screen:
    kind: str  # "CON" or "END"
    body: str

    @property
    def lines(self) -> list[str]:
        return self.body.splitlines()

    @property
    def options(self) -> list[tuple[str, str]]:
        """The `N. Label` lines as (key, label) pairs, in screen order."""
        return [(m[1], m[2]) for line in self.lines if (m := _OPTION.match(line))]

    @property
    def labels(self) -> list[str]:
        return [label for _key, label in self.options]

    @property
    def text(self) -> str:
        """The screen without its option lines."""
        return "\n".join(line for line in self.lines if not _OPTION.match(line))

    def key_for(self, label_part: str) -> str:
        """The menu key of the first option whose label contains `label_part`."""
        for line in self.lines:
            key, sep, label = line.partition(". ")
            if sep and key.isdigit() and label_part in label:
                return key
        raise AssertionError(f"no option {label_part!r} on screen:\n{self.body}")

    def __contains__(self, text: str) -> bool:
        return text in self.body


@dataclass
class UssdPhone:
    client: TestClient[object, object]
    number: str
    service_code: str = "*384*123#"
    session_id: str = ""
    inputs: list[str] = field(default_factory=list)
    screens: list[Screen] = field(default_factory=list)
    network_code: str = "62130"

    @property
    def session_key(self) -> str:
        """Where the pipeline keeps this phone's session (channels/africastalking/ussd.py)."""
        return f"at-ussd:{self.session_id}:{self.number}"

    async def dial(self, *shortcut: str) -> Screen:
        """A new session; `dial("3")` is dialling *384*123*3#, which Africa's Talking sends
        as the session's first request with text=3."""
        self.session_id = f"ATUid_test_{next(_session_numbers)}"
        self.inputs = list(shortcut)
        return await self._send()

    async def press(self, text: str) -> Screen:
        self.inputs.append(text)
        return await self._send()

    async def choose(self, label_part: str) -> Screen:
        return await self.press(self.screens[-1].key_for(label_part))

    async def walk(self, *steps: str) -> Screen:
        """Several presses in a row; the last screen."""
        screen = self.screens[-1]
        for step in steps:
            screen = await self.press(step)
        return screen

    async def page_through(self, limit: int = 20) -> list[Screen]:
        """The current screen and every further page of its list (pressing 98 while offered)."""
        pages = [self.screens[-1]]
        while any(key == MORE_KEY for key, _label in pages[-1].options):
            assert len(pages) < limit, f"still offered {MORE_KEY} after {limit} pages"
            pages.append(await self.press(MORE_KEY))
        return pages

    @property
    def screen(self) -> Screen:
        """The screen the phone shows now."""
        return self.screens[-1]

    def form(self) -> dict[str, str]:
        return {
            "sessionId": self.session_id,
            "serviceCode": self.service_code,
            "phoneNumber": self.number,
            "networkCode": self.network_code,
            "text": "*".join(self.inputs),
        }

    async def resend(self) -> Screen:
        """Africa's Talking retrying the last request (same sessionId, same text)."""
        return await self._send()

    async def _send(self) -> Screen:
        response = await self.client.post(USSD_PATH, data=self.form())
        assert response.status == 200, await response.text()
        assert response.content_type == "text/plain"
        raw = await response.text()
        kind, _, body = raw.partition(" ")
        assert kind in {"CON", "END"}, raw
        assert gsm7_length(body) <= SCREEN_LIMIT, f"screen over 182 GSM-7 chars:\n{body}"
        screen = Screen(kind, body)
        self.screens.append(screen)
        return screen


async def database_rows(db: Database) -> dict[str, list[Any]]:
    """Every row a USSD turn may write (customers, carts, orders, stock, events): compare."""
    tables = {
        "customers": select(customers).order_by(customers.c.phone),
        "carts": select(carts).order_by(carts.c.customer),
        "orders": select(orders).order_by(orders.c.id),
        "order_lines": select(order_lines).order_by(order_lines.c.order_id, order_lines.c.position),
        "stock_levels": select(stock_levels).order_by(
            stock_levels.c.warehouse_id, stock_levels.c.sku
        ),
        # Events recorded with a change (not their delivery state, which a relay moves on).
        "outbox": select(outbox.c.id, outbox.c.event_type).order_by(outbox.c.id),
    }
    async with db.transaction() as session:
        return {name: [tuple(r) for r in await session.execute(q)] for name, q in tables.items()}
