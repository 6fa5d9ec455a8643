"""Which subscriber failures are a backend's outage (retried without end) rather than the event's
fault (counted towards the dead letter): an order's workflow start that met a busy Temporal must
not be set aside, or the order never gets its workflow."""

from __future__ import annotations

import pytest
from temporalio.service import RPCError, RPCStatusCode

from core.bus.outages import is_outage


def rpc(status: RPCStatusCode) -> RPCError:
    return RPCError(f"temporal said {status.name}", status, b"")


@pytest.mark.parametrize(
    "status",
    [RPCStatusCode.UNAVAILABLE, RPCStatusCode.DEADLINE_EXCEEDED, RPCStatusCode.RESOURCE_EXHAUSTED],
)
def test_a_temporal_that_did_not_answer_in_time_is_an_outage(status: RPCStatusCode) -> None:
    assert is_outage(rpc(status))


def test_an_outage_raised_from_inside_a_handler_is_still_one() -> None:
    outer = RuntimeError("could not start the order's workflow")
    outer.__cause__ = rpc(RPCStatusCode.DEADLINE_EXCEEDED)
    assert is_outage(outer)


@pytest.mark.parametrize(
    "status",
    [RPCStatusCode.INVALID_ARGUMENT, RPCStatusCode.ALREADY_EXISTS, RPCStatusCode.NOT_FOUND],
)
def test_a_refusal_of_the_call_itself_is_the_events_fault(status: RPCStatusCode) -> None:
    assert not is_outage(rpc(status))


def test_a_bug_in_the_handler_is_no_outage() -> None:
    assert not is_outage(KeyError("sku"))
