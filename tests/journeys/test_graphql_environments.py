"""GraphiQL and introspection are for developers: on in dev, off in production."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from channels.graphql import TokenKeys
from core.app.bootstrap import Services
from core.clock import SteppedClock
from core.config import Settings
from tests.support.graphql import gateway, post_graphql

INTROSPECTION = "{ __schema { queryType { name } } }"


@pytest.fixture(params=["dev", "production"])
async def env_gateway(
    request: pytest.FixtureRequest, database_url: str, clock: SteppedClock
) -> AsyncIterator[tuple[str, TestClient[Any, Any], Services]]:
    settings = Settings(
        env=request.param,
        database_url=database_url,
        channels="",
        jwt_secret="a-production-secret-of-at-least-32-bytes",
        _env_file=None,
    )
    async with gateway(settings, clock) as (client, services):
        yield request.param, client, services


async def test_graphiql_and_introspection_only_outside_production(
    env_gateway: tuple[str, TestClient[Any, Any], Services],
) -> None:
    env, client, _ = env_gateway
    page = await client.get("/graphql", headers={"Accept": "text/html"})
    _, body = await post_graphql(client, INTROSPECTION)
    if env == "dev":
        assert page.status == 200
        assert "graphiql" in (await page.text()).lower()
        assert body["data"]["__schema"]["queryType"]["name"] == "Query"
    else:
        assert page.status != 200 or "graphiql" not in (await page.text()).lower()
        assert body.get("data") is None
        assert "introspection" in body["errors"][0]["message"].lower()
    # The catalogue answers in both.
    _, products = await post_graphql(client, "{ products(first: 1) { edges { node { sku } } } }")
    assert len(products["data"]["products"]["edges"]) == 1


async def test_production_refuses_a_short_jwt_secret(database_url: str) -> None:
    settings = Settings(
        env="production", database_url=database_url, jwt_secret="short", _env_file=None
    )
    with pytest.raises(ValueError, match="OMNIROUTE_JWT_SECRET"):
        TokenKeys.from_settings(settings)
