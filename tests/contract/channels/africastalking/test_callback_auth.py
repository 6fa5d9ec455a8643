"""Who may call the Africa's Talking callbacks: the token in the URL, and the optional source
address allow-list (OMNIROUTE_AFRICASTALKING_ALLOWED_IPS). A refused call gets 403 and changes
nothing, on every route."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from pydantic import SecretStr

import channels.africastalking
from channels.africastalking.allowlist import is_allowed, parse_networks
from channels.africastalking.auth import MissingCallbackTokenError
from core.app.bootstrap import Services
from core.app.server import create_app
from core.config import Settings
from tests.support.phone import database_rows
from tests.support.providers.africastalking import FakeAfricasTalking, deliveries, flush_outbox

FIXTURES = Path(__file__).parent / "fixtures"
FORM = {"Content-Type": "application/x-www-form-urlencoded"}
TOKEN = "at-callback-9f2c71"
ROUTES = [
    ("/channels/africastalking/ussd", "ussd/first_dial"),
    ("/channels/africastalking/ussd/events", "ussd/session_end"),
    ("/channels/africastalking/sms", "sms/first_message"),
    ("/channels/africastalking/sms/delivery", "sms/delivery_success"),
    ("/channels/africastalking/voice", "voice/call_start"),
]
ROUTE_IDS = [path.rsplit("/channels/africastalking/", 1)[1] for path, _ in ROUTES]

Client = TestClient[web.Request, web.Application]
Gateway = Callable[..., AbstractAsyncContextManager[Client]]


@pytest.fixture
def settings(database_url: str, fake_at: FakeAfricasTalking) -> Settings:
    return fake_at.settings(database_url)


def stored(name: str) -> bytes:
    return (FIXTURES / f"{name}.form").read_bytes()


@pytest.fixture
def gateway_with(database_url: str, services: Services) -> Gateway:
    """A gateway over the shared services, with Africa's Talking settings of the test's choice."""

    @asynccontextmanager
    async def running(**values: Any) -> AsyncIterator[Client]:
        settings = Settings(env="test", database_url=database_url, _env_file=None, **values)
        app = create_app(settings, build=lambda _s: services)
        async with TestClient(TestServer(app, host="127.0.0.1")) as client:
            await services.delivery.stop()
            yield client

    return running


async def everything(services: Services) -> tuple[object, ...]:
    sessions = [
        await services.store.load(key)
        for key in (
            "at-ussd:ATUid_5c8f3e0d2b7a4f19e6d1c0b9a8f7e6d5:+2348030000001",
            "sms:+2348030000001",
        )
    ]
    return (await database_rows(services.db), await deliveries(services), sessions)


@pytest.mark.parametrize(("path", "fixture"), ROUTES, ids=ROUTE_IDS)
@pytest.mark.parametrize(
    "query", ["", "?token=", "?token=wrong"], ids=["missing", "empty", "wrong"]
)
async def test_callback_without_the_right_token_is_403_and_changes_nothing(
    gateway_with: Gateway,
    services: Services,
    fake_at: FakeAfricasTalking,
    path: str,
    fixture: str,
    query: str,
) -> None:
    before = await everything(services)
    async with gateway_with(africastalking_callback_token=SecretStr(TOKEN)) as gateway:
        response = await gateway.post(path + query, data=stored(fixture), headers=FORM)

        assert response.status == 403
        assert "token" in await response.text()
        assert await everything(services) == before
        assert await flush_outbox(services) == 0
        assert fake_at.requests == []


@pytest.mark.parametrize(("path", "fixture"), ROUTES, ids=ROUTE_IDS)
async def test_callback_from_an_address_outside_the_allow_list_is_403_and_changes_nothing(
    gateway_with: Gateway,
    services: Services,
    fake_at: FakeAfricasTalking,
    path: str,
    fixture: str,
) -> None:
    before = await everything(services)
    allowed = "192.0.2.10, 198.51.100.0/24, 2001:db8::/32"
    async with gateway_with(
        africastalking_allowed_ips=allowed, africastalking_callback_token=SecretStr(TOKEN)
    ) as gateway:
        # Even with the right token: the test client calls from 127.0.0.1.
        response = await gateway.post(f"{path}?token={TOKEN}", data=stored(fixture), headers=FORM)

        assert response.status == 403
        assert await response.text() == "Forbidden: source address not allowed\n"
        assert await everything(services) == before
        assert await flush_outbox(services) == 0
        assert fake_at.requests == []


@pytest.mark.parametrize(("path", "fixture"), ROUTES, ids=ROUTE_IDS)
async def test_callback_from_an_allowed_address_with_the_token_is_served(
    gateway_with: Gateway, path: str, fixture: str
) -> None:
    async with gateway_with(
        africastalking_allowed_ips="192.0.2.10,127.0.0.0/8",
        africastalking_callback_token=SecretStr(TOKEN),
    ) as gateway:
        response = await gateway.post(f"{path}?token={TOKEN}", data=stored(fixture), headers=FORM)

        assert response.status == 200, await response.text()


def test_allow_list_is_read_from_its_environment_variable(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("OMNIROUTE_AFRICASTALKING_ALLOWED_IPS", "192.0.2.10, 198.51.100.0/24")
    settings = Settings(_env_file=None)
    assert settings.africastalking_allowed_ips == "192.0.2.10, 198.51.100.0/24"


def test_a_bad_allow_list_entry_stops_the_gateway_from_starting(
    database_url: str, services: Services
) -> None:
    settings = Settings(
        env="test",
        database_url=database_url,
        africastalking_allowed_ips="192.0.2.10, africastalking.com",
        _env_file=None,
    )
    with pytest.raises(ValueError, match="OMNIROUTE_AFRICASTALKING_ALLOWED_IPS: 'africastalking"):
        create_app(settings, build=lambda _s: services)


@pytest.mark.parametrize(
    ("remote", "allowed"),
    [
        ("192.0.2.10", True),
        ("192.0.2.11", False),
        ("198.51.100.7", True),
        ("::ffff:198.51.100.7", True),  # an IPv4 peer on a dual-stack socket
        ("2001:db8::1", True),
        ("2001:db9::1", False),
        ("not-an-address", False),
        (None, False),
    ],
)
def test_allow_list_matches_addresses_and_networks(remote: str | None, allowed: bool) -> None:
    networks = parse_networks("192.0.2.10, 198.51.100.0/24 ,, 2001:db8::/32")
    assert networks is not None
    assert is_allowed(remote, networks) is allowed


@pytest.mark.parametrize("raw", [None, "", "  ", " , "])
def test_blank_allow_list_allows_everyone(raw: str | None) -> None:
    assert parse_networks(raw) is None


@pytest.mark.parametrize("token", [None, ""], ids=["unset", "empty"])
def test_production_without_a_callback_token_refuses_to_start(
    services: Services, database_url: str, token: str | None
) -> None:
    settings = Settings(
        env="production",
        database_url=database_url,
        africastalking_callback_token=None if token is None else SecretStr(token),
        _env_file=None,
    )

    with pytest.raises(
        MissingCallbackTokenError, match="OMNIROUTE_AFRICASTALKING_CALLBACK_TOKEN is not set"
    ):
        channels.africastalking.make_app(services.channel_context(), settings)


async def test_empty_callback_token_outside_production_checks_nothing(
    gateway_with: Gateway,
) -> None:
    async with gateway_with(africastalking_callback_token=SecretStr("")) as gateway:
        response = await gateway.post(
            "/channels/africastalking/sms", data=stored("sms/first_message"), headers=FORM
        )

        assert response.status == 200


def test_production_with_a_callback_token_starts(services: Services, database_url: str) -> None:
    settings = Settings(
        env="production",
        database_url=database_url,
        africastalking_callback_token=SecretStr(TOKEN),
        _env_file=None,
    )

    app = channels.africastalking.make_app(services.channel_context(), settings)

    assert {r.resource.canonical for r in app.router.routes() if r.resource} == {
        "/ussd",
        "/ussd/events",
        "/sms",
        "/sms/delivery",
        "/voice",
    }
