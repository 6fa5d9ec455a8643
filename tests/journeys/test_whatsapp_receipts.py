"""A retailer who orders on WhatsApp is confirmed and given her receipt there: the conversation's
closing message is the order's confirmation (no SMS repeats it), and the M-Pesa receipt comes on
WhatsApp while her 24-hour window is open, by SMS once it has closed. Real endpoints, with local
fakes of the Graph API, Daraja and Africa's Talking."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient
from pydantic import SecretStr

from core.app.bootstrap import Services
from core.clock import SteppedClock
from core.config import Settings
from core.phone import Phone
from tests.support.providers import meta
from tests.support.providers.africastalking import flush_outbox
from tests.support.providers.meta import FakeGraphApi, WhatsAppUser
from tests.support.providers.payments import PaymentFakes

Client = TestClient[web.Request, web.Application]
JUMA = Phone("+254711000001")
NGOZI = Phone("+2348030000001")
DAY = 24 * 3600


@pytest.fixture
async def fake_graph() -> AsyncIterator[FakeGraphApi]:
    fake = FakeGraphApi()
    await fake.start()
    yield fake
    await fake.close()


@pytest.fixture
def settings(database_url: str, fakes: PaymentFakes, fake_graph: FakeGraphApi) -> Settings:
    return fakes.settings(
        database_url,
        meta_graph_base_url=f"{fake_graph.url}/{meta.API_VERSION}",
        meta_app_secret=SecretStr(meta.APP_SECRET),
        meta_verify_token=SecretStr(meta.VERIFY_TOKEN),
        meta_access_token=SecretStr(meta.ACCESS_TOKEN),
        meta_phone_number_id=meta.PHONE_NUMBER_ID,
    )


async def order_by_mpesa(juma: WhatsAppUser, services: Services) -> str:
    """Juma orders noodles on WhatsApp and pays by M-Pesa; the closing message names it."""
    await juma.say("habari")
    for label in ("Nunua", "Tambi na Pasta", "Indomie Chicken"):
        await juma.tap(label)
    await juma.say("3")
    for label in ("Lipia", "Chagua malipo", "M-Pesa"):
        await juma.tap(label)
    done = await juma.tap("Thibitisha")
    [order] = await services.orders.recent(JUMA)
    # his PIN prompt asks whole shillings, rounded up: the text names what it will ask
    placed = f"Oda {order.reference} imewekwa. Jumla KES 2,521.26 (M-Pesa itaomba KES 2,522)."
    assert placed in done.text
    # the receipt comes here while his window is open, by SMS once it has closed
    assert done.text.endswith(" Tutakutumia risiti hapa, au kwa SMS.")
    return order.reference


async def pay(gateway: Client, fakes: PaymentFakes, services: Services) -> str:
    """Juma enters his PIN; Daraja calls back. The receipt number."""
    push = fakes.daraja.pushes[-1]
    target, body = fakes.daraja.pay(push)
    response = await gateway.post(target, data=body, headers={"Content-Type": "application/json"})
    assert response.status == 200
    await flush_outbox(services)
    assert push.receipt is not None
    return push.receipt


async def test_a_whatsapp_order_is_confirmed_and_its_receipt_given_on_whatsapp(
    gateway: Client,
    services: Services,
    fakes: PaymentFakes,
    fake_graph: FakeGraphApi,
    clock: SteppedClock,
) -> None:
    juma = WhatsAppUser(
        gateway,
        fake_graph,
        flush=lambda: flush_outbox(services),
        now=lambda: int(clock.now().timestamp()),
        number=JUMA.e164,
        name="Juma Otieno",
    )
    reference = await order_by_mpesa(juma, services)
    receipt = await pay(gateway, fakes, services)

    assert fakes.sms.sent_to(JUMA.e164) == []  # no SMS confirmation, no SMS receipt
    told = fake_graph.sent_to(JUMA.e164)[-1]
    assert (told.type, told.text) == (
        "text",
        f"OmniRoute: tumepokea KES 2,522.00 kwa oda {reference}. Risiti {receipt}. Asante!",
    )


async def test_a_transfer_landing_after_the_window_closed_is_receipted_by_sms(
    gateway: Client,
    services: Services,
    fakes: PaymentFakes,
    fake_graph: FakeGraphApi,
    clock: SteppedClock,
) -> None:
    ngozi = WhatsAppUser(
        gateway,
        fake_graph,
        flush=lambda: flush_outbox(services),
        now=lambda: int(clock.now().timestamp()),
        number=NGOZI.e164,
    )
    await ngozi.say("hi")
    for label in ("Shop", "Noodles", "Indomie Chicken"):
        await ngozi.tap(label)
    await ngozi.say("3")
    for label in ("Checkout", "Choose payment", "Bank transfer"):
        await ngozi.tap(label)
    done = await ngozi.tap("Confirm")
    [order] = await services.orders.recent(NGOZI)
    assert f"Order {order.reference}: transfer NGN 26,993.25" in done.text
    assert done.text.endswith(" We will tell you here, or by SMS, when it arrives.")
    await flush_outbox(services)
    assert fakes.sms.sent_to(NGOZI.e164) == []  # the closing message was the confirmation

    clock.advance(2 * DAY)  # she pays two days later, without writing to us again
    [account] = fakes.paystack.accounts
    body, headers = fakes.paystack.transfer_to_account(account.account_number, 2_699_325)
    assert (await gateway.post("/webhooks/paystack", data=body, headers=headers)).status == 200
    sent = len(fake_graph.sent)
    await flush_outbox(services)

    assert len(fake_graph.sent) == sent  # Meta would refuse free-form text now
    [receipt] = fakes.sms.sent_to(NGOZI.e164)
    assert receipt.message.startswith(
        f"OmniRoute: we received NGN 26,993.25 for order {order.reference}."
    )
