"""The drivers' IVR: Emeka hears his next stop, takes routes, proves deliveries by code."""

from __future__ import annotations

from core.conversation import Session
from core.i18n import Translator
from core.intents import Intent
from core.messages import InboundMessage, Reply
from core.region import UnsupportedRegionError, region_for_phone
from dialogs.driver.states import HOME, driver_states
from dialogs.machine import Machine, Turn
from engines.gig import GigService

__all__ = ["DRIVER_STATE_PREFIX", "DriverDialog"]

DRIVER_STATE_PREFIX = "drv."


class DriverDialog:
    """Implements the pipeline's Dialog port for registered drivers."""

    def __init__(self, gig: GigService, translate: Translator) -> None:
        self._gig = gig
        self._t = translate
        self.machine = Machine(driver_states(gig), home=HOME, translate=translate)

    async def step(
        self, msg: InboundMessage, session: Session | None, intent: Intent
    ) -> tuple[Session, Reply]:
        if session is None:
            session = Session(HOME, await self._locale(msg))
            return await self.machine.show(Turn(msg, session, self._t), session)
        return await self.machine.step(Turn(msg, session, self._t), session, intent)

    async def _locale(self, msg: InboundMessage) -> str:
        """The driver's own language, else their region's, else English."""
        worker = await self._gig.worker_by_phone(msg.phone)
        if worker is not None and worker.locale and self._t.supports(worker.locale):
            return worker.locale
        try:
            return region_for_phone(msg.phone).default_locale
        except UnsupportedRegionError:
            return "en"
