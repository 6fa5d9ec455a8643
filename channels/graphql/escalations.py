# ruff: noqa: N818 - GraphQL result types (NotEscalated) are API names, not exceptions
"""Deliveries an operator takes over, over GraphQL: the same GigService calls as
`omniroute deliveries escalated|resolve`, for the operators' dashboard.

A stop is escalated after three wrong codes, when the driver reports a problem at its door, or
when its route's day ended with it still open.
Operators and admins list them and settle each as delivered (confirmed with the customer) or
returned (the goods came back); the order's status event carries the outcome to its workflow.
"""

from __future__ import annotations

from datetime import datetime
from enum import Enum
from typing import Annotated

import strawberry

from channels.graphql.auth import require
from channels.graphql.context import GraphQLContext
from channels.graphql.errors import UserError
from engines.access import Role
from engines.gig import EscalationError, IncidentKind, StopStatus
from engines.orders import OrderError

Info = strawberry.Info[GraphQLContext, None]

strawberry.enum(IncidentKind, name="IncidentKind")


@strawberry.enum(description="What became of an escalated delivery")
class DeliveryOutcome(Enum):
    DELIVERED = "delivered"
    RETURNED = "returned"


@strawberry.type(description="A delivery waiting for an operator")
class EscalatedDelivery:
    order_reference: str
    task: str = strawberry.field(description="The route's reference")
    position: int = strawberry.field(description="The stop's place on the route")
    customer: str = strawberry.field(description="The customer's E.164 phone number")
    address: str
    reason: IncidentKind = strawberry.field(
        description="CODE_FAILED (three wrong codes), ROUTE_UNFINISHED (still open at 04:00 "
        "local after its route's day), or the problem the driver reported at the door "
        "(CUSTOMER_ABSENT, WRONG_ADDRESS, VEHICLE, OTHER)"
    )
    since: datetime = strawberry.field(description="When it was handed to an operator")


@strawberry.type(description="The order is not an escalated delivery, or was settled otherwise")
class NotEscalated(UserError):
    order: str


ResolveDeliveryError = Annotated[NotEscalated, strawberry.union("ResolveDeliveryError")]


@strawberry.type(description="The delivery settled, or `errors` saying why not")
class ResolveDeliveryPayload:
    order: str
    outcome: DeliveryOutcome | None
    already: bool = strawberry.field(description="An earlier call had settled it the same way")
    errors: list[ResolveDeliveryError]


def _operator(info: Info) -> None:
    require(info.context.principal, Role.OPERATOR, Role.ADMIN)


@strawberry.type
class EscalationsQuery:
    @strawberry.field(description="Deliveries waiting for an operator, oldest route first")
    async def escalations(self, info: Info) -> list[EscalatedDelivery]:
        _operator(info)
        return [
            EscalatedDelivery(
                order_reference=e.order_reference,
                task=e.task_reference,
                position=e.position,
                customer=e.customer.e164,
                address=e.address,
                reason=e.reason,
                since=e.since,
            )
            for e in await info.context.services.gig.escalations()
        ]


@strawberry.type
class EscalationsMutation:
    @strawberry.mutation(
        description="Settle an escalated delivery: DELIVERED (confirmed with the customer) or "
        "RETURNED (the goods came back to the warehouse). Asked again, it changes nothing."
    )
    async def resolve_delivery(
        self, info: Info, order: str, outcome: DeliveryOutcome
    ) -> ResolveDeliveryPayload:
        _operator(info)
        reference = order.strip().upper()
        try:
            done = await info.context.services.gig.resolve_escalation(
                reference, StopStatus(outcome.value)
            )
        except (EscalationError, OrderError) as exc:
            return ResolveDeliveryPayload(
                order=reference,
                outcome=None,
                already=False,
                errors=[NotEscalated(message=str(exc), order=reference)],
            )
        return ResolveDeliveryPayload(
            order=done.order_reference, outcome=outcome, already=done.already, errors=[]
        )
