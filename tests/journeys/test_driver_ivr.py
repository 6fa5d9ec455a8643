"""A delivery day over the drivers' IVR, on Africa's Talking voice and Twilio voice.

The warehouse picks two orders, the route becomes a task, Bayo declines it on Twilio, Emeka
takes it on Africa's Talking; the customers get their codes by SMS (through Africa's Talking's
SMS API), Emeka keys the first in at its door, reports the second customer absent on Twilio
(an operator takes that delivery over) and hears what he earned. Every request is the
provider's own callback format; every answer is parsed as the provider parses it.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from datetime import timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from pydantic import SecretStr
from sqlalchemy import select

from core.app.bootstrap import Services
from core.app.demo import load_distribution_demo
from core.bus.tables import outbox
from core.clock import SteppedClock
from core.config import Settings
from core.phone import Phone
from core.region import RegionCode
from engines.gig import (
    DeliveryRoute,
    DocumentKind,
    GeoPoint,
    IncidentKind,
    Onboard,
    RouteStop,
    StopStatus,
    TaskStatus,
    Vehicle,
    VehicleKind,
)
from engines.gig.events import StopArrived
from engines.orders import CartLine, OrderStatus, PaymentMethod, PlaceOrder
from engines.wms import Layout, PathPolicy, Zone, grid
from tests.support.at_voice import AtCaller
from tests.support.gig import (
    BAYO,
    CHIDI,
    EMEKA,
    LAGOS_DEPOT,
    NGOZI,
    driver,
    offered_in_a_race,
    order,
    route,
)
from tests.support.ports import free_port
from tests.support.providers.africastalking import FakeAfricasTalking, flush_outbox
from tests.support.providers.twilio import (
    ACCOUNT_SID,
    AUTH_TOKEN,
    TwilioCaller,
    TwilioWebhooks,
    twilio_gateway,
)
from tests.support.spoken_menu import spoken_choices

OPERATOR = "+2348039999999"
JUMA = Phone("+254711000001")
WANJIKU = Phone("+254722000001")
WALE = Phone("+2348030000003")
_CODE = re.compile(r"code is (\d{4})|ni (\d{4})")


@pytest.fixture
def port() -> int:
    return free_port()


@pytest.fixture
def settings(database_url: str, port: int, fake_at: FakeAfricasTalking) -> Settings:
    return fake_at.settings(
        database_url,
        public_url=f"http://127.0.0.1:{port}",
        twilio_account_sid=ACCOUNT_SID,
        twilio_auth_token=SecretStr(AUTH_TOKEN),
        operator_phone=OPERATOR,
    )


@pytest.fixture
async def twilio(services: Services, port: int) -> AsyncIterator[TwilioWebhooks]:
    async with twilio_gateway(services, port) as webhooks:
        # Started with the app; stopped so that the test sends the outbox itself
        # (flush_outbox) and the dispatcher offers routes only when the test asks.
        await services.delivery.stop()
        await services.sweeper.stop()
        yield webhooks


def code_in(fake: FakeAfricasTalking, phone: Phone, reference: str) -> str:
    found = [
        match
        for sms in fake.sent_to(phone.e164)
        if reference in sms.message and (match := _CODE.search(sms.message))
    ]
    assert len(found) == 1, [sms.message for sms in fake.sent_to(phone.e164)]
    return found[0].group(1) or found[0].group(2)


async def picked_and_packed(services: Services, *references: str) -> None:
    """The Lagos warehouse picks the orders along the shortest walk and packs them."""
    wms = services.warehouse
    await wms.define(
        Layout("WH-LAGOS", depth=20.0),
        [Zone("WH-LAGOS:dry", "WH-LAGOS", "Dry goods")],
        grid("WH-LAGOS", "WH-LAGOS:dry", aisles=3, bays=8, capacity=60),
    )
    await wms.put_away("WH-LAGOS", "NDL-INDO-CHK", 50)
    for reference in references:
        pick = await wms.pick_list("WH-LAGOS", reference)
        _path, lines = await wms.path(pick.id, PathPolicy.OPTIMAL)
        for line in lines:
            await wms.confirm_pick(pick.id, line.position, line.quantity)
        assert (await services.orders.get(reference)).status is OrderStatus.PACKED


async def test_a_delivery_day_over_both_voice_providers(
    services: Services, twilio: TwilioWebhooks, fake_at: FakeAfricasTalking
) -> None:
    gig = services.gig
    emeka = await driver(services, EMEKA, "Emeka", at=GeoPoint(6.60, 3.50))
    await driver(services, BAYO, "Bayo", at=GeoPoint(6.46, 3.39))
    first = await order(services, NGOZI, "day-1")
    second = await order(services, CHIDI, "day-2")
    await picked_and_packed(services, first, second)
    task = await gig.create_task(
        DeliveryRoute(
            "R-LAG-1",
            RegionCode.LAGOS,
            LAGOS_DEPOT,
            services.clock.now() + timedelta(minutes=30),
            (
                RouteStop(
                    first, NGOZI, "12 Broad Street", GeoPoint(6.454, 3.394), 2, Decimal("4.0")
                ),
                RouteStop(
                    second, CHIDI, "4 Marina Road", GeoPoint(6.449, 3.402), 2, Decimal("2.5")
                ),
            ),
        )
    )
    [offer] = await gig.allocate()
    assert offer.task_id == task.id

    # Bayo, nearer, hears the offer first on Twilio and declines it.
    bayo = TwilioCaller(twilio, BAYO.e164)
    heard = await bayo.call()
    spelled = " ".join(task.reference)
    # when to be at the warehouse: the route leaves in half an hour, Lagos time
    leaves = f"{task.departure.astimezone(ZoneInfo('Africa/Lagos')):%H:%M}"
    assert heard.say.startswith(
        f"New route {spelled}: 2 stops, 6.5 kilometres. First stop: 12 Broad Street. "
        f"It leaves the warehouse at {leaves}. "
        "Press 1 for Accept. Press 2 for Decline. Press 3 for Today's earnings."
    )
    assert heard.gather is not None
    assert heard.gather["numDigits"] == "1"
    declined = await bayo.press("2")
    assert declined.say.startswith("Route declined. Hello Bayo. No deliveries for you right now.")

    # The route goes straight to Emeka, who calls on Africa's Talking and takes it.
    emeka_at = AtCaller(twilio.client, EMEKA.e164, "ATVId_emeka_morning")
    offered = await emeka_at.dial()
    assert offered.say.startswith(f"New route {spelled}: 2 stops")
    taken = await emeka_at.press("1")
    assert taken.say.startswith(
        f"Route {spelled} is yours. The customers have their codes. "
        f"Stop 1 of 2: 12 Broad Street, order {' '.join(first)}. "
        "Press 1 for Arrived. Press 2 for Report a problem. Press 3 for Today's earnings."
    )
    assert (await gig.task(task.id)).worker_id == emeka.id
    assert (await services.orders.get(first)).status is OrderStatus.DISPATCHED

    # The customers' codes go out by SMS through Africa's Talking.
    await flush_outbox(services)
    code_1 = code_in(fake_at, NGOZI, first)
    assert code_in(fake_at, CHIDI, second)  # Chidi has his code too
    [sms] = [s for s in fake_at.sent_to(NGOZI.e164) if "delivery code" in s.message]
    assert sms.message.startswith(f"OmniRoute: Emeka is on the way with order {first}.")

    # At Ngozi's door: a wrong code, then the right one.
    asked = await emeka_at.choose("Arrived")
    cash = (await services.orders.get(first)).total.format()  # Ngozi pays on delivery
    assert asked.say.startswith(
        f"Collect {cash} in cash. Enter the customer's 4-digit delivery code. "
        "Press 0 0 then hash for Back."
    )
    getter = asked.get_digits
    assert getter is not None
    # sent as soon as the fourth digit is keyed; '#' still ends a shorter one
    assert (getter.attrib["numDigits"], getter.attrib["finishOnKey"]) == ("4", "#")
    wrong = "0000" if code_1 != "0000" else "1111"
    again = await emeka_at.press(wrong)
    assert again.say.startswith(f"Wrong code. 2 tries left. Collect {cash} in cash. Enter the")
    delivered = await emeka_at.press(code_1)
    assert delivered.say.startswith("Delivered. You earned NGN 980.00. Stop 2 of 2: 4 Marina Road")
    assert (await services.orders.get(first)).status is OrderStatus.DELIVERED
    await emeka_at.hang_up()

    # Later, on Twilio: Chidi is not in; Emeka reports it and the operator takes it over.
    emeka_tw = TwilioCaller(twilio, EMEKA.e164)
    resumed = await emeka_tw.call()
    assert resumed.say.startswith("Stop 2 of 2: 4 Marina Road")
    problems = await emeka_tw.choose("Report a problem")
    assert "Press 1 for Customer not there." in problems.say
    reported = await emeka_tw.choose("Customer not there")
    # His last door: the route is over (no bonus: a door was handed over), he is free.
    assert reported.say.startswith(
        "Thank you. An operator takes this delivery over and will call you. "
        "Hello Emeka. No deliveries for you right now."
    )
    assert await gig.incidents(task.id) == [IncidentKind.CUSTOMER_ABSENT.value]
    assert (await gig.task(task.id)).status is TaskStatus.COMPLETED
    await flush_outbox(services)
    [alert] = fake_at.sent_to(OPERATOR)
    assert alert.message.startswith("OmniRoute alert: customer not there. Driver Emeka")
    assert alert.message.endswith(f" Order: {second}.")  # what `deliveries resolve` takes
    [waiting] = await gig.escalations()
    assert (waiting.order_reference, waiting.reason) == (second, IncidentKind.CUSTOMER_ABSENT)

    # Chidi comes back and tells the operator he has his goods.
    await gig.resolve_escalation(second, StopStatus.DELIVERED)
    assert (await services.orders.get(second)).status is OrderStatus.DELIVERED
    earnings = await emeka_tw.choose("Today's earnings")
    assert earnings.say.startswith("Today you earned NGN 980.00 for 1 delivery.")

    payout = await gig.settle(emeka.id, services.clock.now().date())
    assert payout is not None
    assert payout.amount.format() == "NGN 980.00"


async def test_a_driver_on_a_route_hears_so_when_pressing_accept_on_another(
    services: Services, twilio: TwilioWebhooks
) -> None:
    """Emeka hears route A offered; meanwhile route B, offered to him in a race (another
    replica's offer run), is taken on his app. Pressing 1 for A tells him he is on B."""
    gig = services.gig
    emeka = await driver(services, EMEKA, "Emeka")
    first = await order(services, NGOZI, "busy-1")
    second = await order(services, CHIDI, "busy-2")
    await picked_and_packed(services, first, second)
    a = await gig.create_task(
        DeliveryRoute(
            "R-LAG-A",
            RegionCode.LAGOS,
            LAGOS_DEPOT,
            services.clock.now() + timedelta(minutes=30),
            (RouteStop(first, NGOZI, "12 Broad Street", GeoPoint(6.454, 3.394), 2, Decimal(4)),),
        )
    )
    [offer] = await gig.allocate()
    assert offer.task_id == a.id
    caller = TwilioCaller(twilio, EMEKA.e164)
    heard = await caller.call()
    assert heard.say.startswith(f"New route {' '.join(a.reference)}")
    b = await gig.create_task(
        DeliveryRoute(
            "R-LAG-B",
            RegionCode.LAGOS,
            LAGOS_DEPOT,
            services.clock.now() + timedelta(minutes=30),
            (RouteStop(second, CHIDI, "4 Marina Road", GeoPoint(6.449, 3.402), 2, Decimal(3)),),
        )
    )
    await gig.accept((await offered_in_a_race(services, b, emeka.id)).id)

    refused = await caller.press("1")

    assert refused.say.startswith(
        f"You are on route {' '.join(b.reference)}: finish it before you take another."
    )
    assert (await gig.task(a.id)).status is TaskStatus.OPEN
    assert (await gig.task(b.id)).worker_id == emeka.id


async def test_a_route_he_took_in_his_app_while_hearing_it_offered_is_his_on_the_ivr(
    services: Services, twilio: TwilioWebhooks, fake_at: FakeAfricasTalking
) -> None:
    """Emeka hears a route offered on the IVR and takes it in his app meanwhile. Pressing 1 on
    the IVR answered 'Sorry, that route is no longer on offer.' and then read him that very
    route's first stop; now he hears it is his, and Ngozi is sent one code."""
    gig = services.gig
    await driver(services, EMEKA, "Emeka")
    placed = await order(services, NGOZI, "app-accept-1")
    await picked_and_packed(services, placed)
    task = await gig.create_task(
        route("R-LAG-APPOK", [(placed, NGOZI, "12 Broad Street")], services=services)
    )
    [offer] = await gig.allocate()
    caller = AtCaller(twilio.client, EMEKA.e164, "ATVId_emeka_app_accept")
    await caller.dial()
    await gig.accept(offer.id)  # his app's acceptTask

    heard = await caller.choose("Accept")

    assert heard.say.startswith(
        f"Route {' '.join(task.reference)} is yours. The customer has their code. "
        "Stop 1 of 1: 12 Broad Street"
    )
    await flush_outbox(services)
    assert code_in(fake_at, NGOZI, placed)  # one code, as once accepted


async def test_at_a_pay_on_delivery_door_the_driver_hears_the_cash_to_collect(
    services: Services, twilio: TwilioWebhooks, fake_at: FakeAfricasTalking
) -> None:
    """Ngozi pays on delivery: at her door Emeka hears how much cash to take before he keys her
    code (the drivers' app shows it as `collect`). Chidi's order is paid by M-Pesa: nothing to
    collect, and nothing is said."""
    gig = services.gig
    await driver(services, EMEKA, "Emeka")
    cash = await order(services, NGOZI, "cash-1")
    mpesa = await services.orders.place(
        PlaceOrder(
            customer=CHIDI,
            region=RegionCode.LAGOS,
            lines=(CartLine("NDL-INDO-CHK", 1),),
            payment_method=PaymentMethod.MPESA,
            idempotency_key="cash-2",
        )
    )
    await gig.create_task(
        route(
            "R-LAG-CASH",
            [(cash, NGOZI, "12 Broad Street"), (mpesa.reference, CHIDI, "4 Marina Road")],
            services=services,
        )
    )
    await gig.allocate()
    caller = AtCaller(twilio.client, EMEKA.e164, "ATVId_emeka_cash")
    await caller.dial()
    await caller.choose("Accept")
    await flush_outbox(services)
    total = (await services.orders.get(cash)).total

    at_ngozi = await caller.choose("Arrived")

    assert at_ngozi.say.startswith(
        f"Collect {total.format()} in cash. Enter the customer's 4-digit delivery code."
    )
    again = await caller.press("12")  # a slip: the cash is said again with the code
    assert again.say.startswith(f"The code has 4 digits. Collect {total.format()} in cash.")
    await caller.press(code_in(fake_at, NGOZI, cash))
    at_chidi = await caller.choose("Arrived")
    assert at_chidi.say.startswith("Enter the customer's 4-digit delivery code.")
    assert "cash" not in at_chidi.say


async def test_a_route_whose_offer_lapsed_unheard_is_offered_when_the_driver_calls(
    services: Services, twilio: TwilioWebhooks, fake_at: FakeAfricasTalking, clock: SteppedClock
) -> None:
    """The sweeper offers Emeka a route while he is not on the line (nothing tells him), and
    the offer lapses. When he then calls, the route still waiting in the pool is offered to
    him, rather than 'No deliveries for you right now' with the route left for nobody."""
    gig = services.gig
    emeka = await driver(services, EMEKA, "Emeka")
    placed = await order(services, NGOZI, "lapsed-1")
    await picked_and_packed(services, placed)
    task = await gig.create_task(
        route("R-LAG-LAPSED", [(placed, NGOZI, "12 Broad Street")], services=services)
    )
    [offer] = await gig.allocate()  # the sweeper, while Emeka is not calling
    assert offer.worker_id == emeka.id
    clock.advance(services.settings.gig_offer_ttl_seconds + 1)
    assert await gig.allocate() == []  # the sweeper does not offer it to him again

    caller = AtCaller(twilio.client, EMEKA.e164, "ATVId_emeka_lapsed")
    heard = await caller.dial()

    assert heard.say.startswith(f"New route {' '.join(task.reference)}: 1 stop")
    taken = await caller.choose("Accept")
    assert taken.say.startswith(
        f"Route {' '.join(task.reference)} is yours. The customer has their code."
    )
    assert (await gig.task(task.id)).worker_id == emeka.id


async def test_three_wrong_codes_in_swahili_call_an_operator(
    services: Services, twilio: TwilioWebhooks, fake_at: FakeAfricasTalking
) -> None:
    """Wanjiku drives in Nairobi and hears Swahili; the third wrong code hands the stop over."""
    gig = services.gig
    nairobi = GeoPoint(-1.2864, 36.8172)
    wanjiku = await driver(services, WANJIKU, "Wanjiku", at=nairobi, region=RegionCode.NAIROBI)
    placed = await services.orders.place(
        PlaceOrder(
            customer=JUMA,
            region=RegionCode.NAIROBI,
            lines=(CartLine("NDL-INDO-CHK", 1),),
            payment_method=__import__(
                "engines.orders", fromlist=["PaymentMethod"]
            ).PaymentMethod.ON_DELIVERY,
            idempotency_key="nbo-1",
        )
    )
    task = await gig.create_task(
        DeliveryRoute(
            "R-NBO-1",
            RegionCode.NAIROBI,
            nairobi,
            services.clock.now(),
            (RouteStop(placed.reference, JUMA, "Moi Avenue 10", nairobi, 1, Decimal("3.0")),),
        )
    )
    [offer] = await gig.allocate()
    assert offer.worker_id == wanjiku.id

    caller = AtCaller(twilio.client, WANJIKU.e164, "ATVId_wanjiku")
    heard = await caller.dial()
    # one stop, one try: Swahili's singular ("kituo 1", "jaribio 1"), not "vituo 1"
    assert heard.say.startswith(f"Safari mpya {' '.join(task.reference)}: kituo 1, kilomita 3.0.")
    assert "Bonyeza 1 kwa Kubali." in heard.say
    await caller.choose("Kubali")
    await flush_outbox(services)
    code = code_in(fake_at, JUMA, placed.reference)
    wrong = "0000" if code != "0000" else "1111"
    asked = await caller.choose("Nimefika")
    # Juma pays on delivery: the cash to take, in Swahili, before his code
    due = (await services.orders.get(placed.reference)).total.in_cash().format()
    assert asked.say.startswith(f"Pokea {due} taslimu. Weka namba ya mteja ya tarakimu 4.")
    first = await caller.press(wrong)
    assert first.say.startswith("Namba si sahihi. Umebakiza majaribio 2.")
    second = await caller.press(wrong)
    assert second.say.startswith("Namba si sahihi. Umebakiza jaribio 1.")
    third = await caller.press(wrong)
    assert third.say.startswith("Namba imekosewa mara tatu. Msimamizi atampigia mteja.")
    assert "kituo kinachofuata" not in third.say  # her only stop: no "go on to your next stop"
    assert (await gig.task(task.id)).status is TaskStatus.COMPLETED
    await flush_outbox(services)
    [alert] = fake_at.sent_to(OPERATOR)
    assert "three wrong delivery codes" in alert.message
    assert WANJIKU.e164 in alert.message
    assert (await gig.today(wanjiku.id)).stops == 0


async def test_a_route_finished_after_a_door_went_to_an_operator_is_not_said_to_pay_a_bonus(
    services: Services, twilio: TwilioWebhooks, fake_at: FakeAfricasTalking
) -> None:
    """Three wrong codes hand Ngozi's door to an operator; Emeka proves Chidi's, his last. The
    route pays no completion bonus then, and he must not hear that it did."""
    gig = services.gig
    emeka = await driver(services, EMEKA, "Emeka")
    first = await order(services, NGOZI, "no-bonus-1")
    second = await order(services, CHIDI, "no-bonus-2")
    await picked_and_packed(services, first, second)
    await gig.create_task(
        route(
            "R-LAG-NOBONUS",
            [(first, NGOZI, "12 Broad Street"), (second, CHIDI, "4 Marina Road")],
            services=services,
        )
    )
    await gig.allocate()
    caller = AtCaller(twilio.client, EMEKA.e164, "ATVId_emeka_no_bonus")
    await caller.dial()
    await caller.choose("Accept")
    await flush_outbox(services)
    code_1 = code_in(fake_at, NGOZI, first)
    code_2 = code_in(fake_at, CHIDI, second)
    await caller.choose("Arrived")
    wrong = "0000" if code_1 != "0000" else "1111"
    for _ in range(3):
        await caller.press(wrong)
    await caller.choose("Arrived")

    finished = await caller.press(code_2)

    today = await gig.today(emeka.id)
    assert [e.kind.value for e in await gig.earnings(emeka.id)] == ["stop", "distance"]
    assert finished.say.startswith(
        f"Delivered. You earned {today.total.format()}. "
        "Route finished. No bonus: a delivery went to an operator. Thank you!"
    )
    assert "bonus included" not in finished.say


async def test_a_problem_at_the_door_in_swahili_hands_it_over_and_sends_her_on(
    services: Services, twilio: TwilioWebhooks, fake_at: FakeAfricasTalking
) -> None:
    """Wanjiku cannot find the first address: the operator takes that delivery and she hears
    her next stop. At the second her van breaks down: the operator takes the rest of the route,
    one SMS each time, and she is free."""
    gig = services.gig
    nairobi = GeoPoint(-1.2864, 36.8172)
    wanjiku = await driver(services, WANJIKU, "Wanjiku", at=nairobi, region=RegionCode.NAIROBI)
    references = []
    for i in range(3):
        placed = await services.orders.place(
            PlaceOrder(
                customer=JUMA,
                region=RegionCode.NAIROBI,
                lines=(CartLine("NDL-INDO-CHK", 1),),
                payment_method=PaymentMethod.ON_DELIVERY,
                idempotency_key=f"nbo-problem-{i}",
            )
        )
        references.append(placed.reference)
    task = await gig.create_task(
        DeliveryRoute(
            "R-NBO-P",
            RegionCode.NAIROBI,
            nairobi,
            services.clock.now(),
            tuple(
                RouteStop(ref, JUMA, f"Moi Avenue {i + 1}", nairobi, 1, Decimal("1.0"))
                for i, ref in enumerate(references)
            ),
        )
    )
    [offer] = await gig.allocate()
    assert offer.worker_id == wanjiku.id
    caller = AtCaller(twilio.client, WANJIKU.e164, "ATVId_wanjiku_problem")
    await caller.dial()
    await caller.choose("Kubali")

    await caller.choose("Ripoti tatizo")
    heard = await caller.choose("Anwani si sahihi")
    assert heard.say.startswith(
        "Asante. Msimamizi atashughulikia usafirishaji huu na atakupigia. "
        "Endelea na kituo kinachofuata. Kituo 2 kati ya 3: Moi Avenue 2"
    )
    [waiting] = await gig.escalations()
    assert (waiting.order_reference, waiting.reason) == (references[0], IncidentKind.WRONG_ADDRESS)

    await caller.choose("Ripoti tatizo")
    broke_down = await caller.choose("Tatizo la gari")
    assert broke_down.say.startswith(
        "Asante. Msimamizi atashughulikia safari yako iliyobaki na atakupigia. "
        "Habari Wanjiku. Huna safari kwa sasa."
    )
    assert [(e.order_reference, e.reason) for e in await gig.escalations()] == [
        (references[0], IncidentKind.WRONG_ADDRESS),
        (references[1], IncidentKind.VEHICLE),
        (references[2], IncidentKind.VEHICLE),
    ]
    assert (await gig.task(task.id)).status is TaskStatus.COMPLETED
    await flush_outbox(services)
    alerts = [sms.message for sms in fake_at.sent_to(OPERATOR)]
    assert [a.split(".")[0] for a in alerts] == [
        "OmniRoute alert: wrong address",
        "OmniRoute alert: vehicle problem",
    ]
    assert (await gig.today(wanjiku.id)).stops == 0


async def test_waiting_silently_at_the_door_on_africas_talking_keeps_the_call(
    services: Services, twilio: TwilioWebhooks, fake_at: FakeAfricasTalking
) -> None:
    """Emeka waits for Ngozi to find her code: the prompt times out, and he is asked again
    instead of being hung up on; the code he then keys delivers the stop, paid once."""
    gig = services.gig
    emeka = await driver(services, EMEKA, "Emeka")
    placed = await order(services, NGOZI, "door-1")
    await picked_and_packed(services, placed)
    await gig.create_task(
        DeliveryRoute(
            "R-LAG-2",
            RegionCode.LAGOS,
            LAGOS_DEPOT,
            services.clock.now() + timedelta(minutes=30),
            (RouteStop(placed, NGOZI, "12 Broad Street", LAGOS_DEPOT, 2, Decimal("4.0")),),
        )
    )
    await gig.allocate()
    caller = AtCaller(twilio.client, EMEKA.e164, "ATVId_emeka_door")
    await caller.dial()
    await caller.choose("Accept")
    await flush_outbox(services)
    code = code_in(fake_at, NGOZI, placed)
    await caller.choose("Arrived")

    asked_again = await caller.stay_silent()

    assert asked_again.say.startswith(
        "We did not hear a key. Collect NGN 19,995.00 in cash. Enter the customer's 4-digit"
    )
    delivered = await caller.press(code)
    assert delivered.say.startswith("Delivered. You earned NGN ")
    assert (await gig.today(emeka.id)).stops == 1


async def arrivals(services: Services) -> int:
    """StopArrived events recorded: each tells the order's workflow the driver is at the door."""
    async with services.db.transaction() as s:
        rows = await s.execute(select(outbox.c.event_type))
        return sum(1 for (kind,) in rows if kind == StopArrived.event_type())


def told_keys(say: str, label: str) -> str:
    """The keys a prompt tells the caller to press for `label`, '#' included when it says so."""
    [choice] = [c for c in spoken_choices(say) if c.label == label]
    return choice.keys + ("#" if choice.hashed else "")


def sent_at_once(gather: dict[str, str], keys: str) -> bool:
    """Whether keying `keys` sends them at once: numDigits reached, or the finish key pressed
    (Twilio's default is '#'). Otherwise they wait for the 30 s timeout, and on Africa's
    Talking, which moves on to the Redirect then, are lost."""
    finish = gather.get("finishOnKey", "#")
    if finish and finish in keys:
        return True
    return "numDigits" in gather and len(keys) >= int(gather["numDigits"])


async def test_back_at_the_code_prompt_goes_back_at_once_as_the_prompt_says(
    services: Services, twilio: TwilioWebhooks, fake_at: FakeAfricasTalking
) -> None:
    """The code prompt waits for 4 digits: "Press 0 0 for Back" sent nothing until the 30 s
    timeout on Twilio, and on Africa's Talking the 00 was dropped for silence. The prompt now
    says to end Back with '#', which sends it at once; the code still goes without '#'."""
    gig = services.gig
    await driver(services, EMEKA, "Emeka")
    placed = await order(services, NGOZI, "back-1")
    await picked_and_packed(services, placed)
    await gig.create_task(
        DeliveryRoute(
            "R-LAG-BK",
            RegionCode.LAGOS,
            LAGOS_DEPOT,
            services.clock.now() + timedelta(minutes=30),
            (RouteStop(placed, NGOZI, "12 Broad Street", LAGOS_DEPOT, 2, Decimal("4.0")),),
        )
    )
    await gig.allocate()
    at = AtCaller(twilio.client, EMEKA.e164, "ATVId_emeka_back")
    await at.dial()
    await at.choose("Accept")
    await flush_outbox(services)
    code = code_in(fake_at, NGOZI, placed)

    asked = await at.choose("Arrived")
    getter = asked.get_digits
    assert getter is not None
    assert asked.say.endswith(
        "Enter the customer's 4-digit delivery code. Press 0 0 then hash for Back."
    )
    assert sent_at_once(dict(getter.attrib), told_keys(asked.say, "Back"))
    assert sent_at_once(dict(getter.attrib), code)  # the code goes without '#'
    back = await at.press("00")  # Africa's Talking posts the keys the '#' sent
    assert back.say.startswith("Stop 1 of 1: 12 Broad Street")

    tw = TwilioCaller(twilio, EMEKA.e164)
    asked_tw = await tw.call()  # at the door he reached: the code at once
    assert asked_tw.gather is not None
    assert asked_tw.say.endswith("Press 0 0 then hash for Back.")
    assert sent_at_once(asked_tw.gather, told_keys(asked_tw.say, "Back"))
    assert sent_at_once(asked_tw.gather, code)
    assert (await tw.choose("Back")).say.startswith("Stop 1 of 1: 12 Broad Street")


async def test_a_driver_calling_back_at_a_door_he_reached_is_asked_the_code_at_once(
    services: Services, twilio: TwilioWebhooks, fake_at: FakeAfricasTalking
) -> None:
    """Emeka pressed Arrived (Ngozi's order shows "Driver at your door"), then the call dropped.
    Calling back, he heard "Press 1 for Arrived" again. Now the call starts at the code; Back
    leads to his stop, whose first choice is the code, and his arrival is recorded once."""
    gig = services.gig
    emeka = await driver(services, EMEKA, "Emeka")
    placed = await order(services, NGOZI, "again-1")
    await picked_and_packed(services, placed)
    await gig.create_task(
        DeliveryRoute(
            "R-LAG-AG",
            RegionCode.LAGOS,
            LAGOS_DEPOT,
            services.clock.now() + timedelta(minutes=30),
            (RouteStop(placed, NGOZI, "12 Broad Street", LAGOS_DEPOT, 2, Decimal("4.0")),),
        )
    )
    await gig.allocate()
    first = AtCaller(twilio.client, EMEKA.e164, "ATVId_emeka_dropped")
    await first.dial()
    await first.choose("Accept")
    await flush_outbox(services)
    code = code_in(fake_at, NGOZI, placed)
    await first.choose("Arrived")
    await first.hang_up()  # the network drops the call

    again = AtCaller(twilio.client, EMEKA.e164, "ATVId_emeka_back_again")
    heard = await again.dial()

    assert heard.say.startswith(
        "Collect NGN 19,995.00 in cash. Enter the customer's 4-digit delivery code."
    )
    assert "Arrived" not in heard.say
    stop = await again.press("00")  # Back: his stop, the code its first choice
    assert stop.say.startswith(
        f"Stop 1 of 1: 12 Broad Street, order {' '.join(placed)}. Press 1 for Enter the code. "
        "Press 2 for Report a problem."
    )
    assert (await again.press("1")).say.startswith("Collect NGN 19,995.00 in cash.")
    assert await arrivals(services) == 1  # told to Ngozi's order once
    delivered = await again.press(code)
    assert delivered.say.startswith("Delivered. You earned NGN ")
    assert (await gig.today(emeka.id)).stops == 1


async def test_a_driver_silent_at_the_door_on_twilio_is_texted_how_to_carry_on(
    services: Services, twilio: TwilioWebhooks, fake_at: FakeAfricasTalking
) -> None:
    """Emeka waits at the door for Ngozi to find her code and says nothing: after three silent
    prompts the call ends, but he hears why, gets one SMS saying how to go on, and his stop is
    as he left it: he calls again and delivers it."""
    gig = services.gig
    emeka = await driver(services, EMEKA, "Emeka")
    placed = await order(services, NGOZI, "door-2")
    await picked_and_packed(services, placed)
    task = await gig.create_task(
        DeliveryRoute(
            "R-LAG-3",
            RegionCode.LAGOS,
            LAGOS_DEPOT,
            services.clock.now() + timedelta(minutes=30),
            (RouteStop(placed, NGOZI, "12 Broad Street", LAGOS_DEPOT, 2, Decimal("4.0")),),
        )
    )
    await gig.allocate()
    caller = TwilioCaller(twilio, EMEKA.e164)
    await caller.call()
    await caller.choose("Accept")
    await flush_outbox(services)
    code = code_in(fake_at, NGOZI, placed)
    await caller.choose("Arrived")
    before = await gig.task(task.id)

    for _ in range(2):
        assert not (await caller.stay_silent()).hangup
    goodbye = await caller.stay_silent()
    assert await caller.retry() == goodbye  # Twilio retrying: the same goodbye, one SMS

    assert goodbye.hangup
    assert goodbye.say == (
        "We heard nothing for two minutes, so this call ends now. Your stop stays as it is, "
        "and we are texting you how to carry on. Goodbye."
    )
    await flush_outbox(services)
    offer_sms, texted = fake_at.sent_to(EMEKA.e164)  # the sweeper's offer was texted first
    assert offer_sms.message.startswith(("OmniRoute: route ", "OmniRoute: safari "))
    assert texted.message == (
        "OmniRoute: call ended after 2 minutes of silence. Your route and stops are unchanged. "
        "Call the driver line again and enter the code."
    )
    assert await gig.task(task.id) == before
    assert await gig.incidents(task.id) == []

    again = TwilioCaller(twilio, EMEKA.e164)
    heard = await again.call()
    assert heard.say.startswith("Collect NGN 19,995.00 in cash. Enter the customer's 4-digit")
    delivered = await again.press(code)
    assert delivered.say.startswith("Delivered. You earned NGN ")
    assert (await gig.today(emeka.id)).stops == 1


async def test_a_driver_silent_at_the_door_on_africas_talking_is_texted_how_to_carry_on(
    services: Services, twilio: TwilioWebhooks, fake_at: FakeAfricasTalking
) -> None:
    """The same wait at the door on Africa's Talking voice: each GetDigits waits 30 s (about two
    minutes over three silent prompts), then Emeka hears why the call ends, gets one SMS on how
    to go on, and his stop is as he left it."""
    gig = services.gig
    await driver(services, EMEKA, "Emeka")
    placed = await order(services, NGOZI, "door-3")
    await picked_and_packed(services, placed)
    task = await gig.create_task(
        DeliveryRoute(
            "R-LAG-4",
            RegionCode.LAGOS,
            LAGOS_DEPOT,
            services.clock.now() + timedelta(minutes=30),
            (RouteStop(placed, NGOZI, "12 Broad Street", LAGOS_DEPOT, 2, Decimal("4.0")),),
        )
    )
    await gig.allocate()
    caller = AtCaller(twilio.client, EMEKA.e164, "ATVId_emeka_silent")
    await caller.dial()
    await caller.choose("Accept")
    await flush_outbox(services)
    await caller.choose("Arrived")
    before = await gig.task(task.id)

    waits = []
    for _ in range(2):
        getter = caller.prompt.get_digits
        assert getter is not None
        waits.append(int(getter.attrib["timeout"]))
        assert not (await caller.stay_silent()).ends_call
    getter = caller.prompt.get_digits
    assert getter is not None
    waits.append(int(getter.attrib["timeout"]))
    goodbye = await caller.stay_silent()

    assert 90 <= sum(waits) <= 120  # plus the prompts read out: about two minutes
    assert goodbye.ends_call
    assert goodbye.say == (
        "We heard nothing for two minutes, so this call ends now. Your stop stays as it is, "
        "and we are texting you how to carry on. Goodbye."
    )
    await flush_outbox(services)
    offer_sms, texted = fake_at.sent_to(EMEKA.e164)  # the sweeper's offer was texted first
    assert offer_sms.message.startswith(("OmniRoute: route ", "OmniRoute: safari "))
    assert texted.message == (
        "OmniRoute: call ended after 2 minutes of silence. Your route and stops are unchanged. "
        "Call the driver line again and enter the code."
    )
    assert await gig.task(task.id) == before


async def test_a_swahili_driver_silent_at_the_door_on_twilio_is_texted_in_swahili(
    services: Services, twilio: TwilioWebhooks, fake_at: FakeAfricasTalking
) -> None:
    """Wanjiku hears English on Twilio (it has no Swahili voice), but the SMS on how to carry
    on after a silent wait at the door is hers to read: in Swahili, as her other texts."""
    gig = services.gig
    nairobi = GeoPoint(-1.2864, 36.8172)
    await driver(services, WANJIKU, "Wanjiku", at=nairobi, region=RegionCode.NAIROBI)
    placed = await services.orders.place(
        PlaceOrder(
            customer=JUMA,
            region=RegionCode.NAIROBI,
            lines=(CartLine("NDL-INDO-CHK", 1),),
            payment_method=PaymentMethod.ON_DELIVERY,
            idempotency_key="nbo-silent-1",
        )
    )
    await gig.create_task(
        DeliveryRoute(
            "R-NBO-SILENT",
            RegionCode.NAIROBI,
            nairobi,
            services.clock.now(),
            (RouteStop(placed.reference, JUMA, "Moi Avenue 10", nairobi, 1, Decimal("3.0")),),
        )
    )
    await gig.allocate()
    caller = TwilioCaller(twilio, WANJIKU.e164)
    assert (await caller.call()).say.startswith("New route")  # English on Twilio
    await caller.choose("Accept")
    await caller.choose("Arrived")
    for _ in range(2):
        await caller.stay_silent()
    goodbye = await caller.stay_silent()

    assert goodbye.hangup
    assert goodbye.say.startswith("We heard nothing for two minutes")
    await flush_outbox(services)
    offer_sms, texted = fake_at.sent_to(WANJIKU.e164)  # the sweeper's offer was texted first
    assert offer_sms.message.startswith(("OmniRoute: route ", "OmniRoute: safari "))
    assert texted.message == (
        "OmniRoute: simu imekatika baada ya dakika 2 za kimya. Safari na vituo vyako "
        "havijabadilika. Piga laini ya madereva tena, weka namba."
    )


async def test_a_driver_with_no_route_silent_on_the_line_is_not_texted_about_a_stop(
    services: Services, twilio: TwilioWebhooks, fake_at: FakeAfricasTalking
) -> None:
    """Emeka, with no route, calls and leaves the phone: the call ends with a plain goodbye.
    He is not told his stop stays as it is, nor texted to press Arrived and enter a code: he
    has no stop. Nor when he calls again and is silent while a route is offered to him."""
    await driver(services, EMEKA, "Emeka")
    caller = AtCaller(twilio.client, EMEKA.e164, "ATVId_emeka_idle")
    heard = await caller.dial()
    assert heard.say.startswith("Hello Emeka. No deliveries for you right now.")
    for _ in range(2):
        assert not (await caller.stay_silent()).ends_call
    goodbye = await caller.stay_silent()

    assert goodbye.ends_call
    assert goodbye.say == "We did not hear anything. Goodbye."

    placed = await order(services, NGOZI, "idle-offer-1")
    await services.gig.create_task(
        route("R-LAG-IDLE", [(placed, NGOZI, "12 Broad Street")], services=services)
    )
    again = TwilioCaller(twilio, EMEKA.e164)
    assert (await again.call()).say.startswith("New route")
    for _ in range(2):
        assert not (await again.stay_silent()).hangup
    hung_up = await again.stay_silent()

    assert hung_up.hangup
    assert hung_up.say == "We did not hear anything. Goodbye."
    await flush_outbox(services)
    assert fake_at.sent_to(EMEKA.e164) == []


async def test_a_driver_whose_papers_are_not_in_hears_why_no_route_comes(
    services: Services, twilio: TwilioWebhooks
) -> None:
    """Emeka is registered with a motorbike but only his ID is in: no route can be offered to
    him until his driving licence is. He hears that, not 'No deliveries for you right now'
    for ever. Once it is in, he is offered nothing while he is on no shift: he hears that too,
    and when his shift starts later today; on shift, he hears the usual screen."""
    gig = services.gig
    emeka = await gig.onboard(
        Onboard(
            EMEKA,
            "Emeka",
            "NIN12345678",
            RegionCode.LAGOS,
            Vehicle(VehicleKind.MOTORBIKE, "LAG-123-XY", 40),
        )
    )
    await gig.upload_document(emeka.id, DocumentKind.NATIONAL_ID, b"%PDF-1.4", "application/pdf")

    heard = await AtCaller(twilio.client, EMEKA.e164, "ATVId_emeka_papers").dial()

    assert heard.say.startswith(
        "Hello Emeka. No route can be offered to you until your papers are in: driving licence."
    )
    await gig.upload_document(
        emeka.id, DocumentKind.DRIVING_LICENCE, b"%PDF-1.4", "application/pdf"
    )
    again = await AtCaller(twilio.client, EMEKA.e164, "ATVId_emeka_papers_in").dial()
    assert again.say.startswith(
        "Hello Emeka. You are not on shift now, so no route can be offered to you. "
        "Press 1 for Check again."
    )
    now = services.clock.now()
    await gig.add_shift(emeka.id, now + timedelta(hours=2), now + timedelta(hours=10))
    later = await AtCaller(twilio.client, EMEKA.e164, "ATVId_emeka_shift_later").dial()
    starts = f"{(now + timedelta(hours=2)).astimezone(ZoneInfo('Africa/Lagos')):%H:%M}"
    assert later.say.startswith(
        "Hello Emeka. You are not on shift now, so no route can be offered to you. "
        f"Your shift starts at {starts}."
    )
    await gig.add_shift(emeka.id, now - timedelta(hours=1), now + timedelta(hours=1))
    on_shift = await AtCaller(twilio.client, EMEKA.e164, "ATVId_emeka_on_shift").dial()
    assert on_shift.say.startswith("Hello Emeka. No deliveries for you right now.")


async def test_a_shopper_calling_still_reaches_the_shop(
    services: Services, twilio: TwilioWebhooks
) -> None:
    await driver(services, EMEKA, "Emeka")
    heard = await TwilioCaller(twilio, NGOZI.e164).call()
    assert heard.say.startswith("Welcome to OmniRoute.")


async def test_the_demo_warehouse_and_drivers_are_ready_after_seeding(
    services: Services, twilio: TwilioWebhooks, clock: SteppedClock
) -> None:
    """Seeded at 10:00 in Lagos, the demo drivers are on shift at once, and they work every
    day after it, 06:00-20:00 in their region's time: not once from seeding."""
    now = services.clock.now()
    assert await load_distribution_demo(services.db, now) > 0
    assert await load_distribution_demo(services.db, now) == 0  # idempotent
    bins = await services.warehouse.stock("WH-LAGOS", "NDL-INDO-CHK")
    assert sum(b.quantity for b in bins) == await services.catalogue.available(
        RegionCode.LAGOS, "NDL-INDO-CHK"
    )
    heard = await TwilioCaller(twilio, "+2348035550001").call()
    assert heard.say.startswith("Hello Emeka Okafor. No deliveries for you right now.")
    swahili = await AtCaller(twilio.client, "+254722555001", "ATVId_demo").dial()
    assert swahili.say.startswith("Habari Wanjiku Kamau. Huna safari kwa sasa.")

    clock.advance(timedelta(days=1).total_seconds())  # the next day, 10:00 in Lagos
    next_day = await AtCaller(twilio.client, "+2348035550001", "ATVId_demo_day").dial()
    assert next_day.say.startswith("Hello Emeka Okafor. No deliveries for you right now.")
    clock.advance(timedelta(days=6, hours=-3, minutes=-30).total_seconds())  # 06:30, a week on
    next_week = await AtCaller(twilio.client, "+2348035550001", "ATVId_demo_week").dial()
    assert next_week.say.startswith("Hello Emeka Okafor. No deliveries for you right now.")
    clock.advance(timedelta(hours=14).total_seconds())  # 20:30: his day is over
    evening = await AtCaller(twilio.client, "+2348035550001", "ATVId_demo_evening").dial()
    assert evening.say.startswith("Hello Emeka Okafor. You are not on shift now")


async def test_a_cancelled_order_comes_off_the_route_before_and_while_it_is_driven(
    services: Services, twilio: TwilioWebhooks, fake_at: FakeAfricasTalking
) -> None:
    gig = services.gig
    emeka = await driver(services, EMEKA, "Emeka", at=GeoPoint(6.60, 3.50))
    first = await order(services, NGOZI, "cancel-1")
    second = await order(services, CHIDI, "cancel-2")
    third = await order(services, WALE, "cancel-3")  # not packed yet when the route is taken
    await picked_and_packed(services, first, second)
    task = await gig.create_task(
        route(
            "R-LAG-CANCEL",
            [
                (first, NGOZI, "12 Broad Street"),
                (second, CHIDI, "4 Marina Road"),
                (third, WALE, "9 Allen Avenue"),
            ],
            services=services,
        )
    )
    await gig.allocate()

    # Chidi cancels before anyone takes the route: his stop comes off it, once.
    await services.orders.advance(second, OrderStatus.CANCELLED, reason="customer")
    await services.relay.drain()
    assert await gig.drop_order(second) is None  # the event redelivered changes nothing
    assert [s.order_reference for s in (await gig.task(task.id)).stops] == [first, third]

    emeka_at = AtCaller(twilio.client, EMEKA.e164, "ATVId_emeka_cancel")
    offered = await emeka_at.dial()
    assert offered.say.startswith(f"New route {' '.join(task.reference)}: 2 stops")
    taken = await emeka_at.press("1")
    assert f"Stop 1 of 3: 12 Broad Street, order {' '.join(first)}." in taken.say
    await flush_outbox(services)
    assert not [s for s in fake_at.sent_to(CHIDI.e164) if "delivery code" in s.message]
    code_1 = code_in(fake_at, NGOZI, first)

    # Wale cancels while Emeka is on the road: Emeka is told, and does not drive there.
    await services.orders.advance(third, OrderStatus.CANCELLED, reason="customer")
    await services.relay.drain()
    await flush_outbox(services)
    offer_sms, told = fake_at.sent_to(EMEKA.e164)  # the sweeper's offer was texted first
    assert offer_sms.message.startswith(("OmniRoute: route ", "OmniRoute: safari "))
    assert told.message == (
        f"OmniRoute: order {third} was cancelled. Skip stop 3 on route {task.reference}"
        " (9 Allen Avenue): do not deliver it."
    )
    await emeka_at.choose("Arrived")
    finished = await emeka_at.press(code_1)
    assert finished.say.startswith("Delivered. You earned NGN 2,420.00. Route finished, bonus")
    assert (await gig.task(task.id)).status is TaskStatus.COMPLETED
    today = await gig.today(emeka.id)
    assert today.stops == 1  # paid for Ngozi's door only
    assert today.total.format() == "NGN 2,420.00"


async def test_a_route_whose_every_order_is_cancelled_is_withdrawn_and_its_driver_told(
    services: Services, twilio: TwilioWebhooks, fake_at: FakeAfricasTalking
) -> None:
    gig = services.gig
    await driver(services, EMEKA, "Emeka", at=GeoPoint(6.60, 3.50))
    only = await order(services, NGOZI, "withdrawn-1")
    task = await gig.create_task(
        route("R-LAG-GONE", [(only, NGOZI, "12 Broad Street")], services=services)
    )
    [_offer] = await gig.allocate()

    await services.orders.advance(only, OrderStatus.CANCELLED, reason="customer")
    await services.relay.drain()
    assert (await gig.task(task.id)).status is TaskStatus.CANCELLED
    assert [o.status.value for o in await gig.offers(task.id)] == ["expired"]
    await flush_outbox(services)
    offer_sms, told = fake_at.sent_to(EMEKA.e164)  # the sweeper's offer was texted first
    assert offer_sms.message.startswith(("OmniRoute: route ", "OmniRoute: safari "))
    assert told.message.startswith(f"OmniRoute: route {task.reference} is cancelled")
    heard = await AtCaller(twilio.client, EMEKA.e164, "ATVId_emeka_gone").dial()
    assert "No deliveries for you right now." in heard.say
    assert not [s for s in fake_at.sent_to(NGOZI.e164) if "delivery code" in s.message]


async def test_a_code_keyed_at_a_door_whose_order_was_just_cancelled_costs_the_next_no_try(
    services: Services, twilio: TwilioWebhooks, fake_at: FakeAfricasTalking
) -> None:
    gig = services.gig
    await driver(services, EMEKA, "Emeka", at=GeoPoint(6.60, 3.50))
    first = await order(services, NGOZI, "door-1")  # not packed yet when the route is taken
    second = await order(services, CHIDI, "door-2")
    await picked_and_packed(services, second)
    task = await gig.create_task(
        route(
            "R-LAG-DOOR",
            [(first, NGOZI, "12 Broad Street"), (second, CHIDI, "4 Marina Road")],
            services=services,
        )
    )
    await gig.allocate()
    emeka = AtCaller(twilio.client, EMEKA.e164, "ATVId_emeka_door")
    await emeka.dial()
    await emeka.press("1")
    await flush_outbox(services)
    code_1 = code_in(fake_at, NGOZI, first)
    asked = await emeka.choose("Arrived")
    assert "Enter the customer's 4-digit delivery code" in asked.say

    # Ngozi cancels while Emeka is at her door; he keys the code she read out anyway.
    await services.orders.advance(first, OrderStatus.CANCELLED, reason="customer")
    await services.relay.drain()
    heard = await emeka.press(code_1)

    assert heard.say.startswith(
        f"Order {' '.join(first)} was cancelled: do not deliver it. "
        f"Stop 2 of 2: 4 Marina Road, order {' '.join(second)}."
    )
    [stop] = (await gig.task(task.id)).stops
    assert stop.code_attempts == 0  # Chidi's code still has its three tries


async def test_a_code_keyed_at_the_last_door_whose_order_was_just_cancelled_says_so(
    services: Services, twilio: TwilioWebhooks, fake_at: FakeAfricasTalking
) -> None:
    """Chidi's is Emeka's last door, and Chidi cancels while Emeka is there: the route finishes
    under him. The code he keys gets 'Order … was cancelled: do not deliver it', not a bare
    'No deliveries for you right now' that leaves him wondering what became of the goods."""
    gig = services.gig
    await driver(services, EMEKA, "Emeka", at=GeoPoint(6.60, 3.50))
    first = await order(services, NGOZI, "last-door-1")
    second = await order(services, CHIDI, "last-door-2")  # not packed yet when the route is taken
    await picked_and_packed(services, first)
    task = await gig.create_task(
        route(
            "R-LAG-LAST",
            [(first, NGOZI, "12 Broad Street"), (second, CHIDI, "4 Marina Road")],
            services=services,
        )
    )
    await gig.allocate()
    emeka = AtCaller(twilio.client, EMEKA.e164, "ATVId_emeka_last_door")
    await emeka.dial()
    await emeka.choose("Accept")
    await flush_outbox(services)
    await emeka.choose("Arrived")
    await emeka.press(code_in(fake_at, NGOZI, first))
    code_2 = code_in(fake_at, CHIDI, second)
    await emeka.choose("Arrived")

    await services.orders.advance(second, OrderStatus.CANCELLED, reason="customer")
    await services.relay.drain()
    heard = await emeka.press(code_2)

    assert heard.say.startswith(
        f"Order {' '.join(second)} was cancelled: do not deliver it. "
        "Hello Emeka. No deliveries for you right now."
    )
    assert (await gig.task(task.id)).status is TaskStatus.COMPLETED


async def test_arriving_after_the_door_he_was_sent_to_was_cancelled_marks_no_other_door(
    services: Services, twilio: TwilioWebhooks, fake_at: FakeAfricasTalking
) -> None:
    gig = services.gig
    await driver(services, EMEKA, "Emeka", at=GeoPoint(6.60, 3.50))
    first = await order(services, NGOZI, "sent-1")  # not packed yet when the route is taken
    second = await order(services, CHIDI, "sent-2")
    await picked_and_packed(services, second)
    task = await gig.create_task(
        route(
            "R-LAG-SENT",
            [(first, NGOZI, "12 Broad Street"), (second, CHIDI, "4 Marina Road")],
            services=services,
        )
    )
    await gig.allocate()
    emeka = AtCaller(twilio.client, EMEKA.e164, "ATVId_emeka_sent")
    await emeka.dial()
    taken = await emeka.press("1")
    assert "Stop 1 of 2: 12 Broad Street" in taken.say

    # Ngozi cancels while Emeka rides to her; he gets there and presses Arrived.
    await services.orders.advance(first, OrderStatus.CANCELLED, reason="customer")
    await services.relay.drain()
    heard = await emeka.choose("Arrived")

    assert heard.say.startswith(
        f"Order {' '.join(first)} was cancelled: do not deliver it. "
        f"Stop 2 of 2: 4 Marina Road, order {' '.join(second)}."
    )
    [stop] = (await gig.task(task.id)).stops
    assert stop.status.value == "pending"  # Chidi's door is not marked reached


async def test_a_door_he_proved_in_his_app_meanwhile_costs_the_next_door_nothing_on_the_ivr(
    services: Services, twilio: TwilioWebhooks, fake_at: FakeAfricasTalking
) -> None:
    """Emeka is at Ngozi's door on the IVR and proves it in his app (the IVR still waits for
    her code). The code he then keys on the IVR was tried on Chidi's door: 'Wrong code. 2 tries
    left', a try of Chidi's spent. At Chidi's stop, proved in the app too, Arrived on the IVR
    marked Wale's door reached. Both now say that door is closed and read the next stop."""
    gig = services.gig
    emeka = await driver(services, EMEKA, "Emeka", at=GeoPoint(6.60, 3.50))
    doors = [
        (await order(services, NGOZI, "app-1"), NGOZI, "12 Broad Street"),
        (await order(services, CHIDI, "app-2"), CHIDI, "4 Marina Road"),
        (await order(services, WALE, "app-3"), WALE, "7 Awolowo Road"),
    ]
    await picked_and_packed(services, *(reference for reference, _, _ in doors))
    task = await gig.create_task(route("R-LAG-APP", doors, services=services))
    await gig.allocate()
    at = AtCaller(twilio.client, EMEKA.e164, "ATVId_emeka_app")
    await at.dial()
    await at.choose("Accept")
    await flush_outbox(services)
    first, second, third = (code_in(fake_at, phone, ref) for ref, phone, _ in doors)
    await at.choose("Arrived")

    await gig.confirm_delivery(task.id, emeka.id, first, position=1)  # his app
    heard = await at.press(first)

    assert heard.say.startswith("Stop 1 is already closed. Stop 2 of 3: 4 Marina Road")
    assert [s.code_attempts for s in (await gig.task(task.id)).stops] == [0, 0, 0]

    await gig.confirm_delivery(task.id, emeka.id, second, position=2)  # his app
    arrived = await at.choose("Arrived")

    assert arrived.say.startswith("Stop 2 is already closed. Stop 3 of 3: 7 Awolowo Road")
    assert (await gig.task(task.id)).stops[2].status is StopStatus.PENDING
    assert await arrivals(services) == 1  # Ngozi's only: Wale's order shows no driver there
    assert (await at.choose("Arrived")).say.startswith("Collect ")
    delivered = await at.press(third)
    assert delivered.say.startswith("Delivered. You earned ")
    assert (await gig.today(emeka.id)).stops == 3


async def test_an_order_cancelled_as_the_route_is_taken_gets_no_delivery_code(
    services: Services, fake_at: FakeAfricasTalking
) -> None:
    """Chidi cancelled a moment before Emeka took the route, and the cancellation was
    processed after: his stop came off the route, yet the code SMS queued at accept went out,
    for goods that will never come. Now it is withdrawn; Ngozi still gets hers. (The codes are
    queued in the acceptance's transaction, so a cancellation is processed before or after
    them, never in between.)"""
    await services.sweeper.stop()  # the test offers the route itself
    await services.delivery.stop()  # and sends the outbox itself
    emeka = await driver(services, EMEKA, "Emeka")
    stops = []
    for i, customer in enumerate((NGOZI, CHIDI)):
        reference = await order(services, customer, f"code-race-{i}")
        for status in (OrderStatus.CONFIRMED, OrderStatus.PICKING, OrderStatus.PACKED):
            await services.orders.advance(reference, status)
        stops.append((reference, customer, f"{i + 1} Broad Street"))
    task = await services.gig.create_task(route("R-race", stops, services=services))
    [offer] = await services.gig.allocate()
    assert offer.worker_id == emeka.id
    first, second = (s.order_reference for s in task.stops)

    await services.orders.advance(second, OrderStatus.CANCELLED, reason="customer")
    await services.gig.accept(offer.id)  # before the cancellation is processed
    await flush_outbox(services)  # the cancellation, then the outbox sends what is queued

    assert [s.order_reference for s in (await services.gig.task(task.id)).stops] == [first]
    code_in(fake_at, NGOZI, first)  # hers, once
    assert [s.message for s in fake_at.sent_to(CHIDI.e164) if "code" in s.message] == []


async def test_a_failed_withdrawal_of_a_cancelled_orders_code_is_redone_and_the_code_never_sent(
    services: Services, fake_at: FakeAfricasTalking, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Chidi cancelled a moment before Emeka took the route, so his code was queued. As the
    cancellation takes his stop off, withdrawing the code fails (a database blip): the stop
    stayed off and the code went out for goods that will never come. Now the stop stays on,
    the redelivered cancellation takes it off and withdraws the code, and Chidi never gets it."""
    await services.sweeper.stop()
    await services.delivery.stop()
    emeka = await driver(services, EMEKA, "Emeka")
    stops = []
    for i, customer in enumerate((NGOZI, CHIDI)):
        reference = await order(services, customer, f"code-withdraw-{i}")
        for status in (OrderStatus.CONFIRMED, OrderStatus.PICKING, OrderStatus.PACKED):
            await services.orders.advance(reference, status)
        stops.append((reference, customer, f"{i + 1} Broad Street"))
    task = await services.gig.create_task(route("R-withdraw", stops, services=services))
    [offer] = await services.gig.allocate()
    assert offer.worker_id == emeka.id
    first, second = (s.order_reference for s in task.stops)
    await services.orders.advance(second, OrderStatus.CANCELLED, reason="customer")
    await services.gig.accept(offer.id)  # before the cancellation is processed
    withdraw_in = services.notifications.withdraw_in
    failed: list[str] = []

    async def failing_once(s: Any, prefix: str, reason: str) -> int:
        if not failed:
            failed.append(prefix)
            raise ConnectionResetError("connection reset by peer")
        return await withdraw_in(s, prefix, reason)

    monkeypatch.setattr(services.notifications, "withdraw_in", failing_once)
    with pytest.raises(ConnectionResetError):
        await services.gig.drop_order(second)  # the cancellation's first delivery
    assert failed
    await flush_outbox(services)  # redelivered, then the outbox sends what is queued

    assert [s.order_reference for s in (await services.gig.task(task.id)).stops] == [first]
    code_in(fake_at, NGOZI, first)
    assert [s.message for s in fake_at.sent_to(CHIDI.e164) if "code" in s.message] == []
