"""Schemathesis generates queries and mutations from the published schema: none may be a
server error (a 5xx, or an error that is neither a client mistake nor an expected refusal)."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
import schemathesis

# Imported here, at collection, not lazily by from_url inside the test: pytest rewrites
# schemathesis' modules (it is a pytest plugin), and CPython 3.11's ast.parse now and then fails
# with "AST constructor recursion depth mismatch" when it runs beside other threads (CPython
# gh-106905, pytest-dev/pytest#10763): here the gateway's thread and the asyncio loop's.
import schemathesis.specs.graphql.schemas
from aiohttp import web
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error

from core.app.bootstrap import build_services
from core.app.demo import load_demo, load_distribution_demo
from core.app.server import create_app
from core.clock import SystemClock
from core.config import Settings
from core.db.migrate import upgrade
from tests.support.graphql import bearer


def _serve(
    settings_: Settings,
    ready: threading.Event,
    port: list[int],
    stop: asyncio.Event,
    loop: asyncio.AbstractEventLoop,
) -> None:
    async def main() -> None:
        services = build_services(settings_)
        await load_demo(services.db, SystemClock().now())
        await load_distribution_demo(services.db, SystemClock().now())
        runner = web.AppRunner(create_app(settings_, build=lambda _s: services))
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        server = site._server
        assert server is not None
        port.append(server.sockets[0].getsockname()[1])  # type: ignore[union-attr]
        ready.set()
        await stop.wait()
        await runner.cleanup()

    asyncio.set_event_loop(loop)
    loop.run_until_complete(main())
    loop.close()


@pytest.fixture(scope="module")
def gateway_settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    path: Path = tmp_path_factory.mktemp("schemathesis") / "omniroute.db"
    url = f"sqlite+aiosqlite:///{path}"
    upgrade(url)
    return Settings(
        env="test",
        database_url=url,
        rate_limit_ip_burst=1_000_000,
        rate_limit_user_burst=1_000_000,
        _env_file=None,
    )


@pytest.fixture(scope="module")
def graphql_url(gateway_settings: Settings) -> Iterator[str]:
    """The real gateway in a thread of its own: schemathesis calls it synchronously."""
    loop = asyncio.new_event_loop()
    stop = asyncio.Event()
    ready = threading.Event()
    port: list[int] = []
    thread = threading.Thread(
        target=_serve, args=(gateway_settings, ready, port, stop, loop), daemon=True
    )
    thread.start()
    assert ready.wait(30), "the gateway did not start"
    yield f"http://127.0.0.1:{port[0]}/graphql"
    loop.call_soon_threadsafe(stop.set)
    thread.join(30)


@pytest.mark.slow
def test_no_generated_operation_is_a_server_error(
    graphql_url: str, gateway_settings: Settings
) -> None:
    """Driven by hand: schemathesis' pytest plugin does not load under pytest 9 yet."""
    schema = schemathesis.graphql.from_url(graphql_url)
    # Signed in as an admin, so refusals (UNAUTHENTICATED, FORBIDDEN) do not hide the resolvers.
    headers = bearer(gateway_settings, "admin-1", "admin")
    # Only a driver works tasks (an admin is rightly FORBIDDEN): a demo driver does.
    driver = bearer(gateway_settings, "+2348035550001", "driver")
    drivers_only = {
        "Mutation.acceptTask",
        "Mutation.confirmDelivery",
        "Mutation.declineTask",
        "Mutation.arriveAtStop",
        "Mutation.reportProblem",
        "Query.earnings",
    }
    tested = []
    for result in schema.get_all_operations():
        operation = result.ok()

        @given(case=operation.as_strategy())
        @settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
        def no_server_error(case: schemathesis.Case) -> None:
            # Only server errors count: generated input is often (rightly) refused as bad.
            who = driver if case.operation.label in drivers_only else headers
            case.call_and_validate(headers=who, checks=[not_a_server_error])

        no_server_error()
        tested.append(operation.label)
    assert len(tested) >= 5, tested
