"""The credit line over GraphQL: repay what is owed, as Balance -> Repay does on USSD and SMS."""

from __future__ import annotations

from typing import Annotated

import strawberry

from channels.graphql.auth import forbidden, may_act_for, require
from channels.graphql.context import GraphQLContext
from channels.graphql.customers import BadCustomerError, customer_of
from channels.graphql.errors import InvalidCustomer, NothingOwed, PaymentMethodUnavailable
from channels.graphql.orders import (
    RAILS,
    PaymentDetail,
    PaymentMethod,
    PaymentStatus,
    _offered,
    _payer,
)
from channels.graphql.scalars import MoneyType
from engines.credit import CreditStatus, repayment_order
from engines.orders import PaymentMethod as PaymentMethodModel
from engines.payments import CreatePayment, Method, PaymentError, repayment_key

Info = strawberry.Info[GraphQLContext, None]


RepayCreditError = Annotated[
    NothingOwed | InvalidCustomer | PaymentMethodUnavailable,
    strawberry.union("RepayCreditError"),
]


@strawberry.type(description="The repayment asked for: the oldest open credit, all it owes")
class Repayment:
    order_reference: str = strawberry.field(description="The credit order it pays")
    amount: MoneyType = strawberry.field(description="What that credit owes, late fee included")
    method: PaymentMethod
    status: PaymentStatus = strawberry.field(
        description="PROCESSING while the customer approves the prompt, REQUIRES_ACTION with "
        "`details` for a transfer or a code to dial, FAILED when the rail refused"
    )
    details: list[PaymentDetail]


@strawberry.type
class RepayCreditPayload:
    repayment: Repayment | None
    errors: list[RepayCreditError]


def _refused(error: RepayCreditError) -> RepayCreditPayload:
    return RepayCreditPayload(repayment=None, errors=[error])


@strawberry.type
class CreditMutation:
    @strawberry.mutation(
        description="Repay credit, as Balance -> Repay on USSD: the oldest open credit, all it "
        "owes (its late fee first), on the country's rail. A double tap, or a prompt still "
        "open, asks once; one declined or timed out is asked again. `phone` pays mobile money "
        "when it is not the customer's"
    )
    async def repay_credit(
        self, info: Info, customer: str, method: PaymentMethod, phone: str | None = None
    ) -> RepayCreditPayload:
        principal = require(info.context.principal)
        try:
            who, market = customer_of(customer)
        except BadCustomerError as exc:
            return _refused(InvalidCustomer(message=str(exc), customer=customer))
        if not may_act_for(principal, who.e164):
            raise forbidden("you may repay only your own credit")
        services = info.context.services
        rail = PaymentMethodModel(method.value)
        if rail not in RAILS or not _offered(info, rail, market):
            return _refused(
                PaymentMethodUnavailable(
                    message=f"credit is repaid on {market.name}'s rails, not {method.value}",
                    method=method.value,
                )
            )
        payer = _payer(phone, who, market)
        if isinstance(payer, InvalidCustomer):
            return _refused(payer)
        owed = sorted(
            (
                c
                for c in await services.credit.credits(who)
                if c.status is CreditStatus.OPEN and c.outstanding.amount > 0
            )
            if services.credit is not None
            else (),
            key=repayment_order,
        )
        payments = services.payments
        if not owed or payments is None:
            return _refused(NothingOwed(message=f"{who.e164} owes nothing on credit"))
        oldest = owed[0]
        intents = (await payments.for_orders([oldest.order_reference])).get(
            oldest.order_reference.upper(), []
        )
        paid_by = Method(method.value)
        status, details = PaymentStatus.FAILED, []
        try:
            intent = await payments.pay(
                CreatePayment(
                    idempotency_key=repayment_key(
                        oldest.order_reference, oldest.outstanding, intents
                    ),
                    method=paid_by,
                    amount=oldest.outstanding,
                    customer=payer if paid_by in (Method.MPESA, Method.MOMO) else who,
                    order_reference=oldest.order_reference,
                    description=f"Credit repayment {oldest.order_reference}",
                )
            )
        except PaymentError:
            pass  # the rail refused: FAILED, and the next ask goes out under a new key
        else:
            status = PaymentStatus[intent.status.name]
            details = [PaymentDetail(name=k, value=v) for k, v in sorted(intent.details.items())]
        return RepayCreditPayload(
            repayment=Repayment(
                order_reference=oldest.order_reference,
                amount=MoneyType.of(oldest.outstanding),
                method=method,
                status=status,
                details=details,
            ),
            errors=[],
        )
