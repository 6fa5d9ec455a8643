"""A service an operator published answers Africa's Talking USSD sessions dialled on its code,
through the real endpoint, in the caller's language, without a restart; other codes keep the
shopping dialog, and a session keeps the version it began with."""

from __future__ import annotations

import json
import uuid
from dataclasses import replace
from decimal import Decimal
from pathlib import Path
from urllib.parse import urlencode

from aiohttp import web
from aiohttp.test_utils import TestClient

from core.app.bootstrap import Services
from core.app.service_creation import RegistryPublisher, create_in_process
from core.app.workflows import SmsNotifier
from core.money import Money
from core.phone import Phone
from core.region import RegionCode
from engines.fulfilment.model import ServiceCreationInput, ServiceDefinition
from engines.orders import CartLine, PaymentMethod, PlaceOrder
from engines.registry import ServiceRegistry, definition_from
from tests.contract.channels.africastalking.test_ussd import (
    FORM,
    USSD,
    screen_of,
    stored,
)

Client = TestClient[web.Request, web.Application]
EXAMPLE = Path(__file__).parents[4] / "deploy" / "services" / "order-status.json"
SESSION_ID = "ATUid_7d2e9a41c6b84f03a5e1d2c3b4a59687"
CODE = "*384*77#"
NGOZI = "+2348030000001"
JUMA = "+254711000001"  # Nairobi: Swahili by default
US_CALLER = "+12025550123"  # none of our markets
ORDER_STATUS = definition_from(json.loads(EXAMPLE.read_text()))
PRICE_CHECK = definition_from(json.loads((EXAMPLE.parent / "price-check.json").read_text()))
PRICE_CODE = "*384*78#"
QUICK_ORDER = definition_from(json.loads((EXAMPLE.parent / "quick-order.json").read_text()))
ORDER_CODE = "*384*79#"


def at_body(
    text: str = "", *, session_id: str = SESSION_ID, phone: str = NGOZI, code: str = CODE
) -> bytes:
    """A callback on the published code, laid out as the stored fixtures are."""
    fields = [
        ("sessionId", session_id),
        ("serviceCode", code),
        ("phoneNumber", phone),
        ("networkCode", "62130"),
        ("text", text),
    ]
    return urlencode(fields).encode()


async def dial(
    client: Client,
    *texts: str,
    session_id: str = SESSION_ID,
    phone: str = NGOZI,
    code: str = CODE,
) -> str:
    """One callback per cumulative `text`, as the network sends them; the last screen."""
    screen = ""
    for text in texts:
        body = at_body(text, session_id=session_id, phone=phone, code=code)
        screen = await screen_of(await client.post(USSD, data=body, headers=FORM))
        assert len(screen) - len("CON ") <= 182
    return screen


async def publish(services: Services, definition: ServiceDefinition = ORDER_STATUS) -> None:
    """As `omniroute services publish` does with workflows off, into the gateway's database."""
    notifier = SmsNotifier(
        services.notifications,
        services.customers,
        services.orders,
        services.translate,
        services.settings.sms_provider,
    )
    registry = RegistryPublisher(ServiceRegistry(services.db, services.clock))
    result = await create_in_process(ServiceCreationInput(definition), registry, notifier)
    assert result.published, result.problems


def test_generated_bodies_match_the_stored_fixture_byte_for_byte() -> None:
    assert at_body("") == stored("published_first_dial")


async def test_a_dial_on_a_published_code_gets_that_service_published_after_the_gateway_started(
    client: Client, services: Services
) -> None:
    # The gateway is already serving: the first dial is the shopping menu's "no such service"
    # no more than any other code's; once published, the very next session gets the service.
    assert (await dial(client, "", session_id="ATUid_before")).startswith(
        "CON Welcome to OmniRoute"
    )
    await publish(services)

    response = await client.post(USSD, data=stored("published_first_dial"), headers=FORM)

    assert await screen_of(response) == (
        "CON OmniRoute orders\n1. Where is my order?\n2. Check a price\n3. Help"
    )


async def test_the_service_speaks_the_callers_language(client: Client, services: Services) -> None:
    await publish(services)
    assert await dial(client, "", phone=JUMA, session_id="ATUid_juma") == (
        "CON Oda za OmniRoute\n1. Oda yangu iko wapi?\n2. Angalia bei\n3. Msaada"
    )
    assert await dial(client, "", "3", phone=JUMA, session_id="ATUid_juma_help") == (
        "END Piga *384*123# kuagiza, au jibu MSAADA kwa SMS yetu yoyote."
    )


async def test_where_is_my_order_ends_on_her_latest_orders(
    client: Client, services: Services
) -> None:
    order = await services.orders.place(
        PlaceOrder(
            customer=Phone(NGOZI),
            region=RegionCode.LAGOS,
            lines=(CartLine("RCE-LONG-25K", 2),),
            payment_method=PaymentMethod.ON_DELIVERY,
            idempotency_key=uuid.uuid4().hex,
            clear_cart=False,
        )
    )
    await publish(services)

    screen = await dial(client, "", "1")

    assert screen.startswith("END Thank you for ordering.\nYour last orders (NGN):\n")
    assert order.reference in screen


async def test_check_a_price_walks_the_catalogue_and_ends_on_her_price(
    client: Client, services: Services
) -> None:
    await publish(services)
    categories = await dial(client, "", "2")
    assert categories.startswith("CON Prices today\n1. Noodles & Pasta\n2. ")
    assert categories.endswith("\n0. Back")

    products = await dial(client, "", "2", "2*1")
    first = products.splitlines()[1]  # "1. <name> NGN <price>"
    assert first.startswith("1. ")
    assert " NGN " in first

    price = await dial(client, "", "2", "2*1", "2*1*1")
    name = first.removeprefix("1. ").rsplit(" NGN ", 1)[0]
    assert price.startswith(f"END {name}\nNGN ")


async def test_back_returns_to_the_services_menu(client: Client, services: Services) -> None:
    await publish(services)
    assert await dial(client, "", "2", "2*0") == (
        "CON OmniRoute orders\n1. Where is my order?\n2. Check a price\n3. Help"
    )


async def test_a_session_keeps_its_version_and_the_next_session_gets_the_new_one(
    client: Client, services: Services
) -> None:
    await publish(services)
    assert (await dial(client, "")).startswith("CON OmniRoute orders")

    menu, *rest = ORDER_STATUS.states
    renamed = replace(menu, prompts={"en": "OmniRoute v2", "sw": "OmniRoute v2"})
    await publish(services, replace(ORDER_STATUS, version=2, states=(renamed, *rest)))

    # the session in progress goes on with v1: Back to its own menu
    assert (await dial(client, "", "2", "2*0")).startswith("CON OmniRoute orders")
    # the next session gets v2
    assert (await dial(client, "", session_id="ATUid_next")).startswith("CON OmniRoute v2")


async def test_a_retired_service_lets_its_session_finish_and_the_next_dial_gets_shopping(
    client: Client, services: Services
) -> None:
    await publish(services)
    assert (await dial(client, "", "2")).startswith("CON Prices today")

    await ServiceRegistry(services.db, services.clock).retire("order-status")

    # the session in progress finishes on its version: Back to the service's menu
    assert (await dial(client, "", "2", "2*0")).startswith("CON OmniRoute orders")
    # the next dial on the code is the shopping dialog's
    assert (await dial(client, "", session_id="ATUid_after")).startswith(
        "CON Welcome to OmniRoute\n1. Shop"
    )


async def test_other_service_codes_keep_the_shopping_dialog(
    client: Client, services: Services
) -> None:
    await publish(services)
    response = await client.post(USSD, data=stored("first_dial"), headers=FORM)
    assert (await screen_of(response)).startswith("CON Welcome to OmniRoute\n1. Shop")


async def test_a_shortcut_dial_applies_its_key_on_the_services_first_screen(
    client: Client, services: Services
) -> None:
    await publish(services)
    # The shortcut dial *384*77*3# arrives as a new session whose first text is 3.
    assert await dial(client, "3") == (
        "END Dial *384*123# to order, or reply HELP to any of our SMS."
    )


async def test_a_caller_outside_our_markets_is_turned_away_as_the_shopping_dialog_does(
    client: Client, services: Services
) -> None:
    await publish(services)
    shop_dial = at_body(phone=US_CALLER, session_id="ATUid_us_shop", code="*384*123#")
    shopping = await screen_of(await client.post(USSD, data=shop_dial, headers=FORM))
    assert shopping == "END Sorry, OmniRoute is not available in your country yet."

    # the service's first screen, and a shortcut dial straight to its orders
    for text in ("", "1"):
        screen = await dial(client, text, phone=US_CALLER, session_id=f"ATUid_us_{text}")
        assert screen == shopping


async def test_a_caller_whose_language_the_service_lacks_gets_it_all_in_english(
    client: Client, services: Services
) -> None:
    # Ngozi chose Hausa; the definition speaks English and Swahili only. Its prompts fall back
    # to English, and the lines the gateway adds (her orders, Back) must not be in Hausa
    # beside them: one screen, one language.
    await services.customers.set_locale(Phone(NGOZI), "ha")
    order = await services.orders.place(
        PlaceOrder(
            customer=Phone(NGOZI),
            region=RegionCode.LAGOS,
            lines=(CartLine("RCE-LONG-25K", 2),),
            payment_method=PaymentMethod.ON_DELIVERY,
            idempotency_key=uuid.uuid4().hex,
            clear_cart=False,
        )
    )
    await publish(services)

    orders = await dial(client, "", "1", session_id="ATUid_ha_orders")
    assert orders == (
        f"END Thank you for ordering.\nYour last orders (NGN):\n{order.reference} Placed 72,000"
    )
    prices = await dial(client, "", "2", session_id="ATUid_ha_prices")
    assert prices.startswith("CON Prices today\n1. Noodles & Pasta\n")
    assert prices.endswith("\n0. Back")


async def test_a_service_that_speaks_her_language_answers_in_it(
    client: Client, services: Services
) -> None:
    await services.customers.set_locale(Phone(NGOZI), "ha")
    hausa = json.loads(EXAMPLE.read_text())
    for state in hausa["states"]:
        state["prompts"]["ha"] = {"menu": "Odar OmniRoute", "prices": "Farashin yau"}.get(
            state["id"], state["prompts"]["en"]
        )
        for labels in state.get("labels", {}).values():
            labels["ha"] = labels["en"]
    await publish(services, definition_from(hausa))

    assert (await dial(client, "", session_id="ATUid_ha_menu")).startswith("CON Odar OmniRoute\n")
    assert (await dial(client, "", "2", session_id="ATUid_ha_menu2")).endswith("\n0. Koma")


async def test_an_order_number_typed_shows_that_order_when_it_is_hers(
    client: Client, services: Services
) -> None:
    """A service asks "Enter your order number": Ngozi's own order (paid from her credit), typed
    in small letters, is shown as the shop's one-order screen says it; Juma's, or one that does
    not exist, is asked again, saying none was found; an empty entry, saying what to type."""
    orders = []
    for phone, region, method in (
        (NGOZI, RegionCode.LAGOS, PaymentMethod.ACCOUNT_CREDIT),
        (JUMA, RegionCode.NAIROBI, PaymentMethod.ON_DELIVERY),
    ):
        placed = await services.orders.place(
            PlaceOrder(
                customer=Phone(phone),
                region=region,
                lines=(CartLine("RCE-LONG-25K", 2),),
                payment_method=method,
                idempotency_key=uuid.uuid4().hex,
                clear_cart=False,
            )
        )
        orders.append(placed)
    hers, his = orders
    await services.orders.paid_from_credit(hers.reference)
    document = json.loads(EXAMPLE.read_text())
    menu = document["states"][0]
    menu["transitions"]["4"] = "number"
    menu["labels"]["4"] = {"en": "Find an order", "sw": "Tafuta oda"}
    document["states"] += [
        {
            "id": "number",
            "prompts": {"en": "Enter your order number", "sw": "Weka namba ya oda"},
            "input": "reference",
            "next": "found",
        },
        {
            "id": "found",
            "prompts": {"en": f"Your order{'.' * 104}", "sw": "Oda yako"},
            "action": "orders.status",
            "end": True,
        },
    ]
    await publish(services, definition_from(document))

    assert await dial(client, "", "4") == "CON Enter your order number\n00. Back"
    assert await dial(client, f"4*{his.reference}") == (
        f"CON No order {his.reference} found.\nEnter your order number\n00. Back"
    )
    assert await dial(client, f"4*{his.reference}*zz9") == (
        "CON No order ZZ9 found.\nEnter your order number\n00. Back"
    )
    # sent empty: asked again, saying what to type
    assert await dial(client, f"4*{his.reference}*zz9*") == (
        "CON Please type your order number.\nEnter your order number\n00. Back"
    )
    # her order, on one screen: the prompt, as long as publishing allows, gives way to it
    assert await dial(client, f"4*{his.reference}*zz9**{hers.reference.lower()}") == (
        f"END Order {hers.reference}: Placed, paid\n"
        f"Total {hers.total.format()}, paid from your credit."
    )


async def test_a_price_check_asks_how_many_and_quotes_it_as_the_shop_does(
    client: Client, services: Services
) -> None:
    """Juma, in Swahili, checks 11 crates of cola: a wrong entry is asked again in Swahili, and
    the quote is the shop's (the cola 10+1 promotion, VAT, the total in KES). Ngozi picks her
    product from the catalogue instead and gets hers in NGN."""
    await publish(services, PRICE_CHECK)
    juma = {"phone": JUMA, "session_id": "ATUid_pc_juma", "code": PRICE_CODE}
    assert await dial(client, "", **juma) == (
        "CON Bei za OmniRoute\n1. Kola 24x35cl\n2. Bidhaa nyingine"
    )
    assert await dial(client, "1", "1*x", **juma) == (
        "CON Weka namba, mfano 3.\nNgapi? (1-999)\n00. Rudi"
    )
    assert await dial(client, "1*x*1000", **juma) == (
        "CON Weka isiyozidi 999.\nNgapi? (1-999)\n00. Rudi"
    )
    cola = await services.pricing.quote(
        RegionCode.NAIROBI, [("DRK-COLA-35", 11)], customer=Phone(JUMA)
    )
    quoted = await dial(client, "1*x*1000*11", **juma)
    assert cola.discount.amount > 0
    assert quoted.startswith("END Bei yako ya leo\n11 x Cola 24x35cl\n")
    assert f"\nPunguzo -{cola.discount.format()}\n" in quoted
    assert quoted.endswith(f"\nJumla {cola.total.format()}")

    ngozi = {"session_id": "ATUid_pc_ngozi", "code": PRICE_CODE}
    products = await dial(client, "", "2", "2*1", **ngozi)
    assert products.splitlines()[1].startswith("1. Indomie Chicken 40x70g NGN ")
    assert await dial(client, "2*1*1", **ngozi) == "CON How many? (1-999)\n00. Back"
    noodles = await services.pricing.quote(
        RegionCode.LAGOS, [("NDL-INDO-CHK", 3)], customer=Phone(NGOZI)
    )
    assert await dial(client, "2*1*1*3", **ngozi) == (
        "END Your price today\n3 x Indomie Chicken 40x70g\n"
        f"Subtotal {noodles.subtotal.format()}\nPromotion -{noodles.discount.format()}\n"
        f"VAT 7.5% {noodles.tax.format()}\nTotal {noodles.total.format()}"
    )


async def test_a_price_check_of_more_than_is_in_stock_says_so_and_quotes_what_is_left(
    client: Client, services: Services
) -> None:
    """Ngozi asks the price of 999 crates of cola: the stock left does not cover them, so the
    quote says so and is of what is left, as the shop's quote screen cuts a line to it."""
    await publish(services, PRICE_CHECK)
    left = await services.catalogue.available(RegionCode.LAGOS, "DRK-COLA-35")
    assert 0 < left < 999
    cola = await services.pricing.quote(
        RegionCode.LAGOS, [("DRK-COLA-35", left)], customer=Phone(NGOZI)
    )

    quoted = await dial(client, "", "1", "1*999", session_id="ATUid_pc_999", code=PRICE_CODE)

    assert quoted.startswith(
        f"END Only {left} left in stock.\nYour price today\n{left} x Cola 24x35cl\n"
    )
    assert quoted.endswith(f"\nTotal {cola.total.format()}")

    # An order's checkout says so too, and fits one screen though its prompt is as long as the
    # definition may make it and her credit covers the order: the prompt gives way.
    document = json.loads((EXAMPLE.parent / "quick-order.json").read_text())
    document["states"][3]["prompts"]["en"] = f"Your order, to your shop tomorrow {'.' * 28}"
    await publish(services, definition_from(document))
    assert services.money is not None
    credit = Money(Decimal(9000000), "NGN")
    await services.money.books.post_payment_received(Phone(NGOZI), credit, "paystack", "KEPT")
    checkout = await dial(client, "", "1", "1*999", session_id="ATUid_qo_999", code=ORDER_CODE)
    assert checkout == (
        f"CON Only {left} left in stock.\n{left} x Cola 24x35cl\nTotal {cola.total.format()}\n"
        f"1. Pay from your credit ({credit.format()})\n2. Pay on delivery\n0. Back"
    )


async def test_a_service_places_the_order_picked_once_paid_as_she_chooses(
    client: Client, services: Services
) -> None:
    """Ngozi orders 3 crates of cola on the example quick-order service: its total, then pay on
    delivery or from the NGN 100,000 kept on her account, then Confirm (Back chooses again, and
    nothing is placed before she confirms). The confirm sent twice places one order; a session
    offering credit another order has spent says so and she pays on delivery; each order is one
    her shop's My orders shows, and her shop cart is left as it was."""
    await publish(services, QUICK_ORDER)
    assert services.money is not None
    await services.money.books.post_payment_received(
        Phone(NGOZI), Money(Decimal(100000), "NGN"), "paystack", "KEPT-NGOZI"
    )
    cola = await services.pricing.quote(
        RegionCode.LAGOS, [("DRK-COLA-35", 3)], customer=Phone(NGOZI)
    )
    first = {"session_id": "ATUid_order_1", "code": ORDER_CODE}

    assert await dial(client, "", "1", "1*3", **first) == (
        f"CON Your order\n3 x Cola 24x35cl\nTotal {cola.total.format()}\n"
        "1. Pay from your credit (NGN 100,000.00)\n2. Pay on delivery\n0. Back"
    )
    assert await dial(client, "1*3*2", **first) == (
        f"CON Place order for {cola.total.format()}, pay on delivery?\n1. Confirm\n0. Back"
    )
    assert (await dial(client, "1*3*2*0", **first)).startswith("CON Your order\n")
    assert await services.orders.recent(Phone(NGOZI), limit=5) == []
    placed = await dial(client, "1*3*2*0*2", "1*3*2*0*2*1", **first)
    assert await dial(client, "1*3*2*0*2*1", **first) == placed  # sent again: the same order
    [on_delivery] = await services.orders.recent(Phone(NGOZI), limit=5)
    assert placed == (
        f"END Order {on_delivery.reference} placed. Total {cola.total.format()}, "
        "pay on delivery. Thank you!"
    )
    await services.relay.drain()  # what she owes for it is held on her account
    kept = Money(Decimal(100000), "NGN") - cola.total

    second = {"session_id": "ATUid_order_2", "code": ORDER_CODE}
    assert (await dial(client, "", "1", "1*3", **second)).endswith(
        f"\n1. Pay from your credit ({kept.format()})\n2. Pay on delivery\n0. Back"
    )
    third = {"session_id": "ATUid_order_3", "code": ORDER_CODE}
    paid = await dial(client, "", "1", "1*3", "1*3*1", "1*3*1*1", **third)
    from_credit, _ = await services.orders.recent(Phone(NGOZI), limit=5)
    assert from_credit.payment_method is PaymentMethod.ACCOUNT_CREDIT
    left = kept - cola.total
    assert paid == (
        f"END Order {from_credit.reference} placed and paid from your credit: "
        f"{cola.total.format()}. Credit left: {left.format()}. Thank you!"
    )
    # the session still offering that credit is told it no longer covers, and pays otherwise
    assert (await dial(client, "1*3*1", **second)).startswith("CON Place order for ")
    assert await dial(client, "1*3*1*1", **second) == (
        f"CON Your credit ({left.format()}) no longer covers this order. Choose another way to"
        f" pay.\nYour order\n3 x Cola 24x35cl\nTotal {cola.total.format()}\n"
        "1. Pay on delivery\n0. Back"
    )
    on_delivery_again = await dial(client, "1*3*1*1*1", "1*3*1*1*1*1", **second)
    assert on_delivery_again.endswith(", pay on delivery. Thank you!")
    assert len(await services.orders.recent(Phone(NGOZI), limit=5)) == 3

    shop = {"session_id": "ATUid_shop", "code": "*384*123#"}
    menu = await dial(client, "", **shop)
    key = next(line[0] for line in menu.splitlines() if line.endswith("My orders"))
    my_orders = await dial(client, key, **shop)
    assert from_credit.reference in my_orders
    assert on_delivery.reference in my_orders
    assert (await services.orders.cart(Phone(NGOZI), RegionCode.LAGOS)).is_empty
