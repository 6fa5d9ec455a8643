"""Juma on WhatsApp (through Twilio) pays his order by M-Pesa: the same dialog, the same STK
push, and the receipt on WhatsApp (his 24-hour window is open) when Daraja's callback comes."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from pydantic import SecretStr

from core.app.bootstrap import Services
from core.config import Settings
from core.phone import Phone
from tests.support.ports import free_port
from tests.support.providers import twilio
from tests.support.providers.africastalking import flush_outbox
from tests.support.providers.payments import PaymentFakes
from tests.support.providers.twilio import FakeTwilio, TwilioChat, TwilioWebhooks, twilio_gateway

JUMA = Phone("+254711000001")


@pytest.fixture
def port() -> int:
    return free_port()


@pytest.fixture
async def fake_twilio() -> AsyncIterator[FakeTwilio]:
    fake = FakeTwilio()
    await fake.start()
    yield fake
    await fake.close()


@pytest.fixture
def settings(
    database_url: str, fakes: PaymentFakes, port: int, fake_twilio: FakeTwilio
) -> Settings:
    return fakes.settings(
        database_url,
        public_url=f"http://127.0.0.1:{port}",
        twilio_base_url=fake_twilio.url,
        twilio_account_sid=twilio.ACCOUNT_SID,
        twilio_auth_token=SecretStr(twilio.AUTH_TOKEN),
        twilio_sms_from=twilio.SMS_NUMBER,
        twilio_whatsapp_from=twilio.WHATSAPP_NUMBER,
    )


@pytest.fixture
async def webhooks(services: Services, port: int) -> AsyncIterator[TwilioWebhooks]:
    await services.delivery.stop()
    async with twilio_gateway(services, port) as hooks:
        yield hooks


async def test_juma_pays_by_mpesa_on_whatsapp(
    webhooks: TwilioWebhooks, services: Services, fakes: PaymentFakes, fake_twilio: FakeTwilio
) -> None:
    juma = TwilioChat(webhooks, JUMA.e164, kind="whatsapp")
    assert (await juma.send("habari")).startswith("Karibu OmniRoute")
    for key in ("1", "1", "1", "3"):
        await juma.send(key)
    await juma.choose("Lipia")
    payment = await juma.choose("Chagua malipo")
    assert "1. M-Pesa" in payment
    await juma.choose("M-Pesa")
    placed = await juma.choose("Thibitisha")

    [order] = await services.orders.recent(JUMA)
    assert placed.startswith(
        f"Oda {order.reference} imewekwa. Jumla KES 2,521.26 (M-Pesa itaomba KES 2,522). Weka PIN"
    )
    # the receipt comes here while his 24-hour window is open, by SMS once it has closed
    assert placed.endswith(" Tutakutumia risiti hapa, au kwa SMS.")
    push = fakes.daraja.push_for("254711000001")
    target, body = fakes.daraja.pay(push)
    response = await webhooks.client.post(
        target, data=body, headers={"Content-Type": "application/json"}
    )
    assert response.status == 200
    assert (await services.orders.get(order.reference)).paid_at is not None
    await flush_outbox(services)
    assert fakes.sms.sent_to(JUMA.e164) == []
    receipt = fake_twilio.sent_to(f"whatsapp:{JUMA.e164}")[-1]
    assert receipt.sender == f"whatsapp:{twilio.WHATSAPP_NUMBER}"
    assert (receipt.body or "").startswith("OmniRoute: tumepokea KES 2,522.00")


async def test_juma_is_told_when_the_mpesa_prompt_did_not_go_through_and_pays_again(
    webhooks: TwilioWebhooks, services: Services, fakes: PaymentFakes, fake_twilio: FakeTwilio
) -> None:
    """Juma cancels the PIN prompt (or it times out on his phone, 1037): the order sat unpaid
    and nothing told him, until it was cancelled a day later. He is told once, on WhatsApp,
    that the payment did not go through and that HALI pays it again, which it does."""
    juma = TwilioChat(webhooks, JUMA.e164, kind="whatsapp")
    await juma.send("habari")
    for key in ("1", "1", "1", "3"):
        await juma.send(key)
    for label in ("Lipia", "Chagua malipo", "M-Pesa", "Thibitisha"):
        await juma.choose(label)
    [order] = await services.orders.recent(JUMA)
    told = len(fake_twilio.sent_to(f"whatsapp:{JUMA.e164}"))

    target, body = fakes.daraja.cancel(fakes.daraja.push_for("254711000001"))
    for _ in range(2):  # Daraja delivers its callback again
        response = await webhooks.client.post(
            target, data=body, headers={"Content-Type": "application/json"}
        )
        assert response.status == 200
        await flush_outbox(services)

    notices = fake_twilio.sent_to(f"whatsapp:{JUMA.e164}")[told:]
    assert [n.body for n in notices] == [
        f"OmniRoute: malipo ya oda {order.reference} (KES 2,521.26) hayakukamilika. "
        "Tuma HALI kulipa tena."
    ]
    assert fakes.sms.sent_to(JUMA.e164) == []
    assert f"Lipa {order.reference} tena" in await juma.send("HALI")
    again = await juma.choose(f"Lipa {order.reference}")
    assert again.startswith(f"Oda {order.reference}: weka PIN yako ya M-Pesa")
    assert len(fakes.daraja.pushes) == 2
