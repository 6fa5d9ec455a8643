"""The stored chat bodies and what each must get back: shared by the POST and WebSocket tests."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from aiohttp.test_utils import TestClient

from core.app.bootstrap import Services
from core.conversation import Session
from core.phone import Phone
from tests.contract.channels.web.chat import message_body

FIXTURES = Path(__file__).parent / "fixtures"
NGOZI = Phone("+2348030000001")
MAX_BODY = 8 * 1024

Client = TestClient[object, object]

MAIN_MENU = {
    "text": "Welcome to OmniRoute",
    "options": [
        {"key": "1", "label": "Shop"},
        {"key": "2", "label": "Cart (0)"},
        {"key": "3", "label": "My orders"},
        {"key": "4", "label": "Language"},
        {"key": "5", "label": "Help"},
    ],
    "end": False,
}
CATEGORIES = {
    "text": "Choose a category:",
    "options": [
        {"key": "1", "label": "Noodles & Pasta"},
        {"key": "2", "label": "Rice & Grains"},
        {"key": "3", "label": "Cooking Oil"},
        {"key": "4", "label": "Drinks"},
        {"key": "5", "label": "Milk & Dairy"},
        {"key": "6", "label": "Personal Care"},
        {"key": "7", "label": "Household Cleaning"},
        {"key": "8", "label": "Snacks & Biscuits"},
        {"key": "0", "label": "Back"},
    ],
    "end": False,
}
NOT_IN_REGION_SW = {
    "text": "Samahani, OmniRoute bado haipatikani nchini mwako.",
    "options": [],
    "end": True,
}


def stored(name: str) -> bytes:
    return (FIXTURES / f"{name}.json").read_bytes()


def web_session_key(phone: Phone = NGOZI) -> str:
    """Where the pipeline keeps a web chat (channels/web/chat.py): one per phone."""
    return f"web:{phone.e164}"


async def session_of(services: Services, phone: Phone = NGOZI) -> Session | None:
    return await services.store.load(web_session_key(phone))


@dataclass(frozen=True)
class IncomingCase:
    """One stored body posted as a chat client would, and what it must do."""

    fixture: str
    status: int
    body: dict[str, Any]
    after: tuple[str, ...] = ()  # fixtures posted first, in order
    session_state: str | None = None  # Ngozi's web session afterwards; None: no session


def refused(reason: str) -> dict[str, str]:
    return {"error": reason}


CASES = [
    IncomingCase("first_message", 200, MAIN_MENU, session_state="main"),
    IncomingCase("with_client_id", 200, MAIN_MENU, session_state="main"),
    IncomingCase(
        "menu_choice", 200, CATEGORIES, after=("first_message",), session_state="categories"
    ),
    IncomingCase("unknown_fields", 200, MAIN_MENU, session_state="main"),
    IncomingCase("outside_region_with_locale", 200, NOT_IN_REGION_SW),
    IncomingCase(
        "malformed",
        400,
        refused("the body is not valid JSON (EOF while parsing an object at line 1 column 39)"),
    ),
    IncomingCase(
        "not_an_object", 400, refused('the body must be a JSON object with "user" and "text"')
    ),
    IncomingCase("missing_user", 400, refused("user is required")),
    IncomingCase("missing_text", 400, refused("text is required")),
    IncomingCase("invalid_phone", 400, refused("user: '+2340000' is not a valid phone number")),
    IncomingCase("user_not_a_string", 400, refused("user must be a string")),
    IncomingCase("blank_text", 400, refused("text must not be blank")),
    IncomingCase("text_too_long", 400, refused("text is longer than 1000 characters")),
    IncomingCase(
        "bad_locale", 400, refused('locale must be a language tag such as "en" or "sw-KE"')
    ),
    IncomingCase("empty_id", 400, refused("id must not be empty")),
    IncomingCase("id_not_a_string", 400, refused("id must be a string")),
    # A refused message leaves the conversation where it was.
    IncomingCase(
        "missing_text",
        400,
        refused("text is required"),
        after=("first_message",),
        session_state="main",
    ),
]


def padded(size: int) -> bytes:
    """A valid message padded with an unknown field (ignored) to exactly `size` bytes."""
    short = json.dumps({**message_body(NGOZI.e164, "hi"), "padding": ""}).encode()
    body = json.dumps({**message_body(NGOZI.e164, "hi"), "padding": "x" * (size - len(short))})
    assert len(body) == size
    return body.encode()
