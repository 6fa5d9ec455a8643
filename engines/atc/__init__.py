"""Agent trade credit: agents extend credit to the retailers they onboard, on the ledger."""

from engines.atc.model import (
    COMMISSION_RATE,
    Agent,
    AgentLimitError,
    AlreadyOnboardedError,
    AtcError,
    NotOnboardedError,
    OverpaymentError,
    UnknownAgentError,
    commission_on,
)
from engines.atc.service import AgentPosition, AtcService

__all__ = [
    "COMMISSION_RATE",
    "Agent",
    "AgentLimitError",
    "AgentPosition",
    "AlreadyOnboardedError",
    "AtcError",
    "AtcService",
    "NotOnboardedError",
    "OverpaymentError",
    "UnknownAgentError",
    "commission_on",
]
