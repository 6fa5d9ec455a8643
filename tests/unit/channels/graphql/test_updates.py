"""The order updates hub: a caught-up subscription gets no status twice, nor one out of order."""

from __future__ import annotations

from channels.graphql.updates import OrderUpdate, OrderUpdates
from engines.orders.model import _NEXT, OrderStatus

REF = "ABC123"
NGOZI = "+2348030000001"


def test_every_transition_moves_an_order_to_a_later_status_in_the_hubs_ranking() -> None:
    """The hub drops an update whose status is not after the last one sent: that is right only
    while every transition leads forward in the enum's order."""
    statuses = list(OrderStatus)
    for status, after in _NEXT.items():
        assert all(statuses.index(t) > statuses.index(status) for t in after), status


async def test_a_catch_up_then_the_late_events_send_each_status_once_in_order() -> None:
    async def read(reference: str) -> tuple[str, str] | None:
        return NGOZI, "packed"

    hub = OrderUpdates(read)
    watch = hub.watch(REF)
    watch.since("confirmed")
    await hub.catch_up()
    for previous, status in (("confirmed", "picking"), ("picking", "packed")):
        watch.offer(OrderUpdate(REF, NGOZI, previous, status))  # late copies
    watch.offer(OrderUpdate(REF, NGOZI, "packed", "dispatched"))
    assert [(u.previous, u.status) for u in watch.queued()] == [
        ("confirmed", "packed"),
        ("packed", "dispatched"),
    ]
