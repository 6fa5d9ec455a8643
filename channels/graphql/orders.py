"""The orders context over GraphQL: place once per idempotency key, read, list, follow live."""

from __future__ import annotations

import uuid
from collections.abc import AsyncGenerator, AsyncIterator
from datetime import UTC, datetime
from decimal import Decimal
from enum import Enum
from typing import Annotated

import strawberry
import structlog

from channels.graphql.auth import (
    ClientError,
    InvalidTokenError,
    authenticate_params,
    forbidden,
    may_act_for,
    require,
)
from channels.graphql.context import GraphQLContext
from channels.graphql.customers import BadCustomerError, customer_of
from channels.graphql.errors import (
    CreditRefused,
    InvalidCustomer,
    InvalidIdempotencyKey,
    InvalidQuantity,
    NotFound,
    OutOfStock,
    PaymentMethodUnavailable,
    PlaceOrderError,
    PriceChanged,
    PromotionUsedUp,
    UnknownProduct,
    UserError,
)
from channels.graphql.quotes import LineInput, check_lines, invalid_voucher, promo_code
from channels.graphql.scalars import (
    BadCursorError,
    Connection,
    Edge,
    MoneyType,
    PageInfo,
    decode_cursor,
    encode_cursor,
    page_size,
)
from channels.graphql.updates import OrderUpdate
from core.money import Money
from core.phone import Phone
from core.region import Region
from engines.access import Principal
from engines.catalogue import OutOfStockError, UnknownProductError
from engines.credit import CreditRefusedError, CreditRefusedReason
from engines.ledger import TransferRefusedError
from engines.orders import (
    FINAL_STATUSES,
    RAILS_BY_COUNTRY,
    CartLine,
    InvalidTransitionError,
    PlaceOrder,
    UnknownOrderError,
)
from engines.orders import Order as OrderModel
from engines.orders import OrderStatus as OrderStatusModel
from engines.orders import PaymentMethod as PaymentMethodModel
from engines.orders.history import HistoryCursor
from engines.payments import (
    PAYABLE,
    CreatePayment,
    Direction,
    IntentStatus,
    Method,
    MoneyBack,
    PaymentError,
    PaymentIntent,
    again_key,
    given_back,
    money_back,
    payable_again,
    refunded_in_full,
    sent_in_parts,
)
from engines.pricing import (
    InvalidQuantityError,
    InvalidVoucherError,
    NoPriceError,
    PriceLockError,
    PriceLockExpiredError,
    PriceLockMismatchError,
    PriceLockUsedError,
    PromotionExhaustedError,
    VoucherProblem,
    normalise_code,
)

Info = strawberry.Info[GraphQLContext, None]
log = structlog.get_logger(__name__)

# Rails that charge a phone: the payer may be another phone than the customer's.
PHONE_RAILS = frozenset({PaymentMethodModel.MPESA, PaymentMethodModel.MOMO})

strawberry.enum(OrderStatusModel, name="OrderStatus")


@strawberry.enum
class PaymentMethod(Enum):
    ON_DELIVERY = "ON_DELIVERY"
    MPESA = "MPESA"
    MOMO = "MOMO"
    BANK_TRANSFER = "BANK_TRANSFER"
    PAYSTACK = "PAYSTACK"
    CREDIT = "CREDIT"
    ACCOUNT_CREDIT = "ACCOUNT_CREDIT"


@strawberry.enum(
    description="Pay on delivery: PENDING until delivered (PAID), CANCELLED when the order is "
    "cancelled or returned. Credit: PENDING (owed) until repaid (PAID), delivered or not. "
    "From the credit on her account: PAID at once, REFUNDED once cancelled or returned. "
    "A rail payment: its intent's status (PROCESSING while the customer approves, "
    "REQUIRES_ACTION for a transfer or a code to dial, SUCCEEDED, FAILED...); REFUNDED once "
    "all that was paid came back (`refunded`)"
)
class PaymentStatus(Enum):
    PENDING = "PENDING"
    PAID = "PAID"
    CANCELLED = "CANCELLED"
    UNKNOWN = "UNKNOWN"
    REQUIRES_ACTION = "REQUIRES_ACTION"
    PROCESSING = "PROCESSING"
    SUCCEEDED = "SUCCEEDED"
    FAILED = "FAILED"
    REFUNDED = "REFUNDED"


@strawberry.enum(
    description="Where the money paid for an order cancelled or returned is: PENDING while its "
    "refund is asked of the rail and not confirmed, DELAYED while the rail holds it until "
    "someone acts (she should call us), REFUNDED once the rail gave it all back, "
    "KEPT_AS_CREDIT when it is on her account, as credit (paid from it, cash paid at the door, "
    "transfers short of the order, or a refund the rail could not make)"
)
class RefundStatus(Enum):
    PENDING = "PENDING"
    DELAYED = "DELAYED"
    REFUNDED = "REFUNDED"
    KEPT_AS_CREDIT = "KEPT_AS_CREDIT"


REFUND_STATUS = {
    MoneyBack.ON_ITS_WAY: RefundStatus.PENDING,
    MoneyBack.DELAYED: RefundStatus.DELAYED,
    MoneyBack.REFUNDED: RefundStatus.REFUNDED,
    MoneyBack.KEPT: RefundStatus.KEPT_AS_CREDIT,
}


@strawberry.type(description="What became of the money paid for an order cancelled or returned")
class Refund:
    status: RefundStatus
    amount: MoneyType = strawberry.field(description="What was paid for the order")


@strawberry.type(description="What the customer needs to pay: an account number, a code to dial")
class PaymentDetail:
    name: str
    value: str


@strawberry.type
class Payment:
    method: PaymentMethod
    order_status: strawberry.Private[PaymentStatus]
    reference: strawberry.Private[str]
    currency: strawberry.Private[str]
    order: strawberry.Private[OrderModel]

    async def _intents(self, info: Info, reference: str | None = None) -> list[PaymentIntent]:
        """The order's payments on its rail (or `reference`'s), oldest first (none for
        delivery or credit)."""
        loader = info.context.loaders.intents
        if loader is None or self.method.value not in Method.__members__:
            return []  # paid on no rail: on delivery, on credit, from her account's credit
        wanted = Method(self.method.value)
        return [i for i in await loader.load(reference or self.reference) if i.method is wanted]

    async def _intent(self, info: Info) -> PaymentIntent | None:
        """The order's latest collection on its rail."""
        mine = [i for i in await self._intents(info) if i.direction is Direction.COLLECT]
        # Oldest first (by creation, then id): the last is the latest, also when two were
        # made in the same instant (Pay again right after a prompt failed).
        return mine[-1] if mine else None

    @strawberry.field
    async def status(self, info: Info) -> PaymentStatus:
        intent = await self._intent(info)
        if intent is None:
            return self.order_status
        # Every payment that succeeded was given back in full: nothing of it is kept.
        if refunded_in_full(await self._intents(info)):
            return PaymentStatus.REFUNDED
        return PaymentStatus[intent.status.name]

    @strawberry.field(
        description="What came back to the customer of what was paid: the refunds the rail "
        "confirmed (zero while one is asked for, and for delivery or credit)"
    )
    async def refunded(self, info: Info) -> MoneyType:
        intents = await self._intents(info)
        given = sum(
            (
                given_back(intents, i)
                for i in intents
                if i.direction is Direction.COLLECT and i.status is IntentStatus.SUCCEEDED
            ),
            Decimal(0),
        )
        return MoneyType.of(Money(given, self.currency))

    @strawberry.field(
        description="Once an order she paid for (or paid part of) is cancelled or returned, "
        "where its money is (the payment's `status` stays what the payment did: SUCCEEDED); "
        "null for any other order"
    )
    async def refund(self, info: Info) -> Refund | None:
        if self.order.status not in (OrderStatusModel.CANCELLED, OrderStatusModel.RETURNED):
            return None
        paid_as = self.order.reference
        if self.order.paid_by_original:  # a back-order born paid: its first order's payment
            paid_as = (await info.context.services.orders.lineage(self.order))[0].reference
        intents = await self._intents(info, paid_as)
        back = money_back(self.order, intents)
        if back is None:
            return None
        if self.order.paid_by_original:
            return Refund(status=REFUND_STATUS[back], amount=MoneyType.of(self.order.total))
        paid = [
            i.amount
            for i in intents
            if i.direction is Direction.COLLECT and i.status is IntentStatus.SUCCEEDED
        ]
        parts = sent_in_parts(intents)
        if parts is not None:
            paid.append(parts)
        amount = sum(paid, Money.zero(self.currency)) if paid else self.order.total
        return Refund(status=REFUND_STATUS[back], amount=MoneyType.of(amount))

    @strawberry.field(
        description="What came in for the order so far on its rail: what its payment asked once "
        "one succeeded, else what transfers short of it brought towards it (a bank's daily "
        "limit makes a retailer send the total in parts: 20000.00 of 26993.25); zero for "
        "delivery and credit"
    )
    async def received(self, info: Info) -> MoneyType:
        collected = [i for i in await self._intents(info) if i.direction is Direction.COLLECT]
        came = sum(
            (i.payable.amount for i in collected if i.status is IntentStatus.SUCCEEDED),
            Decimal(0),
        )
        parts = sent_in_parts(collected)
        return MoneyType.of(Money(came, self.currency) + (parts or Money.zero(self.currency)))

    @strawberry.field(
        description="What the customer is asked to pay on the rail (the latest ask): M-Pesa's "
        "prompt asks whole shillings, so a total with cents is asked rounded up (KES 2521.26 "
        "asks 2522.00); null when no rail asks anything (pay on delivery, credit)"
    )
    async def requested_amount(self, info: Info) -> MoneyType | None:
        intent = await self._intent(info)
        return None if intent is None else MoneyType.of(intent.asked)

    @strawberry.field(description="How to pay, for transfers and bank USSD codes")
    async def details(self, info: Info) -> list[PaymentDetail]:
        intent = await self._intent(info)
        if intent is None:
            return []
        return [PaymentDetail(name=k, value=v) for k, v in sorted(intent.details.items())]


@strawberry.type(description="One line as the quote showed it: lineTotal less discount is net")
class OrderLine:
    sku: str
    name: str
    quantity: int
    unit_price: MoneyType
    discount: MoneyType
    line_total: MoneyType = strawberry.field(
        description="quantity x unit price, before the discount (the lines add up to subtotal)"
    )
    net: MoneyType = strawberry.field(description="lineTotal less the discount")


@strawberry.type
class Order:
    reference: str
    status: OrderStatusModel
    customer: str
    created_at: datetime
    lines: list[OrderLine]
    subtotal: MoneyType
    discount: MoneyType
    delivery: MoneyType = strawberry.field(description="The delivery fee charged")
    tax: MoneyType
    total: MoneyType
    payment: Payment

    @strawberry.field(
        description="Where the order's fulfilment workflow is (reserved, awaiting_payment, "
        "in_wave, picked, routed, out_for_delivery, delivered, settled, cancelled…; failed "
        "when its run failed before it ended the order: `status` says where it stands); null "
        "when no workflow carries it"
    )
    async def stage(self, info: Info) -> str | None:
        stage_of = info.context.services.stage_of
        return None if stage_of is None else await stage_of(self.reference)

    @classmethod
    def of(cls, order: OrderModel) -> Order:
        return cls(
            reference=order.reference,
            status=order.status,
            customer=order.customer.e164,
            created_at=order.created_at,
            lines=[
                OrderLine(
                    sku=line.sku,
                    name=line.name,
                    quantity=line.quantity,
                    unit_price=MoneyType.of(line.unit_price),
                    discount=MoneyType.of(line.discount),
                    # As the quote's line: its net is the orders engine's line_total.
                    line_total=MoneyType.of(line.unit_price * line.quantity),
                    net=MoneyType.of(line.line_total),
                )
                for line in order.lines
            ],
            subtotal=MoneyType.of(order.subtotal),
            discount=MoneyType.of(order.discount),
            delivery=MoneyType.of(order.delivery_fee or Money.zero(order.total.currency)),
            tax=MoneyType.of(order.tax),
            total=MoneyType.of(order.total),
            payment=Payment(
                method=PaymentMethod(order.payment_method.value),
                order_status=_payment_status(order),
                reference=order.reference,
                currency=order.total.currency,
                order=order,
            ),
        )


def _payment_status(order: OrderModel) -> PaymentStatus:
    """Paid when a payment for it succeeded (a credit's repayment too), as My orders says on
    USSD: pay on delivery once the driver took the cash at the door (recorded with the
    delivery); credit is owed until repaid, delivered or not. Otherwise void once the order is
    cancelled or returned (what a return after delivery gives back is the invoice's credit
    note). Paid from the credit on her account and then cancelled or returned, it is back
    there: refunded."""
    ended = order.status in (OrderStatusModel.CANCELLED, OrderStatusModel.RETURNED)
    if order.payment_method is PaymentMethodModel.ACCOUNT_CREDIT and ended:
        return PaymentStatus.REFUNDED if order.paid_at is not None else PaymentStatus.CANCELLED
    if order.paid_at is not None:
        return PaymentStatus.PAID
    if ended:
        return PaymentStatus.CANCELLED
    return PaymentStatus.PENDING


OrderResult = Annotated[Order | NotFound, strawberry.union("OrderResult")]


@strawberry.input
class PaymentInput:
    method: PaymentMethod
    phone: str | None = strawberry.field(
        default=None, description="The phone that pays (mobile money); the customer's by default"
    )


@strawberry.input
class PlaceOrderInput:
    customer: str = strawberry.field(description="The customer's E.164 phone number")
    lines: list[LineInput]
    payment: PaymentInput
    idempotency_key: str = strawberry.field(
        description="The app's key for this attempt: a retry with the same key returns the "
        "same order"
    )
    promo_code: str | None = None
    price_lock: strawberry.ID | None = strawberry.field(
        default=None,
        description="`quote { priceLock { id } }` of this cart: the order is placed at that "
        "quote's prices while it holds; past `expiresAt` (or for another cart) nothing is "
        "placed and the error is PriceChanged with today's total",
    )


@strawberry.type(description="The order placed, or `errors` saying why none was")
class PlaceOrderPayload:
    order: Order | None
    errors: list[PlaceOrderError]


@strawberry.type(
    description="The order is closed (cancelled, delivered or returned): nothing is asked for"
)
class OrderNotPayable(UserError):  # noqa: N818 - a GraphQL result type, not an exception
    reference: str
    status: OrderStatusModel


PayOrderError = Annotated[
    NotFound | PaymentMethodUnavailable | InvalidCustomer | OrderNotPayable,
    strawberry.union("PayOrderError"),
]


@strawberry.type(
    description="The order, its `payment` as it stands now (PROCESSING while a new prompt is "
    "open), or `errors` saying why nothing was asked for"
)
class PayOrderPayload:
    order: Order | None
    errors: list[PayOrderError]


@strawberry.type(
    description="The order has left the warehouse (dispatched, delivered or returned): it can "
    "no longer be cancelled; nothing changed"
)
class OrderNotCancellable(UserError):  # noqa: N818 - a GraphQL result type, not an exception
    reference: str
    status: OrderStatusModel


CancelOrderError = Annotated[NotFound | OrderNotCancellable, strawberry.union("CancelOrderError")]


@strawberry.type(description="The order cancelled (also when it already was), or `errors`")
class CancelOrderPayload:
    order: Order | None
    errors: list[CancelOrderError]


@strawberry.type(description="A status change of an order, as it happens")
class OrderStatusUpdate:
    reference: str
    status: OrderStatusModel
    previous_status: OrderStatusModel

    @strawberry.field
    async def order(self, info: Info) -> Order:
        return Order.of(await info.context.services.orders.get(self.reference))


async def _visible_order(info: Info, reference: str, principal: Principal) -> Order | NotFound:
    """Someone else's order answers as a missing one: a refusal would tell a stranger guessing
    references which orders exist."""
    try:
        order = await info.context.services.orders.get(reference.strip())
    except UnknownOrderError:
        order = None
    if order is None or not may_act_for(principal, order.customer.e164):
        return NotFound(message=f"no order {reference}", reference=reference)
    return Order.of(order)


@strawberry.type
class OrdersQuery:
    @strawberry.field(description="One order by its reference (yours, unless you are staff)")
    async def order(self, info: Info, reference: str) -> OrderResult:
        principal = require(info.context.principal)
        return await _visible_order(info, reference, principal)

    @strawberry.field(description="A customer's orders, newest first")
    async def orders(
        self,
        info: Info,
        customer: str | None = None,
        first: int | None = None,
        after: str | None = None,
    ) -> Connection[Order]:
        principal = require(info.context.principal)
        wanted = customer or principal.subject
        try:
            phone, _market = customer_of(wanted)
        except BadCustomerError as exc:
            raise ClientError("BAD_USER_INPUT", str(exc)) from exc
        # Compared as E.164: "+234 803 000 0001" is the customer's own number too.
        if not may_act_for(principal, phone.e164):
            raise forbidden("you may list only your own orders")
        cursor = None
        if after:
            try:
                cursor = _history_cursor(after)
            except (BadCursorError, ValueError, OverflowError) as exc:
                raise ClientError("BAD_USER_INPUT", f"unknown cursor {after!r}") from exc
        found, more = await info.context.services.history.page(phone, page_size(first), cursor)
        edges = [
            Edge(
                cursor=encode_cursor("order", f"{o.created_at.isoformat()}|{o.id}"),
                node=Order.of(o),
            )
            for o in found
        ]
        return Connection(
            edges=edges,
            page_info=PageInfo(
                has_next_page=more,
                has_previous_page=cursor is not None,
                start_cursor=edges[0].cursor if edges else None,
                end_cursor=edges[-1].cursor if edges else None,
            ),
        )


def _history_cursor(after: str) -> HistoryCursor:
    """The position an `orders` cursor names; one this API did not make raises ValueError.

    Ours carry an aware UTC time: a naive or far-off one would reach the database and fail
    there, with the SQL in the error.
    """
    at, _, ident = decode_cursor("order", after).partition("|")
    when = datetime.fromisoformat(at)
    if when.tzinfo is None:
        raise ValueError(f"naive cursor time {at!r}")
    return HistoryCursor(when.astimezone(UTC), uuid.UUID(ident))


@strawberry.type
class OrdersMutation:
    @strawberry.mutation(description="Place an order once per idempotency key")
    async def place_order(self, info: Info, input: PlaceOrderInput) -> PlaceOrderPayload:
        principal = require(info.context.principal)
        try:
            phone, market = customer_of(input.customer)
        except BadCustomerError as exc:
            return _failed(InvalidCustomer(message=str(exc), customer=input.customer))
        if not may_act_for(principal, phone.e164):
            raise forbidden("you may place orders only for yourself")
        key = input.idempotency_key.strip()
        if not 8 <= len(key) <= 100:
            return _failed(InvalidIdempotencyKey(message="idempotencyKey: 8 to 100 characters"))
        problem = check_lines(input.lines)
        if problem is not None:
            return _failed(problem)
        method = PaymentMethodModel(input.payment.method.value)
        payer = _payer(input.payment.phone, phone, market)
        if isinstance(payer, InvalidCustomer):
            return _failed(payer)
        if not _offered(info, method, market):
            return _failed(
                PaymentMethodUnavailable(
                    message=f"{method.value} is not offered to {market.name} customers",
                    method=input.payment.method.value,
                )
            )
        command = PlaceOrder(
            customer=phone,
            region=market.code,
            lines=tuple(CartLine(line.sku, line.quantity) for line in input.lines),
            payment_method=method,
            # Scoped to the customer: two customers' apps may well pick the same key.
            idempotency_key=f"gql:{phone.e164}:{key}",
            clear_cart=False,
            voucher=promo_code(input.promo_code),
            price_lock_id=(input.price_lock or "").strip() or None,
        )
        part = await _kept_part(info, command, market)
        order = await _place(info, command, market)
        if not isinstance(order, OrderModel):
            return _failed(order)
        if not _same_request(order, command):
            # The key names an earlier, different order: answering with it would tell the app
            # that this cart was ordered when nothing was.
            return _failed(
                InvalidIdempotencyKey(
                    message=f"idempotencyKey {key!r} was used for another order "
                    f"({order.reference}); use a new key for a new order"
                )
            )
        return await _settle(info, order, payer, part)

    @strawberry.mutation(
        description="Ask for an order's payment again, as Pay again in My orders on USSD: on "
        "its rail, once every earlier payment of it failed or was cancelled (an M-Pesa prompt "
        "declined or timed out). While one is open, or once one succeeded, nothing is asked "
        "and the order is answered as it stands, so a double tap charges once. `phone` pays "
        "mobile money when it is not the customer's."
    )
    async def pay_order(
        self, info: Info, reference: str, phone: str | None = None
    ) -> PayOrderPayload:
        principal = require(info.context.principal)
        services = info.context.services
        try:
            order: OrderModel | None = await services.orders.get(reference.strip())
        except UnknownOrderError:
            order = None
        if order is None or not may_act_for(principal, order.customer.e164):
            # Someone else's order answers as a missing one, as `order` does.
            return _unpaid(NotFound(message=f"no order {reference}", reference=reference))
        _phone, market = customer_of(order.customer.e164)
        method = order.payment_method
        if method not in RAILS or not _offered(info, method, market):
            return _unpaid(
                PaymentMethodUnavailable(
                    message=f"order {order.reference} is paid {method.value}, not on a rail",
                    method=method.value,
                )
            )
        payer = _payer(phone, order.customer, market)
        if isinstance(payer, InvalidCustomer):
            return _unpaid(payer)
        if order.status not in PAYABLE:
            return _unpaid(
                OrderNotPayable(
                    message=f"order {order.reference} is {order.status.value}: nothing to pay",
                    reference=order.reference,
                    status=order.status,
                )
            )
        assert services.payments is not None  # _offered
        found = await services.payments.for_orders([order.reference])
        intents = found.get(order.reference.upper(), [])
        if not intents:  # the checkout's own ask never reached the rail: made under its key
            await _pay(info, order, payer)
        elif payable_again(order, intents):
            # as checkout: her account credit pays what it covers, the rail the rest
            books = services.books
            kept = Money.zero(order.total.currency)
            if books is not None:
                kept = await books.pay_again_from_credit(
                    order.reference, order.customer, order.total
                )
            if kept >= order.total:
                await services.orders.paid_from_credit(order.reference)
                order = await services.orders.get(order.reference)
            else:
                await _pay(info, order, payer, again_key(order, intents), amount=order.total - kept)
        return PayOrderPayload(order=Order.of(order), errors=[])

    @strawberry.mutation(
        description="Cancel an order until it leaves the warehouse (placed, confirmed, picking "
        "or packed), as an operator does: its stock goes back, what was paid is refunded on "
        "its rail, a credit hold is released and the customer is texted. Cancelling a "
        "cancelled order again answers it as it stands"
    )
    async def cancel_order(self, info: Info, reference: str) -> CancelOrderPayload:
        principal = require(info.context.principal)
        orders = info.context.services.orders
        try:
            order: OrderModel | None = await orders.get(reference.strip())
        except UnknownOrderError:
            order = None
        if order is None or not may_act_for(principal, order.customer.e164):
            # Someone else's order answers as a missing one, as `order` does.
            return CancelOrderPayload(
                order=None, errors=[NotFound(message=f"no order {reference}", reference=reference)]
            )
        if order.status is not OrderStatusModel.CANCELLED:
            try:
                # "customer": her text says "as requested", as the workflow's customer cancel.
                order = await orders.advance(
                    order.reference, OrderStatusModel.CANCELLED, reason="customer"
                )
            except InvalidTransitionError as exc:
                return CancelOrderPayload(
                    order=None,
                    errors=[
                        OrderNotCancellable(
                            message=f"order {order.reference} is {exc.current.value}: too late "
                            "to cancel",
                            reference=order.reference,
                            status=exc.current,
                        )
                    ],
                )
        return CancelOrderPayload(order=Order.of(order), errors=[])


def _unpaid(error: PayOrderError) -> PayOrderPayload:
    return PayOrderPayload(order=None, errors=[error])


async def _place(info: Info, command: PlaceOrder, market: Region) -> OrderModel | PlaceOrderError:
    """Place the order, or say why not: the engines' refusals as typed errors."""
    try:
        if command.price_lock_id is not None:
            await _check_lock(info, command)
        short = await _short(info, command, market)
        if short is not None:
            return short
        return await info.context.services.orders.place(command)
    except InvalidVoucherError as exc:
        return invalid_voucher(exc)
    except OutOfStockError as exc:
        return OutOfStock(
            message=f"only {exc.available} of {exc.sku} left",
            sku=exc.sku,
            requested=exc.requested,
            available=exc.available,
        )
    except (UnknownProductError, NoPriceError) as exc:
        return UnknownProduct(message=f"no product {exc.sku}", sku=exc.sku)
    except InvalidQuantityError as exc:
        return InvalidQuantity(message="invalid quantity", sku=exc.sku, quantity=exc.quantity)
    except PromotionExhaustedError as exc:
        return await _used_up(info, market, exc.promotion_id)
    except PriceLockError as exc:
        try:
            return await _price_changed(info, command, exc)
        except InvalidVoucherError as voucher:
            return invalid_voucher(voucher)
        except (UnknownProductError, NoPriceError) as gone:
            return UnknownProduct(message=f"no product {gone.sku}", sku=gone.sku)


async def _check_lock(info: Info, command: PlaceOrder) -> None:
    """The lock's own refusal (PriceLockError) before anything else is checked: an expired or
    used lock is told as such, so the app quotes again, rather than, say, a credit refusal of
    a price it no longer holds. Also the promo code the lock was given for (the lock's own code
    would otherwise price the order). A retry of a placed order answers as its first attempt
    did, whatever the lock does now."""
    services = info.context.services
    if await services.orders.placed_with(command.idempotency_key) is not None:
        return
    lock = await services.pricing.locked(str(command.price_lock_id))
    lines = [(line.sku, line.quantity) for line in command.lines]
    lock.check(command.customer.e164, lines, services.clock.now())
    voucher = normalise_code(command.voucher) if command.voucher else None
    if lock.region != command.region.value or lock.voucher != voucher:
        raise PriceLockMismatchError(str(lock.id))


async def _price_changed(info: Info, command: PlaceOrder, exc: PriceLockError) -> PriceChanged:
    """Nothing placed at a price the app did not show: what the cart costs now, and what the
    customer's own lock held when it simply ran out."""
    services = info.context.services
    now = await services.pricing.quote(
        command.region,
        [(line.sku, line.quantity) for line in command.lines],
        customer=command.customer,
        voucher=command.voucher,
    )
    lock_id = str(command.price_lock_id)
    message = f"price lock {lock_id} is not for this cart; quote again"
    held: MoneyType | None = None
    expired_at: datetime | None = None
    if isinstance(exc, PriceLockExpiredError):
        lock = await services.pricing.locked(lock_id)
        # Someone else's lock tells nothing of what it held, expired or not.
        if lock.customer == command.customer.e164:
            message = f"price lock {lock_id} expired at {exc.expired_at.isoformat()}; quote again"
            held, expired_at = MoneyType.of(lock.quote.total), exc.expired_at
    elif isinstance(exc, PriceLockUsedError):
        message = f"price lock {lock_id} was used for another order; quote again"
    return PriceChanged(
        message=message,
        price_lock=strawberry.ID(lock_id),
        expired_at=expired_at,
        locked_total=held,
        total=MoneyType.of(now.total),
    )


def _same_request(order: OrderModel, command: PlaceOrder) -> bool:
    """Whether `order` is what `command` asks for: a retry, not a new order under an old key."""
    return (
        {line.sku: line.quantity for line in order.lines}
        == {line.sku: line.quantity for line in command.lines}
        and order.payment_method is command.payment_method
        and order.voucher == (normalise_code(command.voucher) if command.voucher else None)
    )


async def _settle(
    info: Info, order: OrderModel, payer: Phone, part: Money | None = None
) -> PlaceOrderPayload:
    """After placing, as the USSD checkout does: hold the credit, or ask the rail (for what is
    left after `part`, the credit kept on her account that pays part of it)."""
    if order.payment_method is PaymentMethodModel.CREDIT:
        refused = await _on_credit(info, order)
        if refused is not None:
            return _failed(refused)
    elif order.payment_method is PaymentMethodModel.ACCOUNT_CREDIT:
        paid = await _from_kept_credit(info, order)
        if isinstance(paid, CreditRefused):
            return _failed(paid)
        order = paid
    elif order.payment_method in RAILS and order.status is not OrderStatusModel.CANCELLED:
        if part is not None:
            refused = await _part_from_kept_credit(info, order, part)
            if refused is not None:
                return _failed(refused)
        await _pay(info, order, payer, amount=None if part is None else order.total - part)
    return PlaceOrderPayload(order=Order.of(order), errors=[])


async def _used_up(info: Info, market: Region, promotion_id: str) -> PlaceOrderError:
    """A promotion spent by another order between the quote and this one (a double tap with
    two keys, or the last of a budget): the promo code's refusal, or the promotion's."""
    book = await info.context.services.pricing.book(market.code)
    code = next((p.code for p in book.promotions if p.id == promotion_id and p.code), None)
    if code is not None:
        return invalid_voucher(InvalidVoucherError(code, VoucherProblem.USED_UP))
    return PromotionUsedUp(
        message=f"promotion {promotion_id} ran out as the order was placed; quote again",
        promotion=promotion_id,
    )


def _payer(raw: str | None, customer: Phone, market: Region) -> Phone | InvalidCustomer:
    """The phone a mobile-money rail charges: the customer's unless another is given."""
    raw = (raw or "").strip()
    if not raw:
        return customer
    try:
        payer, payer_market = customer_of(raw)
    except BadCustomerError as exc:
        return InvalidCustomer(message=f"payment.phone: {exc}", customer=raw)
    if payer_market.country != market.country:
        return InvalidCustomer(
            message="payment.phone: the payer must be in the customer's country", customer=raw
        )
    return payer


RAILS = frozenset(m for m in PaymentMethodModel if m.value in Method.__members__)


def _offered(info: Info, method: PaymentMethodModel, market: Region) -> bool:
    """What the USSD checkout offers this market: its rails while configured, credit, delivery."""
    services = info.context.services
    if method is PaymentMethodModel.ON_DELIVERY:
        return True
    if method is PaymentMethodModel.CREDIT:
        return services.credit is not None
    if method is PaymentMethodModel.ACCOUNT_CREDIT:
        return services.books is not None
    return (
        method in RAILS_BY_COUNTRY.get(market.country, ())
        and services.payments is not None
        and services.payments.offers(Method(method.value))
    )


async def _credit_short(info: Info, command: PlaceOrder, market: Region) -> CreditRefused | None:
    """Refused before placing when the line cannot cover the order (USSD offers credit only
    when it does): placing first would text the customer the confirmation of an order
    cancelled a moment later. A retry of a placed order answers as its first attempt did."""
    services = info.context.services
    credit = services.credit
    if credit is None or await services.orders.placed_with(command.idempotency_key) is not None:
        return None
    if await credit.blocked(command.customer):  # the reason to give: pay what is overdue
        return CreditRefused(
            message="credit refused: overdue; nothing was placed",
            reason=CreditRefusedReason.OVERDUE.value,
            available=MoneyType.of(await credit.available(command.customer)),
        )
    terms = await credit.terms(command.customer)
    if terms is None or terms.limit.amount <= 0 or terms.term_days <= 0:
        return CreditRefused(
            message="credit refused: no_credit; nothing was placed",
            reason=CreditRefusedReason.NO_CREDIT.value,
            available=MoneyType.of(Money.zero(market.currency)),
        )
    left = await credit.available(command.customer)
    if left >= await _to_pay(info, command):
        return None  # the hold decides (an overdue credit still cancels the order)
    return CreditRefused(
        message="credit refused: insufficient; nothing was placed",
        reason=CreditRefusedReason.INSUFFICIENT.value,
        available=MoneyType.of(left),
    )


async def _to_pay(info: Info, command: PlaceOrder) -> Money:
    """The order's total: its price lock's while it holds, else the cart's quote."""
    pricing = info.context.services.pricing
    lines = [(line.sku, line.quantity) for line in command.lines]
    if command.price_lock_id is not None:
        lock = await pricing.locked(command.price_lock_id)  # refused: _place says why
        return lock.check(command.customer.e164, lines, info.context.services.clock.now()).total
    quote = await pricing.quote(
        command.region, lines, customer=command.customer, voucher=command.voucher
    )
    return quote.total


async def _short(info: Info, command: PlaceOrder, market: Region) -> CreditRefused | None:
    """What cannot pay the order, said before it is placed: the credit line or the credit kept
    on her account."""
    if command.payment_method is PaymentMethodModel.CREDIT:
        return await _credit_short(info, command, market)
    if command.payment_method is PaymentMethodModel.ACCOUNT_CREDIT:
        return await _kept_short(info, command, market)
    return None


async def _kept_short(info: Info, command: PlaceOrder, market: Region) -> CreditRefused | None:
    """Refused before placing when the credit kept on her account does not pay the whole order
    (a part of one is paid with a rail: `_kept_part`). A retry of a placed order answers as
    its first attempt did."""
    services = info.context.services
    if services.books is None or await services.orders.placed_with(command.idempotency_key):
        return None
    kept = await services.books.account_credit(command.customer, market.currency)
    if kept >= await _to_pay(info, command):
        return None
    return CreditRefused(
        message="the credit on your account does not cover the order; nothing was placed",
        reason=CreditRefusedReason.INSUFFICIENT.value,
        available=MoneyType.of(kept),
    )


async def _kept_part(info: Info, command: PlaceOrder, market: Region) -> Money | None:
    """The credit kept on her account when it pays part of a rail's order (the rail is asked
    the rest), read before the order is placed (its hold then takes it). None otherwise, and
    for a retry of a placed order, whose rail answers what it asked the first time."""
    services = info.context.services
    if command.payment_method not in RAILS or services.books is None:
        return None
    if await services.orders.placed_with(command.idempotency_key):
        return None
    kept = await services.books.account_credit(command.customer, market.currency)
    if kept.amount <= 0 or kept >= await _to_pay(info, command):
        return None
    return kept


async def _part_from_kept_credit(
    info: Info, order: OrderModel, part: Money
) -> CreditRefused | None:
    """Take `part` of the order from the credit kept on her account (by the order's hold);
    spent meanwhile by another order, the order is cancelled (stock back)."""
    services = info.context.services
    assert services.books is not None  # _kept_part
    try:
        await services.books.order_part_paid_from_credit(
            order.reference, order.customer, order.total, part
        )
    except TransferRefusedError:
        await services.orders.advance(
            order.reference, OrderStatusModel.CANCELLED, reason="account_credit"
        )
        left = await services.books.account_credit(order.customer, order.total.currency)
        return CreditRefused(
            message="the credit on your account no longer covers its part; it was cancelled",
            reason=CreditRefusedReason.INSUFFICIENT.value,
            available=MoneyType.of(left),
        )
    return None


async def _from_kept_credit(info: Info, order: OrderModel) -> OrderModel | CreditRefused:
    """Pay the order at once from the credit kept on her account (once, however often the
    request comes); spent meanwhile by another order, it is cancelled (stock back)."""
    services = info.context.services
    books = services.books
    if order.status is OrderStatusModel.CANCELLED and order.paid_at is not None:
        return order  # a retry of one paid from it and cancelled since: its credit is back
    if order.status is not OrderStatusModel.CANCELLED and books is not None:
        try:
            await books.order_paid_from_credit(order.reference, order.customer, order.total)
        except TransferRefusedError:
            await services.orders.advance(
                order.reference, OrderStatusModel.CANCELLED, reason="account_credit"
            )
        else:
            await services.orders.paid_from_credit(order.reference)
            return await services.orders.get(order.reference)
    left = (
        await books.account_credit(order.customer, order.total.currency)
        if books is not None
        else Money.zero(order.total.currency)
    )
    return CreditRefused(
        message="the credit on your account no longer covers the order; it was cancelled",
        reason=CreditRefusedReason.INSUFFICIENT.value,
        available=MoneyType.of(left),
    )


async def _on_credit(info: Info, order: OrderModel) -> CreditRefused | None:
    """Hold the total on the credit line; refused, the order is cancelled (stock back)."""
    services = info.context.services
    credit = services.credit
    if credit is None:  # _offered let it through, so the line went away meanwhile
        await services.orders.advance(order.reference, OrderStatusModel.CANCELLED, reason="credit")
        return CreditRefused(
            message="credit is not offered",
            reason="no_credit",
            available=MoneyType.of(Money.zero(order.total.currency)),
        )
    if order.status is OrderStatusModel.CANCELLED:
        if await credit.credit(order.reference) is not None:
            # A retry of an order its line carried, cancelled since (by her, an operator, a
            # lapse): the order as it stands, not a refusal of credit she was given.
            return None
        # A retry of a refused attempt: the order stays cancelled, the answer stays the same.
        left = await credit.available(order.customer)
        return CreditRefused(
            message="credit was refused for this order",
            reason="refused",
            available=MoneyType.of(left),
        )
    try:
        await credit.authorise(order.reference, order.customer, order.total)
    except CreditRefusedError as exc:
        await services.orders.advance(order.reference, OrderStatusModel.CANCELLED, reason="credit")
        return CreditRefused(
            message=f"credit refused: {exc.reason.value}; the order was cancelled",
            reason=exc.reason.value,
            available=MoneyType.of(exc.available),
        )
    return None


async def _pay(
    info: Info,
    order: OrderModel,
    payer: Phone,
    key: str | None = None,
    *,
    amount: Money | None = None,
) -> None:
    """Ask the rail for the money (`amount`: what her account credit left to pay), keyed by
    the order's reference (or `key`, to pay again): a retry pays once, asking what the
    checkout asked.

    A failure leaves the order placed; `payment { status }` says what the rail said.
    """
    payments = info.context.services.payments
    assert payments is not None
    if amount is None:
        first = await payments.by_key(f"order:{order.reference}")
        amount = order.total if first is None else first.amount
    try:
        await payments.pay(
            CreatePayment(
                idempotency_key=key or f"order:{order.reference}",
                method=Method(order.payment_method.value),
                amount=amount,
                customer=payer if order.payment_method in PHONE_RAILS else order.customer,
                order_reference=order.reference,
                description=f"Order {order.reference}",
            )
        )
    except PaymentError as exc:
        log.warning("graphql.payment_failed", order=order.reference, error=str(exc))


def _failed(error: PlaceOrderError) -> PlaceOrderPayload:
    return PlaceOrderPayload(order=None, errors=[error])


async def _subscriber(info: Info) -> Principal:
    """Over a WebSocket the token comes in connection_init's payload (or the upgrade headers)."""
    context = info.context
    if context.principal is not None:
        return context.principal
    services = context.services
    try:
        principal = await authenticate_params(
            context.connection_params or {}, services.keys, services.access
        )
    except InvalidTokenError as exc:
        raise ClientError("UNAUTHENTICATED", str(exc)) from exc
    return require(principal)


async def _order_updates(info: Info, reference: str) -> AsyncGenerator[OrderStatusUpdate, None]:
    principal = await _subscriber(info)
    # Listening starts before the order is read: a change made meanwhile is sent, not lost.
    async with info.context.services.updates.watch(reference.strip().upper()) as changes:
        found = await _visible_order(info, reference, principal)
        if isinstance(found, NotFound):
            raise ClientError("NOT_FOUND", found.message)
        # Where the order stands comes first, then its changes.
        changes.start(found.customer, found.status.value)
        # An order already cancelled or returned will not change again: its status (or what
        # reached it while the order was read) is sent, then the subscription completes.
        updates = (
            _from_queue(changes.queued())
            if found.status in FINAL_STATUSES
            # The token that signed the socket in is not valid for ever: at its expiry (or
            # its key's revocation) the subscription ends with UNAUTHENTICATED.
            else info.context.while_signed_in(changes)
        )
        async for update in updates:
            status = OrderStatusModel(update.status)
            yield OrderStatusUpdate(
                reference=update.reference,
                status=status,
                previous_status=OrderStatusModel(update.previous),
            )
            # The final status is the last: the app's socket is not held open for ever.
            if status in FINAL_STATUSES:
                return


async def _from_queue(updates: list[OrderUpdate]) -> AsyncIterator[OrderUpdate]:
    for update in updates:
        yield update


@strawberry.type
class OrdersSubscription:
    @strawberry.subscription(
        description="Where one order stands, then its status changes as they happen"
    )
    async def order_updates(
        self, info: Info, reference: str
    ) -> AsyncGenerator[OrderStatusUpdate, None]:
        async for update in _order_updates(info, reference):
            yield update

    @strawberry.subscription(description="The same as orderUpdates (the name some apps use)")
    async def order_updated(
        self, info: Info, reference: str
    ) -> AsyncGenerator[OrderStatusUpdate, None]:
        async for update in _order_updates(info, reference):
            yield update
