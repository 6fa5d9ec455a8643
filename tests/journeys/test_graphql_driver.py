"""A driver's app over GraphQL: the route on offer, taking it, proving each door with the code.

The same task and the same engine rules as the drivers' IVR: the customers get their codes by
SMS when the driver accepts, three wrong codes hand the stop to an operator, and a driver sees
and works only their own tasks.
"""

from __future__ import annotations

from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from core.app.bootstrap import Services
from core.phone import Phone
from engines.gig import Task, TaskStatus, Worker
from engines.orders import OrderStatus
from tests.support.gig import (
    BAYO,
    CHIDI,
    EMEKA,
    NGOZI,
    code_for,
    driver,
    offered_in_a_race,
    order,
    route,
)
from tests.support.graphql import bearer, gql_session, post_graphql, run

OPERATOR = "op-1"

TASKS = """query($d: String) {
  tasks(driver: $d) {
    reference status units offerExpiresAt
    stops { position orderReference address customerName units status }
  }
}"""
ACCEPT = """mutation($t: String!) {
  acceptTask(task: $t) {
    task { reference status stops { orderReference status } }
    errors {
      __typename
      ... on UserError { message }
      ... on OfferExpired { task expiredAt }
      ... on NotOfferedToYou { task }
      ... on AlreadyOnARoute { task busyWith }
    }
  }
}"""
CONFIRM = """mutation($t: String!, $c: String!, $o: String) {
  confirmDelivery(task: $t, code: $c, order: $o) {
    task { status stops { orderReference status } }
    stop { orderReference status customerName }
    earned { amount currency }
    taskCompleted
    errors {
      __typename
      ... on UserError { message }
      ... on WrongCode { order triesLeft }
      ... on WrongStop { order nextOrder }
      ... on Escalated { order }
    }
  }
}"""


def code_of(body: dict[str, Any]) -> str:
    assert body["data"] is None, body
    return str(body["errors"][0]["extensions"]["code"])


def wrong(code: str) -> str:
    return "0000" if code != "0000" else "1111"


async def packed(services: Services, reference: str) -> None:
    """The warehouse has released the order: it may now go out with a driver."""
    for status in (OrderStatus.CONFIRMED, OrderStatus.PICKING, OrderStatus.PACKED):
        await services.orders.advance(reference, status)


async def offered_to_emeka(services: Services, *customers: Phone) -> tuple[Worker, Task]:
    """Emeka is the only driver on shift when the route is offered; Bayo starts later."""
    await services.sweeper.stop()  # the test offers routes itself
    emeka = await driver(services, EMEKA, "Emeka")
    stops = []
    for i, customer in enumerate(customers):
        reference = await order(services, customer, f"gql-drv-{i}")
        await packed(services, reference)
        stops.append((reference, customer, f"{i + 1} Broad Street"))
    task = await services.gig.create_task(route("R-gql", stops, services=services))
    [offer] = await services.gig.allocate()
    assert offer.worker_id == emeka.id
    await driver(services, BAYO, "Bayo")
    return emeka, task


async def test_a_driver_takes_the_offered_route_and_proves_each_door_with_the_code(
    client: TestClient[Any, Any], services: Services
) -> None:
    _, task = await offered_to_emeka(services, NGOZI, CHIDI)
    first, second = (s.order_reference for s in task.stops)
    emeka = bearer(services.settings, EMEKA.e164, "driver")

    async with gql_session(client, emeka) as session:
        [offered] = (await run(session, TASKS))["tasks"]
        assert offered["reference"] == task.reference
        assert offered["status"] == "OFFERED"
        assert offered["offerExpiresAt"] is not None
        ngozi = await services.customers.get(NGOZI)
        assert ngozi is not None
        assert offered["stops"][0] == {
            "position": 1,
            "orderReference": first,
            "address": "1 Broad Street",
            "customerName": ngozi.name,
            "units": 2,
            "status": "PENDING",
        }

        accepted = (await run(session, ACCEPT, {"t": task.reference}))["acceptTask"]
        assert accepted["errors"] == []
        assert accepted["task"]["status"] == "ASSIGNED"
        # Pressing 1 on the IVR and acceptTask are one call: dispatched, codes texted.
        assert (await services.orders.get(first)).status is OrderStatus.DISPATCHED
        code = await code_for(services, NGOZI, first)
        again = (await run(session, ACCEPT, {"t": task.reference}))["acceptTask"]
        assert again["errors"] == []  # a retried mutation changes nothing
        assert await code_for(services, NGOZI, first) == code

        miss = await run(session, CONFIRM, {"t": task.reference, "c": wrong(code)})
        assert miss["confirmDelivery"]["errors"] == [
            {
                "__typename": "WrongCode",
                "message": "wrong code, 2 tries left",
                "order": first,
                "triesLeft": 2,
            }
        ]
        skipped = await run(session, CONFIRM, {"t": task.reference, "c": code, "o": second})
        [out_of_order] = skipped["confirmDelivery"]["errors"]
        assert out_of_order["__typename"] == "WrongStop"
        assert out_of_order["nextOrder"] == first

        hit = (await run(session, CONFIRM, {"t": task.reference, "c": code, "o": first}))[
            "confirmDelivery"
        ]
        assert hit["errors"] == []
        assert hit["stop"] == {
            "orderReference": first,
            "status": "DELIVERED",
            "customerName": ngozi.name,
        }
        assert hit["earned"]["currency"] == "NGN"
        assert hit["taskCompleted"] is False
        assert (await services.orders.get(first)).status is OrderStatus.DELIVERED
        retried = (await run(session, CONFIRM, {"t": task.reference, "c": code, "o": first}))[
            "confirmDelivery"
        ]
        assert retried["errors"] == []
        assert retried["earned"] is None  # paid once

        last = await code_for(services, CHIDI, second)
        done = (await run(session, CONFIRM, {"t": task.reference, "c": last}))["confirmDelivery"]
        assert done["taskCompleted"] is True
        assert done["task"]["status"] == "COMPLETED"
        [history] = (await run(session, TASKS))["tasks"]
        assert history["status"] == "COMPLETED"

    operator = bearer(services.settings, OPERATOR, "operator")
    async with gql_session(client, operator) as session:
        [seen] = (await run(session, TASKS, {"d": EMEKA.e164}))["tasks"]
        assert seen["reference"] == task.reference


async def test_another_driver_can_neither_take_nor_see_nor_prove_someone_elses_task(
    client: TestClient[Any, Any], services: Services
) -> None:
    _, task = await offered_to_emeka(services, NGOZI)
    bayo = bearer(services.settings, BAYO.e164, "driver")

    _, body = await post_graphql(client, ACCEPT, {"t": task.reference}, bayo)
    [refused] = body["data"]["acceptTask"]["errors"]
    assert refused["__typename"] == "TaskNotFound"
    _, body = await post_graphql(client, TASKS, {"d": EMEKA.e164}, bayo)
    assert code_of(body) == "FORBIDDEN"
    _, body = await post_graphql(client, TASKS, None, bayo)
    assert body["data"]["tasks"] == []

    emeka = bearer(services.settings, EMEKA.e164, "driver")
    _, body = await post_graphql(client, ACCEPT, {"t": task.reference}, emeka)
    assert body["data"]["acceptTask"]["errors"] == []
    _, body = await post_graphql(client, CONFIRM, {"t": task.reference, "c": "1234"}, bayo)
    assert body["data"]["confirmDelivery"]["errors"][0]["__typename"] == "TaskNotFound"
    _, body = await post_graphql(client, ACCEPT, {"t": "NOPE-1"}, emeka)
    assert body["data"]["acceptTask"]["errors"][0]["__typename"] == "TaskNotFound"


async def test_accepting_another_drivers_task_answers_as_accepting_one_that_does_not_exist(
    client: TestClient[Any, Any], services: Services
) -> None:
    """Bayo trying references learns nothing: Emeka's route, on offer to him or taken by him,
    answers Bayo word for word as a reference no task has."""
    emeka_worker, task = await offered_to_emeka(services, NGOZI)
    bayo = bearer(services.settings, BAYO.e164, "driver")
    emeka = bearer(services.settings, EMEKA.e164, "driver")
    ghost = ("YY" if task.reference.startswith("ZZ") else "ZZ") + task.reference[2:]

    async def answer(reference: str) -> dict[str, Any]:
        """Bayo's answer, with the reference he typed taken out of the message."""
        _, body = await post_graphql(client, ACCEPT, {"t": reference}, bayo)
        result: dict[str, Any] = body["data"]["acceptTask"]
        for error in result["errors"]:
            error["message"] = error["message"].replace(reference, "<ref>")
        return result

    missing = await answer(ghost)
    assert missing == {
        "task": None,
        "errors": [{"__typename": "TaskNotFound", "message": "no task <ref>"}],
    }
    assert await answer(task.reference) == missing  # on offer to Emeka
    _, body = await post_graphql(client, ACCEPT, {"t": task.reference}, emeka)
    assert body["data"]["acceptTask"]["errors"] == []
    assert await answer(task.reference) == missing  # taken by Emeka
    assert (await services.gig.task(task.id)).worker_id == emeka_worker.id


async def test_proving_a_door_of_another_drivers_task_answers_as_for_one_that_does_not_exist(
    client: TestClient[Any, Any], services: Services
) -> None:
    """The same for confirmDelivery: Emeka's route, on offer to him or taken and half driven,
    answers Bayo word for word as a reference no task has (no status, no stop, no refusal
    that says it is someone's), and his tries change nothing."""
    _, task = await offered_to_emeka(services, NGOZI, CHIDI)
    first = task.stops[0].order_reference
    bayo = bearer(services.settings, BAYO.e164, "driver")
    emeka = bearer(services.settings, EMEKA.e164, "driver")
    ghost = ("YY" if task.reference.startswith("ZZ") else "ZZ") + task.reference[2:]

    async def answer(reference: str, order: str | None = None) -> dict[str, Any]:
        """Bayo's answer, with the reference he typed taken out of the message."""
        variables = {"t": reference, "c": "1234", "o": order}
        _, body = await post_graphql(client, CONFIRM, variables, bayo)
        result: dict[str, Any] = body["data"]["confirmDelivery"]
        for error in result["errors"]:
            error["message"] = error["message"].replace(reference, "<ref>")
        return result

    missing = await answer(ghost)
    assert missing["errors"] == [{"__typename": "TaskNotFound", "message": "no task <ref>"}]
    assert await answer(task.reference) == missing  # on offer to Emeka
    _, body = await post_graphql(client, ACCEPT, {"t": task.reference}, emeka)
    assert body["data"]["acceptTask"]["errors"] == []
    code = await code_for(services, NGOZI, first)
    _, body = await post_graphql(client, CONFIRM, {"t": task.reference, "c": code}, emeka)
    assert body["data"]["confirmDelivery"]["errors"] == []
    assert await answer(task.reference) == missing  # taken by Emeka
    assert await answer(task.reference, first) == missing  # naming a stop already proved
    assert [s.code_attempts for s in (await services.gig.task(task.id)).stops] == [0, 0]


@pytest.mark.parametrize(
    ("query", "variables"),
    [(TASKS, {"d": EMEKA.e164}), (ACCEPT, {"t": "T-1"}), (CONFIRM, {"t": "T-1", "c": "1234"})],
)
async def test_anonymous_callers_and_customers_are_turned_away(
    client: TestClient[Any, Any], services: Services, query: str, variables: dict[str, Any]
) -> None:
    _, body = await post_graphql(client, query, variables)
    assert code_of(body) == "UNAUTHENTICATED"
    customer = bearer(services.settings, NGOZI.e164, "customer")
    _, body = await post_graphql(client, query, variables, customer)
    assert code_of(body) == "FORBIDDEN"


async def test_a_lapsed_offer_cannot_be_accepted(
    client: TestClient[Any, Any], services: Services
) -> None:
    _, task = await offered_to_emeka(services, NGOZI)
    services.clock.advance(services.settings.gig_offer_ttl_seconds + 1)
    emeka = bearer(services.settings, EMEKA.e164, "driver")
    _, body = await post_graphql(client, ACCEPT, {"t": task.reference}, emeka)
    [lapsed] = body["data"]["acceptTask"]["errors"]
    assert lapsed["__typename"] == "OfferExpired"
    assert lapsed["expiredAt"] is not None
    assert (await services.gig.task(task.id)).worker_id is None


async def test_a_driver_on_a_route_is_told_so_when_accepting_another(
    client: TestClient[Any, Any], services: Services
) -> None:
    """A second route offered to Emeka in a race (another replica's offer run) while he took
    the first: accepting it is refused with the route he is on, and it goes back to the pool."""
    emeka_worker, first = await offered_to_emeka(services, NGOZI)
    emeka = bearer(services.settings, EMEKA.e164, "driver")
    _, body = await post_graphql(client, ACCEPT, {"t": first.reference}, emeka)
    assert body["data"]["acceptTask"]["errors"] == []
    reference = await order(services, CHIDI, "gql-drv-late")
    await packed(services, reference)
    second = await services.gig.create_task(
        route("R-gql-2", [(reference, CHIDI, "9 Marina")], services=services)
    )
    await offered_in_a_race(services, second, emeka_worker.id)

    _, body = await post_graphql(client, ACCEPT, {"t": second.reference}, emeka)

    [busy] = body["data"]["acceptTask"]["errors"]
    assert busy["__typename"] == "AlreadyOnARoute"
    assert busy["busyWith"] == first.reference
    assert first.reference in busy["message"]
    assert body["data"]["acceptTask"]["task"] is None
    assert (await services.gig.task(second.id)).status is TaskStatus.OPEN


async def test_a_double_tap_on_accept_gives_the_route_to_both_taps(
    client: TestClient[Any, Any], services: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Emeka taps Accept twice (or his app retries while the first tap is still in flight):
    the first tap takes the route while the second is checking the offer. Both are told the
    route is his, not that the offer lapsed."""
    emeka_worker, task = await offered_to_emeka(services, NGOZI)
    read = services.gig.offers

    async def read_as_the_first_tap_accepts(task_id: Any) -> Any:
        found = await read(task_id)
        if (await services.gig.task(task_id)).worker_id is None:
            [offer] = [o for o in found if o.worker_id == emeka_worker.id]
            await services.gig.accept(offer.id)  # the first tap, a moment ahead
        return found

    monkeypatch.setattr(services.gig, "offers", read_as_the_first_tap_accepts)
    emeka = bearer(services.settings, EMEKA.e164, "driver")
    _, body = await post_graphql(client, ACCEPT, {"t": task.reference}, emeka)
    assert body["data"]["acceptTask"]["errors"] == []
    assert body["data"]["acceptTask"]["task"]["status"] == "ASSIGNED"
    assert (await services.gig.task(task.id)).worker_id == emeka_worker.id


async def test_a_double_tap_on_confirm_costs_the_next_customer_no_try(
    client: TestClient[Any, Any], services: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Emeka's app sends Ngozi's code twice (a double tap, or a retry while the first is in
    flight): the first proves her door while the second is reading the route. The second is
    told her door is proved, and Chidi's code, next, has lost no try to Ngozi's."""
    emeka_worker, task = await offered_to_emeka(services, NGOZI, CHIDI)
    first, _second = (s.order_reference for s in task.stops)
    emeka = bearer(services.settings, EMEKA.e164, "driver")
    _, body = await post_graphql(client, ACCEPT, {"t": task.reference}, emeka)
    assert body["data"]["acceptTask"]["errors"] == []
    code = await code_for(services, NGOZI, first)
    read = services.gig.task_by_reference

    async def read_as_the_first_tap_proves(reference: str) -> Any:
        found = await read(reference)
        if found is not None and found.stops[0].open:
            await services.gig.confirm_delivery(found.id, emeka_worker.id, code)  # the first tap
        return found

    monkeypatch.setattr(services.gig, "task_by_reference", read_as_the_first_tap_proves)
    _, body = await post_graphql(
        client, CONFIRM, {"t": task.reference, "c": code, "o": first}, emeka
    )
    answer = body["data"]["confirmDelivery"]
    assert answer["errors"] == []
    assert answer["stop"]["orderReference"] == first
    assert answer["stop"]["status"] == "DELIVERED"
    assert answer["earned"] is None  # paid once, by the first tap
    assert [
        (s.status.value, s.code_attempts) for s in (await services.gig.task(task.id)).stops
    ] == [
        ("delivered", 0),
        ("pending", 0),
    ]


async def test_a_proof_sent_again_without_its_order_costs_the_next_customer_no_try(
    client: TestClient[Any, Any], services: Services
) -> None:
    """Emeka's app proves Ngozi's door without naming her order, loses the answer on a bad
    network and sends the same mutation again: it was read as a wrong code at Chidi's door,
    where Emeka had not even arrived (a try gone; three such retries hand Chidi's delivery to
    an operator). The retry is answered as Ngozi's door proved, and Chidi's code keeps its
    three tries; Chidi's own code still proves his door, and sent again is answered so too."""
    _, task = await offered_to_emeka(services, NGOZI, CHIDI)
    first, second = (s.order_reference for s in task.stops)
    emeka = bearer(services.settings, EMEKA.e164, "driver")
    async with gql_session(client, emeka) as session:
        await run(session, ACCEPT, {"t": task.reference})
        code = await code_for(services, NGOZI, first)
        proved = (await run(session, CONFIRM, {"t": task.reference, "c": code}))["confirmDelivery"]
        again = (await run(session, CONFIRM, {"t": task.reference, "c": code}))["confirmDelivery"]
        tries = [s.code_attempts for s in (await services.gig.task(task.id)).stops]
        chidi = await code_for(services, CHIDI, second)
        last = (await run(session, CONFIRM, {"t": task.reference, "c": chidi}))["confirmDelivery"]
        done = (await run(session, CONFIRM, {"t": task.reference, "c": chidi}))["confirmDelivery"]
    assert proved["errors"] == []
    assert proved["earned"] is not None
    assert again["errors"] == []
    assert (again["stop"]["orderReference"], again["stop"]["status"]) == (first, "DELIVERED")
    assert again["earned"] is None  # paid once
    assert tries == [0, 0]
    assert (last["errors"], last["stop"]["orderReference"], last["taskCompleted"]) == (
        [],
        second,
        True,
    )
    # The last door's proof sent again: that door, not "the task is completed".
    assert (done["errors"], done["stop"]["orderReference"], done["earned"]) == ([], second, None)


async def test_three_wrong_codes_hand_the_stop_to_an_operator(
    client: TestClient[Any, Any], services: Services
) -> None:
    _, task = await offered_to_emeka(services, NGOZI)
    emeka = bearer(services.settings, EMEKA.e164, "driver")
    async with gql_session(client, emeka) as session:
        await run(session, ACCEPT, {"t": task.reference})
        bad = wrong(await code_for(services, NGOZI, task.stops[0].order_reference))
        _, body = await post_graphql(client, CONFIRM, {"t": task.reference, "c": "12a4"}, emeka)
        assert body["data"]["confirmDelivery"]["errors"][0]["__typename"] == "InvalidCode"
        answers = [
            (await run(session, CONFIRM, {"t": task.reference, "c": bad}))["confirmDelivery"]
            for _ in range(3)
        ]
    kinds = [(a["errors"][0]["__typename"], a["errors"][0].get("triesLeft")) for a in answers]
    # The malformed code cost no try: two wrong, then the third escalates.
    assert kinds == [("WrongCode", 2), ("WrongCode", 1), ("Escalated", None)]
    assert await services.gig.incidents(task.id)


async def test_a_route_taken_and_never_driven_shows_expired_the_next_day(
    client: TestClient[Any, Any], services: Services
) -> None:
    """Emeka took the route and never went out: the next morning his app shows it expired
    (not in progress for ever), yesterday's code proves nothing, and the order is back at the
    dock, packed, for today's plan."""
    _, task = await offered_to_emeka(services, NGOZI)
    [reference] = [s.order_reference for s in task.stops]
    emeka = bearer(services.settings, EMEKA.e164, "driver")
    async with gql_session(client, emeka) as session:
        accepted = (await run(session, ACCEPT, {"t": task.reference}))["acceptTask"]
        assert accepted["task"]["status"] == "ASSIGNED"
    code = await code_for(services, NGOZI, reference)

    services.clock.advance(24 * 3600)
    await services.gig.allocate()  # the offer sweeper's pass, the next morning

    async with gql_session(client, emeka) as session:
        [shown] = (await run(session, TASKS))["tasks"]
        assert (shown["reference"], shown["status"]) == (task.reference, "EXPIRED")
        assert [s["status"] for s in shown["stops"]] == ["PENDING"]
        # The order is back at the dock and may go out with someone else: not his to carry.
        assert (await run(session, ORDERS))["tasks"] == [
            {"reference": task.reference, "status": "EXPIRED", "orders": None}
        ]
        tried = (await run(session, CONFIRM, {"t": task.reference, "c": code}))["confirmDelivery"]
    assert tried["taskCompleted"] is False
    assert [(e["__typename"], e["message"]) for e in tried["errors"]] == [
        ("TaskNotInProgress", f"{task.reference} is expired")
    ]
    assert (await services.orders.get(reference)).status is OrderStatus.PACKED


ORDERS = """query($d: String) {
  tasks(driver: $d) {
    reference status
    orders {
      reference position address customerName status paymentMethod
      lines { sku name quantity }
      collect { amount currency }
    }
  }
}"""


async def test_the_driver_on_the_route_reads_what_to_hand_over_and_collect_at_each_stop(
    client: TestClient[Any, Any], services: Services
) -> None:
    """At each door Emeka needs the order: the items and quantities, the address, and the cash
    to collect for pay on delivery. Only once the route is his: not while it is on offer, and
    not to the operator reading his tasks (who reads orders by `order(reference)`)."""
    _, task = await offered_to_emeka(services, NGOZI, CHIDI)
    first, second = (s.order_reference for s in task.stops)
    emeka = bearer(services.settings, EMEKA.e164, "driver")
    operator = bearer(services.settings, OPERATOR, "operator")

    _, body = await post_graphql(client, ORDERS, None, emeka)
    [offered] = body["data"]["tasks"]
    assert (offered["status"], offered["orders"]) == ("OFFERED", None)

    _, body = await post_graphql(client, ACCEPT, {"t": task.reference}, emeka)
    assert body["data"]["acceptTask"]["errors"] == []
    _, body = await post_graphql(client, ORDERS, None, emeka)
    [taken] = body["data"]["tasks"]
    ngozi = await services.customers.get(NGOZI)
    assert ngozi is not None
    placed = await services.orders.get(first)
    assert taken["orders"][0] == {
        "reference": first,
        "position": 1,
        "address": "1 Broad Street",
        "customerName": ngozi.name,
        "status": "DISPATCHED",
        "paymentMethod": "ON_DELIVERY",
        "lines": [{"sku": "NDL-INDO-CHK", "name": placed.lines[0].name, "quantity": 2}],
        "collect": {"amount": str(placed.total.in_cash().amount), "currency": "NGN"},
    }
    assert [(o["reference"], o["position"]) for o in taken["orders"]] == [(first, 1), (second, 2)]

    code = await code_for(services, NGOZI, first)
    _, body = await post_graphql(
        client,
        CONFIRM.replace("taskCompleted", "taskCompleted task { orders { collect { amount } } }"),
        {"t": task.reference, "c": code},
        emeka,
    )
    # Handed over and paid at the door: nothing more to collect there.
    assert body["data"]["confirmDelivery"]["task"]["orders"][0]["collect"]["amount"] == "0.00"

    _, body = await post_graphql(client, ORDERS, {"d": EMEKA.e164}, operator)
    [seen] = body["data"]["tasks"]
    assert (seen["reference"], seen["orders"]) == (task.reference, None)


ESCALATIONS = """{ escalations { orderReference task position customer address reason since } }"""
RESOLVE = """mutation($o: String!, $r: DeliveryOutcome!) {
  resolveDelivery(order: $o, outcome: $r) {
    order outcome already
    errors { __typename ... on UserError { message } ... on NotEscalated { order } }
  }
}"""


async def test_an_operator_lists_the_escalated_delivery_and_settles_it_once(
    client: TestClient[Any, Any], services: Services
) -> None:
    """The operators' dashboard: the stop three wrong codes handed over is listed, settled as
    returned (the order follows), listed no more, and settling it again changes nothing."""
    _, task = await offered_to_emeka(services, NGOZI, CHIDI)
    first, second = (s.order_reference for s in task.stops)
    emeka = bearer(services.settings, EMEKA.e164, "driver")
    operator = bearer(services.settings, OPERATOR, "operator")
    async with gql_session(client, emeka) as session:
        await run(session, ACCEPT, {"t": task.reference})
        bad = wrong(await code_for(services, NGOZI, first))
        for _ in range(3):
            await run(session, CONFIRM, {"t": task.reference, "c": bad})
        # A driver may neither see the operators' list nor settle a stop.
        _, body = await post_graphql(client, ESCALATIONS, None, emeka)
        assert code_of(body) == "FORBIDDEN"
        _, body = await post_graphql(client, RESOLVE, {"o": first, "r": "DELIVERED"}, emeka)
        assert code_of(body) == "FORBIDDEN"

    async with gql_session(client, operator) as session:
        assert (await run(session, ESCALATIONS))["escalations"] == [
            {
                "orderReference": first,
                "task": task.reference,
                "position": 1,
                "customer": NGOZI.e164,
                "address": "1 Broad Street",
                "reason": "CODE_FAILED",
                "since": services.clock.now().isoformat(),
            }
        ]
        refused = (await run(session, RESOLVE, {"o": second, "r": "RETURNED"}))["resolveDelivery"]
        assert [e["__typename"] for e in refused["errors"]] == ["NotEscalated"]
        assert "is not escalated" in refused["errors"][0]["message"]
        assert (await services.orders.get(second)).status is OrderStatus.DISPATCHED

        settled = (await run(session, RESOLVE, {"o": first.lower(), "r": "RETURNED"}))[
            "resolveDelivery"
        ]
        assert settled == {"order": first, "outcome": "RETURNED", "already": False, "errors": []}
        assert (await services.orders.get(first)).status is OrderStatus.RETURNED
        assert (await run(session, ESCALATIONS))["escalations"] == []
        again = (await run(session, RESOLVE, {"o": first, "r": "RETURNED"}))["resolveDelivery"]
        assert (again["already"], again["errors"]) == (True, [])
        other = (await run(session, RESOLVE, {"o": first, "r": "DELIVERED"}))["resolveDelivery"]
        assert [e["__typename"] for e in other["errors"]] == ["NotEscalated"]
    assert (await services.orders.get(first)).status is OrderStatus.RETURNED


async def test_proving_a_door_before_taking_the_route_says_the_task_is_not_in_progress(
    client: TestClient[Any, Any], services: Services
) -> None:
    """The route is on offer to Emeka, not someone else's: he is told to take it first, not
    that it belongs to another driver."""
    _, task = await offered_to_emeka(services, NGOZI)
    emeka = bearer(services.settings, EMEKA.e164, "driver")
    status, body = await post_graphql(client, CONFIRM, {"t": task.reference, "c": "1234"}, emeka)
    assert status == 200
    result = body["data"]["confirmDelivery"]
    assert [(e["__typename"], e["message"]) for e in result["errors"]] == [
        ("TaskNotInProgress", f"{task.reference} is offered")
    ]
    assert (await services.gig.task(task.id)).stops[0].status.value == "pending"


async def test_a_task_reference_typed_in_lower_case_is_the_same_task(
    client: TestClient[Any, Any], services: Services
) -> None:
    """References are read out and typed like order references, which take any case."""
    _, task = await offered_to_emeka(services, NGOZI)
    [stop] = task.stops
    emeka = bearer(services.settings, EMEKA.e164, "driver")
    async with gql_session(client, emeka) as session:
        accepted = (await run(session, ACCEPT, {"t": f" {task.reference.lower()} "}))["acceptTask"]
        code = await code_for(services, NGOZI, stop.order_reference)
        proved = (await run(session, CONFIRM, {"t": task.reference.lower(), "c": code}))[
            "confirmDelivery"
        ]
    assert accepted["errors"] == []
    assert accepted["task"]["reference"] == task.reference
    assert proved["errors"] == []
    assert proved["stop"]["status"] == "DELIVERED"


async def test_a_cancelled_order_is_off_the_route_the_app_shows_and_takes(
    client: TestClient[Any, Any], services: Services
) -> None:
    worker, task = await offered_to_emeka(services, NGOZI, CHIDI)
    first, second = (s.order_reference for s in task.stops)
    await services.orders.advance(second, OrderStatus.CANCELLED, reason="customer")
    await services.relay.drain()
    emeka = bearer(services.settings, EMEKA.e164, "driver")

    async with gql_session(client, emeka) as session:
        [offered] = (await run(session, TASKS))["tasks"]
        assert [s["orderReference"] for s in offered["stops"]] == [first]
        assert offered["units"] == 2
        accepted = (await run(session, ACCEPT, {"t": task.reference}))["acceptTask"]
        assert [s["orderReference"] for s in accepted["task"]["stops"]] == [first]
        skipped = await run(session, CONFIRM, {"t": task.reference, "c": "1234", "o": second})
        [gone] = skipped["confirmDelivery"]["errors"]
        assert gone["__typename"] == "WrongStop"
        assert gone["nextOrder"] == first
        code = await code_for(services, NGOZI, first)
        done = (await run(session, CONFIRM, {"t": task.reference, "c": code, "o": first}))[
            "confirmDelivery"
        ]
        assert done["taskCompleted"] is True  # the one door left was the last

    texted = [
        d for d in await services.notifications.for_recipient(CHIDI) if "code" in str(d.payload)
    ]
    assert texted == []  # no delivery code for the cancelled order
    paid = await services.gig.today(worker.id)
    assert paid.stops == 1  # Ngozi's door only


@pytest.mark.parametrize("route_of", [1, 2])
async def test_an_order_cancelled_while_its_code_is_checked_is_answered_as_off_the_route(
    client: TestClient[Any, Any],
    services: Services,
    monkeypatch: pytest.MonkeyPatch,
    route_of: int,
) -> None:
    """Ngozi cancels while Emeka's app is proving her door: her stop came off the route
    between confirmDelivery reading the route and checking the code, and the app got a 500.
    Now it is told her order is off the route (the next stop, or the route no longer on)."""
    customers = (NGOZI, CHIDI)[:route_of]
    worker, task = await offered_to_emeka(services, *customers)
    first = task.stops[0].order_reference
    emeka = bearer(services.settings, EMEKA.e164, "driver")
    _, body = await post_graphql(client, ACCEPT, {"t": task.reference}, emeka)
    assert body["data"]["acceptTask"]["errors"] == []
    code = await code_for(services, NGOZI, first)
    read = services.gig.task_by_reference

    async def read_as_the_order_is_cancelled(reference: str) -> Any:
        found = await read(reference)
        await services.gig.drop_order(first)  # the cancellation, processed meanwhile
        return found

    monkeypatch.setattr(services.gig, "task_by_reference", read_as_the_order_is_cancelled)
    status, body = await post_graphql(
        client, CONFIRM, {"t": task.reference, "c": code, "o": first}, emeka
    )

    assert status == 200, body
    answer = body["data"]["confirmDelivery"]
    [error] = answer["errors"]
    if route_of == 2:
        assert error["__typename"] == "WrongStop"
        assert error["order"] == first
        assert error["nextOrder"] == task.stops[1].order_reference
    else:
        assert error["__typename"] == "TaskNotInProgress"
    assert answer["stop"] is None
    assert (await services.gig.today(worker.id)).stops == 0  # nobody paid for her door


PAGE = """query($first: Int, $after: String) {
  tasks(first: $first, after: $after) { reference status }
}"""


async def test_a_driver_with_days_of_routes_pages_through_them_newest_first(
    client: TestClient[Any, Any], services: Services
) -> None:
    """Three days of routes behind him and one on offer today: the app shows today's offer
    first, then the routes by newest departure, a page at a time."""
    await services.sweeper.stop()  # the test offers routes itself
    emeka = await driver(services, EMEKA, "Emeka")
    taken = []
    for day in range(4):
        reference = await order(services, NGOZI, f"gql-page-{day}")
        await packed(services, reference)
        task = await services.gig.create_task(
            route(f"R-page-{day}", [(reference, NGOZI, "1 Broad Street")], services=services)
        )
        [offer] = await services.gig.allocate()
        assert offer.worker_id == emeka.id
        if day == 3:
            break
        await services.gig.accept(offer.id)
        taken.append(task.reference)
        services.clock.advance(24 * 3600)
        await services.gig.allocate()  # the next morning's pass: the route was never driven
        await driver(services, EMEKA, "Emeka")  # on shift again today
    newest_first = [task.reference, *reversed(taken)]

    headers = bearer(services.settings, EMEKA.e164, "driver")
    async with gql_session(client, headers) as session:
        everything = (await run(session, TASKS))["tasks"]  # the call apps made before paging
        first = (await run(session, PAGE, {"first": 2}))["tasks"]
        second = await run(session, PAGE, {"first": 2, "after": first[-1]["reference"]})
        last = await run(session, PAGE, {"first": 2, "after": newest_first[-1].lower()})
        # The hand-over screen's query, paged by a variable: within the cost limit (each
        # task's `orders` are its stops', not a page of twenty).
        handover = ORDERS.replace("$d: String", "$first: Int").replace(
            "driver: $d", "first: $first"
        )
        assert len((await run(session, handover, {"first": 100}))["tasks"]) == 4
    assert [t["reference"] for t in everything] == newest_first
    assert [t["status"] for t in everything] == ["OFFERED", "EXPIRED", "EXPIRED", "EXPIRED"]
    assert [t["reference"] for t in first] == newest_first[:2]
    assert [t["reference"] for t in second["tasks"]] == newest_first[2:]
    assert last["tasks"] == []
    for variables in ({"first": -1}, {"after": "NOPE01"}):
        status, body = await post_graphql(client, PAGE, variables, headers)
        assert status == 200
        assert code_of(body) == "BAD_USER_INPUT"
