"""Retailer credit: limits decided from order history, terms, repayments, reminders, overdue."""

from engines.credit.model import (
    CreditDecision,
    CreditError,
    CreditHistory,
    CreditOrder,
    CreditRefusedError,
    CreditRefusedReason,
    CreditStatus,
    DeliveredOrder,
    ReminderKind,
    apply_repayment,
    decide_limit,
    late_fee_due,
    reduced_to,
    reminder_due,
)
from engines.credit.service import CreditService, DailyRun, Repayment

__all__ = [
    "CreditDecision",
    "CreditError",
    "CreditHistory",
    "CreditOrder",
    "CreditRefusedError",
    "CreditRefusedReason",
    "CreditService",
    "CreditStatus",
    "DailyRun",
    "DeliveredOrder",
    "ReminderKind",
    "Repayment",
    "apply_repayment",
    "decide_limit",
    "late_fee_due",
    "reduced_to",
    "reminder_due",
]
