"""The gateway's start-up heap is frozen while it serves and thawed when it stops."""

from __future__ import annotations

import gc
from collections.abc import AsyncIterator

from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from core.app.heap import freeze_after_startup


async def test_the_start_up_heap_is_out_of_the_collectors_sight_while_serving() -> None:
    frozen_when_services_started: list[int] = []

    async def services(_app: web.Application) -> AsyncIterator[None]:
        frozen_when_services_started.append(gc.get_freeze_count())  # create_app's lifecycle
        yield

    async def frozen(_request: web.Request) -> web.Response:
        return web.json_response({"frozen": gc.get_freeze_count()})

    app = web.Application()
    app.cleanup_ctx.append(services)
    app.router.add_get("/frozen", frozen)
    assert gc.get_freeze_count() == 0
    async with TestClient(TestServer(freeze_after_startup(app))) as client:
        # The services started first, on a heap not yet frozen; what they built is frozen too.
        assert frozen_when_services_started == [0]
        answer = await (await client.get("/frozen")).json()
        # Everything alive at start-up, the services included, is frozen: far more than a few.
        assert answer["frozen"] > 10_000
        # A full collection now walks only what was allocated since.
        assert len(gc.get_objects(generation=2)) < answer["frozen"]
    assert gc.get_freeze_count() == 0
