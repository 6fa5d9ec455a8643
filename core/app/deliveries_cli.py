"""`omniroute deliveries escalated` and `deliveries resolve ORDER_REF delivered|returned`: an
operator takes over a delivery the driver could not prove (three wrong codes), one he reported a
problem at (customer not there, wrong address, vehicle, other), or one still open at 04:00 local
after its route's day: each way the stop is escalated.

`escalated` lists them as CSV (`order,task,stop,customer,address,reason,since`; `task` is the
driver's task reference; `since` is when it was handed over, ISO 8601 in UTC), oldest route first.

`delivered`: the operator confirmed with the customer; the order is delivered as if the code had
been keyed, and its workflow goes on to settlement. `returned`: the goods came back; the order is
returned (its goods back on the shelves), and its workflow refunds what was paid and tells the
customer. The order's status event carries either to the workflow (core.app.workflows), so this
command needs the database only. Anything but an escalated delivery is refused with exit 2.
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import sys

from core.app.bootstrap import Services, build_services
from core.config import Settings
from engines.gig import Escalation, EscalationError, Resolution, StopStatus
from engines.orders import InvalidTransitionError, OrderError, UnknownOrderError

PROG = "omniroute deliveries resolve"
OUTCOMES = {"delivered": StopStatus.DELIVERED, "returned": StopStatus.RETURNED}
DONE = {
    StopStatus.DELIVERED: "delivered (confirmed by an operator); its workflow settles it",
    StopStatus.RETURNED: "returned to the warehouse; its workflow refunds what was paid",
}


def run(args: argparse.Namespace) -> int:
    if args.deliveries_command == "escalated":
        return _list_escalated()
    reference = args.reference.strip().upper()
    if not reference:
        return _refused(
            "an order reference is needed (the order column of 'omniroute deliveries escalated')"
        )
    try:
        done = asyncio.run(_resolve(reference, OUTCOMES[args.outcome]))
    except UnknownOrderError:
        return _refused(f"no order {reference}")
    except InvalidTransitionError as exc:
        return _refused(
            f"order {reference} is {exc.current.value}: it cannot become {exc.target.value}"
        )
    except (EscalationError, OrderError) as exc:
        return _refused(str(exc))
    print(said(done))
    return 0


async def resolve(services: Services, reference: str, outcome: StopStatus) -> Resolution:
    """The command's work over the caller's services (tests drive it with theirs)."""
    await services.orders.get(reference)  # an unknown reference: UnknownOrderError
    return await services.gig.resolve_escalation(reference, outcome)


def said(done: Resolution) -> str:
    where = f"task {done.task_reference} stop {done.position}"
    if done.already:
        return (
            f"order {done.order_reference} was already resolved as {done.outcome.value} ({where})"
        )
    return f"order {done.order_reference} {DONE[done.outcome]} ({where})"


def _refused(reason: str) -> int:
    print(f"{PROG}: {reason}", file=sys.stderr)
    return 2


def _list_escalated() -> int:
    waiting = asyncio.run(_escalations())
    if not waiting:
        print("no delivery is waiting for an operator", file=sys.stderr)
        return 0
    out = csv.writer(sys.stdout, lineterminator="\n")
    # `task`: the driver's task reference (as GraphQL's escalations name it), not the `R-…`
    # route of `routes plan`
    out.writerow(["order", "task", "stop", "customer", "address", "reason", "since"])
    for e in waiting:
        out.writerow(
            [
                e.order_reference,
                e.task_reference,
                e.position,
                e.customer.e164,
                e.address,
                e.reason.value,
                e.since.isoformat(timespec="seconds"),
            ]
        )
    return 0


async def _escalations() -> list[Escalation]:
    services = build_services(Settings())
    try:
        return await services.gig.escalations()
    finally:
        await services.close()


async def _resolve(reference: str, outcome: StopStatus) -> Resolution:
    services = build_services(Settings())
    try:
        return await resolve(services, reference, outcome)
    finally:
        await services.close()
