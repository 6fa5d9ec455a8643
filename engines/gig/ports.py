"""What the gig service needs from outside: a place for documents and a way to tell people."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from sqlalchemy.ext.asyncio import AsyncSession

from core.phone import Phone
from engines.gig.model import Incident, Offer, Task, TaskStop, Worker


class GigNotifier(Protocol):
    async def delivery_code(
        self, s: AsyncSession, customer: Phone, order_reference: str, code: str, worker: Worker
    ) -> None:
        """Give the customer the one-time code they read to the driver (an SMS), queued in `s`,
        the transaction that takes the route: a route is never taken without its codes."""
        ...

    async def delivery_code_withdrawn(self, s: AsyncSession, order_reference: str) -> None:
        """The order's stop came off its route: its code, if not sent yet, is not sent
        (withdrawn in `s`, the transaction that takes the stop off)."""
        ...

    async def incident(
        self, s: AsyncSession, incidents: Sequence[Incident], task: Task, worker: Worker
    ) -> None:
        """Tell an operator that a driver needs help (three wrong codes, a problem): one alert
        for the doors one report handed over (at least one; the first is where it happened),
        queued in `s`, the transaction that hands them over: one never goes without the other."""
        ...

    async def stop_cancelled(
        self, s: AsyncSession, worker: Worker, task: Task, stop: TaskStop, *, returned: bool
    ) -> None:
        """Tell the driver on the route that a stop came off it, its order cancelled (or
        `returned`: its goods go back, and the text says so), queued in `s`, the transaction
        that takes the stop off: one never goes without the other."""
        ...

    async def task_cancelled(
        self, s: AsyncSession, worker: Worker, task: Task, stop: TaskStop, *, returned: bool
    ) -> None:
        """Tell the driver offered or driving the route that it is withdrawn: every order on it
        was cancelled, `stop` the last to come off (its order `returned`: the text says so),
        queued in `s`, as `stop_cancelled`."""
        ...

    async def route_offered(
        self, s: AsyncSession, worker: Worker, task: Task, offer: Offer
    ) -> None:
        """Tell a driver who is not on the line of the route offered him (an SMS: how to take it
        before the offer lapses), queued in `s`, the transaction that makes the offer; once per
        offer."""
        ...
