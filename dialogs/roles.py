"""Who is calling decides the dialog: a USSD session dialled on the code of a service an
operator published gets that service, a registered driver's phone call reaches the drivers'
IVR, everyone else (and every other channel) the shopping dialog."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Protocol

from core.conversation import Session
from core.intents import Intent
from core.messages import ChannelKind, InboundMessage, Reply
from core.phone import Phone
from dialogs.driver import DRIVER_STATE_PREFIX
from dialogs.published import STATE_PREFIX


class _Dialog(Protocol):
    async def step(
        self, msg: InboundMessage, session: Session | None, intent: Intent
    ) -> tuple[Session, Reply]: ...


class _Published(_Dialog, Protocol):
    async def begin(self, msg: InboundMessage) -> tuple[Session, Reply] | None: ...


class RoleDialog:
    def __init__(
        self,
        shopping: _Dialog,
        driver: _Dialog,
        is_driver: Callable[[Phone], Awaitable[bool]],
        published: _Published | None = None,
    ) -> None:
        self._shopping = shopping
        self._driver = driver
        self._is_driver = is_driver
        self._published = published

    async def step(
        self, msg: InboundMessage, session: Session | None, intent: Intent
    ) -> tuple[Session, Reply]:
        if session is not None:
            # A conversation stays with the dialog that began it.
            if session.state.startswith(DRIVER_STATE_PREFIX):
                return await self._driver.step(msg, session, intent)
            if self._published is not None and session.state.startswith(STATE_PREFIX):
                return await self._published.step(msg, session, intent)
            return await self._shopping.step(msg, session, intent)
        if self._published is not None:
            begun = await self._published.begin(msg)
            if begun is not None:
                return begun
        if msg.kind is ChannelKind.VOICE and await self._is_driver(msg.phone):
            return await self._driver.step(msg, None, intent)
        return await self._shopping.step(msg, None, intent)
