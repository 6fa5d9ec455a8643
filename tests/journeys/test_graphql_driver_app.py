"""The drivers' app does what a driver can do on the IVR: decline an offer, say he is at the
door, report a problem at a stop, read what he earned — through the same GigService calls, and
each driver only on his own tasks."""

from __future__ import annotations

from typing import Any

import pytest
from aiohttp.test_utils import TestClient
from sqlalchemy import event, insert, select, update

from core.app.bootstrap import Services
from core.bus.tables import outbox
from core.clock import SteppedClock
from core.config import Settings
from core.gsm7 import gsm7_length
from core.money import Money
from core.phone import Phone
from core.region import RegionCode, local_date
from engines.customers.tables import customers
from engines.gig import OfferStatus, StopStatus, TaskStatus, Worker, WorkerStatus
from engines.gig.events import StopArrived
from engines.gig.tables import gig_workers
from engines.orders import OrderStatus
from tests.journeys.test_graphql_driver import (
    ACCEPT,
    CONFIRM,
    ESCALATIONS,
    RESOLVE,
    TASKS,
    code_of,
    offered_to_emeka,
    packed,
)
from tests.support.gig import BAYO, CHIDI, EMEKA, NGOZI, code_for, driver, order, route
from tests.support.graphql import bearer, post_graphql
from tests.support.providers.africastalking import flush_outbox

OPERATOR = Phone("+2348039990000")


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """An operator on call: the drivers' problems are texted to this phone."""
    return settings.model_copy(update={"operator_phone": OPERATOR.e164})


async def operator_texts(services: Services) -> list[str]:
    found = []
    for delivery in await services.notifications.for_recipient(OPERATOR):
        reply = delivery.payload["reply"]
        assert isinstance(reply, dict)
        found.append(str(reply["text"]))
    return found


DECLINE = """mutation($t: String!) {
  declineTask(task: $t) {
    task already
    errors { __typename ... on UserError { message } ... on TaskNotFound { task } }
  }
}"""


async def test_a_declined_offer_goes_to_the_next_driver_and_declining_again_is_harmless(
    client: TestClient[Any, Any], services: Services
) -> None:
    _, task = await offered_to_emeka(services, NGOZI)
    emeka = bearer(services.settings, EMEKA.e164, "driver")
    bayo = bearer(services.settings, BAYO.e164, "driver")

    # Bayo was never offered it: answered word for word as a reference no task has.
    _, theirs = await post_graphql(client, DECLINE, {"t": task.reference}, bayo)
    _, nothing = await post_graphql(client, DECLINE, {"t": "NOPE01"}, bayo)
    assert theirs["data"]["declineTask"]["errors"][0]["__typename"] == "TaskNotFound"
    assert theirs["data"]["declineTask"]["errors"][0]["message"] == f"no task {task.reference}"
    assert nothing["data"]["declineTask"]["errors"][0]["message"] == "no task NOPE01"
    _, still = await post_graphql(client, TASKS, None, emeka)
    assert [t["status"] for t in still["data"]["tasks"]] == ["OFFERED"]

    _, body = await post_graphql(client, DECLINE, {"t": task.reference.lower()}, emeka)
    assert body["data"]["declineTask"] == {
        "task": task.reference,
        "already": False,
        "errors": [],
    }
    # As pressing 2 on the IVR: offered to the next driver at once, no longer to Emeka.
    _, mine = await post_graphql(client, TASKS, None, emeka)
    assert mine["data"]["tasks"] == []
    _, next_driver = await post_graphql(client, TASKS, None, bayo)
    assert [t["reference"] for t in next_driver["data"]["tasks"]] == [task.reference]

    _, again = await post_graphql(client, DECLINE, {"t": task.reference}, emeka)
    assert again["data"]["declineTask"] == {"task": task.reference, "already": True, "errors": []}
    offers = await services.gig.offers(task.id)
    assert sorted(o.status for o in offers) == [OfferStatus.DECLINED, OfferStatus.OPEN]
    _, taken = await post_graphql(client, ACCEPT, {"t": task.reference}, bayo)
    assert taken["data"]["acceptTask"]["errors"] == []
    # Taken by Bayo: he cannot decline a route he drives (he calls the operator instead).
    _, refused = await post_graphql(client, DECLINE, {"t": task.reference}, bayo)
    assert refused["data"]["declineTask"]["errors"][0]["__typename"] == "NotOfferedToYou"
    assert (await services.gig.task(task.id)).status is TaskStatus.ASSIGNED


DECLINE_WHY = """mutation($t: String!) {
  declineTask(task: $t) {
    task already
    errors {
      __typename
      ... on UserError { message }
      ... on TaskNotInProgress { task status }
    }
  }
}"""


async def test_declining_a_route_taken_then_expired_or_cancelled_says_what_became_of_it(
    client: TestClient[Any, Any], services: Services, clock: SteppedClock
) -> None:
    """Emeka took a route and never set out: once its day is over it expires. Another he took
    lost every order. Declining either is not answered "it is yours to drive"."""
    _, task = await offered_to_emeka(services, NGOZI)
    emeka = bearer(services.settings, EMEKA.e164, "driver")
    _, body = await post_graphql(client, ACCEPT, {"t": task.reference}, emeka)
    assert body["data"]["acceptTask"]["errors"] == []
    _, body = await post_graphql(client, DECLINE_WHY, {"t": task.reference}, emeka)
    [taken] = body["data"]["declineTask"]["errors"]
    assert (taken["__typename"], taken["message"]) == (
        "NotOfferedToYou",
        f"you took {task.reference}: it is yours to drive",
    )

    clock.advance(24 * 3600)
    [expired] = await services.gig.expire_stale_tasks()
    assert expired.status is TaskStatus.EXPIRED
    _, body = await post_graphql(client, DECLINE_WHY, {"t": task.reference}, emeka)
    assert body["data"]["declineTask"] == {
        "task": None,
        "already": False,
        "errors": [
            {
                "__typename": "TaskNotInProgress",
                "message": f"{task.reference} expired when its day ended: nobody drives it now",
                "task": task.reference,
                "status": "EXPIRED",
            }
        ],
    }

    emeka_worker = await driver(services, EMEKA, "Emeka")  # on shift again today
    gone = await order(services, CHIDI, "decline-gone")
    await packed(services, gone)
    other = await services.gig.create_task(
        route("R-gone", [(gone, CHIDI, "4 Marina Road")], services=services)
    )
    [offer] = await services.gig.allocate()
    assert offer.worker_id == emeka_worker.id
    _, body = await post_graphql(client, ACCEPT, {"t": other.reference}, emeka)
    assert body["data"]["acceptTask"]["errors"] == []
    await services.orders.advance(gone, OrderStatus.RETURNED, reason="customer refused")
    await services.relay.drain()
    assert (await services.gig.task(other.id)).status is TaskStatus.CANCELLED
    _, body = await post_graphql(client, DECLINE_WHY, {"t": other.reference}, emeka)
    [cancelled] = body["data"]["declineTask"]["errors"]
    assert cancelled == {
        "__typename": "TaskNotInProgress",
        "message": f"{other.reference} was cancelled: no order is left on it",
        "task": other.reference,
        "status": "CANCELLED",
    }

    done, _pay = await a_route_driven(services, emeka_worker, "decline-done")
    _, body = await post_graphql(client, DECLINE_WHY, {"t": done}, emeka)
    [finished] = body["data"]["declineTask"]["errors"]
    assert (finished["message"], finished["status"]) == (
        f"you drove {done}: it is finished",
        "COMPLETED",
    )


ARRIVE = """mutation($t: String!, $o: String) {
  arriveAtStop(task: $t, order: $o) {
    task { status stops { orderReference status } }
    stop { position orderReference status }
    errors {
      __typename
      ... on UserError { message }
      ... on WrongStop { order nextOrder }
      ... on TaskNotInProgress { status }
    }
  }
}"""


async def arrivals(services: Services) -> int:
    """StopArrived events recorded: each tells the order's workflow the driver is at the door
    (My orders then shows "Driver at your door")."""
    async with services.db.transaction() as s:
        rows = await s.execute(select(outbox.c.event_type))
        return sum(1 for (kind,) in rows if kind == StopArrived.event_type())


async def test_a_driver_says_he_is_at_the_door_once_and_only_at_his_next_stop(
    client: TestClient[Any, Any], services: Services
) -> None:
    _, task = await offered_to_emeka(services, NGOZI, CHIDI)
    first, second = (s.order_reference for s in task.stops)
    emeka = bearer(services.settings, EMEKA.e164, "driver")
    bayo = bearer(services.settings, BAYO.e164, "driver")

    _, early = await post_graphql(client, ARRIVE, {"t": task.reference}, emeka)
    [not_yet] = early["data"]["arriveAtStop"]["errors"]
    assert not_yet["__typename"] == "TaskNotInProgress"
    assert not_yet["status"] == "OFFERED"
    _, body = await post_graphql(client, ACCEPT, {"t": task.reference}, emeka)
    assert body["data"]["acceptTask"]["errors"] == []

    _, skipped = await post_graphql(client, ARRIVE, {"t": task.reference, "o": second}, emeka)
    assert skipped["data"]["arriveAtStop"]["errors"] == [
        {
            "__typename": "WrongStop",
            "message": f"the next stop is order {first}",
            "order": second,
            "nextOrder": first,
        }
    ]
    _, theirs = await post_graphql(client, ARRIVE, {"t": task.reference}, bayo)
    assert theirs["data"]["arriveAtStop"]["errors"][0]["message"] == f"no task {task.reference}"
    assert await arrivals(services) == 0

    for _ in range(2):  # a retried mutation: the customer's order is told once
        _, body = await post_graphql(client, ARRIVE, {"t": task.reference, "o": first}, emeka)
        arrived = body["data"]["arriveAtStop"]
        assert arrived["errors"] == []
        assert arrived["stop"] == {"position": 1, "orderReference": first, "status": "ARRIVED"}
        assert [s["status"] for s in arrived["task"]["stops"]] == ["ARRIVED", "PENDING"]
    assert await arrivals(services) == 1

    code = await code_for(services, NGOZI, first)
    _, body = await post_graphql(client, CONFIRM, {"t": task.reference, "c": code}, emeka)
    assert body["data"]["confirmDelivery"]["stop"]["status"] == "DELIVERED"
    _, next_door = await post_graphql(client, ARRIVE, {"t": task.reference}, emeka)
    assert next_door["data"]["arriveAtStop"]["stop"]["orderReference"] == second
    stops = (await services.gig.task(task.id)).stops
    assert [s.status for s in stops] == [StopStatus.DELIVERED, StopStatus.ARRIVED]


REPORT = """mutation($t: String!, $r: DriverProblem!, $o: String) {
  reportProblem(task: $t, reason: $r, order: $o) {
    stop { orderReference status }
    reason reportedAt already
    errors {
      __typename
      ... on UserError { message }
      ... on WrongStop { nextOrder }
      ... on ProblemAlreadyReported { order reason reportedAt }
    }
  }
}"""


async def test_a_problem_at_a_stop_hands_it_to_an_operator_once_and_the_driver_goes_on(
    client: TestClient[Any, Any], services: Services
) -> None:
    """Ngozi is not in: Emeka reports it, the operator is texted once and has the delivery
    (`escalations`, then `resolveDelivery`), and Emeka's next door is Chidi's."""
    _, task = await offered_to_emeka(services, NGOZI, CHIDI)
    first, second = (s.order_reference for s in task.stops)
    emeka = bearer(services.settings, EMEKA.e164, "driver")
    bayo = bearer(services.settings, BAYO.e164, "driver")
    operator = bearer(services.settings, "ops-1", "operator")
    _, body = await post_graphql(client, ACCEPT, {"t": task.reference}, emeka)
    assert body["data"]["acceptTask"]["errors"] == []

    absent = {"t": task.reference, "r": "CUSTOMER_ABSENT"}
    _, theirs = await post_graphql(client, REPORT, absent, bayo)
    assert theirs["data"]["reportProblem"]["errors"][0]["message"] == f"no task {task.reference}"
    _, ahead = await post_graphql(client, REPORT, {**absent, "o": second}, emeka)
    assert ahead["data"]["reportProblem"]["errors"][0]["nextOrder"] == first
    _, made_up = await post_graphql(client, REPORT, {**absent, "r": "REFUSED"}, emeka)
    assert made_up["data"] is None
    assert "REFUSED" in made_up["errors"][0]["message"]
    assert await operator_texts(services) == []

    _, body = await post_graphql(client, REPORT, {**absent, "o": first}, emeka)
    reported = body["data"]["reportProblem"]
    assert reported["errors"] == []
    assert reported["stop"] == {"orderReference": first, "status": "ESCALATED"}
    assert reported["reason"] == "CUSTOMER_ABSENT"
    assert reported["already"] is False
    [told] = await operator_texts(services)
    assert "Emeka" in told
    assert task.reference in told
    # The operator has it, as after three wrong codes.
    _, body = await post_graphql(client, ESCALATIONS, None, operator)
    assert [(e["orderReference"], e["reason"]) for e in body["data"]["escalations"]] == [
        (first, "CUSTOMER_ABSENT")
    ]

    # The answer was lost and the app sends it again: the operator is not texted twice.
    _, body = await post_graphql(client, REPORT, {**absent, "o": first}, emeka)
    again = body["data"]["reportProblem"]
    assert again["already"] is True
    assert again["reportedAt"] == reported["reportedAt"]
    assert again["stop"] == {"orderReference": first, "status": "ESCALATED"}
    _, body = await post_graphql(client, REPORT, {**absent, "o": first, "r": "OTHER"}, emeka)
    assert body["data"]["reportProblem"]["errors"] == [
        {
            "__typename": "ProblemAlreadyReported",
            "message": "customer_absent was reported at this stop already",
            "order": first,
            "reason": "CUSTOMER_ABSENT",
            "reportedAt": reported["reportedAt"],
        }
    ]
    assert await services.gig.incidents(task.id) == ["customer_absent"]
    assert len(await operator_texts(services)) == 1

    # He goes on: Chidi's door is the next one, and it can be proved.
    _, body = await post_graphql(client, ARRIVE, {"t": task.reference}, emeka)
    assert body["data"]["arriveAtStop"]["stop"]["orderReference"] == second
    code = await code_for(services, CHIDI, second)
    _, body = await post_graphql(client, CONFIRM, {"t": task.reference, "c": code}, emeka)
    proved = body["data"]["confirmDelivery"]
    assert (proved["errors"], proved["taskCompleted"]) == ([], True)
    assert (await services.gig.task(task.id)).status is TaskStatus.COMPLETED

    _, body = await post_graphql(client, RESOLVE, {"o": first, "r": "RETURNED"}, operator)
    assert body["data"]["resolveDelivery"]["errors"] == []
    assert (await services.orders.get(first)).status is OrderStatus.RETURNED


async def test_a_vehicle_problem_hands_the_rest_of_the_route_to_an_operator(
    client: TestClient[Any, Any], services: Services
) -> None:
    """The van breaks down at Ngozi's door: both open doors go to the operator in one SMS,
    the route closes without its bonus and Emeka is free."""
    emeka_worker, task = await offered_to_emeka(services, NGOZI, CHIDI)
    first, second = (s.order_reference for s in task.stops)
    emeka = bearer(services.settings, EMEKA.e164, "driver")
    operator = bearer(services.settings, "ops-1", "operator")
    _, body = await post_graphql(client, ACCEPT, {"t": task.reference}, emeka)
    assert body["data"]["acceptTask"]["errors"] == []

    vehicle = {"t": task.reference, "r": "VEHICLE", "o": first}
    _, body = await post_graphql(client, REPORT, vehicle, emeka)
    reported = body["data"]["reportProblem"]
    assert (reported["errors"], reported["already"]) == ([], False)
    assert reported["stop"] == {"orderReference": first, "status": "ESCALATED"}
    [told] = await operator_texts(services)
    assert told.startswith("OmniRoute alert: vehicle problem. Driver Emeka")
    # both orders, for `deliveries resolve`, in one SMS
    assert told.endswith(f" Orders: {first}, {second}.")
    assert gsm7_length(told) <= 160
    _, body = await post_graphql(client, ESCALATIONS, None, operator)
    assert [(e["orderReference"], e["reason"]) for e in body["data"]["escalations"]] == [
        (first, "VEHICLE"),
        (second, "VEHICLE"),
    ]
    after = await services.gig.task(task.id)
    assert after.status is TaskStatus.COMPLETED
    assert [s.status for s in after.stops] == [StopStatus.ESCALATED, StopStatus.ESCALATED]
    assert await services.gig.current_task(emeka_worker.id) is None
    assert (await services.gig.today(emeka_worker.id)).total == Money.zero("NGN")  # no bonus

    # A retry of the lost answer, after the route closed: the same report, nobody told again.
    _, body = await post_graphql(client, REPORT, vehicle, emeka)
    again = body["data"]["reportProblem"]
    assert (again["errors"], again["already"]) == ([], True)
    assert again["reportedAt"] == reported["reportedAt"]
    assert len(await operator_texts(services)) == 1
    _, body = await post_graphql(client, REPORT, {**vehicle, "o": None}, emeka)
    assert body["data"]["reportProblem"]["errors"][0]["__typename"] == "TaskNotInProgress"


async def test_a_vehicle_problem_on_a_long_route_counts_the_orders_in_one_sms(
    client: TestClient[Any, Any], services: Services
) -> None:
    """Twelve doors handed over at once: their references would not fit one SMS, so the alert
    says how many and where to see them."""
    _, task = await offered_to_emeka(services, *[NGOZI, CHIDI] * 6)
    emeka = bearer(services.settings, EMEKA.e164, "driver")
    _, body = await post_graphql(client, ACCEPT, {"t": task.reference}, emeka)
    assert body["data"]["acceptTask"]["errors"] == []
    first = task.stops[0].order_reference
    vehicle = {"t": task.reference, "r": "VEHICLE", "o": first}
    _, body = await post_graphql(client, REPORT, vehicle, emeka)
    assert body["data"]["reportProblem"]["errors"] == []

    [told] = await operator_texts(services)
    assert told.endswith(" 12 orders: see omniroute deliveries escalated.")
    assert gsm7_length(told) <= 160


EARNINGS = """query($from: Date, $to: Date) {
  earnings(from: $from, to: $to) {
    from to stops total { amount currency }
    tasks { reference stops total { amount currency } }
  }
}"""


async def a_route_driven(services: Services, emeka: Worker, key: str) -> tuple[str, Money]:
    """Today's one-stop route, offered to Emeka, taken and proved: its reference and its pay."""
    reference = await order(services, NGOZI, key)
    await packed(services, reference)
    task = await services.gig.create_task(
        route(f"R-{key}", [(reference, NGOZI, "1 Broad Street")], services=services)
    )
    [offer] = await services.gig.allocate()
    assert offer.worker_id == emeka.id
    await services.gig.accept(offer.id)
    code = await code_for(services, NGOZI, reference)
    proved = await services.gig.confirm_delivery(task.id, emeka.id, code)
    assert proved.earned is not None
    return task.reference, proved.earned


async def test_a_driver_reads_what_he_earned_today_and_route_by_route_over_days(
    client: TestClient[Any, Any], services: Services, clock: SteppedClock
) -> None:
    await services.sweeper.stop()  # the test offers routes itself
    emeka = await driver(services, EMEKA, "Emeka")
    yesterday = local_date(RegionCode.LAGOS, services.clock.now()).isoformat()
    first, first_pay = await a_route_driven(services, emeka, "earn-1")
    clock.advance(24 * 3600)
    emeka = await driver(services, EMEKA, "Emeka")  # on shift again today
    today = local_date(RegionCode.LAGOS, services.clock.now()).isoformat()
    second, second_pay = await a_route_driven(services, emeka, "earn-2")
    headers = bearer(services.settings, EMEKA.e164, "driver")

    _, body = await post_graphql(client, EARNINGS, None, headers)
    heard = await services.gig.today(emeka.id)  # what the IVR reads out
    assert body["data"]["earnings"] == {
        "from": today,
        "to": today,
        "stops": heard.stops,
        "total": {"amount": str(heard.total.amount), "currency": "NGN"},
        "tasks": [
            {
                "reference": second,
                "stops": 1,
                "total": {"amount": str(second_pay.amount), "currency": "NGN"},
            }
        ],
    }
    assert heard.total == second_pay

    _, body = await post_graphql(client, EARNINGS, {"from": yesterday, "to": today}, headers)
    both = body["data"]["earnings"]
    assert [t["reference"] for t in both["tasks"]] == [second, first]  # newest first
    assert both["total"] == {"amount": str((first_pay + second_pay).amount), "currency": "NGN"}
    assert both["stops"] == 2

    # Bayo drove nothing: his earnings are his own, not Emeka's.
    bayo = await driver(services, BAYO, "Bayo")
    assert bayo.id != emeka.id
    _, body = await post_graphql(
        client, EARNINGS, {"from": yesterday}, bearer(services.settings, BAYO.e164, "driver")
    )
    assert body["data"]["earnings"]["tasks"] == []
    assert body["data"]["earnings"]["total"] == {"amount": "0.00", "currency": "NGN"}

    for bad in ({"from": today, "to": yesterday}, {"from": "2020-01-01", "to": today}):
        status, body = await post_graphql(client, EARNINGS, bad, headers)
        assert status == 200
        assert code_of(body) == "BAD_USER_INPUT", body
    _, body = await post_graphql(client, EARNINGS, {"from": "yesterday"}, headers)
    assert body["data"] is None
    assert "yesterday" in body["errors"][0]["message"]


@pytest.mark.parametrize(
    ("query", "variables"),
    [
        (DECLINE, {"t": "T-1"}),
        (ARRIVE, {"t": "T-1"}),
        (REPORT, {"t": "T-1", "r": "OTHER"}),
        (EARNINGS, {}),
    ],
)
async def test_the_drivers_operations_refuse_anonymous_callers_and_customers(
    client: TestClient[Any, Any], services: Services, query: str, variables: dict[str, Any]
) -> None:
    _, body = await post_graphql(client, query, variables)
    assert code_of(body) == "UNAUTHENTICATED"
    customer = bearer(services.settings, NGOZI.e164, "customer")
    _, body = await post_graphql(client, query, variables, customer)
    assert code_of(body) == "FORBIDDEN"


async def test_a_suspended_driver_is_refused_every_driver_operation_as_by_the_ivr(
    client: TestClient[Any, Any], services: Services
) -> None:
    """Emeka is suspended with a route on offer: his app may neither take it nor work, as the
    drivers' IVR no longer answers him; an operator still reads his tasks."""
    emeka, task = await offered_to_emeka(services, NGOZI)
    async with services.db.transaction() as s:
        await s.execute(
            update(gig_workers)
            .where(gig_workers.c.id == emeka.id)
            .values(status=WorkerStatus.SUSPENDED.value)
        )
    headers = bearer(services.settings, EMEKA.e164, "driver")
    answers = [
        await post_graphql(client, ACCEPT, {"t": task.reference}, headers),
        await post_graphql(client, DECLINE, {"t": task.reference}, headers),
        await post_graphql(client, TASKS, {}, headers),
        await post_graphql(client, "{ earnings { total { amount } } }", {}, headers),
    ]
    operator = bearer(services.settings, "ops-1", "operator")
    _, seen = await post_graphql(client, TASKS, {"d": EMEKA.e164}, operator)

    for _, body in answers:
        assert body["data"] is None
        [error] = body["errors"]
        assert error["extensions"] == {"code": "FORBIDDEN", "reason": "DRIVER_SUSPENDED"}
        assert error["message"] == f"{EMEKA.e164} is suspended: call the operator"
    assert [t["reference"] for t in seen["data"]["tasks"]] == [task.reference]
    assert (await services.gig.task(task.id)).status is TaskStatus.OFFERED


HISTORY = """query {
  tasks(first: 50) {
    reference stops { orderReference customerName }
    orders { reference position customerName lines { sku quantity } collect { amount } }
  }
}"""


async def test_a_long_route_is_read_in_a_few_queries_not_one_per_stop(
    client: TestClient[Any, Any], services: Services
) -> None:
    """Emeka's route has 22 doors, each a different shop: his app's task list reads their
    names and orders a kind at a time, not one database round trip per stop."""
    await services.sweeper.stop()  # the test offers the route itself
    emeka = await driver(services, EMEKA, "Emeka")
    shops = [Phone(f"+2348030001{n:03d}") for n in range(22)]
    now = services.clock.now()
    stops = []
    async with services.db.transaction() as s:
        await s.execute(
            insert(customers),
            [
                {"phone": p.e164, "region": "lagos", "name": f"Shop {n}", "created_at": now}
                for n, p in enumerate(shops)
            ],
        )
    for n, shop in enumerate(shops):
        reference = await order(services, shop, f"long-route-{n}", quantity=1)
        await packed(services, reference)
        stops.append((reference, shop, f"{n + 1} Marina"))
    task = await services.gig.create_task(route("R-long", stops, units=1, services=services))
    [offer] = await services.gig.allocate()
    assert offer.worker_id == emeka.id
    await services.gig.accept(offer.id)
    await flush_outbox(services)  # what the orders set going (invoices, texts) is done

    statements: list[str] = []

    def count(*args: Any) -> None:
        statements.append(str(args[2]))

    engine = services.db.engine.sync_engine
    event.listen(engine, "before_cursor_execute", count)
    try:
        _, body = await post_graphql(
            client, HISTORY, None, bearer(services.settings, EMEKA.e164, "driver")
        )
    finally:
        event.remove(engine, "before_cursor_execute", count)

    [seen] = body["data"]["tasks"]
    assert seen["reference"] == task.reference
    assert [s["customerName"] for s in seen["stops"]] == [f"Shop {n}" for n in range(22)]
    assert [(o["reference"], o["customerName"]) for o in seen["orders"]] == [
        (reference, f"Shop {n}") for n, (reference, _, _) in enumerate(stops)
    ]
    assert all(o["lines"] == [{"sku": "NDL-INDO-CHK", "quantity": 1}] for o in seen["orders"])
    # One read of the customers, one of the orders and one of their lines, for the page.
    reads = [
        table
        for sql in statements
        for table in ("customers", "orders", "order_lines")
        if f" FROM {table} " in f"{' '.join(sql.split())} "
    ]
    assert sorted(reads) == ["customers", "order_lines", "orders"], statements
