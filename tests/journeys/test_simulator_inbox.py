"""GET /simulator/inbox: what the gateway sent a phone later, for the simulator page to show.

On a laptop no provider has keys, so the order's SMS, the driver's delivery code and every notice
wait in the deliveries outbox and reach no phone; the page reads them here instead.
"""

from __future__ import annotations

from typing import Any, Literal

import pytest
from aiohttp.test_utils import TestClient

from core.app.bootstrap import Services
from core.clock import SteppedClock
from core.config import Settings
from core.messages import ChannelKind, OutboundMessage, Reply
from core.phone import Phone
from tests.support.graphql import gateway
from tests.support.phone import UssdPhone

NGOZI = "+2348030000001"
INBOX = "/simulator/inbox"


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """A developer's own gateway (`make run`): the only one that serves the inbox."""
    return settings.model_copy(update={"env": "dev"})


async def order_by_ussd(phone: UssdPhone) -> str:
    """3 Indomie Chicken, pay on delivery; the order reference."""
    await phone.dial()
    for label in ("Shop", "Noodles", "Indomie Chicken"):
        await phone.choose(label)
    await phone.press("3")
    for label in ("Checkout", "Choose payment", "Pay on delivery"):
        await phone.choose(label)
    screen = await phone.choose("Confirm")
    assert screen.kind == "END"
    return screen.body.split()[1]


async def test_the_order_sms_of_a_ussd_order_is_in_the_phones_inbox(
    client: TestClient[Any, Any], services: Services, ngozi: UssdPhone
) -> None:
    reference = await order_by_ussd(ngozi)
    await services.relay.drain()

    answer = await client.get(INBOX, params={"phone": NGOZI})

    assert answer.status == 200
    inbox = await answer.json()
    assert inbox["phone"] == NGOZI
    [sms] = inbox["messages"]
    assert sms["text"] == (
        f"OmniRoute: order {reference} placed, total NGN 26,993.25. Pay NGN 26,993.00 "
        "in cash at the door. Reply STATUS for updates."
    )
    assert (sms["provider"], sms["channel"]) == ("africastalking", "sms")
    assert sms["at"].startswith(services.clock.now().date().isoformat())
    # No Africa's Talking key here: it waits in the outbox, and the inbox says why.
    assert sms["status"] == "queued"
    assert sms["error"] in {None, "no sender configured for africastalking"}
    # Nobody else's inbox holds it.
    other = await (await client.get(INBOX, params={"phone": "+254711000001"})).json()
    assert other["messages"] == []


async def test_the_inbox_lists_the_newest_message_first(
    client: TestClient[Any, Any], services: Services, clock: SteppedClock
) -> None:
    for n in (1, 2, 3):
        await services.notifications.queue(
            OutboundMessage(
                provider="twilio",
                kind=ChannelKind.WHATSAPP,
                to=Phone(NGOZI),
                reply=Reply(f"Notice {n}"),
                dedupe_key=f"inbox-test:{n}",
            )
        )
        clock.advance(60)

    answer = await client.get(INBOX, params={"phone": NGOZI})

    messages = (await answer.json())["messages"]
    assert [m["text"] for m in messages] == ["Notice 3", "Notice 2", "Notice 1"]
    assert {(m["provider"], m["channel"]) for m in messages} == {("twilio", "whatsapp")}


async def test_an_inbox_asked_without_a_phone_number_is_refused_with_the_reason(
    client: TestClient[Any, Any],
) -> None:
    answer = await client.get(INBOX, params={"phone": "not-a-number"})
    assert answer.status == 400
    assert "not a phone number" in await answer.text()
    assert (await client.get(INBOX)).status == 400


@pytest.mark.parametrize("env", ["test", "production"])
async def test_only_a_developers_gateway_serves_the_inbox(
    database_url: str, clock: SteppedClock, env: Literal["test", "production"]
) -> None:
    """It reads anyone's messages, delivery codes too: a staging gateway others can reach
    (`test`) answers 404, as production does; only `dev`, the default, serves it."""
    settings = Settings(env=env, database_url=database_url, channels="", _env_file=None)
    async with gateway(settings, clock) as (client, services):
        await services.notifications.queue(
            OutboundMessage(
                provider="africastalking",
                kind=ChannelKind.SMS,
                to=Phone(NGOZI),
                reply=Reply("Your delivery code is 4821"),
                dedupe_key="inbox-test:production",
            )
        )
        answer = await client.get(INBOX, params={"phone": NGOZI})
        assert answer.status == 404
        assert "4821" not in await answer.text()
