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
    charge_late_fee,
    decide_limit,
    late_fee_due,
    late_fee_owed,
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
    "charge_late_fee",
    "decide_limit",
    "late_fee_due",
    "late_fee_owed",
    "reduced_to",
    "reminder_due",
]
