"""Africa's Talking USSD callbacks, byte for byte: what we answer and what each body changes.

The bodies live in fixtures/ussd/*.form (see fixtures/SOURCES.md); later hops of a session are
built by `at_body`, which is first shown to reproduce a stored fixture exactly.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest
from aiohttp import ClientResponse
from aiohttp.test_utils import TestClient, TestServer
from pydantic import SecretStr

from channels.africastalking.forms import UssdForm
from core.app.bootstrap import Services
from core.app.server import create_app
from core.clock import SteppedClock
from core.config import Settings
from core.conversation import Session
from core.phone import Phone
from core.region import RegionCode
from engines.orders import Order
from engines.orders.repository import SqlOrderRepository
from tests.support.graphql import gateway
from tests.support.phone import database_rows

FIXTURES = Path(__file__).parent / "fixtures" / "ussd"
USSD = "/channels/africastalking/ussd"
EVENTS = "/channels/africastalking/ussd/events"
FORM = {"Content-Type": "application/x-www-form-urlencoded"}
SESSION_ID = "ATUid_5c8f3e0d2b7a4f19e6d1c0b9a8f7e6d5"
NGOZI = Phone("+2348030000001")
LAGOS = RegionCode.LAGOS
INDOMIE = "NDL-INDO-CHK"
MAX_BODY = 8 * 1024
TOKEN = "at-callback-9f2c71"

Client = TestClient[object, object]


def stored(name: str) -> bytes:
    return (FIXTURES / f"{name}.form").read_bytes()


def at_body(
    text: str = "",
    *,
    session_id: str = SESSION_ID,
    phone: str = NGOZI.e164,
    extra: tuple[tuple[str, str], ...] = (),
) -> bytes:
    """A USSD callback laid out as the stored fixtures are (field order, percent-encoding)."""
    fields = [
        ("sessionId", session_id),
        ("serviceCode", "*384*123#"),
        ("phoneNumber", phone),
        ("networkCode", "62130"),
        ("text", text),
        *extra,
    ]
    return urlencode(fields).encode()


def session_key(session_id: str = SESSION_ID, phone: str = NGOZI.e164) -> str:
    """Where the pipeline keeps an Africa's Talking session (channels/africastalking/ussd.py):
    one phone's, however another number's callback names its sessionId."""
    return f"at-ussd:{session_id}:{phone}"


async def session_of(
    services: Services, session_id: str = SESSION_ID, phone: str = NGOZI.e164
) -> Session | None:
    return await services.store.load(session_key(session_id, phone))


async def post(client: Client, body: bytes, path: str = USSD) -> ClientResponse:
    return await client.post(path, data=body, headers=FORM)


async def screen_of(response: ClientResponse) -> str:
    assert response.status == 200, await response.text()
    assert response.content_type == "text/plain"
    text = await response.text()
    assert text.startswith(("CON ", "END ")), text
    return text


async def hops(client: Client, *texts: str) -> str:
    """Post one callback per cumulative `text`, as the network does; the last screen."""
    screen = ""
    for text in texts:
        screen = await screen_of(await post(client, at_body(text)))
    return screen


def transcripts(*inputs: str) -> list[str]:
    """['', '1', '1*1', ...]: every callback's `text` when a customer answers `inputs` in turn."""
    return ["*".join(inputs[:n]) for n in range(len(inputs) + 1)]


def test_generated_bodies_match_the_stored_fixtures_byte_for_byte() -> None:
    assert at_body("") == stored("first_dial")
    assert at_body("1") == stored("second_hop")


@dataclass(frozen=True)
class IncomingCase:
    """One stored body posted as Africa's Talking would, and what it must do."""

    fixture: str
    status: int
    starts: str
    path: str = USSD
    after: tuple[str, ...] = ()  # fixtures posted first, in order
    session_state: str | None = None  # the session's state afterwards; None: no session


CASES = [
    IncomingCase(
        "first_dial",
        200,
        "CON Welcome to OmniRoute\n1. Shop\n2. Cart (0)",
        session_state="main",
    ),
    IncomingCase(
        "second_hop",
        200,
        "CON Choose a category:\n1. Noodles & Pasta",
        after=("first_dial",),
        session_state="categories",
    ),
    IncomingCase("missing_phone", 400, "Bad request: phoneNumber is required"),
    IncomingCase(
        "invalid_phone", 400, "Bad request: phoneNumber: '+2340000' is not a valid phone number"
    ),
    IncomingCase("missing_session_id", 400, "Bad request: sessionId is required"),
    IncomingCase("session_end", 200, "OK", path=EVENTS),
    IncomingCase(
        "session_end_timeout",
        200,
        "OK",
        path=EVENTS,
        after=("first_dial", "second_hop"),
        session_state="categories",
    ),
    IncomingCase(
        "session_end_missing_session_id", 400, "Bad request: sessionId is required", path=EVENTS
    ),
]


@pytest.mark.parametrize("case", CASES, ids=[c.fixture for c in CASES])
async def test_africastalking_ussd_body(
    client: Client, services: Services, case: IncomingCase
) -> None:
    for earlier in case.after:
        await screen_of(await post(client, stored(earlier)))
    rows_before = await database_rows(services.db)

    response = await post(client, stored(case.fixture), case.path)

    text = await response.text()
    assert response.status == case.status, text
    assert response.content_type == "text/plain"
    assert text.startswith(case.starts), text
    if case.status >= 400:
        assert "errors.pydantic.dev" not in text
        assert "Traceback" not in text
    # USSD turns write nothing to the database until a cart or an order changes.
    assert await database_rows(services.db) == rows_before
    session = await session_of(services)
    assert (session and session.state) == case.session_state


@pytest.mark.parametrize("chunked", [False, True], ids=["content-length", "chunked"])
async def test_body_over_8_kib_is_refused_with_413_and_changes_nothing(
    client: Client, services: Services, *, chunked: bool
) -> None:
    body = at_body("", extra=(("padding", "x" * MAX_BODY),))
    assert len(body) > MAX_BODY
    rows_before = await database_rows(services.db)

    async def stream() -> AsyncIterator[bytes]:
        for start in range(0, len(body), 1024):
            yield body[start : start + 1024]

    response = await client.post(USSD, data=stream() if chunked else body, headers=FORM)

    assert response.status == 413
    assert response.content_type == "text/plain"
    assert "8192 bytes" in await response.text()
    assert await database_rows(services.db) == rows_before
    assert await session_of(services) is None


async def test_body_of_exactly_8_kib_is_accepted(client: Client, services: Services) -> None:
    short = at_body("", extra=(("padding", ""),))
    body = at_body("", extra=(("padding", "x" * (MAX_BODY - len(short))),))
    assert len(body) == MAX_BODY

    screen = await screen_of(await post(client, body))

    assert screen.startswith("CON Welcome to OmniRoute")
    assert await session_of(services) is not None


async def test_body_that_is_not_utf8_is_a_400(client: Client, services: Services) -> None:
    response = await post(client, at_body("") + b"\xff\xfe")

    assert response.status == 400
    assert response.content_type == "text/plain"
    assert await response.text() == "Bad request: the body is not UTF-8\n"
    assert await session_of(services) is None


# --- the callback token -----------------------------------------------------------------------


@pytest.fixture
async def guarded(database_url: str, services: Services) -> AsyncIterator[Client]:
    """The gateway with OMNIROUTE_AFRICASTALKING_CALLBACK_TOKEN set, over the same services."""
    settings = Settings(
        env="test",
        database_url=database_url,
        session_url="memory://",
        africastalking_callback_token=SecretStr(TOKEN),
        _env_file=None,
    )
    app = create_app(settings, build=lambda _s: services)
    async with TestClient(TestServer(app)) as test_client:
        yield test_client


@pytest.mark.parametrize("path", [USSD, EVENTS])
@pytest.mark.parametrize(
    "query",
    ["", "?token=", "?token=wrong", f"?token={TOKEN[:-1]}", f"?token={TOKEN.upper()}"],
    ids=["missing", "empty", "wrong", "prefix", "other-case"],
)
async def test_callback_without_the_right_token_is_403_and_changes_nothing(
    guarded: Client, services: Services, path: str, query: str
) -> None:
    body = stored("first_dial") if path == USSD else stored("session_end")
    rows_before = await database_rows(services.db)

    response = await guarded.post(path + query, data=body, headers=FORM)

    assert response.status == 403
    assert response.content_type == "text/plain"
    assert "token" in await response.text()
    assert await database_rows(services.db) == rows_before
    assert await session_of(services) is None


async def test_callback_with_the_right_token_is_served(guarded: Client, services: Services) -> None:
    response = await guarded.post(f"{USSD}?token={TOKEN}", data=stored("first_dial"), headers=FORM)
    assert (await screen_of(response)).startswith("CON Welcome to OmniRoute")
    session = await session_of(services)
    assert session is not None
    assert session.state == "main"

    event = await guarded.post(f"{EVENTS}?token={TOKEN}", data=stored("session_end"), headers=FORM)
    assert event.status == 200


# --- retries and inputs containing '*' ----------------------------------------------------------


async def test_retried_first_dial_returns_the_same_screen(
    client: Client, services: Services
) -> None:
    first = await screen_of(await post(client, stored("first_dial")))
    again = await screen_of(await post(client, stored("first_dial")))

    assert again == first
    session = await session_of(services)
    assert session is not None
    assert session.state == "main"


async def test_shortcut_dial_opens_the_menu_entry_and_the_next_hop_goes_on(
    client: Client, services: Services
) -> None:
    """Dialling *384*123*1#: the first callback already carries `text=1` (a second hop's body,
    on a sessionId not seen before), the next one `text=1*1`."""
    first = await screen_of(await post(client, at_body("1")))
    retry = await screen_of(await post(client, at_body("1")))
    products = await screen_of(await post(client, at_body("1*1")))

    assert first.startswith("CON Choose a category:\n1. Noodles & Pasta")
    assert retry == first
    assert products.startswith("CON Noodles & Pasta")
    session = await session_of(services)
    assert session is not None
    assert session.transcript == "1*1"


async def test_several_inputs_on_an_unknown_session_are_a_lost_session(client: Client) -> None:
    screen = await screen_of(await post(client, at_body("1*1*1")))

    assert screen.startswith("CON Sorry, your session was interrupted.\nWelcome to OmniRoute")


async def test_retried_quantity_step_adds_to_the_cart_once(
    client: Client, services: Services
) -> None:
    *earlier, quantity_hop = transcripts("1", "1", "1", "3")
    await hops(client, *earlier)

    first = await screen_of(await post(client, at_body(quantity_hop)))
    retry = await screen_of(await post(client, at_body(quantity_hop)))

    assert first.startswith("CON Added 3 x Indomie Chicken 40x70g.\nCart: 3 items.")
    assert retry == first
    cart = await services.orders.cart(NGOZI, LAGOS)
    assert cart.quantity_of(INDOMIE) == 3
    # The session moved one step: the next answer lands on the "Added" screen's menu.
    view_cart = await screen_of(await post(client, at_body(f"{quantity_hop}*2")))
    assert view_cart.startswith("CON Cart (3 items, NGN 26,993.25):")


async def test_retried_confirm_places_one_order_and_reserves_stock_once(
    client: Client, services: Services
) -> None:
    *earlier, confirm_hop = transcripts("1", "1", "1", "3", "3", "1", "1", "1")
    await hops(client, *earlier)
    available = await services.catalogue.available(LAGOS, INDOMIE)

    first = await screen_of(await post(client, at_body(confirm_hop)))
    retry = await screen_of(await post(client, at_body(confirm_hop)))

    assert first.startswith("END Order ")
    assert retry == first
    orders = await services.orders.recent(NGOZI)
    assert len(orders) == 1
    assert f"Order {orders[0].reference} placed" in first
    assert await services.catalogue.available(LAGOS, INDOMIE) == available - 3
    assert (await services.orders.cart(NGOZI, LAGOS)).is_empty


async def test_typed_input_containing_a_star_reaches_the_dialog_whole(
    client: Client, services: Services
) -> None:
    prompt = await hops(client, *transcripts("1", "1", "1"))
    assert prompt.endswith("Enter quantity:\n00. Back")

    # Read as separate inputs this would add 2 and then answer the "Added" menu with 3.
    rejected = await screen_of(await post(client, at_body("1*1*1*2*3")))

    assert rejected == "CON Enter a number, e.g. 3.\n" + prompt.removeprefix("CON ")
    assert (await services.orders.cart(NGOZI, LAGOS)).is_empty
    added = await screen_of(await post(client, at_body("1*1*1*2*3*4")))
    assert added.startswith("CON Added 4 x Indomie Chicken 40x70g.")
    assert (await services.orders.cart(NGOZI, LAGOS)).quantity_of(INDOMIE) == 4


async def test_new_session_id_on_the_same_phone_starts_a_new_conversation(
    client: Client, services: Services
) -> None:
    await hops(client, *transcripts("1", "1"))

    screen = await screen_of(await post(client, at_body("", session_id="ATUid_other")))

    assert screen.startswith("CON Welcome to OmniRoute")
    old = await session_of(services)
    assert old is not None
    assert old.state == "products"


async def test_her_session_id_from_another_phone_does_not_continue_her_session(
    client: Client, services: Services
) -> None:
    """A callback with Ngozi's sessionId and another phoneNumber is a session of his own: it
    never shows her screens or adds to a cart under his number, and hers goes on untouched."""
    *earlier, quantity_hop = transcripts("1", "1", "1", "3")
    await hops(client, *earlier)  # Ngozi at Indomie's quantity
    other = Phone("+2348030000002")

    his = await screen_of(await post(client, at_body(quantity_hop, phone=other.e164)))

    assert his.startswith("CON Sorry, your session was interrupted.\nWelcome to OmniRoute"), his
    assert (await services.orders.cart(other, LAGOS)).is_empty
    assert (await services.orders.cart(NGOZI, LAGOS)).is_empty
    hers = await screen_of(await post(client, at_body(quantity_hop)))
    assert hers.startswith("CON Added 3 x Indomie Chicken 40x70g.\nCart: 3 items."), hers
    assert (await services.orders.cart(other, LAGOS)).is_empty


def longest_session_id() -> str:
    """The longest sessionId the callback accepts."""
    bound: int = UssdForm.model_json_schema()["properties"]["sessionId"]["maxLength"]
    return "ATUid_" + "7" * (bound - len("ATUid_"))


async def test_a_session_id_longer_than_accepted_is_a_400_with_the_reason(
    client: Client, services: Services
) -> None:
    rows_before = await database_rows(services.db)
    too_long = longest_session_id() + "7"

    response = await post(client, at_body("", session_id=too_long))

    assert response.status == 400
    assert (await response.text()).startswith("Bad request: sessionId: "), await response.text()
    assert await database_rows(services.db) == rows_before
    assert await session_of(services, too_long) is None


@pytest.mark.real
async def test_the_longest_accepted_session_id_places_her_order_on_postgresql(
    pg_database_url: str, clock: SteppedClock
) -> None:
    """A sessionId of 200 characters was accepted, but the order's idempotency key built from
    it outgrew its 200-character column: Ngozi's confirm ended 'the service is not available'
    and no order was placed."""
    session_id = longest_session_id()
    settings = Settings(database_url=pg_database_url, temporal="off")
    async with gateway(settings, clock) as (client, services):
        screen = ""
        for text in transcripts("1", "1", "1", "3", "3", "1", "1", "1"):
            screen = await screen_of(await post(client, at_body(text, session_id=session_id)))

        assert screen.startswith("END Order "), screen
        (order,) = await services.orders.recent(NGOZI)
        assert f"Order {order.reference} placed" in screen


# --- a retry that arrives while the original is still being handled ----------------------------
#
# Africa's Talking retries a callback it got no answer to in time, so the retry can arrive while
# the original request is still at work. The engines' calls are held at a chosen point (as a slow
# database would hold them) until the retry has caught up; if the retry never gets there, the
# hold times out and the original simply carries on.

HOLD_SECONDS = 2.0


class Hold:
    """Stops the first call of an async service method until the second call has run."""

    def __init__(self, method: Callable[..., Awaitable[Any]], *, after: bool) -> None:
        self._method = method
        self._after = after
        self.first_reached = asyncio.Event()
        self._second_done = asyncio.Event()

    async def __call__(self, *args: Any) -> Any:
        if self.first_reached.is_set():
            try:
                return await self._method(*args)
            finally:
                self._second_done.set()
        if self._after:
            result = await self._method(*args)
            await self._hold()
            return result
        await self._hold()
        return await self._method(*args)

    async def _hold(self) -> None:
        self.first_reached.set()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._second_done.wait(), HOLD_SECONDS)


async def original_and_retry(client: Client, body: bytes, hold: Hold) -> tuple[str, str]:
    async def retry() -> ClientResponse:
        await hold.first_reached.wait()
        return await post(client, body)

    original, again = await asyncio.gather(post(client, body), retry())
    return await screen_of(original), await screen_of(again)


async def test_retry_arriving_mid_quantity_step_adds_to_the_cart_once(
    client: Client, services: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Held after the cart is saved, before the session is: the retry must not add again."""
    *earlier, quantity_hop = transcripts("1", "1", "1", "3")
    await hops(client, *earlier)
    hold = Hold(services.orders.save_cart, after=True)
    monkeypatch.setattr(services.orders, "save_cart", hold)

    original, retry = await original_and_retry(client, at_body(quantity_hop), hold)

    assert retry == original
    assert original.startswith("CON Added 3 x Indomie Chicken 40x70g.\nCart: 3 items.")
    assert (await services.orders.cart(NGOZI, LAGOS)).quantity_of(INDOMIE) == 3


async def test_retry_arriving_mid_confirm_gets_the_order_screen_and_places_once(
    client: Client, services: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Both copies past the 'already placed?' check: one order, and both get its screen."""
    *earlier, confirm_hop = transcripts("1", "1", "1", "3", "3", "1", "1", "1")
    await hops(client, *earlier)
    available = await services.catalogue.available(LAGOS, INDOMIE)
    # Held just after placement has looked the key up and found no order yet.
    hold = Hold(SqlOrderRepository.by_idempotency_key, after=True)

    async def by_idempotency_key(repo: SqlOrderRepository, key: str) -> Order | None:
        found: Order | None = await hold(repo, key)
        return found

    monkeypatch.setattr(SqlOrderRepository, "by_idempotency_key", by_idempotency_key)

    original, retry = await original_and_retry(client, at_body(confirm_hop), hold)

    assert len(await services.orders.recent(NGOZI)) == 1
    assert await services.catalogue.available(LAGOS, INDOMIE) == available - 3
    assert original.startswith("END Order ")
    assert retry == original
