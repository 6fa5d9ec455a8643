"""Service definitions are checked before they publish; prepaid rails wait for their money."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from core.config import Settings
from core.gsm7 import gsm7_length
from core.i18n import Translator
from engines.fulfilment.model import (
    CancelReason,
    ServiceDefinition,
    ServiceState,
    cancel_reason,
    paid_before_release,
    simulate_service,
    simulation_problems,
    validate_service,
)

PROMPTS = {"en": "Choose", "sw": "Chagua"}


def test_prepaid_rails_wait_for_payment_and_delivery_or_credit_do_not() -> None:
    assert paid_before_release("MPESA")
    assert paid_before_release("momo")
    assert not paid_before_release("ON_DELIVERY")
    assert not paid_before_release("CREDIT")


def test_a_definition_missing_swahili_and_pointing_nowhere_is_refused_with_reasons() -> None:
    definition = ServiceDefinition(
        "airtime",
        1,
        "menu",
        (
            ServiceState("menu", {"en": "Buy?"}, {"1": "gone"}),
            ServiceState("done", PROMPTS, end=True, action="airtime.sell"),
        ),
    )
    assert validate_service(definition) == (
        "state 'menu' has no sw prompt",
        "state 'menu' key '1' goes to unknown 'gone'",
        "state 'done' names unknown action 'airtime.sell'",
    )


def test_simulation_finds_unreachable_states_and_loops_without_an_end() -> None:
    definition = ServiceDefinition(
        "loop",
        1,
        "a",
        (
            ServiceState("a", PROMPTS, {"1": "b"}),
            ServiceState("b", PROMPTS, {"1": "a"}),
            ServiceState("island", PROMPTS, end=True),
        ),
    )
    report = simulate_service(definition)
    assert report.reached == ("a", "b")
    assert simulation_problems(definition, report) == (
        "unreachable states: island",
        "no path from the start reaches an end",
    )


@st.composite
def definitions(draw: st.DrawFn) -> ServiceDefinition:
    size = draw(st.integers(1, 8))
    ids = [f"s{i}" for i in range(size)]
    states = tuple(
        ServiceState(
            sid,
            PROMPTS,
            draw(st.dictionaries(st.sampled_from("123456789"), st.sampled_from(ids), max_size=4)),
            end=draw(st.booleans()),
        )
        for sid in ids
    )
    return ServiceDefinition("generated", 1, "s0", states)


@given(definitions())
def test_simulation_reaches_exactly_the_states_connected_to_the_start(
    definition: ServiceDefinition,
) -> None:
    states = {s.id: s for s in definition.states}
    connected, frontier = {"s0"}, ["s0"]
    while frontier:
        for target in states[frontier.pop()].transitions.values():
            if target not in connected:
                connected.add(target)
                frontier.append(target)
    report = simulate_service(definition)
    assert set(report.reached) == connected
    assert set(report.ends) == {sid for sid in connected if states[sid].end}


def test_workflows_can_be_switched_off_and_default_to_the_embedded_server() -> None:
    assert Settings(_env_file=None).temporal == "on"
    assert Settings(_env_file=None).temporal_address is None
    assert Settings(_env_file=None, temporal="off").temporal == "off"
    with pytest.raises(ValueError, match="temporal"):
        Settings(_env_file=None, temporal="maybe")  # type: ignore[arg-type]


@pytest.mark.parametrize("locale", Translator.load().locales)
@pytest.mark.parametrize("reason", list(CancelReason))
def test_every_cancellation_reason_is_named_in_one_sms_in_each_language(
    translator: Translator, locale: str, reason: CancelReason
) -> None:
    why = translator(locale, f"cancel_reason.{reason.value}")
    text = translator(locale, "sms.order_cancelled", reference="W62ACJ", reason=why)
    assert gsm7_length(text) <= 160, text


def test_an_order_cancelled_with_no_reason_or_an_unknown_one_is_not_the_customers_request() -> None:
    assert cancel_reason("credit") is CancelReason.CREDIT_REFUSED
    assert cancel_reason("reservation_expired") is CancelReason.PAYMENT_EXPIRED
    assert cancel_reason("customer") is CancelReason.CUSTOMER
    assert cancel_reason(None) is CancelReason.OPERATOR
    assert cancel_reason("fraud-check") is CancelReason.OPERATOR
