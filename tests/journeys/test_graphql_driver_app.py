"""The drivers' app does what a driver can do on the IVR: decline an offer, say he is at the
door, report a problem at a stop, read what he earned — through the same GigService calls, and
each driver only on his own tasks."""

from __future__ import annotations

from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from core.app.bootstrap import Services
from engines.gig import OfferStatus, TaskStatus
from tests.journeys.test_graphql_driver import ACCEPT, TASKS, code_of, offered_to_emeka
from tests.support.gig import BAYO, EMEKA, NGOZI
from tests.support.graphql import bearer, post_graphql

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


@pytest.mark.parametrize(("query", "variables"), [(DECLINE, {"t": "T-1"})])
async def test_the_drivers_operations_refuse_anonymous_callers_and_customers(
    client: TestClient[Any, Any], services: Services, query: str, variables: dict[str, Any]
) -> None:
    _, body = await post_graphql(client, query, variables)
    assert code_of(body) == "UNAUTHENTICATED"
    customer = bearer(services.settings, NGOZI.e164, "customer")
    _, body = await post_graphql(client, query, variables, customer)
    assert code_of(body) == "FORBIDDEN"
