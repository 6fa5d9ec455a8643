"""`omniroute apikey create`, `client create` and `token` print what an operator hands over."""

from __future__ import annotations

import asyncio

import pytest

from channels.graphql import TokenKeys
from core.app.cli import main
from core.clock import SystemClock
from core.config import Settings
from core.db import Database
from core.ids import RandomIds
from engines.access import AccessService, Role


def _check_key(database_url: str, key: str) -> object:
    async def check() -> object:
        db = Database(database_url)
        try:
            return await AccessService(db, SystemClock(), RandomIds()).authenticate_api_key(key)
        finally:
            await db.dispose()

    return asyncio.run(check())


@pytest.fixture
def env(database_url: str, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("OMNIROUTE_DATABASE_URL", database_url)
    monkeypatch.setenv("OMNIROUTE_ENV", "dev")
    return database_url


def test_apikey_create_prints_a_working_key_once(
    env: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["apikey", "create", "--role", "operator", "--name", "warehouse"]) == 0
    out = capsys.readouterr()
    key = out.out.strip()
    assert key.startswith("omr_")
    assert "shown once" in out.err
    principal = _check_key(env, key)
    assert getattr(principal, "role", None) is Role.OPERATOR


def test_client_create_prints_id_and_secret(env: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["client", "create", "--role", "agent"]) == 0
    lines = dict(line.split("=", 1) for line in capsys.readouterr().out.split())
    assert lines["client_id"].startswith("omr-")
    assert len(lines["client_secret"]) >= 40


def test_token_signs_a_jwt_the_gateway_accepts(
    env: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["token", "--sub", "+2348030000001", "--role", "customer"]) == 0
    token = capsys.readouterr().out.strip()
    principal = TokenKeys.from_settings(Settings(_env_file=None)).decode(token)
    assert (principal.subject, principal.role) == ("+2348030000001", Role.CUSTOMER)


def test_an_unknown_role_is_a_one_line_error(env: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["apikey", "create", "--role", "boss"])
    assert exited.value.code == 2
    assert "invalid choice: 'boss'" in capsys.readouterr().err


def test_a_customer_token_carries_the_phone_as_the_gateway_compares_it(
    env: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """Spaces in the phone once made a token that the gateway refused for every order."""
    assert main(["token", "--sub", "+234 803 000 0001", "--role", "customer"]) == 0
    token = capsys.readouterr().out.strip()
    principal = TokenKeys.from_settings(Settings(_env_file=None)).decode(token)
    assert (principal.subject, principal.role) == ("+2348030000001", Role.CUSTOMER)


@pytest.mark.parametrize(
    ("argv", "reason"),
    [
        (
            ["apikey", "create", "--role", "customer", "--subject", "08030000001"],
            "omniroute apikey: --subject must be the customer's E.164 phone (+ and country code):"
            " '08030000001'",
        ),
        (
            ["client", "create", "--role", "driver"],
            "omniroute client: --subject is required for a driver: their E.164 phone",
        ),
        (
            ["token", "--sub", "emeka", "--role", "driver"],
            "omniroute token: --sub must be the driver's E.164 phone (+ and country code): 'emeka'",
        ),
    ],
)
def test_a_customer_or_driver_credential_without_a_phone_is_refused_in_one_line(
    argv: list[str], reason: str, env: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(argv) == 2
    out = capsys.readouterr()
    assert out.out == ""  # no secret printed, so none was made
    assert out.err == reason + "\n"
