"""/readyz answers within the orchestrator's probe timeout though a backend hangs.

Kubernetes gives a readiness probe `timeoutSeconds` to answer; a probe that times out counts
as a failure with no word of which backend is at fault, and checks run one after another would
add their timeouts up. Each check is bounded and they run together: a hung backend is named.
"""

from __future__ import annotations

import socket
import time
from collections.abc import AsyncIterator, Iterator

import pytest
from aiohttp.test_utils import TestClient, TestServer

from core.app.bootstrap import build_services
from core.app.server import READY_SECONDS, create_app
from core.clock import SteppedClock
from core.config import Settings
from core.ids import SeededIds


@pytest.fixture
def hung_port() -> Iterator[int]:
    """A server whose port accepts connections (the kernel completes the handshake) and never
    answers: a stuck Valkey/Dragonfly."""
    hung = socket.socket()
    hung.bind(("127.0.0.1", 0))
    hung.listen(8)
    try:
        yield hung.getsockname()[1]
    finally:
        hung.close()


@pytest.fixture
async def slow_client(
    database_url: str, hung_port: int
) -> AsyncIterator[TestClient[object, object]]:
    settings = Settings(
        env="test",
        database_url=database_url,
        # each command may wait 5 s for the stuck server's answer
        session_url=f"redis://127.0.0.1:{hung_port}/0?socket_timeout=5",
        temporal="off",
        _env_file=None,
    )
    services = build_services(settings, clock=SteppedClock(), ids=SeededIds())
    app = create_app(settings, build=lambda _s: services)
    async with TestClient(TestServer(app)) as client:
        yield client


async def test_a_hung_session_store_is_named_within_the_probe_timeout(
    slow_client: TestClient[object, object],
) -> None:
    started = time.monotonic()
    response = await slow_client.get("/readyz")
    elapsed = time.monotonic() - started

    assert response.status == 503
    body = await response.json()
    assert body["checks"]["sessions"] == "down"
    assert body["checks"]["database"] == "up"
    assert elapsed < READY_SECONDS + 0.5
