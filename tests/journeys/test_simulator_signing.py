"""The simulator page on staging: with provider secrets set, its forms still get answers.

The real endpoints keep refusing unsigned forms; the page posts through `/simulator/…`, which
signs each form as its provider would and forwards it to that endpoint over HTTP.
"""

from __future__ import annotations

import asyncio
import io
import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

import pytest
from aiohttp.test_utils import TestClient
from pydantic import SecretStr

from core.app.cli import main
from core.app.server import create_app
from core.clock import SteppedClock
from core.config import Settings
from tests.support.graphql import gateway

NGOZI = "+2348030000001"


def staging(database_url: str, **extra: Any) -> Settings:
    return Settings(
        env="test",
        database_url=database_url,
        africastalking_callback_token=SecretStr("at-callback-secret"),
        twilio_account_sid="ACstaging",
        twilio_auth_token=SecretStr("twilio-auth-secret"),
        rate_limit_phone_burst=1_000,
        _env_file=None,
        **extra,
    )


# Behind a proxy Twilio signs the public URL, and the endpoint checks against it.
@pytest.fixture(params=[None, "https://staging.example.com"], ids=["direct", "behind-proxy"])
def public_url(request: pytest.FixtureRequest) -> str | None:
    return request.param  # type: ignore[no-any-return]


@pytest.fixture
async def staged(
    public_url: str | None, database_url: str, clock: SteppedClock
) -> AsyncIterator[TestClient[Any, Any]]:
    settings = staging(database_url, public_url=public_url)
    async with gateway(settings, clock) as (client, _services):
        yield client


def sms_form(body: str) -> dict[str, str]:
    return {
        "MessageSid": "SMsim1",
        "AccountSid": "ACsimulator",
        "From": NGOZI,
        "To": "+15005550006",
        "Body": body,
        "NumMedia": "0",
    }


async def test_the_page_posts_through_the_signing_route(staged: TestClient[Any, Any]) -> None:
    page = await (await staged.get("/")).text()
    assert "fetch(`/simulator${path}`" in page


async def test_unsigned_forms_are_still_refused_at_the_real_endpoints(
    staged: TestClient[Any, Any],
) -> None:
    assert (await staged.post("/channels/twilio/sms", data=sms_form("MENU"))).status == 403
    ussd = {"sessionId": "s1", "serviceCode": "*384*123#", "phoneNumber": NGOZI, "text": ""}
    assert (await staged.post("/channels/africastalking/ussd", data=ussd)).status == 403


async def test_a_ussd_session_from_the_simulator_is_answered_on_staging(
    staged: TestClient[Any, Any],
) -> None:
    form = {
        "sessionId": "sim-1",
        "serviceCode": "*384*123#",
        "phoneNumber": NGOZI,
        "networkCode": "62130",
        "text": "",
    }
    first = await staged.post("/simulator/channels/africastalking/ussd", data=form)
    assert first.status == 200
    assert (await first.text()).startswith("CON ")
    second = await staged.post(
        "/simulator/channels/africastalking/ussd", data={**form, "text": "1"}
    )
    assert second.status == 200
    assert (await second.text()).startswith("CON ")


async def test_an_sms_from_the_simulator_is_answered_on_staging(
    staged: TestClient[Any, Any],
) -> None:
    answer = await staged.post("/simulator/channels/twilio/sms", data=sms_form("MENU"))
    assert answer.status == 200
    assert answer.content_type == "application/xml"
    messages = ElementTree.fromstring(await answer.text()).iter("Message")
    assert any((m.text or "").strip() for m in messages)


async def test_a_call_from_the_simulator_follows_the_gathers_on_staging(
    staged: TestClient[Any, Any],
) -> None:
    """The voice action carries a query string (`?turn=1`): it is signed as well."""
    call = {
        "CallSid": "CAsim1",
        "AccountSid": "ACsimulator",
        "From": NGOZI,
        "To": "+15005550006",
        "CallStatus": "in-progress",
        "Digits": "",
    }
    first = await staged.post("/simulator/channels/twilio/voice", data=call)
    assert first.status == 200
    gather = ElementTree.fromstring(await first.text()).find("Gather")
    assert gather is not None
    action = gather.attrib["action"]
    path = action[action.index("/channels/") :]
    assert "?turn=" in path
    second = await staged.post(f"/simulator{path}", data={**call, "Digits": "1"})
    assert second.status == 200
    assert ElementTree.fromstring(await second.text()).find(".//Say") is not None


async def test_the_simulator_route_signs_only_provider_forms(
    staged: TestClient[Any, Any],
) -> None:
    assert (await staged.post("/simulator/channels/web/messages", json={})).status == 404
    assert (await staged.post("/simulator/channels/meta/whatsapp", json={})).status == 404


async def test_production_has_no_signing_route(database_url: str) -> None:
    settings = staging(database_url).model_copy(update={"env": "production"})
    app = create_app(settings.model_copy(update={"channels": ""}))
    assert not any(
        r.resource and r.resource.canonical.startswith("/simulator") for r in app.router.routes()
    )


SECRETS = {
    "OMNIROUTE_AFRICASTALKING_CALLBACK_TOKEN": "at-callback-secret",
    "OMNIROUTE_TWILIO_AUTH_TOKEN": "twilio-auth-secret",
}


@pytest.mark.parametrize(
    ("channel", "keys", "seen"),
    [
        ("ussd", ("1", ""), "| Choose a category:"),
        ("sms", ("MENU", "1"), "Choose a category"),
        ("whatsapp", ("MENU", "1"), "Choose a category"),
        ("voice", ("1", ""), "category"),
    ],
)
async def test_the_terminal_phone_is_answered_on_staging_with_its_secrets_in_the_environment(
    staged: TestClient[Any, Any],
    public_url: str | None,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    channel: str,
    keys: tuple[str, ...],
    seen: str,
) -> None:
    for name, value in SECRETS.items():
        monkeypatch.setenv(name, value)
    if public_url:
        monkeypatch.setenv("OMNIROUTE_PUBLIC_URL", public_url)
    else:
        monkeypatch.delenv("OMNIROUTE_PUBLIC_URL", raising=False)
    monkeypatch.setattr("sys.stdin", io.StringIO("".join(f"{key}\n" for key in keys)))
    url = str(staged.make_url("")).rstrip("/")

    code = await asyncio.to_thread(main, ["simulate", channel, "--phone", NGOZI, "--url", url])

    out = capsys.readouterr()
    assert (code, out.err) == (0, "")
    assert seen in out.out


async def test_the_terminal_phone_reads_the_secrets_from_the_env_file_as_the_gateway_does(
    staged: TestClient[Any, Any],
    public_url: str | None,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
) -> None:
    """A gateway configured by its `.env` (README: "a .env file is read too"): the terminal
    phone run beside it signs with the same secrets instead of getting 403."""
    variables = {**SECRETS, "OMNIROUTE_PUBLIC_URL": public_url or ""}
    for name in variables:
        monkeypatch.delenv(name, raising=False)
    (tmp_path / ".env").write_text("".join(f"{k}={v}\n" for k, v in variables.items() if v))
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr("sys.stdin", io.StringIO("MENU\n"))
    url = str(staged.make_url("")).rstrip("/")

    code = await asyncio.to_thread(main, ["simulate", "sms", "--phone", NGOZI, "--url", url])

    out = capsys.readouterr()
    assert code == 0, out.err
    assert "1. Shop" in out.out


async def test_the_terminal_phone_without_the_secrets_says_how_to_sign_when_refused(
    staged: TestClient[Any, Any],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    for name in SECRETS:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr("sys.stdin", io.StringIO("MENU\n"))
    url = str(staged.make_url("")).rstrip("/")

    code = await asyncio.to_thread(main, ["simulate", "sms", "--phone", NGOZI, "--url", url])

    # the in-process gateway's own warning (a bad signature) may share stderr with the phone's
    # lines when an earlier test configured logging: the phone's are those without a timestamp
    err = capsys.readouterr().err.splitlines(keepends=True)
    said = "".join(line for line in err if not re.match(r"\d{4}-\d\d-\d\dT", line))
    assert code == 1
    assert said.startswith("gateway answered 403")
    assert "run this with its secrets in the environment" in said
