"""The offer solve (CP-SAT, seconds on a shared machine) runs one at a time: drivers calling at
once wait for the solve under way and hear what it offered them, with no solve of their own."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Collection, Sequence

import pytest

from core.app.bootstrap import Services
from engines.gig import OfferStatus, allocation
from engines.gig import service as gig_service
from tests.support.gig import BAYO, CHIDI, EMEKA, NGOZI, driver, order, route


async def test_drivers_calling_at_once_share_one_solve(
    services: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    gig = services.gig
    emeka = await driver(services, EMEKA, "Emeka")
    bayo = await driver(services, BAYO, "Bayo")
    for n, who in ((1, NGOZI), (2, CHIDI)):
        ref = await order(services, who, f"solve-{n}")
        await gig.create_task(route(f"R-S{n}", [(ref, who, "Broad St")], services=services))
    solves: list[int] = []

    def counted(
        workers: Sequence[allocation.WorkerCandidate],
        tasks: Sequence[allocation.TaskCandidate],
        excluded: Collection[tuple[uuid.UUID, uuid.UUID]] = (),
    ) -> dict[uuid.UUID, uuid.UUID]:
        solves.append(len(tasks))
        return allocation.allocate(workers, tasks, excluded)

    monkeypatch.setattr(gig_service, "allocate", counted)

    # Both drivers call the IVR at the same moment, neither with an offer yet.
    await asyncio.gather(gig.allocate(calling=emeka.id), gig.allocate(calling=bayo.id))

    assert solves == [2]  # one solve, both routes in it
    for worker in (emeka, bayo):
        offered = await gig.open_offer(worker.id)
        assert offered is not None, "each caller hears the offer the one solve made him"
        assert offered[0].status is OfferStatus.OPEN
