"""The simulator page (`GET /`) in a real headless Chromium, talking to the gateway's endpoints."""

from __future__ import annotations

import asyncio
import re
import shutil
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import parse_qsl

import pytest
from aiohttp.test_utils import TestClient
from playwright.async_api import Browser, Page, Route, async_playwright, expect

from core.app.server import create_app
from core.config import Settings

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(CHROMIUM is None, reason="needs the Debian `chromium` package"),
]


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """A developer's own gateway (`make run`), whose page shows the inbox."""
    return settings.model_copy(update={"env": "dev"})


@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(
            executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"]
        )
        yield launched
        await launched.close()


@pytest.fixture
async def page(browser: Browser, client: TestClient[Any, Any]) -> Page:
    page = await browser.new_page()
    await page.goto(str(client.make_url("/")))
    return page


async def send(page: Page, text: str) -> None:
    await page.fill("#input", text)
    await page.click("#send")


async def test_ussd_session_on_the_page_shows_the_real_menus(page: Page) -> None:
    await page.click("#start")
    await expect(page.locator("#screen")).to_contain_text("1. Shop")
    await send(page, "1")
    await expect(page.locator("#screen")).to_contain_text("Choose a category")
    await send(page, "1")
    await expect(page.locator("#screen")).to_contain_text("NGN ")


async def test_keys_sent_faster_than_the_gateway_answers_show_the_screen_it_is_on(
    page: Page,
) -> None:
    """A key pressed before the screen came back waits for it, as on a phone: the page never
    shows an older screen than the one the gateway is on."""
    await page.click("#start")
    screen = page.locator("#screen")
    await expect(screen).to_contain_text("1. Shop")
    answered: list[str] = []

    async def slow_first_answer(route: Route) -> None:
        answered.append(route.request.post_data or "")
        if len(answered) == 1:  # the network is slow for the first of the two keys
            await asyncio.sleep(0.5)
        await route.continue_()

    await page.route("**/channels/africastalking/ussd", slow_first_answer)
    await page.evaluate(
        """() => {
          const entry = document.getElementById("entry");
          const input = document.getElementById("input");
          input.value = "1"; entry.requestSubmit();
          input.value = "1"; entry.requestSubmit();
        }"""
    )

    await expect(screen).to_contain_text("Noodles & Pasta:")
    await page.wait_for_timeout(800)  # past the slow answer, whenever it lands
    await expect(screen).to_contain_text("Noodles & Pasta:")
    assert len(answered) == 2


async def test_ussd_dialled_with_an_extension_opens_that_menu_entry(page: Page) -> None:
    """*384*123*3# reaches the gateway as Africa's Talking sends it: text=3, My orders."""
    await page.fill("#code", "*384*123*3#")
    await page.click("#start")
    screen = page.locator("#screen")
    await expect(screen).to_contain_text("You have no orders yet")
    await send(page, "0")
    await expect(screen).to_contain_text("1. Shop")


async def test_a_dedicated_code_dialled_with_an_extension_is_sent_as_africas_talking_does(
    page: Page,
) -> None:
    """*123*3# under a dedicated code *123#: serviceCode=*123# and text=3, My orders (the
    shared code's shape read it as a code *123*3# dialled bare: the main menu)."""
    posted: list[str] = []

    async def record(route: Route) -> None:
        posted.append(route.request.post_data or "")
        await route.continue_()

    await page.route("**/channels/africastalking/ussd", record)
    await page.fill("#service", "*123#")
    await page.fill("#code", "*123*3#")
    await page.click("#start")

    await expect(page.locator("#screen")).to_contain_text("You have no orders yet")
    form = dict(parse_qsl(posted[0]))
    assert (form["serviceCode"], form["text"]) == ("*123#", "3")


async def test_another_number_typed_mid_session_calls_afresh_not_into_the_last_ones_session(
    page: Page,
) -> None:
    """A USSD session is one phone's, as at Africa's Talking. Juma's number typed while Ngozi's
    session was open went on in her session (her English screens, her checkout) under his
    number; now the page hangs up and his dial is his own session, in Swahili."""
    posted: list[dict[str, str]] = []

    async def record(route: Route) -> None:
        posted.append(dict(parse_qsl(route.request.post_data or "")))
        await route.continue_()

    await page.route("**/channels/africastalking/ussd", record)
    screen = page.locator("#screen")
    await expect(screen).to_contain_text("Dial / start")  # the first screen says what to do
    await page.click("#start")
    await send(page, "1")
    await expect(screen).to_contain_text("Choose a category")
    await page.fill("#phone", "+254711000001")
    await send(page, "3")
    await expect(screen).to_contain_text("Dial / start")
    await page.click("#start")
    await expect(screen).to_contain_text("Karibu OmniRoute")
    sessions = {(form["sessionId"], form["phoneNumber"]) for form in posted}
    assert len(sessions) == len({session for session, _phone in sessions}) == 2


async def test_sms_on_the_page_gets_the_twilio_reply(page: Page) -> None:
    await page.select_option("#channel", "sms")
    await page.click("#start")
    await send(page, "hi")
    await expect(page.locator("#screen .them").first).to_contain_text("Shop")


async def test_voice_call_on_the_page_reads_prompts_and_takes_keys(page: Page) -> None:
    await page.select_option("#channel", "voice")
    await page.click("#start")
    screen = page.locator("#screen")
    await expect(screen).to_contain_text("Press 1")
    await page.click("#keypad button:text-is('1')")
    await expect(screen).to_contain_text("pressed 1")
    await expect(page.locator("#screen .them")).to_have_count(2)


async def test_voice_keypad_keys_a_quantity_of_several_digits_then_hash(page: Page) -> None:
    """The quantity screen gathers digits until '#', as Twilio does: 1, 2, # is twelve."""
    await page.select_option("#channel", "voice")
    await page.click("#start")
    screen = page.locator("#screen")
    await expect(screen).to_contain_text("Press 1 for Shop")
    for heard in ("Choose a category", "Indomie Chicken", "Enter quantity"):
        await page.click("#keypad button:text-is('1')")
        await expect(screen).to_contain_text(heard)
    for key in ("1", "2", "#"):
        await page.click(f"#keypad button:text-is('{key}')")

    await expect(screen).to_contain_text("pressed 12")
    await expect(screen).to_contain_text("Added 12 x Indomie Chicken")


async def test_voice_call_left_silent_hears_the_screen_again_then_goodbye(page: Page) -> None:
    """A <Gather> that times out with no key falls through to its <Redirect>, as on Twilio:
    the screen again with a line saying why, and the third silence ends the call."""

    async def short_gather(route: Route) -> None:  # 1 s instead of 30 s, so the test is quick
        response = await route.fetch()
        body = (await response.text()).replace('timeout="30"', 'timeout="1"')
        await route.fulfill(response=response, body=body)

    await page.route("**/simulator/channels/twilio/voice*", short_gather)
    await page.select_option("#channel", "voice")
    await page.click("#start")
    screen = page.locator("#screen")
    await expect(screen).to_contain_text("Press 1 for Shop")

    heard = page.locator("#screen .them")
    await expect(heard.nth(1)).to_contain_text("We did not hear a key.", timeout=10_000)
    await expect(heard.nth(1)).to_contain_text("Press 1 for Shop")
    await expect(screen).to_contain_text("We did not hear anything. Goodbye.", timeout=10_000)
    await expect(screen).to_contain_text("(call ended)")
    await expect(heard).to_have_count(4)


async def test_voice_hash_alone_is_no_answer_and_hears_the_screen_again(page: Page) -> None:
    """'#' before any digit sends nothing to the <Gather>'s action: Twilio goes on to the
    <Redirect>, as after a silence (the page did nothing, and the call hung there)."""
    await page.select_option("#channel", "voice")
    await page.click("#start")
    screen = page.locator("#screen")
    await expect(screen).to_contain_text("Press 1 for Shop")

    await page.click("#keypad button:text-is('#')")

    heard = page.locator("#screen .them")
    await expect(heard.nth(1)).to_contain_text("We did not hear a key.")
    await expect(screen).to_contain_text("(# alone: no answer)")
    await expect(screen).not_to_contain_text("pressed")


async def test_voice_digits_typed_with_a_hash_are_sent_without_it(page: Page) -> None:
    """Typed in the reply box, '12#' is keyed as on the keypad: Twilio sends 12."""
    await page.select_option("#channel", "voice")
    await page.click("#start")
    screen = page.locator("#screen")
    for heard in ("Choose a category", "Indomie Chicken", "Enter quantity"):
        await send(page, "1")
        await expect(screen).to_contain_text(heard)

    await send(page, "12#")

    await expect(screen).to_contain_text("Added 12 x Indomie Chicken")
    await expect(screen).not_to_contain_text("Enter a number")


async def test_the_order_sms_of_an_order_placed_on_the_page_arrives_in_its_inbox(
    page: Page,
) -> None:
    """Without provider keys the order's SMS reaches no phone: the page's inbox shows it, with
    its reference, its channel and its provider, for the number on the page."""
    inbox = page.locator("#inbox")
    await expect(inbox).to_contain_text("Nothing sent to this number yet.")
    await page.click("#start")
    screen = page.locator("#screen")
    await expect(screen).to_contain_text("1. Shop")
    for key in ("1", "1", "1", "3", "3", "1", "1"):  # Indomie x3, checkout, pay on delivery
        await send(page, key)
    await expect(screen).to_contain_text("Confirm")
    await send(page, "1")
    await expect(screen).to_contain_text("placed")
    found = re.search(r"Order (\w{6}) placed", await screen.inner_text())
    assert found is not None
    reference = found.group(1)

    message = inbox.locator("li").first
    await expect(message).to_contain_text(f"OmniRoute: order {reference} placed", timeout=10_000)
    await expect(message.locator(".meta")).to_contain_text("SMS · Africa's Talking")
    await expect(page.locator("#inbox-phone")).to_have_text("+2348030000001")

    await page.fill("#phone", "+254711000001")  # another number: another inbox
    await page.locator("#phone").dispatch_event("change")
    await expect(inbox).to_contain_text("Nothing sent to this number yet.")
    await expect(inbox).not_to_contain_text(reference)


async def test_invalid_phone_is_refused_with_the_gateways_reason(page: Page) -> None:
    await page.fill("#phone", "not-a-number")
    await page.click("#start")
    await expect(page.locator("#screen")).to_contain_text("The gateway refused: 400")


async def test_a_gateway_that_cannot_be_reached_is_not_called_a_refusal(page: Page) -> None:
    """The gateway stopped (or the network dropped): the page says it cannot reach it, not
    'The gateway refused: Failed to fetch', which sent people looking for a 4xx."""
    await page.route("**/simulator/channels/**", lambda route: route.abort("connectionrefused"))
    await page.click("#start")
    screen = page.locator("#screen")
    await expect(screen).to_contain_text("Cannot reach the gateway")
    await expect(screen).not_to_contain_text("refused")


async def test_production_serves_no_simulator(database_url: str) -> None:
    settings = Settings(env="production", database_url=database_url, channels="", _env_file=None)
    app = create_app(settings)
    assert not any(r.resource and r.resource.canonical == "/" for r in app.router.routes())
