"""A local Africa's Talking messaging API, and a phone that texts OmniRoute through it.

`FakeAfricasTalking` serves `POST /version1/messaging` on a free loopback port as the real API
does (docs: developers.africastalking.com, "SMS > Sending"): the `apiKey` header and the
`username` form field authenticate (401 otherwise), `to` and `message` are required (400),
`Accept: application/json` gets JSON and anything else XML, and a send is answered
`201 {"SMSMessageData": {"Message": "Sent to 1/1 Total Cost: …", "Recipients": [{"statusCode":
101, "number", "status": "Success", "cost", "messageId", "messageParts"}]}}`. Every request is
recorded whole, so tests assert exactly what OmniRoute sent; failures can be queued up.
"""

from __future__ import annotations

import hashlib
import itertools
import math
from collections import deque
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, urlencode

from aiohttp import web
from aiohttp.test_utils import TestClient
from pydantic import SecretStr
from sqlalchemy import select

from core.app.bootstrap import Services
from core.config import Settings
from core.gsm7 import is_gsm7
from core.phone import InvalidPhoneError, Phone
from engines.notifications.tables import deliveries as deliveries_table
from tests.support.providers.loopback import LoopbackFake, ReceivedRequest

USERNAME = "omniroute"
API_KEY = "atsk_7c1f0e9b2d4a6c8e0f1a3b5c7d9e1f2a"
SHORTCODE = "23456"
MESSAGING_PATH = "/version1/messaging"
# What one SMS part costs, by the number's calling code (illustrative, in Africa's Talking's form).
PART_COST = {"+234": ("NGN", "2.2000"), "+254": ("KES", "0.8000"), "+27": ("ZAR", "0.3500")}


def message_id(n: int) -> str:
    """The n-th id the fake hands out: 'ATXid_' and 32 hex digits, like the real ones."""
    return "ATXid_" + hashlib.sha256(f"omniroute-fake-at-{n}".encode()).hexdigest()[:32]


def parts_of(message: str) -> int:
    """SMS parts the message is split into: 160/153 GSM-7 characters, or 70/67 UCS-2."""
    single, multi = (160, 153) if is_gsm7(message) else (70, 67)
    return 1 if len(message) <= single else math.ceil(len(message) / multi)


@dataclass(frozen=True)
class SentSms:
    """A message the fake accepted for one recipient."""

    message_id: str
    to: str
    message: str
    sender_id: str | None


@dataclass(frozen=True)
class Refusal:
    """What the next send gets instead of success: an HTTP error, or a refused recipient."""

    http_status: int | None = None
    status_code: int | None = None
    status: str = ""


class FakeAfricasTalking(LoopbackFake):
    def __init__(self, *, username: str = USERNAME, api_key: str = API_KEY) -> None:
        self.username = username
        self.api_key = api_key
        self.requests: list[ReceivedRequest] = []
        self.sent: list[SentSms] = []
        self._refusals: deque[Refusal] = deque()
        self._ids = itertools.count(1)

    def settings(self, database_url: str, **overrides: Any) -> Settings:
        """Test settings whose Africa's Talking client talks to this fake."""
        values: dict[str, Any] = {
            "env": "test",
            "database_url": database_url,
            "session_url": "memory://",
            "africastalking_base_url": self.url,
            "africastalking_username": self.username,
            "africastalking_api_key": SecretStr(self.api_key),
            "africastalking_sender_id": SHORTCODE,
            **overrides,
        }
        return Settings(_env_file=None, **values)

    # --- what tests arrange and read ---------------------------------------------------------

    def fail_next(self, http_status: int = 500, times: int = 1) -> None:
        """The next `times` sends get this HTTP status (and send nothing)."""
        self._refusals.extend(Refusal(http_status=http_status) for _ in range(times))

    def refuse_next(self, status_code: int = 405, status: str = "InsufficientBalance") -> None:
        """The next send is answered 201 with its recipient refused (statusCode 4xx/5xx)."""
        self._refusals.append(Refusal(status_code=status_code, status=status))

    def sent_to(self, phone: str) -> list[SentSms]:
        return [sms for sms in self.sent if sms.to == phone]

    # --- the API -----------------------------------------------------------------------------

    async def _handle(self, request: web.Request) -> web.Response:
        body = await request.read()
        self.requests.append(
            ReceivedRequest(request.method, request.path, dict(request.headers), body)
        )
        if request.path != MESSAGING_PATH:
            return web.Response(status=404, text="Not Found")
        if request.method != "POST":
            return web.Response(status=405, text="Method Not Allowed")
        if request.headers.get("apiKey") != self.api_key:
            return web.Response(status=401, text="The supplied authentication is invalid")
        if request.content_type != "application/x-www-form-urlencoded":
            return web.Response(status=400, text="Request body must be form-encoded")
        form = dict(parse_qsl(body.decode(), keep_blank_values=True))
        if form.get("username") != self.username:
            return web.Response(status=401, text="The supplied authentication is invalid")
        for required in ("to", "message"):
            if not form.get(required):
                return web.Response(
                    status=400, text=f"Request is missing required form field '{required}'"
                )
        refusal = self._refusals.popleft() if self._refusals else Refusal()
        if refusal.http_status is not None:
            return web.Response(status=refusal.http_status, text="Internal Server Error")
        recipients = [
            self._recipient(to.strip(), form["message"], form.get("from"), refusal)
            for to in form["to"].split(",")
        ]
        answer = _answer(recipients)
        if "application/json" not in request.headers.get("Accept", ""):
            return web.Response(status=201, text=_as_xml(answer), content_type="application/xml")
        return web.json_response(answer, status=201)

    def _recipient(
        self, to: str, message: str, sender_id: str | None, refusal: Refusal
    ) -> dict[str, Any]:
        try:
            number = Phone.parse(to).e164
        except InvalidPhoneError:
            return _refused(to, 403, "InvalidPhoneNumber")
        if refusal.status_code is not None:
            return _refused(number, refusal.status_code, refusal.status)
        parts = parts_of(message)
        currency, each = next(
            (cost for prefix, cost in PART_COST.items() if number.startswith(prefix)),
            ("USD", "0.0100"),
        )
        sms = SentSms(message_id(next(self._ids)), number, message, sender_id)
        self.sent.append(sms)
        return {
            "cost": f"{currency} {float(each) * parts:.4f}",
            "messageId": sms.message_id,
            "messageParts": parts,
            "number": number,
            "status": "Success",
            "statusCode": 101,
        }


def _refused(number: str, status_code: int, status: str) -> dict[str, Any]:
    return {
        "cost": "0",
        "messageId": "None",
        "number": number,
        "status": status,
        "statusCode": status_code,
    }


def _answer(recipients: list[dict[str, Any]]) -> dict[str, Any]:
    accepted = [r for r in recipients if r["statusCode"] in (100, 101, 102)]
    total = " ".join(accepted[0]["cost"].split()[:1]) if accepted else ""
    amount = sum(float(r["cost"].split()[1]) for r in accepted)
    cost = f"{total} {amount:.4f}" if accepted else "0"
    return {
        "SMSMessageData": {
            "Message": f"Sent to {len(accepted)}/{len(recipients)} Total Cost: {cost}",
            "Recipients": recipients,
        }
    }


def _as_xml(answer: dict[str, Any]) -> str:
    data = answer["SMSMessageData"]
    recipients = "".join(
        "<Recipient>" + "".join(f"<{k}>{v}</{k}>" for k, v in r.items()) + "</Recipient>"
        for r in data["Recipients"]
    )
    return (
        '<?xml version="1.0" encoding="UTF-8"?><AfricasTalkingResponse><SMSMessageData>'
        f"<Message>{data['Message']}</Message><Recipients>{recipients}</Recipients>"
        "</SMSMessageData></AfricasTalkingResponse>"
    )


async def deliveries(services: Services) -> list[tuple[Any, ...]]:
    """Every row of the deliveries outbox, oldest first (what a callback may have queued)."""
    async with services.db.transaction() as session:
        rows = await session.execute(
            select(deliveries_table).order_by(deliveries_table.c.created_at, deliveries_table.c.id)
        )
        return [tuple(row) for row in rows]


async def flush_outbox(services: Services) -> int:
    """Publish pending events (order confirmations), then send every due delivery once."""
    await services.relay.drain()
    return await services.delivery.send_due()


# --- the customer's side: texting OmniRoute's shortcode ----------------------------------------

SMS_PATH = "/channels/africastalking/sms"
_incoming_ids = itertools.count(1)


def incoming_sms_body(
    text: str,
    *,
    phone: str,
    sms_id: str,
    to: str = SHORTCODE,
    date: str = "2026-01-05 09:00:00",
    link_id: str = "",
    network_code: str = "62130",
) -> bytes:
    """An incoming-SMS callback laid out as the stored fixtures are (fields in documented order)."""
    fields = [
        ("date", date),
        ("from", phone),
        ("id", sms_id),
        ("linkId", link_id),
        ("text", text),
        ("to", to),
        ("networkCode", network_code),
    ]
    return urlencode(fields).encode()


def incoming_id() -> str:
    """A fresh id for an incoming SMS, shaped like Africa's Talking's (a UUID)."""
    digest = hashlib.sha256(f"omniroute-incoming-{next(_incoming_ids)}".encode()).hexdigest()
    return f"{digest[:8]}-{digest[8:12]}-{digest[12:16]}-{digest[16:20]}-{digest[20:32]}"


@dataclass
class SmsPhone:
    """A customer texting the shortcode: each message is posted as Africa's Talking's callback,
    then the outbox is flushed, and the replies are read back from the fake API."""

    client: TestClient[Any, Any]
    services: Services
    fake: FakeAfricasTalking
    number: str
    network_code: str = "62130"
    last_id: str = ""
    inbox: list[str] = field(default_factory=list)

    async def send(self, text: str, *, sms_id: str | None = None) -> list[str]:
        """Every SMS that reached the phone because of this one (the reply, a confirmation)."""
        self.last_id = sms_id or incoming_id()
        body = incoming_sms_body(
            text, phone=self.number, sms_id=self.last_id, network_code=self.network_code
        )
        response = await self.client.post(
            SMS_PATH, data=body, headers={"Content-Type": "application/x-www-form-urlencoded"}
        )
        assert response.status == 200, await response.text()
        return await self.receive()

    async def text(self, text: str) -> str:
        """Send one SMS and return the one reply it gets."""
        replies = await self.send(text)
        assert len(replies) == 1, replies
        return replies[0]

    async def receive(self) -> list[str]:
        seen = len(self.inbox)
        await flush_outbox(self.services)
        self.inbox = [sms.message for sms in self.fake.sent_to(self.number)]
        return self.inbox[seen:]
