"""`omniroute invoices show REF [--json]`: an invoice as the customer got it, for an operator on
the phone with a retailer, with the credit notes issued against it since."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from typing import Any

from core.config import Settings, database_url
from core.db import Database
from core.i18n import Translator
from core.ids import RandomIds
from core.money import Money
from engines.invoices import (
    CreditNote,
    Invoice,
    InvoiceService,
    render_credit_note_text,
    render_text,
)

PROG = "omniroute invoices show"
LOCALE = "en"  # the operator's terminal


def run(args: argparse.Namespace) -> int:
    found = asyncio.run(_read(args.reference))
    if found is None:
        print(
            f"{PROG}: no invoice {args.reference} (give its number or its order's reference)",
            file=sys.stderr,
        )
        return 2
    invoice, notes = found
    if args.json:
        print(json.dumps(as_json(invoice, notes), indent=2))
        return 0
    translate = Translator.load()

    def words(msgid: str, **values: object) -> str:
        return translate(LOCALE, msgid, **values)

    print(
        "\n\n".join(
            [render_text(invoice, words), *(render_credit_note_text(n, words) for n in notes)]
        )
    )
    return 0


async def _read(reference: str) -> tuple[Invoice, list[CreditNote]] | None:
    db = Database(database_url(Settings()))
    try:
        invoices = InvoiceService(db, RandomIds())
        invoice = await invoices.find(reference)
        if invoice is None:
            return None
        return invoice, await invoices.credit_notes(invoice.order_reference)
    finally:
        await db.dispose()


def _money(m: Money) -> dict[str, str]:
    return {"amount": str(m.amount), "currency": m.currency}


def as_json(invoice: Invoice, notes: list[CreditNote]) -> dict[str, Any]:
    """The same fields as GraphQL's `invoice`, for scripts."""
    return {
        "number": invoice.number,
        "orderReference": invoice.order_reference,
        "customer": invoice.customer.e164,
        "issuedOn": invoice.issued_on.isoformat(),
        "issuedAt": invoice.issued_at.isoformat(),
        "paymentMethod": invoice.payment_method,
        "lines": [
            {
                "sku": li.sku,
                "name": li.name,
                "quantity": li.quantity,
                "unitPrice": _money(li.unit_price),
                "discount": _money(li.discount),
                "vatRate": str(li.vat_rate),
                "net": _money(li.net),
            }
            for li in invoice.lines
        ],
        "subtotal": _money(invoice.subtotal),
        "discount": _money(invoice.discount),
        "deliveryFee": _money(invoice.delivery),
        "vat": [
            {"rate": str(v.rate), "base": _money(v.base), "tax": _money(v.tax)} for v in invoice.vat
        ],
        "tax": _money(invoice.tax),
        "total": _money(invoice.total),
        "dueOn": None if invoice.due_on is None else invoice.due_on.isoformat(),
        "dueDaysAfterDelivery": invoice.due_days_after_delivery,
        "creditNotes": [
            {
                "number": n.number,
                "reason": n.reason.value,
                "issuedOn": n.issued_on.isoformat(),
                "total": _money(n.total),
            }
            for n in notes
        ],
    }
