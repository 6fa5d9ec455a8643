"""A shop's web app on its own origin calls /graphql and web chat from the browser (CORS).

Requests are what a browser sends: an OPTIONS preflight with `Origin`,
`Access-Control-Request-Method` and `-Headers`, then the request itself with `Origin`.
"""

from __future__ import annotations

from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer
from pydantic import ValidationError

from core.app.bootstrap import Services
from core.app.server import create_app
from core.config import Settings
from tests.support.graphql import bearer

SHOP = "https://shop.example.com"
STRANGER = "https://evil.example.net"
PRODUCTS = {"query": "{ products(first: 1) { edges { node { sku } } } }"}
CHAT = {"user": "+2348030000001", "text": "hi"}


@pytest.fixture
def settings(database_url: str) -> Settings:
    return Settings(
        env="test",
        database_url=database_url,
        session_url="memory://",
        cors_origins=f" {SHOP}/, http://localhost:5173",
        _env_file=None,
    )


def preflight(origin: str, method: str = "POST") -> dict[str, str]:
    return {
        "Origin": origin,
        "Access-Control-Request-Method": method,
        "Access-Control-Request-Headers": "authorization,content-type",
    }


@pytest.mark.parametrize("path", ["/graphql", "/channels/web/messages"])
async def test_a_preflight_from_the_shops_origin_is_answered_without_credentials(
    client: TestClient[Any, Any], path: str
) -> None:
    response = await client.options(path, headers=preflight(SHOP))
    assert response.status == 200
    assert response.headers["Access-Control-Allow-Origin"] == SHOP
    assert "POST" in response.headers["Access-Control-Allow-Methods"]
    allowed = {
        h.strip().lower() for h in response.headers["Access-Control-Allow-Headers"].split(",")
    }
    assert {"authorization", "content-type"} <= allowed
    assert "Access-Control-Allow-Credentials" not in response.headers


@pytest.mark.parametrize("path", ["/graphql", "/channels/web/messages"])
async def test_a_preflight_from_another_origin_gets_no_cors_grant(
    client: TestClient[Any, Any], path: str
) -> None:
    response = await client.options(path, headers=preflight(STRANGER))
    assert response.status == 403
    assert "Access-Control-Allow-Origin" not in response.headers


async def test_the_shops_graphql_call_is_readable_by_its_page_and_a_strangers_is_not(
    client: TestClient[Any, Any], services: Services
) -> None:
    headers = {"Origin": SHOP, **bearer(services.settings, "+2348030000001", "customer")}
    response = await client.post("/graphql", json=PRODUCTS, headers=headers)
    assert response.status == 200
    assert response.headers["Access-Control-Allow-Origin"] == SHOP
    assert "Access-Control-Allow-Credentials" not in response.headers
    assert "Retry-After" in response.headers.get("Access-Control-Expose-Headers", "")
    assert (await response.json())["data"]["products"]["edges"]

    response = await client.post("/graphql", json=PRODUCTS, headers={"Origin": STRANGER})
    assert "Access-Control-Allow-Origin" not in response.headers  # the browser hides it


async def test_the_shops_web_chat_message_is_readable_by_its_page_and_a_strangers_is_not(
    client: TestClient[Any, Any],
) -> None:
    response = await client.post("/channels/web/messages", json=CHAT, headers={"Origin": SHOP})
    assert response.status == 200
    assert response.headers["Access-Control-Allow-Origin"] == SHOP
    assert (await response.json())["text"] == "Welcome to OmniRoute"

    response = await client.post("/channels/web/messages", json=CHAT, headers={"Origin": STRANGER})
    assert "Access-Control-Allow-Origin" not in response.headers


async def test_without_configured_origins_no_cors_header_is_sent(
    services: Services,
) -> None:
    plain = services.settings.model_copy(update={"cors_origins": ""})
    app = create_app(plain, build=lambda _s: services)
    async with TestClient(TestServer(app)) as client:
        response = await client.options("/graphql", headers=preflight(SHOP))
        assert "Access-Control-Allow-Origin" not in response.headers
        response = await client.post("/graphql", json=PRODUCTS, headers={"Origin": SHOP})
        assert response.status == 200
        assert "Access-Control-Allow-Origin" not in response.headers


@pytest.mark.parametrize("bad", ["shop.example.com", "https://shop.example.com/app", "ftp://x"])
def test_an_origin_that_could_never_match_is_refused_at_start_up(bad: str) -> None:
    with pytest.raises(ValidationError, match="is not an origin"):
        Settings(cors_origins=bad, _env_file=None)
