"""Service definitions are checked before they publish; prepaid rails wait for their money."""

from __future__ import annotations

from dataclasses import replace

import pytest
from hypothesis import given
from hypothesis import strategies as st

from core.config import Settings
from core.gsm7 import gsm7_length
from core.i18n import Translator
from dialogs import paging
from engines.fulfilment.model import (
    BACK_KEY,
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
LABELS = {"1": {"en": "Yes", "sw": "Ndiyo"}}


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
            ServiceState("menu", {"en": "Buy?"}, {"1": "gone"}, LABELS),
            ServiceState("done", PROMPTS, end=True, action="airtime.sell"),
        ),
    )
    assert validate_service(definition) == (
        "state 'menu' has no sw prompt",
        "state 'menu' key '1' goes to unknown 'gone'",
        "state 'done' names unknown action 'airtime.sell'",
    )


def menu(prompt: str, *labels: str, action: str | None = None) -> ServiceDefinition:
    """A first screen with one choice per label (each in both languages), to a last one."""
    keys = {str(n): "done" for n in range(1, len(labels) + 1)}
    named = {str(n): {"en": label, "sw": label} for n, label in enumerate(labels, 1)}
    return ServiceDefinition(
        "check",
        1,
        "menu",
        (
            ServiceState("menu", {"en": prompt, "sw": "Chagua"}, keys, named),
            ServiceState("done", {"en": "Done", "sw": "Tayari"}, end=True, action=action),
        ),
        service_code="*384*77#",
    )


def test_a_screen_longer_than_a_ussd_page_is_refused_before_it_reaches_a_phone() -> None:
    fits = menu("Prices", *(f"Product number {n}" for n in range(1, 8)))
    assert validate_service(fits) == ()
    over = menu("Prices", *(f"Product number {n}" for n in range(1, 10)))
    assert validate_service(over) == tuple(
        f"state 'menu' {locale} screen needs 186 characters (with room for Back and its "
        "action), over USSD's 182"
        for locale in ("en", "sw")
    )


def test_text_a_feature_phone_cannot_show_is_refused() -> None:
    assert validate_service(menu("Ẹ kú", "Yes")) == (
        "state 'menu' en text has characters USSD cannot show: úẸ",
    )


def test_choices_are_keys_one_to_n_each_labelled_in_english_and_swahili() -> None:
    definition = ServiceDefinition(
        "check",
        1,
        "menu",
        (
            ServiceState("menu", PROMPTS, {"1": "done", "3": "done"}, {"1": {"en": "Yes"}}),
            ServiceState("done", PROMPTS, end=True),
        ),
    )
    assert validate_service(definition) == (
        "state 'menu' keys must be 1 to 9 in order, as shown",
        "state 'menu' key '1' has no sw label",
        "state 'menu' key '3' has no en label",
        "state 'menu' key '3' has no sw label",
    )


def test_only_actions_the_ussd_endpoint_serves_may_publish() -> None:
    assert validate_service(menu("Menu", "Status", action="orders.status")) == ()
    assert validate_service(menu("Menu", "Prices", action="catalogue.browse")) == ()
    buy = menu("Menu", "Buy", action="orders.place")
    assert validate_service(buy) == ()
    # but not an order of nothing: no product or quantity is picked on the way
    assert simulation_problems(buy, simulate_service(buy)) == (
        "state 'done' places an order, but a path reaches it before a product is picked "
        "(a catalogue.browse with next, or a choice in products)",
        "state 'done' places an order, but a path reaches it before a quantity is asked "
        '(a state with "input": "quantity")',
    )


def test_a_quote_a_caller_could_reach_before_picking_a_product_and_quantity_is_refused() -> None:
    """A price check whose 'Cola' choice names no product, or that skips the quantity on one
    path, would end on a quote of nothing: the simulation at publish walks every path."""
    ask = ServiceState("qty", {"en": "How many?", "sw": "Ngapi?"}, input="quantity", next="quote")
    quote = ServiceState("quote", PROMPTS, action="pricing.quote", end=True)
    browse = ServiceState("shelf", PROMPTS, action="catalogue.browse", next="qty")
    labels = {key: {"en": "Cola", "sw": "Kola"} for key in "123"}
    choices = ServiceState("menu", PROMPTS, {"1": "qty", "2": "shelf", "3": "quote"}, labels)
    sound = ServiceDefinition(
        "price", 1, "menu", (replace(choices, products={"1": "DRK-COLA-35"}), browse, ask, quote)
    )
    assert validate_service(sound) == ()
    assert simulation_problems(sound, simulate_service(sound)) == (
        "state 'quote' quotes a price, but a path reaches it before a product is picked "
        "(a catalogue.browse with next, or a choice in products)",
        "state 'quote' quotes a price, but a path reaches it before a quantity is asked "
        '(a state with "input": "quantity")',
    )
    two_keys = replace(choices, transitions={"1": "qty", "2": "shelf"}, products={"1": "COLA"})
    sound = replace(sound, states=(two_keys, browse, ask, quote))
    assert simulation_problems(sound, simulate_service(sound)) == ()
    # an input that goes nowhere, and a quote that offers more, are refused before that
    lost = replace(
        sound, states=(two_keys, browse, replace(ask, next=None), replace(quote, end=False))
    )
    assert validate_service(lost) == (
        "state 'qty' takes an input but names no next state",
        "state 'qty' is a dead end (no choices and not an end)",
        "state 'quote' shows a quote: mark it end",
        "state 'quote' is a dead end (no choices and not an end)",
    )


def test_an_order_number_asked_for_feeds_an_order_status_and_nothing_else() -> None:
    """An "Enter your order number" input leads to the order's status; typed for a quote or a
    menu, the number would be asked for nothing."""
    ask = ServiceState("number", PROMPTS, input="reference", next="found")
    found = ServiceState("found", PROMPTS, action="orders.status", end=True)
    status = ServiceDefinition("find", 1, "number", (ask, found))
    assert validate_service(status) == ()
    assert simulation_problems(status, simulate_service(status)) == ()
    elsewhere = replace(status, states=(ask, replace(found, action=None)))
    assert validate_service(elsewhere) == (
        "state 'number' asks for an order: its next must be orders.status",
    )


def test_a_service_code_must_be_a_ussd_code() -> None:
    definition = menu("Menu", "Yes")
    assert validate_service(replace(definition, service_code="384*77")) == (
        "service code '384*77' is not a USSD code like *384*77#",
    )


def test_a_name_or_version_the_registry_cannot_keep_is_refused_not_a_crash() -> None:
    definition = menu("Menu", "Yes")
    assert validate_service(replace(definition, name="x" * 81, version=2**31)) == (
        "the service name is over 80 characters",
        "version must be 1 to 2147483647",
    )
    assert validate_service(replace(definition, version=0)) == ("version must be 1 to 2147483647",)


SEVEN = {
    "en": "Choose",
    "sw": "Chagua",
    "fr": "Choisissez",
    "pcm": "Pick one",
    "ha": "Zaba",
    "yo": "Yan",
    "ig": "Horo",
}


def test_a_definition_may_speak_the_gateways_seven_languages_and_no_other() -> None:
    """A German screen was accepted and published: no caller could ever be served it."""
    spoken = ServiceDefinition(
        "check",
        1,
        "menu",
        (
            ServiceState("menu", SEVEN, {"1": "done"}, {"1": dict(SEVEN)}),
            ServiceState("done", SEVEN, end=True),
        ),
    )
    assert validate_service(spoken) == ()
    german = ServiceDefinition(
        "check",
        1,
        "menu",
        (
            ServiceState("menu", {**PROMPTS, "de": "Wählen"}, {"1": "done"}, LABELS),
            ServiceState("done", PROMPTS, end=True),
        ),
    )
    assert validate_service(german) == (
        "state 'menu' is written in 'de', a language the gateway does not speak "
        "(en, fr, sw, ha, yo, ig, pcm)",
    )
    label_only = replace(
        german,
        states=(
            ServiceState(
                "menu", PROMPTS, {"1": "done"}, {"1": {"en": "Yes", "sw": "Ndiyo", "DE": "Ja"}}
            ),
            ServiceState("done", PROMPTS, end=True),
        ),
    )
    assert validate_service(label_only) == (
        "state 'menu' is written in 'DE', a language the gateway does not speak "
        "(en, fr, sw, ha, yo, ig, pcm)",
    )


def test_a_second_screen_keeps_room_for_its_back_line_as_each_language_words_it() -> None:
    """An Igbo screen at the limit published, then showed its last choice on a "98. More"
    page: 10 characters were kept for Back, and "0. Laghachi" takes 12 with its line break."""
    words = Translator.load()

    def second(ig_length: int) -> ServiceDefinition:
        label = {"en": "Prices", "sw": "Bei", "ig": "Onu ahia"}
        ig = "Horo " + "x" * (ig_length - len("Horo \n1. Onu ahia"))
        return ServiceDefinition(
            "check",
            1,
            "menu",
            (
                ServiceState("menu", {**PROMPTS, "ig": "Horo"}, {"1": "prices"}, {"1": label}),
                ServiceState("prices", {**PROMPTS, "ig": ig}, {"1": "done"}, {"1": label}),
                ServiceState("done", {**PROMPTS, "ig": "Emechara"}, end=True),
            ),
        )

    assert BACK_KEY == paging.BACK_KEY  # the key the published dialog's Back line shows
    back = f"\n0. {words('ig', 'nav.back')}"
    assert len(back) == 12
    fits = second(182 - len(back))
    assert validate_service(fits) == ()
    over = second(182 - len(back) + 1)
    assert validate_service(over) == (
        "state 'prices' ig screen needs 183 characters (with room for Back and its action), "
        "over USSD's 182",
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
    assert cancel_reason("account_credit") is CancelReason.ACCOUNT_CREDIT_SHORT
    assert cancel_reason("reservation_expired") is CancelReason.PAYMENT_EXPIRED
    assert cancel_reason("customer") is CancelReason.CUSTOMER
    assert cancel_reason(None) is CancelReason.OPERATOR
    assert cancel_reason("fraud-check") is CancelReason.OPERATOR
