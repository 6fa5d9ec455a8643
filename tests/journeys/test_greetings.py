"""A greeting typed mid-conversation ("hi", "habari", "how far", "sannu"): answered as a new
conversation is, with the main menu or the saved cart's offer; at a screen awaiting one answer
(Confirm) that screen again, greeted. Never "Please choose a number from the list." Each
message goes in as the web chat's own JSON, through the pipeline."""

from __future__ import annotations

import json
import uuid

from channels.web.chat import to_message
from channels.web.payloads import parse_message
from core.app.bootstrap import Services
from core.messages import Reply

NGOZI = "+2348030000001"
TOLD_OFF = "Please choose a number from the list."


async def chat(services: Services, text: str) -> Reply:
    body = json.dumps({"user": NGOZI, "text": text, "id": uuid.uuid4().hex})
    return await services.pipeline.handle(to_message(parse_message(body)))


def labels(reply: Reply) -> list[str]:
    return [option.label for option in reply.options]


async def test_a_greeting_mid_conversation_gets_the_main_menu_or_the_carts_offer(
    services: Services,
) -> None:
    first = await chat(services, "hi")
    assert first.text == "Welcome to OmniRoute"
    await chat(services, "1")  # Shop: the categories
    again = await chat(services, "habari")
    assert (again.text, labels(again)) == (first.text, labels(first))
    for key in ("1", "1", "1"):  # Shop > Noodles > Indomie
        await chat(services, key)
    added = await chat(services, "3")  # 3 cartons
    assert "Added 3 x Indomie Chicken" in added.text
    offer = await chat(services, "How far o")
    assert TOLD_OFF not in offer.text
    assert "Your cart has 3 items" in offer.text  # kept, offered as on a new dial
    assert labels(offer) == ["Continue with cart", "Start a new cart"]


async def test_a_greeting_at_confirm_shows_confirm_again_greeted(services: Services) -> None:
    await chat(services, "hi")
    for key in ("1", "1", "1", "3", "3", "1"):  # … 3 cartons > Checkout > Choose payment
        await chat(services, key)
    confirm = await chat(services, "1")  # Pay on delivery: Confirm
    greeted = await chat(services, "sannu")
    assert greeted.text == f"Hello again!\n{confirm.text}"
    assert labels(greeted) == labels(confirm)
    placed = await chat(services, "1")
    assert placed.end
    assert "placed" in placed.text
