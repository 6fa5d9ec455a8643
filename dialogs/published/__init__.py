"""Operators' published services: a USSD session dialled on a published service's code gets
that service, compiled into the same machine the hand-written dialogs run on.

A session keeps the version it began with (its name and version are in the session), so a new
version published meanwhile changes the next session, not this one; nothing restarts.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from core.conversation import Session
from core.i18n import Translator
from core.intents import Intent, IntentKind, resolve_intent
from core.messages import ChannelKind, InboundMessage, Reply
from core.phone import Phone
from core.region import UnsupportedRegionError, region_for_phone
from dialogs.machine import Machine, Turn
from dialogs.published.states import (
    CHOOSING,
    FALLBACK_LOCALE,
    STATE_PREFIX,
    ServiceEngines,
    ServiceStep,
    compile_service,
    speaks,
    state_name,
)
from engines.registry import PublishedService, ServiceRegistry

__all__ = ["STATE_PREFIX", "PublishedDialog", "ServiceEngines"]

SERVICE_VAR = "svc"  # session var: [name, version] of the service the session began on


class PublishedDialog:
    """Implements the pipeline's Dialog port for published services."""

    def __init__(
        self,
        registry: ServiceRegistry,
        engines: ServiceEngines,
        translate: Translator,
        locale_of: Callable[[Phone], Awaitable[str]],
    ) -> None:
        self._registry = registry
        self._engines = engines
        self._t = translate
        self._locale_of = locale_of
        # Published versions never change: each is compiled once.
        self._machines: dict[tuple[str, int], Machine] = {}

    async def begin(self, msg: InboundMessage) -> tuple[Session, Reply] | None:
        """The first screen of the service published on the code dialled; None when no
        service answers on it (the caller gets the shopping dialog)."""
        if msg.kind is not ChannelKind.USSD or msg.service_code is None:
            return None
        service = await self._registry.answering(msg.service_code)
        if service is None:
            return None
        machine = self._machine(service)
        locale = await self._locale_of(msg.phone)
        if not speaks(service.definition, locale):
            # Its prompts would fall back to English: the lines the gateway adds follow them.
            locale = FALLBACK_LOCALE
        session = Session(machine.home, locale, vars={SERVICE_VAR: [service.name, service.version]})
        try:
            region_for_phone(msg.phone)
        except UnsupportedRegionError:
            # Turned away at once, as the shopping dialog does: no engine serves her market.
            return session, Reply(self._t(locale, "error.region"), end=True, locale=locale)
        turn = Turn(msg, session, self._t)
        first = machine.states[machine.home]
        assert isinstance(first, ServiceStep)
        if first.spec.end and first.spec.action not in CHOOSING:
            return session, Reply(await first.text(turn, []), end=True, locale=turn.locale)
        shown, reply = await machine.show(turn, session)
        if msg.transcript and "*" not in msg.transcript:
            # A shortcut dial (*384*77*1# arrives as text=1): the key, on the first screen.
            intent = resolve_intent(msg.transcript, locale, self._t)
            return await machine.step(Turn(msg, shown, self._t), shown, intent)
        return shown, reply

    async def step(
        self, msg: InboundMessage, session: Session | None, intent: Intent
    ) -> tuple[Session, Reply]:
        if session is None:
            begun = await self.begin(msg)
            if begun is None:
                raise LookupError(f"no service answers on {msg.service_code}")
            return begun
        name, version = session.vars[SERVICE_VAR]
        machine = self._machines.get((str(name), int(version)))
        if machine is None:  # compiled by another gateway process, or before a restart
            service = await self._registry.version(str(name), int(version))
            if service is None:
                raise LookupError(f"{name} v{version} is not published")
            machine = self._machine(service)
        turn = Turn(msg, session, self._t)
        if intent.kind in (IntentKind.COMMAND, IntentKind.LATE, IntentKind.START):
            return await machine.show(turn, session)
        return await machine.step(turn, session, intent)

    def _machine(self, service: PublishedService) -> Machine:
        key = (service.name, service.version)
        if key not in self._machines:
            definition = service.definition
            self._machines[key] = Machine(
                compile_service(definition, self._engines),
                home=state_name(definition.start),
                translate=self._t,
            )
        return self._machines[key]
