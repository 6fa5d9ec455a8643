"""An operator's published service compiled into the dialog machine's states.

Each definition state becomes one `State` (`svc:<id>`): its prompt in the caller's language,
its choices as `N. Label`, and its action's engine call; a catalogue state adds one for the
products of the category picked (`svc:<id>:products`). Nothing here is written per service.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from core.layout import layout, measure
from core.messages import Option
from core.region import UnsupportedRegionError, region_for_phone
from dialogs.machine import Choice, Finish, Go, Outcome, Screen, State, Turn
from dialogs.paging import BACK_KEY
from dialogs.shopping.states import (
    WORKFLOW_FAILED,
    money_back,
    order_line,
    paid_in_parts,
    products_screen,
)
from engines.catalogue import CatalogueService, UnknownProductError
from engines.orders import OrderService
from engines.payments import PaymentService
from engines.pricing import PricingService
from engines.registry import (
    CATALOGUE_BROWSE,
    ORDERS_STATUS,
    ServiceDefinition,
    ServiceState,
    choice_keys,
)

STATE_PREFIX = "svc:"
PRODUCTS_SUFFIX = ":products"
CATEGORY_VAR = "svc_cat"
FALLBACK_LOCALE = "en"  # every definition has English (and Swahili)
ORDERS_SHOWN = 5


@dataclass(frozen=True, slots=True)
class ServiceEngines:
    """The engine services a published service's actions call."""

    catalogue: CatalogueService
    pricing: PricingService
    orders: OrderService
    # Where the order's fulfilment workflow says it is (a stage name), None when none answers.
    stage_of: Callable[[str], Awaitable[str | None]] | None = None
    # What transfers short of an unpaid order brought towards it (None: no rails configured).
    payments: PaymentService | None = None


def state_name(state_id: str) -> str:
    return f"{STATE_PREFIX}{state_id}"


def speaks(definition: ServiceDefinition, locale: str) -> bool:
    """Whether every prompt and label of the definition is written in `locale`: a session in
    another language is served in English throughout, not English prompts among its lines."""
    return all(
        state.prompts.get(locale, "").strip()
        and all(labels.get(locale, "").strip() for labels in state.labels.values())
        for state in definition.states
    )


def in_language(texts: dict[str, str], locale: str) -> str:
    """The text in the caller's language, else English."""
    return texts.get(locale) or texts[FALLBACK_LOCALE]


class ServiceStep(State):
    """One state of a published definition."""

    def __init__(
        self,
        spec: ServiceState,
        definition: ServiceDefinition,
        engines: ServiceEngines,
        compiled: dict[str, ServiceStep],
    ) -> None:
        self.name = state_name(spec.id)
        self.spec = spec
        self._first = spec.id == definition.start
        self._engines = engines
        self._compiled = compiled  # every state of the definition, by id (filled by `compile`)

    def prompt(self, turn: Turn) -> str:
        return in_language(self.spec.prompts, turn.locale)

    async def screen(self, turn: Turn) -> Screen:
        if self.spec.action == CATALOGUE_BROWSE:
            return await self._categories(turn)
        choices = tuple(
            Choice(in_language(self.spec.labels[key], turn.locale), key)
            for key in choice_keys(self.spec)
        )
        options = [Option(str(n), c.label) for n, c in enumerate(choices, 1)]
        if not self._first:
            options.append(Option(BACK_KEY, turn.t("nav.back")))
        return Screen(await self.text(turn, options), choices, back=not self._first)

    async def text(self, turn: Turn, options: list[Option]) -> str:
        """The prompt, and what its action adds, fitted with `options` to one screen."""
        prompt = self.prompt(turn)
        if self.spec.action != ORDERS_STATUS:
            return prompt
        return await self._orders(turn, prompt, options)

    async def choose(self, turn: Turn, value: str) -> Outcome:
        if self.spec.action == CATALOGUE_BROWSE:
            turn.vars[CATEGORY_VAR] = value
            return Go(f"{self.name}{PRODUCTS_SUFFIX}")
        target = self._compiled[self.spec.transitions[value]]
        if target.spec.end and target.spec.action != CATALOGUE_BROWSE:
            return Finish(await target.text(turn, []))
        return Go(target.name)

    async def _orders(self, turn: Turn, prompt: str, options: list[Option]) -> str:
        orders = await self._engines.orders.recent(turn.msg.phone, limit=ORDERS_SHOWN)
        if not orders:
            return f"{prompt}\n{turn.t('orders.none')}"
        title = turn.t("orders.title", currency=orders[0].total.currency)
        stages = await self._stages([o.reference for o in orders])
        parts = await paid_in_parts(self._engines.payments, orders)
        back = await money_back(self._engines.payments, orders, self._engines.orders)
        lines = [
            order_line(turn, order, stage, parts.get(order.reference), back.get(order.reference))
            for order, stage in zip(orders, stages, strict=True)
        ]
        above = [turn.notice] if turn.notice else []
        # Newest first; on a small screen the oldest give way.
        while len(lines) > 1 and (
            measure(layout("\n".join([*above, prompt, title, *lines]), options), turn.capabilities)
            > turn.capabilities.screen_chars
        ):
            lines.pop()
        return "\n".join([prompt, title, *lines])

    async def _stages(self, references: list[str]) -> list[str | None]:
        stage_of = self._engines.stage_of
        if stage_of is None:
            return [None] * len(references)
        stages = await asyncio.gather(*(stage_of(ref) for ref in references))
        # A workflow that failed carries its order no more: the stored status says where it is.
        return [None if stage == WORKFLOW_FAILED else stage for stage in stages]

    async def _categories(self, turn: Turn) -> Screen:
        try:
            region = region_for_phone(turn.msg.phone)
        except UnsupportedRegionError:
            return Screen(turn.t("error.region"), back=not self._first)
        categories = await self._engines.catalogue.categories(region.code)
        return Screen(
            self.prompt(turn),
            tuple(Choice(c.name(turn.locale), c.id) for c in categories),
            back=not self._first,
        )


class CatalogueProducts(State):
    """The products of the category picked, with the caller's price; a pick ends on its price."""

    def __init__(self, browse: ServiceStep, engines: ServiceEngines) -> None:
        self.name = f"{browse.name}{PRODUCTS_SUFFIX}"
        self._engines = engines

    async def screen(self, turn: Turn) -> Screen:
        return await products_screen(
            turn,
            self._engines.catalogue,
            self._engines.pricing,
            region=region_for_phone(turn.msg.phone).code,
            category_id=str(turn.vars.get(CATEGORY_VAR, "")),
            customer=turn.msg.phone,
        )

    async def choose(self, turn: Turn, value: str) -> Outcome:
        region = region_for_phone(turn.msg.phone).code
        try:
            product = await self._engines.catalogue.product(region, value)
        except UnknownProductError:
            return Finish(turn.t("error.product_gone"))  # withdrawn since the list was shown
        prices = await self._engines.pricing.list_prices(region, [value], customer=turn.msg.phone)
        if value not in prices:
            return Finish(turn.t("error.product_gone"))
        return Finish(f"{product.name}\n{prices[value].format()}")


def compile_service(definition: ServiceDefinition, engines: ServiceEngines) -> list[State]:
    """The definition's states as the machine runs them."""
    compiled: dict[str, ServiceStep] = {}
    for spec in definition.states:
        compiled[spec.id] = ServiceStep(spec, definition, engines, compiled)
    states: list[State] = list(compiled.values())
    states.extend(
        CatalogueProducts(step, engines)
        for step in compiled.values()
        if step.spec.action == CATALOGUE_BROWSE
    )
    return states
