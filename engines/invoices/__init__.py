"""Invoices: one per order, numbered per country and year without gaps, VAT per rate."""

from engines.invoices.billing import OrderBilling
from engines.invoices.model import (
    Invoice,
    InvoiceError,
    InvoiceLine,
    UnknownInvoiceError,
    VatLine,
    invoice_number,
    number_prefix,
    render_sms,
    render_text,
    vat_breakdown,
)
from engines.invoices.service import (
    InvoiceService,
    IssueInvoice,
    issue_for_order,
    issue_for_order_placed,
)

__all__ = [
    "Invoice",
    "InvoiceError",
    "InvoiceLine",
    "InvoiceService",
    "IssueInvoice",
    "OrderBilling",
    "UnknownInvoiceError",
    "VatLine",
    "invoice_number",
    "issue_for_order",
    "issue_for_order_placed",
    "number_prefix",
    "render_sms",
    "render_text",
    "vat_breakdown",
]
