"""A local Graph API for WhatsApp, and a WhatsApp user who chats with OmniRoute through it.

`FakeGraphApi` serves `POST /{version}/{phone-number-id}/messages` on a free loopback port as
the Cloud API does (developers.facebook.com/documentation/business-messaging/whatsapp/
reference/whatsapp-business-phone-number/message-api): `Authorization: Bearer <token>` (401,
OAuthException code 190, otherwise), a JSON body with `messaging_product: "whatsapp"`,
`recipient_type: "individual"`, exactly one of `to` (the number's digits) or `recipient` (a
business-scoped user ID), and a `text`, `interactive` (button or list) or `template` object
within Meta's limits (400, code 100 "Invalid parameter", otherwise). Its numbers are written
out here from Meta's reference, independently of the renderer under test. A send is answered
`{"messaging_product": "whatsapp", "contacts": [{"input", "wa_id"}], "messages": [{"id":
"wamid.…"}]}`. Every request is recorded whole; failures can be queued up.

`WhatsAppUser` is the customer's side: each message is posted to OmniRoute's webhook as Meta
posts it (signed with the app secret), the outbox is flushed, and the replies are read back
from what the fake received.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import itertools
import json
import re
from collections import deque
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web
from aiohttp.test_utils import TestClient
from pydantic import SecretStr

from core.config import Settings
from core.phone import InvalidPhoneError, Phone
from tests.support.providers.loopback import LoopbackFake, ReceivedRequest

API_VERSION = "v21.0"
PHONE_NUMBER_ID = "106540352242922"
DISPLAY_PHONE_NUMBER = "2348090000000"
WABA_ID = "102290129340398"
ACCESS_TOKEN = "EAAJB3m1ZCq0kBO7xZC2wZA8ZBf3tT9ZCZAoZD"  # a throwaway test token
APP_SECRET = "3f1c9a7e5b2d4c6a8e0f1b3d5c7e9a1b"
VERIFY_TOKEN = "omniroute-verify-4b8d"
MESSAGES_PATH = f"/{API_VERSION}/{PHONE_NUMBER_ID}/messages"
WEBHOOK_PATH = "/channels/meta/whatsapp"
USER_AGENT = "facebookexternalua"
BSUID = re.compile(r"^[A-Z]{2}\.(ENT\.)?[A-Za-z0-9]{1,128}$")

# Meta's limits, as its reference states them (the fake's own copy).
LIMITS = {
    "text.body": 4096,
    "interactive.body": 1024,
    "header": 60,
    "footer": 60,
    "buttons": 3,
    "button.title": 20,
    "button.id": 256,
    "list.button": 20,
    "rows": 10,
    "row.id": 200,
    "row.title": 24,
    "row.description": 72,
}


def wamid(phone: str, seed: str, *, outgoing: bool = False) -> str:
    """A WhatsApp message id laid out as Meta's are: `wamid.` and base64 of the user's number
    and a 20-hex-digit id (incoming, 0x12) or a 22-character one (outgoing, 0x11)."""
    digits = phone.removeprefix("+").encode()
    tail = hashlib.sha256(seed.encode()).hexdigest().upper().encode()
    tail = tail[:22] if outgoing else tail[:20]
    marker = b"\x11" if outgoing else b"\x12"
    blob = b"\x1c\x18" + bytes([len(digits)]) + digits + b"\x15\x02\x00" + marker
    return (
        "wamid." + base64.b64encode(blob + b"\x18" + bytes([len(tail)]) + tail + b"\x00").decode()
    )


def signature(body: bytes, secret: str = APP_SECRET) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def webhook_headers(body: bytes, *, secret: str = APP_SECRET) -> dict[str, str]:
    """The headers Meta sends with a webhook POST (the signature over `body`)."""
    return {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        "X-Hub-Signature-256": signature(body, secret),
    }


def encode(payload: Mapping[str, Any]) -> bytes:
    """A webhook body as Meta writes it: compact JSON, non-ASCII escaped as \\uXXXX."""
    return json.dumps(payload, separators=(",", ":"), ensure_ascii=True).encode()


# --- webhook bodies ------------------------------------------------------------------------------


def envelope(value: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "object": "whatsapp_business_account",
        "entry": [{"id": WABA_ID, "changes": [{"value": dict(value), "field": "messages"}]}],
    }


def metadata() -> dict[str, str]:
    return {"display_phone_number": DISPLAY_PHONE_NUMBER, "phone_number_id": PHONE_NUMBER_ID}


def message_body(
    content: Mapping[str, Any],
    *,
    wa_id: str | None,
    name: str,
    message_id: str,
    timestamp: int,
    user_id: str | None = None,
    context_id: str | None = None,
) -> bytes:
    """One incoming message. `content` is its `type` and typed object ({"type": "text",
    "text": {...}}); without `wa_id` only the business-scoped `user_id` names the sender."""
    contact: dict[str, Any] = {"profile": {"name": name}}
    if wa_id is not None:
        contact["wa_id"] = wa_id
    if user_id is not None:
        contact["user_id"] = user_id
    message: dict[str, Any] = {}
    if context_id is not None:
        message["context"] = {"from": DISPLAY_PHONE_NUMBER, "id": context_id}
    if wa_id is not None:
        message["from"] = wa_id
    if user_id is not None:
        message["from_user_id"] = user_id
    message |= {"id": message_id, "timestamp": str(timestamp), **content}
    value = {
        "messaging_product": "whatsapp",
        "metadata": metadata(),
        "contacts": [contact],
        "messages": [message],
    }
    return encode(envelope(value))


def text(body: str) -> dict[str, Any]:
    return {"type": "text", "text": {"body": body}}


def list_reply(row_id: str, title: str, description: str | None = None) -> dict[str, Any]:
    reply = {"id": row_id, "title": title}
    if description is not None:
        reply["description"] = description
    return {"type": "interactive", "interactive": {"type": "list_reply", "list_reply": reply}}


def button_reply(button_id: str, title: str) -> dict[str, Any]:
    return {
        "type": "interactive",
        "interactive": {"type": "button_reply", "button_reply": {"id": button_id, "title": title}},
    }


def reaction(message_id: str, emoji: str | None) -> dict[str, Any]:
    """An emoji put on one of our messages; taking it back posts the same without `emoji`."""
    reacted: dict[str, str] = {"message_id": message_id}
    if emoji is not None:
        reacted["emoji"] = emoji
    return {"type": "reaction", "reaction": reacted}


def status_body(
    message_id: str,
    status: str,
    *,
    recipient: str,
    timestamp: int,
    errors: list[dict[str, Any]] | None = None,
) -> bytes:
    """A status of a message we sent (sent, delivered, read or failed)."""
    entry: dict[str, Any] = {
        "id": message_id,
        "status": status,
        "timestamp": str(timestamp),
        "recipient_id": recipient,
    }
    if errors is not None:
        entry["errors"] = errors
    elif status != "read":
        entry["pricing"] = {
            "billable": True,
            "pricing_model": "PMP",
            "category": "service",
            "type": "free_customer_service",
        }
    value = {"messaging_product": "whatsapp", "metadata": metadata(), "statuses": [entry]}
    return encode(envelope(value))


# --- the fake Graph API --------------------------------------------------------------------------


@dataclass(frozen=True)
class SentWhatsApp:
    """A message the fake accepted: its id, the recipient field as sent, and the whole body."""

    id: str
    to: str
    body: dict[str, Any]

    @property
    def type(self) -> str:
        return str(self.body["type"])

    @property
    def text(self) -> str:
        """What the user reads first: the text body, the interactive body or the template."""
        if self.type == "text":
            return str(self.body["text"]["body"])
        if self.type == "interactive":
            return str(self.body["interactive"]["body"]["text"])
        return str(self.body["template"]["name"])

    @property
    def choices(self) -> list[dict[str, str]]:
        """Reply buttons or list rows as {"id", "title"[, "description"]}, in order."""
        if self.type != "interactive":
            return []
        interactive = self.body["interactive"]
        if interactive["type"] == "button":
            return [b["reply"] for b in interactive["action"]["buttons"]]
        return [row for s in interactive["action"]["sections"] for row in s["rows"]]

    def choice(self, label_part: str) -> dict[str, str]:
        for choice in self.choices:
            if label_part in choice["title"] or label_part in choice.get("description", ""):
                return choice
        raise AssertionError(f"no choice {label_part!r} in {self.choices}")


class FakeGraphApi(LoopbackFake):
    def __init__(self) -> None:
        self.requests: list[ReceivedRequest] = []
        self.sent: list[SentWhatsApp] = []
        self._failures: deque[tuple[int, dict[str, Any]]] = deque()
        self._ids = itertools.count(1)
        self._arrived = asyncio.Event()

    def settings(self, database_url: str, **overrides: Any) -> Settings:
        """Test settings whose Graph API client talks to this fake, webhooks signed."""
        values: dict[str, Any] = {
            "env": "test",
            "database_url": database_url,
            "session_url": "memory://",
            "meta_graph_base_url": f"{self.url}/{API_VERSION}",
            "meta_app_secret": SecretStr(APP_SECRET),
            "meta_verify_token": SecretStr(VERIFY_TOKEN),
            "meta_access_token": SecretStr(ACCESS_TOKEN),
            "meta_phone_number_id": PHONE_NUMBER_ID,
            **overrides,
        }
        return Settings(_env_file=None, **values)

    def fail_next(
        self, http_status: int = 500, code: int = 2, message: str = "", details: str = ""
    ) -> None:
        """The next send gets this Graph error (code 2: "Service temporarily unavailable");
        `details` is Meta's `error_data.details`, as WhatsApp's errors carry."""
        error: dict[str, Any] = {
            "message": message or "(#2) Service temporarily unavailable",
            "type": "OAuthException",
            "code": code,
            "fbtrace_id": "AbCdEfGhIjKlMnOpQrStUv",
        }
        if details:
            error["error_data"] = {"messaging_product": "whatsapp", "details": details}
        self._failures.append((http_status, {"error": error}))

    async def wait_for(self, count: int, timeout: float = 5.0) -> list[SentWhatsApp]:
        """The accepted sends, once there are `count` (for messages sent in the background)."""
        async with asyncio.timeout(timeout):
            while len(self.sent) < count:
                self._arrived.clear()
                await self._arrived.wait()
        return self.sent

    def sent_to(self, recipient: str) -> list[SentWhatsApp]:
        """What went to a number (E.164 or digits) or a business-scoped user ID."""
        key = recipient.removeprefix("+")
        return [m for m in self.sent if m.to == key]

    async def _handle(self, request: web.Request) -> web.Response:
        body = await request.read()
        self.requests.append(
            ReceivedRequest(request.method, request.path, dict(request.headers), body)
        )
        if request.path != MESSAGES_PATH:
            return _graph_error(
                400,
                100,
                f"Unsupported post request. Object with ID '{request.path}' does not exist",
            )
        if request.method != "POST":
            return _graph_error(400, 100, f"Unsupported {request.method.lower()} request")
        if request.headers.get("Authorization") != f"Bearer {ACCESS_TOKEN}":
            return _graph_error(401, 190, "Invalid OAuth access token - Cannot parse access token")
        if request.content_type != "application/json":
            return _graph_error(400, 100, "(#100) The request body must be JSON")
        try:
            message = json.loads(body)
        except ValueError:
            return _graph_error(400, 100, "(#100) The request body is not valid JSON")
        problems = _problems(message)
        if problems:
            return _graph_error(400, 100, "(#100) Invalid parameter: " + "; ".join(problems))
        if self._failures:
            status, answer = self._failures.popleft()
            return web.json_response(answer, status=status)
        to = message.get("to") or message["recipient"]
        sent_id = wamid(to, f"omniroute-fake-graph-{next(self._ids)}", outgoing=True)
        sent = SentWhatsApp(sent_id, to, message)
        self.sent.append(sent)
        self._arrived.set()
        contact = {"input": to, "wa_id": to} if "to" in message else {"input": to, "user_id": to}
        sent_entry: dict[str, str] = {"id": sent.id}
        if sent.type == "template":
            sent_entry["message_status"] = "accepted"
        return web.json_response(
            {"messaging_product": "whatsapp", "contacts": [contact], "messages": [sent_entry]}
        )


def _graph_error(status: int, code: int, message: str) -> web.Response:
    kind = "OAuthException" if code == 190 else "GraphMethodException"
    error = {"message": message, "type": kind, "code": code, "fbtrace_id": "AbCdEfGhIjKlMnOpQrStUv"}
    return web.json_response({"error": error}, status=status)


def _problems(message: Any) -> list[str]:
    if not isinstance(message, dict):
        return ["the body is not an object"]
    problems = []
    if message.get("messaging_product") != "whatsapp":
        problems.append("messaging_product must be whatsapp")
    if message.get("recipient_type") != "individual":
        problems.append("recipient_type must be individual")
    if ("to" in message) == ("recipient" in message):
        problems.append("exactly one of to or recipient is required")
    elif "to" in message:
        to = str(message["to"])
        try:
            valid = to.isdigit() and Phone.parse(to).digits == to
        except InvalidPhoneError:
            valid = False
        if not valid:
            problems.append(f"to {to!r} is not a phone number's digits")
    elif not BSUID.match(str(message["recipient"])):
        problems.append("recipient is not a business-scoped user ID")
    kind = message.get("type")
    known = {"messaging_product", "recipient_type", "to", "recipient", "type", "context", kind}
    problems += [f"unexpected parameter {k}" for k in message if k not in known]
    if kind == "text":
        problems += _length("text.body", message["text"].get("body"), LIMITS["text.body"])
    elif kind == "interactive":
        problems += _interactive(message["interactive"])
    elif kind == "template":
        template = message["template"]
        if not template.get("name") or not template.get("language", {}).get("code"):
            problems.append("template needs a name and a language code")
    else:
        problems.append(f"unsupported message type {kind!r}")
    return problems


def _interactive(interactive: dict[str, Any]) -> list[str]:
    problems = _length("body.text", interactive["body"]["text"], LIMITS["interactive.body"])
    for part in ("header", "footer"):
        if part in interactive:
            problems += _length(part, interactive[part].get("text"), LIMITS[part])
    action = interactive["action"]
    if interactive["type"] == "button":
        buttons = action["buttons"]
        if not 1 <= len(buttons) <= LIMITS["buttons"]:
            problems.append(f"{len(buttons)} buttons")
        titles = [b["reply"]["title"] for b in buttons]
        ids = [b["reply"]["id"] for b in buttons]
        if len(set(titles)) != len(titles) or len(set(ids)) != len(ids):
            problems.append("button titles and ids must be unique")
        for button in buttons:
            problems += _length("button title", button["reply"]["title"], LIMITS["button.title"])
            problems += _length("button id", button["reply"]["id"], LIMITS["button.id"])
        return problems
    if interactive["type"] != "list":
        return [*problems, f"unsupported interactive type {interactive['type']!r}"]
    problems += _length("action.button", action["button"], LIMITS["list.button"])
    rows = [row for section in action["sections"] for row in section["rows"]]
    if not 1 <= len(rows) <= LIMITS["rows"]:
        problems.append(f"{len(rows)} rows")
    if len({row["id"] for row in rows}) != len(rows):
        problems.append("row ids must be unique")
    for row in rows:
        problems += _length("row id", row["id"], LIMITS["row.id"])
        problems += _length("row title", row["title"], LIMITS["row.title"])
        if "description" in row:
            problems += _length("row description", row["description"], LIMITS["row.description"])
    return problems


def _length(where: str, value: Any, limit: int) -> list[str]:
    if not isinstance(value, str) or not value.strip():
        return [f"{where} is required"]
    return [f"{where} is longer than {limit}"] if len(value) > limit else []


# --- the customer's side -------------------------------------------------------------------------

_message_numbers = itertools.count(1)


@dataclass
class WhatsAppUser:
    """A customer chatting on WhatsApp: each message is posted to the webhook as Meta posts it,
    `flush` runs the outbox, and the replies are what the fake Graph API received for them."""

    client: TestClient[Any, Any]
    fake: FakeGraphApi
    flush: Callable[[], Awaitable[object]]
    now: Callable[[], int]
    number: str
    name: str = "Ngozi Okafor"
    inbox: list[SentWhatsApp] = field(default_factory=list)
    last_id: str = ""

    @property
    def wa_id(self) -> str:
        return self.number.removeprefix("+")

    @property
    def screen(self) -> SentWhatsApp:
        """The last message the customer received."""
        assert self.inbox, "nothing received yet"
        return self.inbox[-1]

    async def send(
        self,
        content: Mapping[str, Any],
        *,
        message_id: str | None = None,
        quoting: SentWhatsApp | None = None,
    ) -> None:
        """Post one message as Meta does and answer-check the 200 (nothing flushed yet);
        `quoting`: a message of ours she swipe-replied to."""
        self.last_id = message_id or wamid(self.number, f"user-{next(_message_numbers)}")
        context = self.inbox[-1].id if self.inbox else None
        if quoting is not None:
            context = quoting.id
        elif content.get("type") != "interactive":
            context = None
        body = message_body(
            content,
            wa_id=self.wa_id,
            name=self.name,
            message_id=self.last_id,
            timestamp=self.now(),
            context_id=context,
        )
        response = await self.client.post(WEBHOOK_PATH, data=body, headers=webhook_headers(body))
        assert response.status == 200, await response.text()

    async def say(self, words: str, *, quoting: SentWhatsApp | None = None) -> SentWhatsApp:
        """Type a message (swipe-replying to `quoting`); the one reply it gets."""
        await self.send(text(words), quoting=quoting)
        return await self.reply()

    async def tap(self, label_part: str) -> SentWhatsApp:
        """Tap the button or list row of the last message whose words contain `label_part`."""
        return await self.tap_on(self.screen, label_part)

    async def tap_on(self, screen: SentWhatsApp, label_part: str) -> SentWhatsApp:
        """Tap a row or button of an earlier message, scrolled back to in the chat."""
        choice = screen.choice(label_part)
        interactive = screen.body["interactive"]["type"]
        if interactive == "button":
            await self.send(button_reply(choice["id"], choice["title"]))
        else:
            await self.send(list_reply(choice["id"], choice["title"], choice.get("description")))
        return await self.reply()

    async def reply(self) -> SentWhatsApp:
        replies = await self.receive()
        assert len(replies) == 1, replies
        return replies[0]

    async def receive(self) -> list[SentWhatsApp]:
        seen = len(self.inbox)
        await self.flush()
        self.inbox = self.fake.sent_to(self.number)
        return self.inbox[seen:]
