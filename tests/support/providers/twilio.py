"""Twilio's side of the wire, on loopback: its REST API, and the webhooks it posts to OmniRoute.

`FakeTwilio` serves the Messages API, `POST /2010-04-01/Accounts/{AccountSid}/Messages.json`, on
a free loopback port as the real one does (docs: twilio.com/docs/messaging/api/message-resource):
HTTP Basic auth with the account SID and Auth Token (401, error 20003, otherwise); a form with
`To` (21604), `From` or `MessagingServiceSid` (21603) and `Body`, `MediaUrl` or `ContentSid`
(21602); the answer is `201` with the Message resource as JSON (`sid` "SM…", `status`
"queued"). Every request is recorded whole, so tests assert exactly what OmniRoute sent.

`TwilioWebhooks` posts webhooks as Twilio does: the form fields in Twilio's order, signed with
the SDK's `RequestValidator` over the exact URL called. `TwilioChat` (SMS or WhatsApp) and
`TwilioCaller` (voice) script a customer on top of it and read the TwiML answers back.
"""

from __future__ import annotations

import hashlib
import itertools
import xml.etree.ElementTree as ET
from collections import deque
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import format_datetime
from typing import Any, Literal
from urllib.parse import parse_qsl, urlencode, urlsplit

from aiohttp import ClientResponse, web
from aiohttp.test_utils import TestClient, TestServer
from multidict import MultiDict
from pydantic import SecretStr
from twilio.request_validator import RequestValidator  # type: ignore[import-untyped]

from core.app.bootstrap import Services
from core.app.server import create_app
from core.config import Settings
from tests.support.phone import Screen
from tests.support.providers.loopback import LoopbackFake, ReceivedRequest
from tests.support.spoken_menu import key_spoken_for

ACCOUNT_SID = "ACa1b2c3d4e5f60718293a4b5c6d7e8f90"
AUTH_TOKEN = "9f2c71d04be38a6615c2e7f0a94d13b8"  # a test account's token, never a real one
SMS_NUMBER = "+15017122661"  # OmniRoute's Twilio number (Twilio's documentation example)
WHATSAPP_NUMBER = "+14155238886"  # Twilio's WhatsApp sandbox sender
API_VERSION = "2010-04-01"
MESSAGES_PATH = f"/{API_VERSION}/Accounts/{{account_sid}}/Messages.json"
FORM = {"Content-Type": "application/x-www-form-urlencoded"}
SIGNATURE_HEADER = "X-Twilio-Signature"
CREATED_AT = datetime(2026, 1, 5, 9, 0, 0, tzinfo=UTC)  # the fake's clock for date_created
SMS_PATH = "/channels/twilio/sms"
WHATSAPP_PATH = "/channels/twilio/whatsapp"
VOICE_PATH = "/channels/twilio/voice"
STATUS_PATH = "/channels/twilio/status"

Client = TestClient[Any, Any]


def sid(prefix: str, seed: str) -> str:
    """A Twilio SID: two letters and 32 hex digits, derived from `seed` so tests can repeat it."""
    return prefix + hashlib.sha256(f"omniroute-fake-twilio-{seed}".encode()).hexdigest()[:32]


_message_numbers = itertools.count(1)
_call_numbers = itertools.count(1)


def new_message_sid() -> str:
    return sid("SM", f"incoming-{next(_message_numbers)}")


def new_call_sid() -> str:
    return sid("CA", f"call-{next(_call_numbers)}")


MESSAGING_SERVICE_SID = sid("MG", "messaging-service")  # the Messaging Service holding SMS_NUMBER


def twilio_settings(database_url: str, **overrides: Any) -> Settings:
    """Test settings with the Twilio account configured (webhooks are signature-checked)."""
    values: dict[str, Any] = {
        "env": "test",
        "database_url": database_url,
        "session_url": "memory://",
        "twilio_account_sid": ACCOUNT_SID,
        "twilio_auth_token": SecretStr(AUTH_TOKEN),
        "twilio_sms_from": SMS_NUMBER,
        "twilio_whatsapp_from": WHATSAPP_NUMBER,
        **overrides,
    }
    return Settings(_env_file=None, **values)


@asynccontextmanager
async def twilio_gateway(services: Services, port: int) -> AsyncIterator[TwilioWebhooks]:
    """The gateway over `services`, served on `port` (its settings' public URL), and Twilio
    posting to it."""
    app = create_app(services.settings, build=lambda _s: services)
    async with TestClient(TestServer(app, host="127.0.0.1", port=port)) as client:
        yield TwilioWebhooks(client, public_url=services.settings.public_url)


# --- webhook bodies, in the field order Twilio posts them ------------------------------------


def sms_body(
    text: str,
    *,
    phone: str,
    message_sid: str,
    to: str = SMS_NUMBER,
    country: str = "NG",
    opt_out_type: str | None = None,
) -> bytes:
    """An incoming SMS as Twilio's Messaging webhook posts it. `opt_out_type` (STOP, START,
    HELP): the number is in a Messaging Service with Advanced Opt-Out, and Body was one of its
    keywords; Twilio then adds `OptOutType` and the service's `MessagingServiceSid`."""
    opt_out = [] if opt_out_type is None else [("OptOutType", opt_out_type)]
    service = [] if opt_out_type is None else [("MessagingServiceSid", MESSAGING_SERVICE_SID)]
    fields = [
        ("ToCountry", "US"),
        ("ToState", "CA"),
        ("SmsMessageSid", message_sid),
        ("NumMedia", "0"),
        ("ToCity", ""),
        ("FromZip", ""),
        ("SmsSid", message_sid),
        *opt_out,
        ("FromState", ""),
        ("SmsStatus", "received"),
        ("FromCity", ""),
        ("Body", text),
        ("FromCountry", country),
        ("To", to),
        *service,
        ("ToZip", ""),
        ("NumSegments", "1"),
        ("MessageSid", message_sid),
        ("AccountSid", ACCOUNT_SID),
        ("From", phone),
        ("ApiVersion", API_VERSION),
    ]
    return urlencode(fields).encode()


def whatsapp_body(
    text: str = "",
    *,
    phone: str,
    message_sid: str,
    profile_name: str = "Ngozi",
    message_type: str = "text",
    extra: tuple[tuple[str, str], ...] = (),
    media: tuple[str, str] | None = None,
    opt_out_type: str | None = None,
) -> bytes:
    """An incoming WhatsApp message as Twilio's Messaging webhook posts it (`whatsapp:` addresses;
    `extra` carries a button's or a location's fields, placed before `Body`; `media` is one
    attachment's content type and URL; `opt_out_type` as for `sms_body`: a WhatsApp sender in a
    Messaging Service with Advanced Opt-Out)."""
    opt_out = [] if opt_out_type is None else [("OptOutType", opt_out_type)]
    service = [] if opt_out_type is None else [("MessagingServiceSid", MESSAGING_SERVICE_SID)]
    fields = [
        *([("MediaContentType0", media[0])] if media else []),
        ("SmsMessageSid", message_sid),
        ("NumMedia", "1" if media else "0"),
        ("ProfileName", profile_name),
        ("MessageType", message_type),
        ("SmsSid", message_sid),
        ("WaId", phone.removeprefix("+")),
        ("SmsStatus", "received"),
        *opt_out,
        *extra,
        ("Body", text),
        ("To", f"whatsapp:{WHATSAPP_NUMBER}"),
        *service,
        ("NumSegments", "1"),
        ("ReferralNumMedia", "0"),
        ("MessageSid", message_sid),
        ("AccountSid", ACCOUNT_SID),
        ("From", f"whatsapp:{phone}"),
        *([("MediaUrl0", media[1])] if media else []),
        ("ApiVersion", API_VERSION),
    ]
    return urlencode(fields).encode()


def voice_body(
    *,
    phone: str,
    call_sid: str,
    status: str = "ringing",
    answer: tuple[tuple[str, str], ...] = (),
    country: str = "NG",
) -> bytes:
    """A Voice webhook: the incoming call (`answer` empty), or a `<Gather>` action request whose
    `answer` holds `Digits` (or `SpeechResult` and `Confidence`)."""
    fields = [
        ("AccountSid", ACCOUNT_SID),
        ("ApiVersion", API_VERSION),
        ("CallSid", call_sid),
        ("CallStatus", status),
        ("Called", SMS_NUMBER),
        ("CalledCountry", "US"),
        ("CalledState", "CA"),
        ("Caller", phone),
        ("CallerCountry", country),
        ("Direction", "inbound"),
        ("From", phone),
        ("FromCountry", country),
        ("To", SMS_NUMBER),
        ("ToCountry", "US"),
        ("ToState", "CA"),
        *answer,
    ]
    return urlencode(fields).encode()


def digits_answer(digits: str) -> tuple[tuple[str, str], ...]:
    return (("msg", "Gather End"), ("Digits", digits), ("FinishedOnKey", ""))


def speech_answer(speech: str, confidence: str = "0.92") -> tuple[tuple[str, str], ...]:
    return (("msg", "Gather End"), ("SpeechResult", speech), ("Confidence", confidence))


def status_body(
    message_sid: str,
    status: str,
    *,
    to: str,
    sender: str = SMS_NUMBER,
    error_code: str | None = None,
    extra: tuple[tuple[str, str], ...] = (),
) -> bytes:
    """A message status callback, as Twilio posts it to the message's StatusCallback (`extra`:
    the channel fields WhatsApp callbacks carry)."""
    fields = [*extra, ("SmsSid", message_sid), ("SmsStatus", status), ("MessageStatus", status)]
    if error_code is not None:
        fields.append(("ErrorCode", error_code))
    fields += [
        ("To", to),
        ("MessageSid", message_sid),
        ("AccountSid", ACCOUNT_SID),
        ("From", sender),
        ("ApiVersion", API_VERSION),
    ]
    return urlencode(fields).encode()


# --- posting them, signed -----------------------------------------------------------------------


def signature_for(url: str, body: bytes, auth_token: str = AUTH_TOKEN) -> str:
    """X-Twilio-Signature for a form body posted to `url`, computed by the SDK's validator."""
    fields = MultiDict(parse_qsl(body.decode(), keep_blank_values=True))
    signature: str = RequestValidator(auth_token).compute_signature(url, fields)
    return signature


SIGNED: Literal["signed"] = "signed"


@dataclass
class TwilioWebhooks:
    """Posts to the gateway as Twilio does. Twilio signs the URL it was configured with, so
    `public_url` is what the signature covers (the test server's own address by default)."""

    client: Client
    public_url: str | None = None
    auth_token: str = AUTH_TOKEN

    @property
    def base(self) -> str:
        return (self.public_url or str(self.client.make_url(""))).rstrip("/")

    def url(self, path_qs: str) -> str:
        return self.base + path_qs

    async def post(
        self, path_qs: str, body: bytes, *, signature: str | None = SIGNED
    ) -> ClientResponse:
        """`signature` SIGNED signs the body for `url(path_qs)`; None sends no header."""
        headers = dict(FORM)
        if signature == SIGNED:
            headers[SIGNATURE_HEADER] = signature_for(self.url(path_qs), body, self.auth_token)
        elif signature is not None:
            headers[SIGNATURE_HEADER] = signature
        return await self.client.post(path_qs, data=body, headers=headers)


# --- reading TwiML ------------------------------------------------------------------------------


async def twiml_of(response: ClientResponse) -> ET.Element:
    text = await response.text()
    assert response.status == 200, text
    assert response.content_type == "application/xml", response.content_type
    root = ET.fromstring(text)
    assert root.tag == "Response", text
    return root


def message_text(root: ET.Element) -> str:
    """The one `<Message>` of a MessagingResponse."""
    messages = root.findall("Message")
    assert len(messages) == 1, ET.tostring(root)
    assert list(root) == messages, ET.tostring(root)
    return messages[0].text or ""


@dataclass(frozen=True)
class VoiceTurn:
    """One VoiceResponse: what is said, and where the answer goes (None once hung up)."""

    say: str
    language: str
    gather: dict[str, str] | None
    redirect: str | None
    hangup: bool
    voice: str = ""

    @property
    def action(self) -> str:
        assert self.gather is not None, "the call has ended"
        return self.gather["action"]


def voice_turn(root: ET.Element) -> VoiceTurn:
    gather = root.find("Gather")
    says = root.findall("Say") if gather is None else gather.findall("Say")
    assert len(says) == 1, ET.tostring(root)
    redirect = root.find("Redirect")
    hangup = root.find("Hangup") is not None
    if gather is None:
        assert [child.tag for child in root] == ["Say", "Hangup"], ET.tostring(root)
    else:
        assert [child.tag for child in root] == ["Gather", "Redirect"], ET.tostring(root)
        assert redirect is not None
        assert redirect.get("method") == "POST"
        # Silence posts to the same action, counting the silences in a row.
        assert (redirect.text or "").startswith(f"{gather.get('action')}&silent="), redirect.text
    return VoiceTurn(
        say=says[0].text or "",
        language=says[0].get("language", ""),
        gather=dict(gather.attrib) if gather is not None else None,
        redirect=redirect.text if redirect is not None else None,
        hangup=hangup,
        voice=says[0].get("voice", ""),
    )


# --- customers ----------------------------------------------------------------------------------


@dataclass
class TwilioChat:
    """A customer messaging OmniRoute's Twilio number by SMS or WhatsApp; replies are TwiML."""

    webhooks: TwilioWebhooks
    number: str
    kind: Literal["sms", "whatsapp"] = "whatsapp"
    profile_name: str = "Ngozi"
    replies: list[str] = field(default_factory=list)
    last: tuple[str, bytes] | None = None

    @property
    def path(self) -> str:
        return WHATSAPP_PATH if self.kind == "whatsapp" else SMS_PATH

    @property
    def screen(self) -> Screen:
        """The last reply, read like a menu screen (`N. Label` lines)."""
        return Screen("MSG", self.replies[-1])

    async def send(
        self, text: str, *, message_sid: str | None = None, opt_out_type: str | None = None
    ) -> str:
        """`opt_out_type`: Twilio's Advanced Opt-Out read `text` as one of its keywords."""
        return await self._post(self._body(text, message_sid or new_message_sid(), opt_out_type))

    async def choose(self, label_part: str) -> str:
        return await self.send(self.screen.key_for(label_part))

    async def tap(self, payload: str, text: str) -> str:
        """A quick-reply button: Twilio posts its text as Body and its id as ButtonPayload."""
        extra = (("ButtonText", text), ("ButtonPayload", payload))
        return await self._post(
            whatsapp_body(
                text,
                phone=self.number,
                message_sid=new_message_sid(),
                profile_name=self.profile_name,
                message_type="button",
                extra=extra,
            )
        )

    async def share_location(
        self, latitude: str, longitude: str, *, address: str = "", label: str = ""
    ) -> str:
        extra = [("Latitude", latitude), ("Longitude", longitude)]
        extra += [("Address", address)] if address else []
        extra += [("Label", label)] if label else []
        return await self._post(
            whatsapp_body(
                phone=self.number,
                message_sid=new_message_sid(),
                profile_name=self.profile_name,
                message_type="location",
                extra=tuple(extra),
            )
        )

    async def resend(self) -> str:
        """Twilio delivering the last webhook again (same MessageSid)."""
        assert self.last is not None
        return await self._post(self.last[1])

    def _body(self, text: str, message_sid: str, opt_out_type: str | None = None) -> bytes:
        if self.kind == "whatsapp":
            return whatsapp_body(
                text,
                phone=self.number,
                message_sid=message_sid,
                profile_name=self.profile_name,
                opt_out_type=opt_out_type,
            )
        return sms_body(text, phone=self.number, message_sid=message_sid, opt_out_type=opt_out_type)

    async def _post(self, body: bytes) -> str:
        self.last = (self.path, body)
        reply = message_text(await twiml_of(await self.webhooks.post(self.path, body)))
        self.replies.append(reply)
        return reply


@dataclass
class TwilioCaller:
    """A caller on OmniRoute's voice line: each answer goes to the last `<Gather>`'s action."""

    webhooks: TwilioWebhooks
    number: str
    call_sid: str = field(default_factory=new_call_sid)
    turns: list[VoiceTurn] = field(default_factory=list)
    last: tuple[str, bytes] | None = None

    @property
    def turn(self) -> VoiceTurn:
        return self.turns[-1]

    async def call(self) -> VoiceTurn:
        body = voice_body(phone=self.number, call_sid=self.call_sid)
        return await self._post(VOICE_PATH, body)

    async def press(self, digits: str) -> VoiceTurn:
        return await self._answer(digits_answer(digits), self.turn.action)

    async def choose(self, label_part: str) -> VoiceTurn:
        """Press the key the prompt offers for `label_part` ("Press 3 for Checkout")."""
        return await self.press(key_in(self.turn.say, label_part))

    async def speak(self, speech: str) -> VoiceTurn:
        return await self._answer(speech_answer(speech), self.turn.action)

    async def stay_silent(self) -> VoiceTurn:
        """The gather times out and Twilio follows the `<Redirect>`, with no answer."""
        assert self.turn.redirect is not None
        return await self._answer((), self.turn.redirect)

    async def retry(self) -> VoiceTurn:
        """Twilio posting the last request again."""
        assert self.last is not None
        return await self._post(*self.last)

    async def _answer(self, answer: tuple[tuple[str, str], ...], url: str) -> VoiceTurn:
        parts = urlsplit(url)
        assert url.startswith(self.webhooks.base + "/"), url
        body = voice_body(
            phone=self.number, call_sid=self.call_sid, status="in-progress", answer=answer
        )
        return await self._post(f"{parts.path}?{parts.query}", body)

    async def _post(self, path_qs: str, body: bytes) -> VoiceTurn:
        self.last = (path_qs, body)
        turn = voice_turn(await twiml_of(await self.webhooks.post(path_qs, body)))
        self.turns.append(turn)
        return turn


def key_in(say: str, label_part: str) -> str:
    """The key a spoken prompt offers for a label: "… Press 9 8 for More." -> "98"."""
    return key_spoken_for(say, label_part)


# --- the REST API -------------------------------------------------------------------------------


@dataclass(frozen=True)
class SentMessage:
    """A message the fake accepted."""

    sid: str
    to: str
    sender: str
    body: str | None
    status_callback: str | None
    content_sid: str | None = None
    content_variables: str | None = None


@dataclass(frozen=True)
class TwilioError:
    status: int
    code: int
    message: str


class FakeTwilio(LoopbackFake):
    def __init__(self, *, account_sid: str = ACCOUNT_SID, auth_token: str = AUTH_TOKEN) -> None:
        self.account_sid = account_sid
        self.auth_token = auth_token
        self.requests: list[ReceivedRequest] = []
        self.sent: list[SentMessage] = []
        self._failures: deque[TwilioError] = deque()
        self._ids = itertools.count(1)

    @property
    def messages_path(self) -> str:
        return MESSAGES_PATH.format(account_sid=self.account_sid)

    def settings(self, database_url: str, **overrides: Any) -> Settings:
        """Test settings whose Twilio client talks to this fake."""
        return twilio_settings(
            database_url, twilio_base_url=self.url, sms_provider="twilio", **overrides
        )

    def fail_next(self, status: int = 500, code: int = 20500, message: str = "Internal") -> None:
        """The next send is answered with this Twilio error (and sends nothing)."""
        self._failures.append(TwilioError(status, code, message))

    def sent_to(self, address: str) -> list[SentMessage]:
        return [m for m in self.sent if m.to == address]

    async def _handle(self, request: web.Request) -> web.Response:
        body = await request.read()
        self.requests.append(
            ReceivedRequest(request.method, request.path, dict(request.headers), body)
        )
        if request.path != self.messages_path:
            return _error(404, 20404, f"The requested resource {request.path} was not found")
        if request.method != "POST":
            return _error(405, 20004, "Method not allowed")
        received = self.requests[-1]
        if received.basic_auth != (self.account_sid, self.auth_token):
            return _error(401, 20003, "Authenticate")
        if request.content_type != "application/x-www-form-urlencoded":
            return _error(400, 20001, "Request body must be form-encoded")
        form = received.fields
        if not form.get("To"):
            return _error(400, 21604, "A 'To' phone number is required.")
        if not form.get("From") and not form.get("MessagingServiceSid"):
            return _error(400, 21603, "A 'From' phone number is required.")
        if not (form.get("Body") or form.get("MediaUrl") or form.get("ContentSid")):
            return _error(400, 21602, "Message body is required.")
        if len(form.get("Body", "")) > 1600:
            return _error(
                400, 21617, "The concatenated message body exceeds the 1600 character limit."
            )
        if self._failures:
            failure = self._failures.popleft()
            return _error(failure.status, failure.code, failure.message)
        message = SentMessage(
            sid=sid("SM", f"sent-{next(self._ids)}"),
            to=form["To"],
            sender=form["From"],
            body=form.get("Body"),
            status_callback=form.get("StatusCallback"),
            content_sid=form.get("ContentSid"),
            content_variables=form.get("ContentVariables"),
        )
        self.sent.append(message)
        return web.json_response(self._resource(message), status=201)

    def _resource(self, message: SentMessage) -> dict[str, Any]:
        created = format_datetime(CREATED_AT, usegmt=True)
        uri = f"/{API_VERSION}/Accounts/{self.account_sid}/Messages/{message.sid}"
        return {
            "account_sid": self.account_sid,
            "api_version": API_VERSION,
            "body": message.body or "",
            "date_created": created,
            "date_sent": None,
            "date_updated": created,
            "direction": "outbound-api",
            "error_code": None,
            "error_message": None,
            "from": message.sender,
            "messaging_service_sid": None,
            "num_media": "0",
            "num_segments": "1",
            "price": None,
            "price_unit": "USD",
            "sid": message.sid,
            "status": "queued",
            "subresource_uris": {"media": f"{uri}/Media.json"},
            "to": message.to,
            "uri": f"{uri}.json",
        }


def _error(status: int, code: int, message: str) -> web.Response:
    return web.json_response(
        {
            "code": code,
            "message": message,
            "more_info": f"https://www.twilio.com/docs/errors/{code}",
            "status": status,
        },
        status=status,
    )
