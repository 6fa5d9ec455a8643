"""An operator's published service compiled into the dialog machine's states.

Each definition state becomes one `State` (`svc:<id>`): its prompt in the caller's language,
its choices as `N. Label` (or the quantity typed), and its action's engine call; a catalogue
state adds one for the products of the category picked (`svc:<id>:products`). A quote prices the
product and quantity picked on the way as the shop's quote screen does. Nothing here is written
per service.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from core.layout import layout, measure
from core.messages import Option
from core.money import Money
from core.region import UnsupportedRegionError, region_for_phone
from dialogs.machine import Choice, Finish, Go, Outcome, Reject, Screen, State, Turn
from dialogs.paging import BACK_KEY
from dialogs.shopping.states import (
    WORKFLOW_FAILED,
    confirm_text,
    money_back,
    order_line,
    paid_in_parts,
    placed_text,
    products_screen,
    quote_text,
    shown_code,
    status_text,
    where_is,
)
from engines.catalogue import CatalogueService, OutOfStockError, UnknownProductError
from engines.ledger import Books, TransferRefusedError
from engines.orders import (
    CartLine,
    Order,
    OrderService,
    OrderStatus,
    PaymentMethod,
    PlaceOrder,
    UnknownOrderError,
)
from engines.payments import PaymentService
from engines.pricing import (
    InvalidVoucherError,
    NoPriceError,
    PriceLockError,
    PricingService,
    PromotionExhaustedError,
    Quote,
)
from engines.registry import (
    CATALOGUE_BROWSE,
    ORDERS_PLACE,
    ORDERS_STATUS,
    PRICING_QUOTE,
    QUANTITY_INPUT,
    REFERENCE_INPUT,
    ServiceDefinition,
    ServiceState,
    choice_keys,
)

STATE_PREFIX = "svc:"
PRODUCTS_SUFFIX = ":products"
CONFIRM_SUFFIX = ":confirm"  # an orders.place state's confirm screen
CATEGORY_VAR = "svc_cat"
PRODUCT_VAR = "svc_sku"  # the product picked for a quote (a catalogue pick, a choice's product)
QUANTITY_VAR = "svc_qty"  # the quantity typed for it
MAX_QUANTITY = 999  # what a quantity input takes: a whole number 1 to 999
ORDER_VAR = "svc_order"  # the reference typed at a reference input: the order status shows
MAX_REFERENCE = 12  # longer than any reference: not looked up, and echoed cut to this
TOTAL_VAR = "svc_total"  # the order total she was last shown (at checkout, then to confirm)
PAY_VAR = "svc_pay"  # how she chose to pay, to confirm
TRIES_VAR = "svc_tries"  # orders of this session cancelled as her credit fell short
# Actions whose end state shows choices of its own (categories; how she pays).
CHOOSING = frozenset({CATALOGUE_BROWSE, ORDERS_PLACE})
# How an order of a published service may be paid: no rail, so nothing to wait for.
PAYABLE = (PaymentMethod.ACCOUNT_CREDIT, PaymentMethod.ON_DELIVERY)
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
    # Her money kept as credit on her account, which may pay an order (None: not offered).
    books: Books | None = None


@dataclass(frozen=True, slots=True)
class Picked:
    """The quote of what was picked, and the line saying the stock left did not cover the
    quantity asked (the quote is then of what is left), or None."""

    quote: Quote
    short: str | None = None


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
        if self.spec.action == ORDERS_PLACE:
            return await self._checkout(turn)
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
        if self.spec.action == PRICING_QUOTE:
            return await self._quote(turn, prompt)
        if self.spec.action != ORDERS_STATUS:
            return prompt
        return await self._orders(turn, prompt, options)

    async def choose(self, turn: Turn, value: str) -> Outcome:
        if self.spec.action == CATALOGUE_BROWSE:
            turn.vars[CATEGORY_VAR] = value
            return Go(f"{self.name}{PRODUCTS_SUFFIX}")
        if self.spec.action == ORDERS_PLACE:
            turn.vars[PAY_VAR] = value
            return Go(f"{self.name}{CONFIRM_SUFFIX}")
        if value in self.spec.products:
            turn.vars[PRODUCT_VAR] = self.spec.products[value]
        turn.vars.pop(ORDER_VAR, None)  # an order typed on another path is not this one's
        return await self.go_on(turn, self.spec.transitions[value])

    async def go_on(self, turn: Turn, state_id: str) -> Outcome:
        """To the definition's state `state_id`: an end (but a catalogue's) ends on its text."""
        target = self._compiled[state_id]
        if target.spec.end and target.spec.action not in CHOOSING:
            return Finish(await target.text(turn, []))
        return Go(target.name)

    async def _picked_quote(self, turn: Turn) -> Picked | None:
        """The quote of the product and quantity picked on the way (the shop's engine call:
        her prices, the promotions, VAT, her currency); None when it is no longer sold or none
        is left. Where the stock left does not cover the quantity, it is the quote of what is
        left, saying so, as the shop's quote screen cuts a line to the stock left: a quote of
        what could not be ordered would be a price no order gets."""
        phone = turn.msg.phone
        region = region_for_phone(phone).code
        sku, quantity = str(turn.vars.get(PRODUCT_VAR, "")), int(turn.vars.get(QUANTITY_VAR, 0))
        if sku not in (await self._engines.catalogue.shelf(region)).products:
            return None  # withdrawn, or not sold in her market
        available = await self._engines.catalogue.available(region, sku)
        if available <= 0:
            return None  # sold out: the shop's check takes such a line out
        short = None
        if available < quantity:
            quantity, short = available, turn.t("error.quantity.stock", available=available)
        try:
            quote = await self._engines.pricing.quote(region, [(sku, quantity)], customer=phone)
        except (UnknownProductError, NoPriceError):
            return None
        return Picked(quote, short)

    async def _quote(self, turn: Turn, prompt: str) -> str:
        """The quote of the product and quantity picked, as the shop's quote screen words it."""
        picked = await self._picked_quote(turn)
        if picked is None:
            return turn.t("error.product_gone")
        quote = picked.quote
        line = turn.t("cart.line", quantity=quote.lines[0].quantity, name=quote.lines[0].name)
        above = [picked.short] if picked.short else []
        return quote_text(
            turn, quote, (), "\n".join([*above, prompt, line]), shorter="\n".join([*above, prompt])
        )

    async def _kept_covers(self, turn: Turn, total: Money) -> Money | None:
        """The credit kept on her account, when it pays the whole order."""
        if self._engines.books is None:
            return None
        kept = await self._engines.books.account_credit(turn.msg.phone, total.currency)
        return kept if kept.amount > 0 and kept.amount >= total.amount else None

    async def _checkout(self, turn: Turn) -> Screen:
        """The order of what was picked: its total, then how she pays; confirmed, it is placed."""
        picked = await self._picked_quote(turn)
        if picked is None:
            return Screen(turn.t("error.product_gone"), back=not self._first)
        quote = picked.quote
        line = turn.t("cart.line", quantity=quote.lines[0].quantity, name=quote.lines[0].name)
        total = turn.t("quote.total", amount=quote.total.format())
        choices = [Choice(turn.t(f"payment.{PaymentMethod.ON_DELIVERY.value}"), "ON_DELIVERY")]
        kept = await self._kept_covers(turn, quote.total)
        if kept is not None:
            label = turn.t("payment.ACCOUNT_CREDIT_left", credit=kept.format())
            choices.insert(0, Choice(label, PaymentMethod.ACCOUNT_CREDIT.value))
        turn.vars[TOTAL_VAR] = str(quote.total.amount)
        text = "\n".join([self.prompt(turn), line, total])
        if picked.short:
            # The room kept for the action at publish has none for this line: where both do
            # not fit, the stock left, the order and its total matter more than the prompt.
            options = [Option(str(n), c.label) for n, c in enumerate(choices, 1)]
            options.append(Option(BACK_KEY, turn.t("nav.back")))
            text = f"{picked.short}\n{text}"
            if measure(layout(text, options), turn.capabilities) > turn.capabilities.screen_chars:
                text = "\n".join([picked.short, line, total])
        return Screen(text, tuple(choices), back=not self._first)

    async def confirm_screen(self, turn: Turn) -> Screen:
        """The order's total and how she chose to pay, to confirm, as the shop's confirm screen
        asks it; Back chooses again."""
        picked = await self._picked_quote(turn)
        if picked is None:
            return Screen(turn.t("error.product_gone"))
        total = picked.quote.total
        pay = PaymentMethod(str(turn.vars.get(PAY_VAR, PaymentMethod.ON_DELIVERY.value)))
        body = confirm_text(turn, total, pay)
        turn.vars[TOTAL_VAR] = str(total.amount)  # what she confirms is what is placed
        above = [picked.short] if picked.short else []
        return Screen("\n".join([*above, body]), (Choice(turn.t("confirm.yes"), "yes"),))

    async def place(self, turn: Turn) -> Outcome:
        """Confirmed: the order placed, paid as she chose."""
        method = PaymentMethod(str(turn.vars.get(PAY_VAR, PaymentMethod.ON_DELIVERY.value)))
        return await self._place(turn, method)

    async def _place(self, turn: Turn, method: PaymentMethod) -> Outcome:
        """Place the order of what was picked, paid as she chose. The session names it: a
        confirm sent again (a retried request, a second press) places it once."""
        phone = turn.msg.phone
        key = f"{turn.msg.session_key}:{self.name}:{int(turn.vars.get(TRIES_VAR, 0))}"
        placed = await self._engines.orders.placed_with(key)
        sku, quantity = str(turn.vars[PRODUCT_VAR]), int(turn.vars[QUANTITY_VAR])
        if placed is None:
            picked = await self._picked_quote(turn)
            if picked is None:
                return Finish(turn.t("error.product_gone"))
            quote = picked.quote
            if str(quote.total.amount) != turn.vars.get(TOTAL_VAR):
                # The total she chose on is not what she would pay: shown again, saying so
                # (stock sold down meanwhile says so on the screen itself).
                changed = None if picked.short else turn.t("error.prices_changed")
                return Go(self.name, remember=False, notice=changed)
            if method is PaymentMethod.ACCOUNT_CREDIT and not await self._kept_covers(
                turn, quote.total
            ):
                return await self._credit_short(turn, quote.total.currency)
            quantity = quote.lines[0].quantity  # what the total she chose on is of
        try:
            order = await self._engines.orders.place(
                PlaceOrder(
                    customer=phone,
                    region=region_for_phone(phone).code,
                    lines=(CartLine(sku, quantity),),
                    payment_method=method,
                    idempotency_key=key,
                    clear_cart=False,  # her shop cart is hers: this order is of the steps
                )
            )
        except OutOfStockError as exc:
            notice = turn.t("error.quantity.stock", available=exc.available)
            return Go(self.name, remember=False, notice=notice)
        except (NoPriceError, UnknownProductError):
            return Finish(turn.t("error.product_gone"))
        except (PriceLockError, PromotionExhaustedError, InvalidVoucherError):
            return Go(self.name, remember=False, notice=turn.t("error.prices_changed"))
        if order.payment_method is PaymentMethod.ACCOUNT_CREDIT:
            return await self._pay_from_credit(turn, order)
        return Finish(placed_text(turn, order))

    async def _pay_from_credit(self, turn: Turn, order: Order) -> Outcome:
        """Paid at once from the credit kept on her account (once, by its reference); spent
        meanwhile by another order, this one is cancelled (stock back) and she chooses again."""
        books = self._engines.books
        if books is None:  # not offered without the books
            return await self._cancelled_short(turn, order)
        try:
            await books.order_paid_from_credit(order.reference, order.customer, order.total)
        except TransferRefusedError:
            return await self._cancelled_short(turn, order)
        await self._engines.orders.paid_from_credit(order.reference)
        left = await books.account_credit(order.customer, order.total.currency)
        return Finish(
            turn.t(
                "done.account_credit",
                reference=order.reference,
                total=order.total.format(),
                left=left.format(),
            )
        )

    async def _cancelled_short(self, turn: Turn, order: Order) -> Outcome:
        await self._engines.orders.advance(
            order.reference, OrderStatus.CANCELLED, reason="account_credit"
        )
        # She chooses again: that is another order, not this cancelled one.
        turn.vars[TRIES_VAR] = int(turn.vars.get(TRIES_VAR, 0)) + 1
        return await self._credit_short(turn, order.total.currency)

    async def _credit_short(self, turn: Turn, currency: str) -> Outcome:
        left = Money.zero(currency)
        if self._engines.books is not None:
            left = await self._engines.books.account_credit(turn.msg.phone, currency)
        notice = turn.t("error.account_credit_short", left=left.format())
        return Go(self.name, remember=False, notice=notice)

    async def _orders(self, turn: Turn, prompt: str, options: list[Option]) -> str:
        if turn.vars.get(ORDER_VAR):
            return await self._order(turn, prompt, str(turn.vars[ORDER_VAR]), options)
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

    async def _order(self, turn: Turn, prompt: str, reference: str, options: list[Option]) -> str:
        """The order whose reference she typed, as the shop's one-order screen says it; where
        the prompt and it do not fit one screen (the room kept for the action at publish is an
        orders list's line), the order without the prompt."""
        order = await self._engines.orders.get(reference)
        [stage] = await self._stages([order.reference])
        back = await money_back(self._engines.payments, [order], self._engines.orders)
        status = status_text(turn, order, where_is(turn, order, stage, back.get(order.reference)))
        above = [turn.notice] if turn.notice else []
        text = f"{prompt}\n{status}"
        if measure(layout("\n".join([*above, text]), options), turn.capabilities) > (
            turn.capabilities.screen_chars
        ):
            return status
        return text

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


class QuantityStep(ServiceStep):
    """A quantity typed: a whole number 1 to 999; anything else is asked again, saying why."""

    awaits_answer = True

    async def screen(self, turn: Turn) -> Screen:
        return Screen(self.prompt(turn), prompt=True, back=not self._first)

    async def enter(self, turn: Turn, text: str) -> Outcome:
        cleaned = text.strip().replace(",", "")
        if cleaned.startswith("-") and cleaned[1:].isdigit():
            return Reject("error.quantity.min")
        if not cleaned.isdigit() or not cleaned.isascii():
            return Reject("error.quantity.number")
        if len(cleaned) > 6 or int(cleaned) > MAX_QUANTITY:
            return Reject("error.quantity.max", {"max": MAX_QUANTITY})
        if int(cleaned) < 1:
            return Reject("error.quantity.min")
        turn.vars[QUANTITY_VAR] = int(cleaned)
        assert self.spec.next is not None  # validated at publish
        return await self.go_on(turn, self.spec.next)


class ReferenceStep(ServiceStep):
    """An order's reference typed on the keypad (W62ACJ), for the orders.status state next: one
    of her own orders; any other is asked again saying none was found (as the shop says it, and
    without telling whose orders exist)."""

    awaits_answer = True

    async def screen(self, turn: Turn) -> Screen:
        return Screen(self.prompt(turn), prompt=True, back=not self._first)

    async def enter(self, turn: Turn, text: str) -> Outcome:
        typed = "".join(text.split()).upper()
        if not typed:
            return Reject("error.reference.empty")
        order = None
        if len(typed) <= MAX_REFERENCE:
            try:
                order = await self._engines.orders.get(typed)
            except UnknownOrderError:
                order = None
        if order is None or order.customer != turn.msg.phone:
            shown = shown_code(turn, typed[:MAX_REFERENCE])
            return Reject("order.not_found", {"reference": shown})
        turn.vars[ORDER_VAR] = order.reference
        assert self.spec.next is not None  # validated at publish
        return await self.go_on(turn, self.spec.next)


class CatalogueProducts(State):
    """The products of the category picked, with the caller's price; a pick ends on its price,
    or, where the catalogue state names a next state, is the product taken there."""

    def __init__(self, browse: ServiceStep, engines: ServiceEngines) -> None:
        self.name = f"{browse.name}{PRODUCTS_SUFFIX}"
        self._browse = browse
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
        onward = self._browse.spec.next
        if onward is not None:
            turn.vars[PRODUCT_VAR] = value
            return await self._browse.go_on(turn, onward)
        return Finish(f"{product.name}\n{prices[value].format()}")


class OrderConfirm(State):
    """An orders.place state's second screen: its total and how she pays, "1. Confirm" places
    the order, Back chooses again (a key pressed by mistake places nothing)."""

    awaits_answer = True

    def __init__(self, checkout: ServiceStep) -> None:
        self.name = f"{checkout.name}{CONFIRM_SUFFIX}"
        self._checkout = checkout

    async def screen(self, turn: Turn) -> Screen:
        return await self._checkout.confirm_screen(turn)

    async def choose(self, turn: Turn, value: str) -> Outcome:
        return await self._checkout.place(turn)


def compile_service(definition: ServiceDefinition, engines: ServiceEngines) -> list[State]:
    """The definition's states as the machine runs them."""
    compiled: dict[str, ServiceStep] = {}
    for spec in definition.states:
        kind = {QUANTITY_INPUT: QuantityStep, REFERENCE_INPUT: ReferenceStep}.get(
            spec.input or "", ServiceStep
        )
        compiled[spec.id] = kind(spec, definition, engines, compiled)
    states: list[State] = list(compiled.values())
    states.extend(
        CatalogueProducts(step, engines)
        for step in compiled.values()
        if step.spec.action == CATALOGUE_BROWSE
    )
    states.extend(
        OrderConfirm(step) for step in compiled.values() if step.spec.action == ORDERS_PLACE
    )
    return states
