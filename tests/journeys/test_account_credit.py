"""A retailer's money kept as credit on her account (an overpaid transfer, a refund a rail could
not make, the cash she paid at the door for goods that came back): Balance shows it, in her
language, on USSD and on SMS's BAL."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from core.app.bootstrap import Services
from core.config import Settings
from core.money import Money
from core.phone import Phone
from tests.support.phone import UssdPhone
from tests.support.providers.africastalking import FakeAfricasTalking, SmsPhone

NGOZI = "+2348030000001"
JUMA = "+254711000001"

Client = TestClient[Any, Any]


@pytest.fixture
def settings(database_url: str, fake_at: FakeAfricasTalking) -> Settings:
    return fake_at.settings(database_url)


@pytest.fixture
async def gateway(client: Client, services: Services) -> Client:
    """Deliveries are flushed by the test, not by the background worker."""
    await services.delivery.stop()
    return client


async def kept_as_credit(services: Services, phone: str, amount: str, currency: str) -> None:
    """Money that paid no order, held at the rail and owed back to her (as an unmatched
    transfer into her account is posted)."""
    assert services.money is not None
    await services.money.books.post_payment_received(
        Phone(phone), Money(Decimal(amount), currency), "mpesa", f"KEPT-{phone}"
    )


async def test_bal_by_sms_shows_the_credit_on_her_account_in_swahili(
    gateway: Client, services: Services, fake_at: FakeAfricasTalking
) -> None:
    await kept_as_credit(services, JUMA, "1200", "KES")
    juma = SmsPhone(gateway, services, fake_at, JUMA, network_code="63902")

    balance = await juma.text("BAL")

    assert balance.startswith("Salio kwenye akaunti yako: KES 1,200.00\n"), balance


async def test_bal_by_sms_shows_the_credit_beside_what_she_owes_on_delivery_in_english(
    gateway: Client, services: Services, fake_at: FakeAfricasTalking
) -> None:
    await kept_as_credit(services, NGOZI, "50000", "NGN")
    ussd = UssdPhone(gateway, NGOZI)
    await ussd.dial()
    for label in ("Shop", "Noodles", "Indomie Chicken"):
        await ussd.choose(label)
    await ussd.press("3")
    for label in ("Checkout", "Choose payment", "Pay on delivery", "Confirm"):
        await ussd.choose(label)
    ngozi = SmsPhone(gateway, services, fake_at, NGOZI)
    await ngozi.receive()  # the order confirmation

    balance = await ngozi.text("BAL")

    # the order on its way is paid at the door: what is hers is what is left beyond it
    assert balance == (
        "You owe NGN 26,993.25 for 1 order to pay on delivery.\n"
        "Credit on your account: NGN 23,006.75\n0. Back"
    )


async def test_bal_with_nothing_kept_still_says_she_owes_nothing(
    gateway: Client, services: Services, fake_at: FakeAfricasTalking
) -> None:
    ngozi = SmsPhone(gateway, services, fake_at, NGOZI)

    assert await ngozi.text("BAL") == "You owe nothing. Thank you!\n0. Back"
