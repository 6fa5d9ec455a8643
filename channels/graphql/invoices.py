"""Invoices over GraphQL: read as orders are, a customer her own and staff (agents, operators,
admins) anyone's."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated

import strawberry

from channels.graphql.auth import may_act_for, require
from channels.graphql.context import GraphQLContext
from channels.graphql.errors import NotFound
from channels.graphql.scalars import MoneyType
from engines.invoices import CreditNote as CreditNoteModel
from engines.invoices import Invoice as InvoiceModel

Info = strawberry.Info[GraphQLContext, None]


@strawberry.type(name="InvoiceLine")
class InvoiceLineType:
    sku: str
    name: str
    quantity: int
    unit_price: MoneyType
    discount: MoneyType
    vat_rate: str = strawberry.field(description="A decimal fraction: 0.075 is 7.5 %")
    net: MoneyType = strawberry.field(description="quantity x unit price less the discount")


@strawberry.type(name="InvoiceVat", description="VAT at one rate: its base and the tax")
class VatType:
    rate: str
    base: MoneyType
    tax: MoneyType


@strawberry.type(name="CreditNote", description="What was credited back of the invoice")
class CreditNoteType:
    number: str
    reason: str = strawberry.field(description="cancelled, undelivered or returned")
    issued_on: date
    total: MoneyType


@strawberry.type(name="Invoice")
class InvoiceType:
    number: str
    order_reference: str
    customer: str
    issued_on: date = strawberry.field(description="The day it was issued, in its region")
    issued_at: datetime
    payment_method: str
    lines: list[InvoiceLineType]
    subtotal: MoneyType = strawberry.field(description="Before discounts")
    discount: MoneyType
    delivery_fee: MoneyType
    vat: list[VatType]
    tax: MoneyType
    total: MoneyType
    due_on: date | None = strawberry.field(
        description="When an order on credit is to be paid, once delivered; null otherwise"
    )
    due_days_after_delivery: int | None = strawberry.field(
        description="On credit and not delivered yet: due this many days after delivery"
    )
    credit_notes: list[CreditNoteType] = strawberry.field(
        description="Credited since (the invoice is never edited): total less these is owed"
    )
    download_url: str | None = strawberry.field(
        default=None, description="No document is stored yet: always null"
    )


InvoiceResult = Annotated[InvoiceType | NotFound, strawberry.union("InvoiceResult")]


def _of(invoice: InvoiceModel, notes: list[CreditNoteModel]) -> InvoiceType:
    return InvoiceType(
        number=invoice.number,
        order_reference=invoice.order_reference,
        customer=invoice.customer.e164,
        issued_on=invoice.issued_on,
        issued_at=invoice.issued_at,
        payment_method=invoice.payment_method,
        lines=[
            InvoiceLineType(
                sku=li.sku,
                name=li.name,
                quantity=li.quantity,
                unit_price=MoneyType.of(li.unit_price),
                discount=MoneyType.of(li.discount),
                vat_rate=str(li.vat_rate),
                net=MoneyType.of(li.net),
            )
            for li in invoice.lines
        ],
        subtotal=MoneyType.of(invoice.subtotal),
        discount=MoneyType.of(invoice.discount),
        delivery_fee=MoneyType.of(invoice.delivery),
        vat=[
            VatType(rate=str(v.rate), base=MoneyType.of(v.base), tax=MoneyType.of(v.tax))
            for v in invoice.vat
        ],
        tax=MoneyType.of(invoice.tax),
        total=MoneyType.of(invoice.total),
        due_on=invoice.due_on,
        due_days_after_delivery=invoice.due_days_after_delivery,
        credit_notes=[
            CreditNoteType(
                number=n.number,
                reason=n.reason.value,
                issued_on=n.issued_on,
                total=MoneyType.of(n.total),
            )
            for n in notes
        ],
    )


@strawberry.type
class InvoicesQuery:
    @strawberry.field(
        description="An invoice by its number (NG-2026-000123) or its order's reference: "
        "your own, or any for agents, operators and admins (as `order`)"
    )
    async def invoice(self, info: Info, reference: str) -> InvoiceResult:
        principal = require(info.context.principal)
        service = info.context.services.invoices
        found = None if service is None else await service.find(reference)
        # Someone else's invoice answers as a missing one, word for word: a stranger guessing
        # numbers learns nothing.
        if service is None or found is None or not may_act_for(principal, found.customer.e164):
            return NotFound(message=f"no invoice {reference}", reference=reference)
        return _of(found, await service.credit_notes(found.order_reference))
