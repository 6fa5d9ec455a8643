"""An order placed by SMS is confirmed by the conversation's closing text alone, so that text
tells the customer how to follow the order, as the confirmation SMS did, when it fits one SMS."""

from __future__ import annotations

import pytest

from core.conversation import Session
from core.gsm7 import gsm7_length
from core.i18n import Translator
from core.messages import SMS_CAPABILITIES, ChannelKind, InboundMessage
from core.phone import Phone
from dialogs.machine import Turn
from dialogs.shopping.states import Confirm


def sms_turn(locale: str) -> Turn:
    message = InboundMessage(
        kind=ChannelKind.SMS,
        provider="africastalking",
        phone=Phone.parse("+2348030000001"),
        session_key="at-sms:+2348030000001",
        text="1",
        capabilities=SMS_CAPABILITIES,
        idempotency_key="k:1",
    )
    return Turn(message, Session("confirm", locale), Translator.load())


@pytest.mark.parametrize(
    ("locale", "hint"), [("en", "Reply STATUS for updates."), ("sw", "Tuma HALI kwa taarifa.")]
)
def test_a_short_closing_text_gets_the_hint_in_the_customers_language(
    locale: str, hint: str
) -> None:
    text = "Order ABC123 placed. Total NGN 26,993.25, pay on delivery. Thank you!"
    assert Confirm.with_status_hint(sms_turn(locale), text) == f"{text} {hint}"


def test_a_closing_text_the_hint_would_push_into_a_second_sms_stays_as_it_is() -> None:
    text = (
        "Order ABC123: transfer NGN 26,993.25 to Wema Bank 0123456789, your own account. "
        "We will SMS you when it arrives, and your goods leave the warehouse."
    )
    assert 160 - len(" Reply STATUS for updates.") < gsm7_length(text) <= 160
    assert Confirm.with_status_hint(sms_turn("en"), text) == text
