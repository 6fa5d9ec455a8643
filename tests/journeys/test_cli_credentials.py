"""`omniroute apikey create`, `client create` and `token` print what an operator hands over."""

from __future__ import annotations

import asyncio
import csv
import io
import time
from typing import Any

import jwt
import pytest
from aiohttp.test_utils import TestClient

from channels.graphql import TokenKeys
from core.app.cli import main
from core.clock import SystemClock
from core.config import Settings
from core.db import Database
from core.ids import RandomIds
from engines.access import AccessService, Principal, Role
from tests.support.graphql import post_graphql


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


ME = "{ escalations { orderReference } }"


async def test_a_revoked_key_is_refused_by_the_running_gateway_at_once(
    env: str, client: TestClient[Any, Any], capsys: pytest.CaptureFixture[str]
) -> None:
    """A warehouse's key leaks: the operator lists the keys, revokes it by its id, and the
    gateway already running refuses the very next request, with no SQL and no restart."""
    argv = ["apikey", "create", "--role", "operator", "--name", "warehouse"]
    assert await asyncio.to_thread(main, argv) == 0
    key = capsys.readouterr().out.strip()
    headers = {"X-API-Key": key}
    status, body = await post_graphql(client, ME, headers=headers)
    assert (status, body.get("errors")) == (200, None)

    assert await asyncio.to_thread(main, ["apikeys", "list"]) == 0
    rows = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    [row] = [r for r in rows if r["name"] == "warehouse"]
    assert key.startswith(f"omr_{row['key_id']}_")
    assert (row["role"], row["revoked_at"]) == ("operator", "")
    assert key not in "".join(r["key_id"] for r in rows)  # never the secret

    assert await asyncio.to_thread(main, ["apikey", "revoke", row["key_id"]]) == 0
    assert f"API key {row['key_id']} (operator, " in capsys.readouterr().out

    status, body = await post_graphql(client, ME, headers=headers)
    assert body["data"] is None
    assert body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    assert await asyncio.to_thread(main, ["apikey", "list"]) == 0
    [row] = [
        r for r in csv.DictReader(io.StringIO(capsys.readouterr().out)) if r["name"] == "warehouse"
    ]
    assert row["revoked_at"]  # when, for the audit
    # revoking again changes nothing; an id no key has is one line and exit 2
    assert await asyncio.to_thread(main, ["apikey", "revoke", row["key_id"]]) == 0
    assert "already revoked" in capsys.readouterr().out
    assert await asyncio.to_thread(main, ["apikey", "revoke", "0123456789ab"]) == 2
    assert capsys.readouterr().err == (
        "omniroute apikey revoke: no API key '0123456789ab' (see apikey list)\n"
    )


async def test_a_revoked_oauth_client_and_the_tokens_it_holds_are_refused_at_once(
    env: str, client: TestClient[Any, Any], capsys: pytest.CaptureFixture[str]
) -> None:
    """A partner's client secret leaks: the operator lists the clients, revokes it by its id,
    and the running gateway refuses the token the partner already holds on its very next
    request (it would otherwise have worked until it expired), and gives it no new one."""
    argv = ["client", "create", "--role", "operator", "--name", "partner"]
    assert await asyncio.to_thread(main, argv) == 0
    made = dict(line.split("=", 1) for line in capsys.readouterr().out.split())
    form = {"grant_type": "client_credentials", **made}
    response = await client.post("/oauth/token", data=form)
    assert response.status == 200
    headers = {"Authorization": f"Bearer {(await response.json())['access_token']}"}
    status, body = await post_graphql(client, ME, headers=headers)
    assert (status, body.get("errors")) == (200, None)

    assert await asyncio.to_thread(main, ["clients", "list"]) == 0
    rows = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    [row] = [r for r in rows if r["name"] == "partner"]
    assert row["client_id"] == made["client_id"]
    assert (row["role"], row["revoked_at"]) == ("operator", "")
    assert made["client_secret"] not in "".join(",".join(r.values()) for r in rows)

    assert await asyncio.to_thread(main, ["client", "revoke", row["client_id"]]) == 0
    assert f"OAuth client {row['client_id']} (operator, " in capsys.readouterr().out

    status, body = await post_graphql(client, ME, headers=headers)
    assert body["data"] is None
    assert body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    response = await client.post("/oauth/token", data=form)
    assert (response.status, (await response.json())["error"]) == (401, "invalid_client")
    assert await asyncio.to_thread(main, ["client", "list"]) == 0
    [row] = [
        r for r in csv.DictReader(io.StringIO(capsys.readouterr().out)) if r["name"] == "partner"
    ]
    assert row["revoked_at"]  # when, for the audit
    # revoking again changes nothing; an id no client has is one line and exit 2
    assert await asyncio.to_thread(main, ["client", "revoke", row["client_id"]]) == 0
    assert "already revoked" in capsys.readouterr().out
    assert await asyncio.to_thread(main, ["client", "revoke", "omr-0123456789abcdef"]) == 2
    assert capsys.readouterr().err == (
        "omniroute client revoke: no OAuth client 'omr-0123456789abcdef' (see client list)\n"
    )


async def test_an_identity_providers_token_for_a_revoked_client_of_ours_is_refused(
    env: str, client: TestClient[Any, Any], capsys: pytest.CaptureFixture[str]
) -> None:
    """A partner signs its users in at the identity provider with the client id we issued it
    (RFC 9068's bare `client_id` claim, no `client:` prefix). Once that client is revoked, its
    IdP tokens are refused from the next request, as the tokens we issued it are."""
    assert await asyncio.to_thread(main, ["client", "create", "--role", "operator"]) == 0
    made = dict(line.split("=", 1) for line in capsys.readouterr().out.split())
    claims = {"sub": "ops-7", "role": "operator", "client_id": made["client_id"]}
    claims |= {"iat": int(time.time()), "exp": int(time.time()) + 600}
    keys = TokenKeys.from_settings(Settings())  # the key the gateway trusts the IdP's with
    claims |= {"iss": keys.issuer} if keys.issuer else {}
    claims |= {"aud": keys.audience} if keys.audience else {}
    headers = {"Authorization": f"Bearer {jwt.encode(claims, keys.sign_key, algorithm='HS256')}"}
    status, body = await post_graphql(client, ME, headers=headers)
    assert (status, body.get("errors")) == (200, None)

    assert await asyncio.to_thread(main, ["client", "revoke", made["client_id"]]) == 0
    status, body = await post_graphql(client, ME, headers=headers)
    assert body["data"] is None
    [error] = body["errors"]
    assert error["extensions"]["code"] == "UNAUTHENTICATED"
    assert error["message"].endswith("the OAuth client this token was issued to is revoked")


async def test_a_token_whose_client_id_is_another_issuers_is_not_refused(
    env: str, client: TestClient[Any, Any]
) -> None:
    """An identity provider's tokens name its app in client_id: no client of ours to revoke."""
    keys = TokenKeys.from_settings(Settings())
    token = keys.issue(Principal("ops-1", Role.OPERATOR, credential="mobile-app"))
    status, body = await post_graphql(client, ME, headers={"Authorization": f"Bearer {token}"})
    assert (status, body.get("errors")) == (200, None)
