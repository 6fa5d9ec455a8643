"""The order updates hub: a caught-up subscription gets no status twice, nor one out of order."""

from __future__ import annotations

from channels.graphql.updates import OrderUpdate, OrderUpdates
from engines.orders.model import _NEXT, OrderStatus

REF = "ABC123"
NGOZI = "+2348030000001"


def test_every_transition_moves_an_order_to_a_later_status_in_the_hubs_ranking() -> None:
    """The hub drops an update whose status is not after the last one sent, unless it moves on
    from that very status (a recall): that is right only while every lifecycle transition leads
    forward in the enum's order."""
    statuses = list(OrderStatus)
    for status, after in _NEXT.items():
        assert all(statuses.index(t) > statuses.index(status) for t in after), status


async def test_a_catch_up_then_the_late_events_send_each_status_once_in_order() -> None:
    async def read(reference: str) -> tuple[str, str] | None:
        return NGOZI, "packed"

    hub = OrderUpdates(read)
    watch = hub.watch(REF)
    watch.start(NGOZI, "confirmed")
    await hub.catch_up()
    for previous, status in (("confirmed", "picking"), ("picking", "packed")):
        watch.offer(OrderUpdate(REF, NGOZI, previous, status))  # late copies
    watch.offer(OrderUpdate(REF, NGOZI, "packed", "dispatched"))
    assert [(u.previous, u.status) for u in watch.queued()] == [
        ("confirmed", "confirmed"),  # where the order stood when the app subscribed
        ("confirmed", "packed"),
        ("packed", "dispatched"),
    ]


def test_an_order_recalled_to_the_dock_and_dispatched_again_reaches_the_app_each_time() -> None:
    """Ngozi's app shows her order out for delivery; the route expired before her door and the
    goods went back to packed, then out again with today's driver. The app is told both, in
    order, not left saying "dispatched" while the goods sat at the dock; a late copy of the
    first dispatch is still dropped."""
    hub = OrderUpdates()
    watch = hub.watch(REF)
    watch.start(NGOZI, "packed")
    watch.offer(OrderUpdate(REF, NGOZI, "packed", "dispatched"))
    watch.offer(OrderUpdate(REF, NGOZI, "dispatched", "packed"))  # recalled: the route expired
    watch.offer(OrderUpdate(REF, NGOZI, "packed", "dispatched"))  # out again, a new driver
    watch.offer(OrderUpdate(REF, NGOZI, "confirmed", "picking"))  # a late copy: nothing
    watch.offer(OrderUpdate(REF, NGOZI, "dispatched", "delivered"))
    assert [(u.previous, u.status) for u in watch.queued()] == [
        ("packed", "packed"),
        ("packed", "dispatched"),
        ("dispatched", "packed"),
        ("packed", "dispatched"),
        ("dispatched", "delivered"),
    ]


def test_changes_queued_while_the_subscription_reads_the_order_are_sent_after_it() -> None:
    """Ngozi's app subscribes as her order goes out, comes back to the dock and goes out again:
    those changes reach the hub while the subscription is still reading the order, and the read
    saw it out for delivery the first time. The second dispatch is still sent, after the
    recall; an older read is no reason to drop what came after it."""
    hub = OrderUpdates()
    watch = hub.watch(REF)
    watch.offer(OrderUpdate(REF, NGOZI, "packed", "dispatched"))
    watch.offer(OrderUpdate(REF, NGOZI, "dispatched", "packed"))  # recalled
    watch.start(NGOZI, "dispatched")  # what the read found, before the recall
    watch.offer(OrderUpdate(REF, NGOZI, "packed", "dispatched"))  # out again
    assert [u.status for u in watch.queued()] == ["dispatched", "packed", "dispatched"]
