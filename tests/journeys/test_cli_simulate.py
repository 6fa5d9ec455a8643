"""`omniroute simulate …`: the terminal phone walks real journeys through a running gateway."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator

import pytest
from aiohttp.test_utils import TestClient

from core.app.cli import main
from core.app.simulate import simulate


def typing(*answers: str) -> Callable[[str], str]:
    """What the user types at each prompt; then Ctrl+D."""
    keys: Iterator[str] = iter(answers)

    def ask(_prompt: str) -> str:
        try:
            return next(keys)
        except StopIteration:
            raise EOFError from None

    return ask


def base(client: TestClient[object, object]) -> str:
    return str(client.make_url("")).rstrip("/")


async def test_ussd_in_the_terminal_shows_screens_until_hang_up(
    client: TestClient[object, object], capsys: pytest.CaptureFixture[str]
) -> None:
    code = await asyncio.to_thread(
        simulate, "ussd", base(client), "+2348030000001", "*384*123#", typing("1", "")
    )
    out = capsys.readouterr().out
    assert code == 0
    assert "| 1. Shop" in out
    assert "Choose a category" in out
    assert out.rstrip().endswith("(hung up)")


async def test_ussd_in_the_terminal_dials_a_shortcut_straight_to_its_menu_entry(
    client: TestClient[object, object], capsys: pytest.CaptureFixture[str]
) -> None:
    """`--dial '*384*123*1#'` sends text=1 with the session's first request, as Africa's
    Talking does, so the first screen is the categories, not the main menu."""
    code = await asyncio.to_thread(
        simulate,
        "ussd",
        base(client),
        "+2348030000001",
        "*384*123#",
        typing(""),
        dial="*384*123*1#",
    )
    out = capsys.readouterr().out
    assert code == 0
    assert out.startswith("Dialling *384*123*1# from +2348030000001")
    first_screen = out.split("+" + "-" * 30)[1]
    assert "| Choose a category:" in first_screen
    assert "Welcome to OmniRoute" not in out


@pytest.mark.parametrize(
    ("arguments", "reason"),
    [
        (
            ["ussd", "--dial", "*555*3#"],
            "--dial *555*3# is not the service code *384*123# with keys added, such as "
            "*384*123*3# (or give --service-code)",
        ),
        (["ussd", "--dial", "*384*123*3"], "--dial *384*123*3 is not the service code"),
        (["sms", "--dial", "*384*123*3#"], "--dial is for ussd, not sms"),
    ],
)
def test_a_dial_that_is_not_a_shortcut_of_the_service_code_is_one_line_and_exit_2(
    capsys: pytest.CaptureFixture[str], arguments: list[str], reason: str
) -> None:
    code = main(["simulate", *arguments, "--url", "http://127.0.0.1:9"])
    assert code == 2
    said = capsys.readouterr().err
    assert said.startswith(f"omniroute simulate: {reason}")
    assert said.count("\n") == 1


@pytest.mark.parametrize(
    ("arguments", "reason"),
    [
        (
            ["ussd", "--phone", "08030000001", "--url", "http://127.0.0.1:9"],
            "--phone must be E.164 (+ and country code): '08030000001'",
        ),
        (
            ["sms", "--phone", "+23480300", "--url", "http://127.0.0.1:9"],
            "--phone is not a valid E.164 number: '+23480300'",
        ),
        (
            ["ussd", "--url", "127.0.0.1:8080"],
            "--url must be the gateway's http:// or https:// address: '127.0.0.1:8080'",
        ),
    ],
)
def test_a_phone_or_url_the_gateway_cannot_take_is_one_line_and_exit_2(
    capsys: pytest.CaptureFixture[str], arguments: list[str], reason: str
) -> None:
    """A bad argument, as interfaces.md says: one line and exit 2, before anything is dialled
    (it dialled, then said 'gateway answered 400' or 'unknown url type' and exited 1)."""
    code = main(["simulate", *arguments])
    captured = capsys.readouterr()
    assert code == 2
    assert captured.err == f"omniroute simulate: {reason}\n"
    assert captured.out == ""


async def test_ctrl_c_in_the_terminal_hangs_up_without_a_traceback(
    client: TestClient[object, object], capsys: pytest.CaptureFixture[str]
) -> None:
    def ctrl_c(_prompt: str) -> str:
        raise KeyboardInterrupt

    try:
        code = await asyncio.to_thread(
            simulate, "ussd", base(client), "+2348030000001", "*384*123#", ctrl_c
        )
    except KeyboardInterrupt:  # escaping, it would also stop this test run
        pytest.fail("Ctrl+C ended the terminal phone with a traceback")
    out = capsys.readouterr().out
    assert code == 0
    assert "| 1. Shop" in out
    assert out.rstrip().endswith("(hung up)")


async def test_sms_in_the_terminal_prints_the_twiml_reply(
    client: TestClient[object, object], capsys: pytest.CaptureFixture[str]
) -> None:
    code = await asyncio.to_thread(
        simulate, "sms", base(client), "+2348030000001", "*384*123#", typing("hi", "1")
    )
    out = capsys.readouterr().out
    assert code == 0
    assert "Shop" in out
    assert "Choose a category" in out


async def test_whatsapp_in_the_terminal_uses_whatsapp_addresses(
    client: TestClient[object, object], capsys: pytest.CaptureFixture[str]
) -> None:
    code = await asyncio.to_thread(
        simulate, "whatsapp", base(client), "+254711000001", "*384*123#", typing("hi")
    )
    out = capsys.readouterr().out
    assert code == 0
    assert "Karibu" in out  # Juma in Nairobi is greeted in Swahili


async def test_voice_in_the_terminal_reads_prompts_and_sends_digits(
    client: TestClient[object, object], capsys: pytest.CaptureFixture[str]
) -> None:
    code = await asyncio.to_thread(
        simulate, "voice", base(client), "+2348030000001", "*384*123#", typing("1")
    )
    out = capsys.readouterr().out
    assert code == 0
    assert out.count("Press 1") >= 1
    assert "category" in out.lower()


async def test_voice_in_the_terminal_ends_digits_on_hash_as_twilio_does(
    client: TestClient[object, object], capsys: pytest.CaptureFixture[str]
) -> None:
    """'12#' keys 12, as on a phone: Twilio never sends the finishOnKey to the action."""
    code = await asyncio.to_thread(
        simulate,
        "voice",
        base(client),
        "+2348030000001",
        "*384*123#",
        typing("1", "1", "1", "12#"),
    )
    out = capsys.readouterr().out
    assert code == 0
    assert "Added 12 x Indomie Chicken" in out
    assert "Enter a number" not in out


async def test_voice_in_the_terminal_hash_alone_is_no_answer_and_the_third_ends_the_call(
    client: TestClient[object, object], capsys: pytest.CaptureFixture[str]
) -> None:
    """'#' before any digit is no answer: Twilio follows the <Redirect>, which counts the
    silences, and the third in a row ends the call with the goodbye."""
    code = await asyncio.to_thread(
        simulate, "voice", base(client), "+2348030000001", "*384*123#", typing("#", "#", "#")
    )
    out = capsys.readouterr().out
    assert code == 0
    assert out.count("We did not hear a key.") == 2
    assert "We did not hear anything. Goodbye." in out
    assert "(hung up)" not in out


async def test_unreachable_gateway_is_one_clear_line_and_exit_1(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code = await asyncio.to_thread(
        simulate, "sms", "http://127.0.0.1:9", "+2348030000001", "", typing("hi")
    )
    assert code == 1
    said = capsys.readouterr().err
    assert "cannot reach the gateway at http://127.0.0.1:9" in said
    assert "`make run`, or `omniroute serve`, starts it" in said


def test_unknown_simulated_channel_is_refused_with_exit_2(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["simulate", "telegram"])
    assert exited.value.code == 2
    assert "invalid choice: 'telegram'" in capsys.readouterr().err
