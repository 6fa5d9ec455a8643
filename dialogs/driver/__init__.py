"""The drivers' IVR: Emeka hears his next stop, takes routes, proves deliveries by code."""

from __future__ import annotations

from core.conversation import Session
from core.i18n import Translator
from core.intents import Intent
from core.messages import ChannelKind, InboundMessage, OutboundMessage, Reply
from core.region import UnsupportedRegionError, region_for_phone
from dialogs.driver.states import CODE, HOME, at_door, driver_states
from dialogs.machine import Machine, Turn
from engines.gig import GigService, StopStatus
from engines.notifications import NotificationService
from engines.orders import OrderService

__all__ = ["DRIVER_STATE_PREFIX", "DriverDialog"]

DRIVER_STATE_PREFIX = "drv."


class DriverDialog:
    """Implements the pipeline's Dialog port for registered drivers."""

    def __init__(
        self,
        gig: GigService,
        orders: OrderService,
        translate: Translator,
        notifications: NotificationService,
        sms_provider: str,
    ) -> None:
        self._gig = gig
        self._t = translate
        self._notifications = notifications
        self._sms_provider = sms_provider
        self.machine = Machine(driver_states(gig, orders), home=HOME, translate=translate)

    async def step(
        self, msg: InboundMessage, session: Session | None, intent: Intent
    ) -> tuple[Session, Reply]:
        if msg.hanging_up:
            return await self._let_go(msg, session)
        if session is None:
            session = Session(HOME, await self._locale(msg))
            turn = Turn(msg, session, self._t)
            if await at_door(self._gig, turn):
                # he pressed Arrived before this call: the code at once, Back to his stop
                session = session.evolve(state=CODE, stack=(HOME,))
            return await self.machine.show(turn, session)
        return await self.machine.step(Turn(msg, session, self._t), session, intent)

    async def _let_go(self, msg: InboundMessage, session: Session | None) -> tuple[Session, Reply]:
        """A driver silent at a door (waiting for the customer's code) is hung up on after a
        couple of minutes: he is texted how to carry on, his route and stop stay as they are,
        and the goodbye says so. Once per call, however often the provider retries. A driver
        with no route in progress (none, or one on offer) has no stop to carry on with: a plain
        goodbye, and no SMS."""
        session = session or Session(HOME, await self._locale(msg))
        spoken = msg.capabilities.in_language(session.locale)
        worker = await self._gig.worker_by_phone(msg.phone)
        task = await self._gig.current_task(worker.id) if worker is not None else None
        if task is None:
            return session, Reply(self._t(spoken, "voice.no_answer"), end=True, locale=spoken)
        # His own language, not the session's: on a line without his language's voice (Twilio
        # has no Swahili) the session took the language the line speaks.
        own = await self._locale(msg)
        stop = task.next_stop
        # at a door he said he reached, his next call starts at the code: no Arrived to press
        told = (
            "sms.driver_call_again_at_door"
            if stop is not None and stop.status is StopStatus.ARRIVED
            else "sms.driver_call_again"
        )
        await self._notifications.queue(
            OutboundMessage(
                provider=self._sms_provider,
                kind=ChannelKind.SMS,
                to=msg.phone,
                reply=Reply(self._t(own, told), end=True, locale=own),
                dedupe_key=f"driver-silent:{msg.session_key}",
            )
        )
        goodbye = self._t(spoken, "drv.silent_goodbye")
        return session, Reply(goodbye, end=True, locale=spoken)

    async def _locale(self, msg: InboundMessage) -> str:
        """The driver's own language, else their region's, else English."""
        worker = await self._gig.worker_by_phone(msg.phone)
        if worker is not None and worker.locale and self._t.supports(worker.locale):
            return worker.locale
        try:
            return region_for_phone(msg.phone).default_locale
        except UnsupportedRegionError:
            return "en"
