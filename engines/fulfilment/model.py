"""What the durable processes carry: typed inputs, signals, statuses and results.

Pure values (stdlib + core only), so workflow code can import them through the sandbox and the
pydantic data converter can carry them; the service-definition checks are plain functions that
a workflow's activities and property tests can call alike.

No `from __future__ import annotations` here: pydantic resolves these annotations inside
Temporal's workflow sandbox, where string annotations cannot be looked up.
"""

import re
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum
from functools import cache

from core.gsm7 import gsm7_length, is_gsm7
from core.i18n import Translator
from core.layout import layout
from core.messages import Option
from core.money import Money

# Paid before anything leaves the warehouse; the rest (on delivery, on credit) is collected later.
PREPAID_METHODS = frozenset({"MPESA", "MOMO", "BANK_TRANSFER", "PAYSTACK", "FLUTTERWAVE"})
CREDIT_METHOD = "CREDIT"  # drawn on the retailer's credit line before the warehouse may pick
# Paid at checkout from the credit kept on her account (no rail): picked only once it is paid.
ACCOUNT_CREDIT_METHOD = "ACCOUNT_CREDIT"
PAYMENT_WINDOW_SECONDS = 15 * 60


def paid_before_release(method: str) -> bool:
    """Whether the order waits for its money before the warehouse may pick it."""
    return method.upper() in PREPAID_METHODS


class Stage(StrEnum):
    """Where an order's story is; what `where is my order` answers."""

    RESERVED = "reserved"
    AWAITING_PAYMENT = "awaiting_payment"
    CONFIRMED = "confirmed"
    IN_WAVE = "in_wave"
    PICKED = "picked"
    ROUTED = "routed"
    OUT_FOR_DELIVERY = "out_for_delivery"
    DRIVER_ARRIVED = "driver_arrived"
    DELIVERED = "delivered"
    SETTLED = "settled"
    COMPENSATING = "compensating"
    CANCELLED = "cancelled"
    RETURNED = "returned"  # out for delivery, then brought back (an operator resolved it so)
    # Its workflow failed, timed out or was terminated before it ended the order (an order it
    # unwound first is CANCELLED): no workflow carries it, its stored status says where it is.
    # Never entered by the workflow; the gateway's status answers it for such a run.
    FAILED = "failed"


class CancelReason(StrEnum):
    """Why an order was unwound (a code: the words come from locales/)."""

    PAYMENT_EXPIRED = "payment_expired"
    PAYMENT_FAILED = "payment_failed"
    CUSTOMER = "customer"
    FAILED = "failed"
    CREDIT_REFUSED = "credit_refused"
    # Paid from the credit on her account, which another order spent between her confirm and
    # its payment (she has no credit line to blame).
    ACCOUNT_CREDIT_SHORT = "account_credit_short"
    OPERATOR = "operator"  # our operations team cancelled it (not the customer)


# Why the orders engine cancelled an order (`OrderStatusChanged.reason`), as the workflow that
# unwinds it tells the customer.
_ORDER_REASONS = {
    "credit": CancelReason.CREDIT_REFUSED,  # the credit line refused it at checkout
    "account_credit": CancelReason.ACCOUNT_CREDIT_SHORT,  # her account credit no longer paid it
    # unpaid, its hold lapsed (as the orders engine said it before it used the workflow's word)
    "reservation_expired": CancelReason.PAYMENT_EXPIRED,
}


def cancel_reason(reason: str | None) -> CancelReason:
    """The reason an order was cancelled outside its workflow (an order event's `reason`, or a
    `cancel` signal's), as the customer is told it; no reason: our team cancelled it."""
    if reason is None:
        return CancelReason.OPERATOR
    if reason in _ORDER_REASONS:
        return _ORDER_REASONS[reason]
    try:
        return CancelReason(reason)
    except ValueError:
        return CancelReason.OPERATOR


class PaymentStatus(StrEnum):
    PENDING = "pending"
    PAID = "paid"
    FAILED = "failed"
    EXPIRED = "expired"
    ABANDONED = "abandoned"


class NoticeKind(StrEnum):
    """Messages the fulfilment process sends a customer."""

    CANCELLED = "cancelled"
    OUT_FOR_DELIVERY = "out_for_delivery"
    DELIVERED = "delivered"
    RETURNED = "returned"


# ------------------------------------------------------------------------------- fulfilment


@dataclass(frozen=True, slots=True)
class FulfilmentInput:
    """Start an order's fulfilment; the order (already placed and reserved) is read by reference."""

    reference: str
    payment_window_seconds: int = PAYMENT_WINDOW_SECONDS
    # The rail, when the starter knows it better than the order row (orders record only
    # ON_DELIVERY until the payments engine lands); None: the order's own method.
    payment_method: str | None = None


@dataclass(frozen=True, slots=True)
class OrderSnapshot:
    reference: str
    customer: str
    region: str
    total: Money
    payment_method: str
    status: str
    # A back-order of an order paid upfront: paid already, by the original's payment.
    paid_by_original: bool = False
    paid: bool = False  # its money is in (the order's paid time is set)


@dataclass(frozen=True, slots=True)
class OrderRef:
    reference: str


@dataclass(frozen=True, slots=True)
class OrderCancellation:
    """Cancel an order and give its stock back, saying why (a `CancelReason` value, carried by
    its `OrderStatusChanged` event). An activity scheduled before the reason was passed has
    none: its event says none rather than a wrong one."""

    reference: str
    reason: str | None = None


@dataclass(frozen=True, slots=True)
class OrderStep:
    """Move an order to `status` (an `engines.orders.OrderStatus` value), once."""

    reference: str
    status: str


@dataclass(frozen=True, slots=True)
class CustomerNotice:
    reference: str
    kind: NoticeKind
    reason: CancelReason | None = None
    driver: str | None = None
    # The order's second, third… dispatch (after a recall): a notice of its own, once each.
    dispatch: int | None = None


@dataclass(frozen=True, slots=True)
class CreditDraw:
    """The credit engine's answer to drawing an order on the customer's line.

    `refused` is a `CreditRefusedReason` value (no credit, overdue, not enough left) or None.
    """

    reference: str
    approved: bool
    refused: str | None = None


@dataclass(frozen=True, slots=True)
class PaymentNotice:
    """A payment provider's webhook, as a signal: who paid how much, and whether it went through."""

    provider: str
    provider_reference: str
    amount: Money
    succeeded: bool = True


@dataclass(frozen=True, slots=True)
class RoutePlanned:
    route_id: str
    stop: int | None = None


@dataclass(frozen=True, slots=True)
class DriverAssigned:
    driver_id: str
    name: str | None = None


@dataclass(frozen=True, slots=True)
class DeliveryConfirmed:
    code: str | None = None
    by: str | None = None


@dataclass(frozen=True, slots=True)
class StageChange:
    stage: Stage
    at: datetime


@dataclass(frozen=True, slots=True)
class FulfilmentStatus:
    """The answer to a status query: enough for a dialog or GraphQL to say where an order is."""

    reference: str
    stage: Stage
    paid: bool = False
    route_id: str | None = None
    driver_id: str | None = None
    cancel_reason: CancelReason | None = None
    history: tuple[StageChange, ...] = ()


@dataclass(frozen=True, slots=True)
class FulfilmentResult:
    reference: str
    stage: Stage
    cancel_reason: CancelReason | None = None


# --------------------------------------------------------------------------------- payment


@dataclass(frozen=True, slots=True)
class PaymentInput:
    """Collect `amount` for `payment_id` (the order reference) on a rail, once."""

    payment_id: str
    amount: Money
    method: str
    payer: str
    window_seconds: int = PAYMENT_WINDOW_SECONDS
    early_notice: PaymentNotice | None = None


@dataclass(frozen=True, slots=True)
class ChargeRequest:
    payment_id: str
    amount: Money
    method: str
    payer: str


@dataclass(frozen=True, slots=True)
class Charge:
    """What the rail says about a charge; `provider_reference` is None until the rail names it."""

    payment_id: str
    status: PaymentStatus
    provider_reference: str | None = None
    paid: Money | None = None


@dataclass(frozen=True, slots=True)
class RefundRequest:
    payment_id: str
    amount: Money
    provider_reference: str | None = None


@dataclass(frozen=True, slots=True)
class PaymentResult:
    payment_id: str
    status: PaymentStatus
    provider_reference: str | None = None
    paid: Money | None = None


# ------------------------------------------------------------------------------ settlement


@dataclass(frozen=True, slots=True)
class SettlementInput:
    """Settle one day's delivered orders; `day` None means yesterday (what the schedule runs)."""

    day: date | None = None
    wait_for_close: bool = False


@dataclass(frozen=True, slots=True)
class SettlementReport:
    day: date
    orders: int
    totals: tuple[Money, ...] = ()
    days: tuple[date, ...] = ()  # every day settled in the run: missed days before `day` too


# ------------------------------------------------------------------------ service creation


@dataclass(frozen=True, slots=True)
class ServiceState:
    """One screen of an operator's service: prompts per locale, key -> next state (each key's
    label per locale, shown as `N. Label`), an action."""

    id: str
    prompts: dict[str, str]
    transitions: dict[str, str] = field(default_factory=dict)
    labels: dict[str, dict[str, str]] = field(default_factory=dict)
    action: str | None = None
    end: bool = False
    # What the caller types here instead of choosing: "quantity" (a whole number 1-999), or
    # "reference" (one of her orders' references, for the orders.status state `next` shows).
    input: str | None = None
    # Where an input, or a catalogue.browse state's product pick, goes next.
    next: str | None = None
    # key -> SKU: the product a choice picks (the one a pricing.quote state then quotes).
    products: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class ServiceDefinition:
    name: str
    version: int
    start: str
    states: tuple[ServiceState, ...]
    # The USSD code it answers on (`*384*77#`); None: published, but no code reaches it.
    service_code: str | None = None


@dataclass(frozen=True, slots=True)
class ServiceCreationInput:
    definition: ServiceDefinition
    operator: str | None = None


@dataclass(frozen=True, slots=True)
class SimulationReport:
    """Every path walked from the start: states reached and the ends they lead to."""

    reached: tuple[str, ...]
    ends: tuple[str, ...]
    paths: int
    # pricing.quote and orders.place states some path reaches before a product, or a quantity,
    # was picked.
    without_product: tuple[str, ...] = ()
    without_quantity: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class ServiceCreationResult:
    name: str
    version: int
    published: bool
    problems: tuple[str, ...] = ()


REQUIRED_LOCALES = ("en", "sw")
# What the USSD endpoint serves: the caller's latest orders (added below the prompt),
# the region's catalogue (categories, then products with their prices; ends on a price, or picks
# the product for what comes `next`), and the quote of the product and quantity picked.
ORDERS_STATUS = "orders.status"
CATALOGUE_BROWSE = "catalogue.browse"
PRICING_QUOTE = "pricing.quote"
# The product and quantity picked, as an order: its total, then how she pays (on delivery, or
# from the credit kept on her account when it covers it); the choice places it.
ORDERS_PLACE = "orders.place"
KNOWN_ACTIONS = frozenset({ORDERS_STATUS, CATALOGUE_BROWSE, PRICING_QUOTE, ORDERS_PLACE})
# What an action needing the product and quantity picked on the way does with them.
PICKED_FOR = {PRICING_QUOTE: "quotes a price", ORDERS_PLACE: "places an order"}
QUANTITY_INPUT = "quantity"
REFERENCE_INPUT = "reference"
INPUTS = frozenset({QUANTITY_INPUT, REFERENCE_INPUT})
INPUT_BACK_KEY = "00"  # dialogs.machine.INPUT_BACK_KEY: a prompt's Back
USSD_SCREEN = 182  # GSM-7 characters on one USSD page (interfaces.md)
MAX_CHOICES = 9  # one key each, on one page
# Every screen but the first ends on a Back line, worded as the caller's language words it.
BACK_KEY = "0"  # dialogs.paging.BACK_KEY
BACK_LABEL = "nav.back"
# Room a screen keeps for what its action adds: one order line and its title, a category and
# "98. More" under the title, the product and the quote's VAT and total lines.
ACTION_ROOM = {ORDERS_STATUS: 60, CATALOGUE_BROWSE: 60, PRICING_QUOTE: 110, ORDERS_PLACE: 110}
# Room an input keeps for the line saying why an entry was refused ("Enter a number, e.g. 3.").
INPUT_ROOM = 40
MAX_PATHS = 10_000
MAX_NAME = 80  # the registry's columns: name, version (a 32-bit integer), service code
MAX_VERSION = 2**31 - 1
MAX_CODE = 64
SERVICE_CODE = re.compile(r"\*\d{1,6}(\*\d{1,6})*#")


def validate_service(definition: ServiceDefinition) -> tuple[str, ...]:
    """What is wrong with a definition, as short technical lines (empty when it may publish)."""
    problems: list[str] = []
    ids = [state.id for state in definition.states]
    known = set(ids)
    problems.extend(_identity_problems(definition))
    if len(known) != len(ids):
        problems.append("state ids repeat")
    if definition.start not in known:
        problems.append(f"start state {definition.start!r} is not defined")
    spoken = spoken_languages()
    for state in definition.states:
        written = set(state.prompts).union(*state.labels.values())
        for locale in sorted(written - set(spoken)):
            problems.append(
                f"state {state.id!r} is written in {locale!r}, a language the gateway does not "
                f"speak ({', '.join(spoken)})"
            )
        for locale in REQUIRED_LOCALES:
            if not state.prompts.get(locale, "").strip():
                problems.append(f"state {state.id!r} has no {locale} prompt")
        for key, target in state.transitions.items():
            if target not in known:
                problems.append(f"state {state.id!r} key {key!r} goes to unknown {target!r}")
        problems.extend(_action_problems(state))
        problems.extend(_onward_problems(state, known))
        shows = next((s for s in definition.states if s.id == state.next), None)
        if state.input == REFERENCE_INPUT and shows is not None and shows.action != ORDERS_STATUS:
            problems.append(f"state {state.id!r} asks for an order: its next must be orders.status")
        if not state.end and not state.transitions and state.next is None:
            problems.append(f"state {state.id!r} is a dead end (no choices and not an end)")
        problems.extend(_screen_problems(state, first=state.id == definition.start))
    return tuple(problems)


@cache
def _catalogues() -> Translator:
    # Read on first use, in the activity that validates: never at import, in the sandbox.
    return Translator.load()


def spoken_languages() -> tuple[str, ...]:
    """The languages the gateway speaks (one catalogue each), in its Language menu's order."""
    return tuple(code for code, _name in _catalogues().languages)


def _identity_problems(definition: ServiceDefinition) -> list[str]:
    """Name, version and service code, as the registry keeps them."""
    problems = []
    if not definition.name.strip():
        problems.append("the service has no name")
    elif len(definition.name) > MAX_NAME:
        problems.append(f"the service name is over {MAX_NAME} characters")
    if not 1 <= definition.version <= MAX_VERSION:
        problems.append(f"version must be 1 to {MAX_VERSION}")
    code = definition.service_code
    if code is not None and (len(code) > MAX_CODE or not SERVICE_CODE.fullmatch(code)):
        problems.append(f"service code {code!r} is not a USSD code like *384*77#")
    return problems


def _action_problems(state: ServiceState) -> list[str]:
    if state.action is None:
        return []
    if state.action not in KNOWN_ACTIONS:
        return [f"state {state.id!r} names unknown action {state.action!r}"]
    return []


def _onward_problems(state: ServiceState, known: set[str]) -> list[str]:
    """An input, a catalogue pick going on, a product per choice and a quote, as each is served:
    an input asks and goes `next`; a quote is an end."""
    sid = state.id
    problems = []
    if state.input is not None and state.input not in INPUTS:
        problems.append(
            f"state {sid!r} input {state.input!r} is not one of: {', '.join(sorted(INPUTS))}"
        )
    if state.input is not None and (state.transitions or state.action or state.end):
        problems.append(f"state {sid!r} takes an input: it has no choices, action or end")
    if state.input is not None and state.next is None:
        problems.append(f"state {sid!r} takes an input but names no next state")
    if state.next is not None:
        if state.input is None and state.action != CATALOGUE_BROWSE:
            problems.append(f"state {sid!r} has a next state but no input or catalogue.browse")
        if state.next not in known:
            problems.append(f"state {sid!r} next goes to unknown {state.next!r}")
        if state.end:
            problems.append(f"state {sid!r} is an end: it goes nowhere next")
    for key, sku in sorted(state.products.items()):
        if key not in state.transitions:
            problems.append(f"state {sid!r} product key {key!r} is not one of its choices")
        if not sku.strip():
            problems.append(f"state {sid!r} key {key!r} names no product")
    if state.action == PRICING_QUOTE and not state.end:
        problems.append(f"state {sid!r} shows a quote: mark it end")
    if state.action == ORDERS_PLACE and not state.end:
        problems.append(f"state {sid!r} places an order: mark it end")
    return problems


def choice_keys(state: ServiceState) -> list[str]:
    """The state's keys in the order its screen numbers them."""
    return sorted(state.transitions, key=lambda key: int(key) if key.isdigit() else 0)


def _screen_problems(state: ServiceState, *, first: bool) -> list[str]:
    """What keeps the state's screen off a feature phone: choices that are not keys 1 to N with
    a label in each language, an end with choices, text a handset cannot show, or a screen
    (with the room its Back line and its action need) longer than a USSD page."""
    sid = state.id
    problems: list[str] = []
    keys = choice_keys(state)
    if keys != [str(n) for n in range(1, len(keys) + 1)] or len(keys) > MAX_CHOICES:
        problems.append(f"state {sid!r} keys must be 1 to {MAX_CHOICES} in order, as shown")
    if state.end and state.transitions:
        problems.append(f"state {sid!r} is an end: it offers no choices")
    if state.action == CATALOGUE_BROWSE and state.transitions:
        problems.append(f"state {sid!r} lists the catalogue: its choices are the catalogue's")
    for key in keys:
        for locale in REQUIRED_LOCALES:
            if not state.labels.get(key, {}).get(locale, "").strip():
                problems.append(f"state {sid!r} key {key!r} has no {locale} label")
    room = ACTION_ROOM.get(state.action or "", INPUT_ROOM if state.input else 0)
    for locale, prompt in sorted(state.prompts.items()):
        labels = [state.labels.get(key, {}).get(locale, "") for key in keys]
        options = [Option(key, label) for key, label in zip(keys, labels, strict=True)]
        if not first:
            back = INPUT_BACK_KEY if state.input else BACK_KEY
            options.append(Option(back, _catalogues()(locale, BACK_LABEL)))
        text = layout(prompt, options)
        if not is_gsm7(text):
            odd = "".join(sorted({ch for ch in text if not is_gsm7(ch)}))
            problems.append(f"state {sid!r} {locale} text has characters USSD cannot show: {odd}")
            continue
        length = gsm7_length(text) + room
        if length > USSD_SCREEN:
            problems.append(
                f"state {sid!r} {locale} screen needs {length} characters "
                f"(with room for Back and its action), over USSD's {USSD_SCREEN}"
            )
    return problems


def simulate_service(definition: ServiceDefinition) -> SimulationReport:
    """What a caller pressing every key could reach from the start, and how many ways there are
    (simple paths to an end or a dead end, counted up to MAX_PATHS)."""
    states = {state.id: state for state in definition.states}
    # Walked with what the caller has picked so far (a product, a quantity): a quote needs both.
    reached: set[tuple[str, bool, bool]] = set()
    frontier = [(definition.start, False, False)] if definition.start in states else []
    while frontier:
        here = frontier.pop()
        if here in reached:
            continue
        reached.add(here)
        frontier.extend(step for step in _onward(states[here[0]], *here[1:]) if step[0] in states)
    paths = 0
    stack: list[tuple[str, frozenset[str]]] = [(definition.start, frozenset())]
    while stack and paths < MAX_PATHS:
        current, seen = stack.pop()
        state = states.get(current)
        if state is None:
            continue
        onward = [t for t, *_ in _onward(state) if t not in seen and t != current]
        if state.end or not onward:
            paths += 1
        stack.extend((target, seen | {current}) for target in onward)
    ids = {sid for sid, *_ in reached}
    ends = sorted(sid for sid in ids if states[sid].end)
    quotes = [(sid, p, q) for sid, p, q in reached if states[sid].action in PICKED_FOR]
    return SimulationReport(
        tuple(sorted(ids)),
        tuple(ends),
        paths,
        without_product=tuple(sorted({sid for sid, p, _ in quotes if not p})),
        without_quantity=tuple(sorted({sid for sid, _, q in quotes if not q})),
    )


def _onward(
    state: ServiceState, product: bool = False, quantity: bool = False
) -> list[tuple[str, bool, bool]]:
    """Where a caller can go from `state`, with whether a product and a quantity are picked."""
    onward = [
        (target, product or key in state.products, quantity)
        for key, target in state.transitions.items()
    ]
    if state.next is not None and state.input == QUANTITY_INPUT:
        onward.append((state.next, product, True))
    elif state.next is not None and state.input == REFERENCE_INPUT:
        onward.append((state.next, product, quantity))
    elif state.next is not None and state.action == CATALOGUE_BROWSE:
        onward.append((state.next, True, quantity))
    return onward


def simulation_problems(definition: ServiceDefinition, report: SimulationReport) -> tuple[str, ...]:
    problems = []
    unreachable = sorted({s.id for s in definition.states} - set(report.reached))
    if unreachable:
        problems.append(f"unreachable states: {', '.join(unreachable)}")
    if not report.ends:
        problems.append("no path from the start reaches an end")
    states = {state.id: state for state in definition.states}
    for sid in report.without_product:
        problems.append(
            f"state {sid!r} {PICKED_FOR[states[sid].action or '']}, but a path reaches it before "
            "a product is picked (a catalogue.browse with next, or a choice in products)"
        )
    for sid in report.without_quantity:
        problems.append(
            f"state {sid!r} {PICKED_FOR[states[sid].action or '']}, but a path reaches it before "
            'a quantity is asked (a state with "input": "quantity")'
        )
    return tuple(problems)
