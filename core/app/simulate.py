"""`omniroute simulate {ussd,sms,whatsapp,voice}`: a phone in the terminal, via the real endpoints.

Each channel posts exactly what its provider would (Africa's Talking's USSD form, Twilio's
Messaging and Voice webhook forms) to a running gateway and shows what comes back, so the
terminal phone exercises the same edge code as a real one. SMS and WhatsApp go through the Twilio
endpoints because those answer in the HTTP response (TwiML); in production Twilio signs its
requests: with the gateway's secrets in its environment or `.env` (`OMNIROUTE_TWILIO_AUTH_TOKEN`,
`OMNIROUTE_AFRICASTALKING_CALLBACK_TOKEN`, and `OMNIROUTE_PUBLIC_URL` behind a proxy) it signs
them as the simulator page's route does, so it also talks to a staging gateway.
"""

from __future__ import annotations

import argparse
import os
import secrets
import sys
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from http import HTTPStatus
from xml.etree import ElementTree

from dotenv import dotenv_values

from core.app.form_signer import FormSigner
from core.phone import InvalidPhoneError, Phone

CHANNELS = ("ussd", "sms", "whatsapp", "voice")
FORBIDDEN_HINT = (
    "the gateway checks its providers' signatures: run this with its secrets in the environment"
    " or the .env file here (OMNIROUTE_AFRICASTALKING_CALLBACK_TOKEN, OMNIROUTE_TWILIO_AUTH_TOKEN,"
    " and OMNIROUTE_PUBLIC_URL behind a proxy) and it signs its requests"
)
# Where the gateway's settings are read from besides the environment (core.config.Settings's
# env_file; not imported, to keep the terminal phone quick to start).
ENV_FILE = ".env"
# What Twilio sends as `From` for a caller whose number is withheld (the IVR says to call again).
WITHHELD = "anonymous"
TWILIO_NUMBER = "+15005550006"
TWILIO_WHATSAPP_NUMBER = "+14155238886"


def post_form(url: str, path: str, form: dict[str, str], signer: FormSigner | None) -> str:
    data = urllib.parse.urlencode(form).encode()
    headers: dict[str, str] = {}
    if signer is not None:
        path, headers = signer.sign(path, data, url)
    request = urllib.request.Request(  # noqa: S310 - the gateway's own URL, given by the user
        f"{url.rstrip('/')}{path}", data=data, headers=headers, method="POST"
    )
    with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
        return str(response.read().decode())


@dataclass
class Turn:
    lines: list[str]
    ended: bool = False


def _twiml(document: str) -> ElementTree.Element:
    # The gateway's own answer, not untrusted input: the stdlib parser is enough here.
    return ElementTree.fromstring(document)  # noqa: S314


class ArgumentError(ValueError):
    """An argument the gateway could not take: one line, exit 2, nothing dialled."""


class DialError(ArgumentError):
    """A `--dial` string that is not the service code with an extension."""


def shortcut_of(dial: str, service_code: str) -> list[str]:
    """The keys a dial adds to the service code: `*384*123*3#` under `*384*123#` is ["3"],
    which Africa's Talking sends as the session's first request with `text=3`."""
    stem = service_code.removesuffix("#")
    if dial == service_code:
        return []
    keys = dial.removeprefix(f"{stem}*").removesuffix("#").split("*")
    if not dial.startswith(f"{stem}*") or not dial.endswith("#") or not all(keys):
        raise DialError(
            f"--dial {dial} is not the service code {service_code} with keys added, "
            f"such as {stem}*3# (or give --service-code)"
        )
    return keys


@dataclass
class UssdPhone:
    url: str
    phone: str
    service_code: str
    session_id: str = field(default_factory=lambda: f"sim-{secrets.token_hex(6)}")
    inputs: list[str] = field(default_factory=list)
    greeting: str = "Dialling {code} from {phone} (empty line or Ctrl+D to hang up)"
    signer: FormSigner | None = None

    def send(self, answer: str | None) -> Turn:
        if answer is not None:
            self.inputs.append(answer)
        screen = post_form(
            self.url,
            "/channels/africastalking/ussd",
            {
                "sessionId": self.session_id,
                "serviceCode": self.service_code,
                "phoneNumber": self.phone,
                "networkCode": "62130",
                "text": "*".join(self.inputs),
            },
            self.signer,
        )
        kind, _, body = screen.partition(" ")
        return Turn(body.splitlines(), ended=kind == "END")


@dataclass
class MessagingPhone:
    """SMS or WhatsApp through Twilio's Messaging webhook; the reply is the TwiML `<Message>`."""

    url: str
    phone: str
    whatsapp: bool
    greeting: str = "Texting the shop from {phone} (try MENU; empty line or Ctrl+D to stop)"
    signer: FormSigner | None = None

    def send(self, answer: str | None) -> Turn:
        if answer is None:
            return Turn([])
        sender, to, path = (
            (f"whatsapp:{self.phone}", f"whatsapp:{TWILIO_WHATSAPP_NUMBER}", "whatsapp")
            if self.whatsapp
            else (self.phone, TWILIO_NUMBER, "sms")
        )
        document = post_form(
            self.url,
            f"/channels/twilio/{path}",
            {
                "MessageSid": f"SM{secrets.token_hex(16)}",
                "AccountSid": "ACsimulator",
                "From": sender,
                "To": to,
                "Body": answer,
                "NumMedia": "0",
            },
            self.signer,
        )
        lines = [
            line for m in _twiml(document).iter("Message") for line in (m.text or "").splitlines()
        ]
        return Turn(lines)


@dataclass
class VoicePhone:
    """A call through Twilio's Voice webhook: prompts are the `<Say>`s, answers go as `Digits`.

    Keys end as on Twilio: the `<Gather>`'s finishOnKey (`#`) ends the digits and is not sent,
    and alone it is no answer: the call goes on to the `<Redirect>` after the gather, posted
    without Digits, as after a silence (the gateway counts those and ends the call at three).
    """

    url: str
    phone: str
    call_sid: str = field(default_factory=lambda: f"CA{secrets.token_hex(16)}")
    action: str = "/channels/twilio/voice"
    greeting: str = "Calling the shop from {phone} (type keys; empty line or Ctrl+D to hang up)"
    signer: FormSigner | None = None
    finish_on_key: str = "#"
    on_silence: str | None = None

    def send(self, answer: str | None) -> Turn:
        form = {
            "CallSid": self.call_sid,
            "AccountSid": "ACsimulator",
            "From": self.phone,
            "To": TWILIO_NUMBER,
            "CallStatus": "in-progress",
        }
        digits = answer or ""
        if self.finish_on_key and self.finish_on_key in digits:
            digits = digits.split(self.finish_on_key, 1)[0]
        target = self.action
        if answer and not digits and self.on_silence is not None:
            target = self.on_silence
        else:
            form["Digits"] = digits
        document = _twiml(post_form(self.url, target, form, self.signer))
        gather = document.find("Gather")
        if gather is not None and gather.get("action"):
            self.action = _local(gather.get("action", ""))
        self.finish_on_key = gather.get("finishOnKey", "#") if gather is not None else "#"
        redirect = document.find("Redirect")
        self.on_silence = _local((redirect.text or "").strip()) if redirect is not None else None
        lines = [s.text or "" for s in document.iter("Say")]
        return Turn(lines, ended=document.find("Hangup") is not None)


def _local(url: str) -> str:
    """A TwiML URL (absolute, on the public URL) as the path and query to post to the gateway."""
    parts = urllib.parse.urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "")


TerminalPhone = UssdPhone | MessagingPhone | VoicePhone


def phone_for(
    channel: str,
    url: str,
    phone: str,
    service_code: str,
    shortcut: Sequence[str] = (),
    *,
    signer: FormSigner | None = None,
) -> TerminalPhone:
    match channel:
        case "ussd":
            return UssdPhone(url, phone, service_code, inputs=list(shortcut), signer=signer)
        case "sms" | "whatsapp":
            return MessagingPhone(url, phone, whatsapp=channel == "whatsapp", signer=signer)
        case _:
            return VoicePhone(url, phone, signer=signer)


def checked_shortcut(
    channel: str, url: str, phone: str, service_code: str, dial: str | None
) -> list[str]:
    """The keys `dial` adds to the service code, once every argument is one the gateway can
    take; else ArgumentError, said before dialling (it dialled, then read 'gateway answered
    400' or 'unknown url type' and exited 1). A voice call may come from a withheld number."""
    parts = urllib.parse.urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ArgumentError(f"--url must be the gateway's http:// or https:// address: {url!r}")
    if not (channel == "voice" and phone == WITHHELD):
        if not phone.startswith("+"):
            raise ArgumentError(f"--phone must be E.164 (+ and country code): {phone!r}")
        try:
            Phone.parse(phone)
        except InvalidPhoneError:
            raise ArgumentError(f"--phone is not a valid E.164 number: {phone!r}") from None
    if dial and channel != "ussd":
        raise ArgumentError(f"--dial is for ussd, not {channel}")
    return shortcut_of(dial, service_code) if dial else []


def simulate(
    channel: str,
    url: str,
    phone: str,
    service_code: str = "*384*123#",
    ask: Callable[[str], str] = input,
    *,
    dial: str | None = None,
    signer: FormSigner | None = None,
) -> int:
    """Talk to the gateway until the user hangs up or the gateway ends the session.

    `dial` (USSD) is what the retailer dials, a shortcut such as `*384*123*3#`: its keys after
    the service code go with the first request, as Africa's Talking sends them. `signer` signs
    each form as its provider would (a gateway with provider secrets refuses unsigned ones).
    """
    try:
        shortcut = checked_shortcut(channel, url, phone, service_code, dial)
    except ArgumentError as exc:
        print(f"omniroute simulate: {exc}", file=sys.stderr)
        return 2
    terminal = phone_for(channel, url, phone, service_code, shortcut, signer=signer)
    print(terminal.greeting.format(code=dial if shortcut else service_code, phone=phone) + "\n")
    answer: str | None = None
    while True:
        try:
            turn = terminal.send(answer)
        except urllib.error.HTTPError as exc:
            with exc:  # the error is the response: closing it closes the socket
                said = exc.read().decode().strip()
            print(f"gateway answered {exc.code}: {said}", file=sys.stderr)
            if exc.code == HTTPStatus.FORBIDDEN:
                print(FORBIDDEN_HINT, file=sys.stderr)
            return 1
        except urllib.error.URLError as exc:
            print(
                f"cannot reach the gateway at {url}: {exc.reason}"
                " (is it running? `make run`, or `omniroute serve`, starts it)",
                file=sys.stderr,
            )
            return 1
        if turn.lines:
            print("+" + "-" * 30)
            for line in turn.lines:
                print(f"| {line}")
            print("+" + "-" * 30)
        if turn.ended:
            return 0
        try:
            answer = ask("> ").strip()
        except EOFError:
            answer = ""
        except KeyboardInterrupt:  # Ctrl+C hangs up too, without a traceback
            print()
            answer = ""
        if not answer:
            print("(hung up)")
            return 0


def gateway_environment() -> dict[str, str]:
    """The variables as `omniroute serve` started here reads them: the environment over the
    `.env` file. With the secrets only in `.env` the gateway checked signatures that the
    terminal, reading the environment alone, never made: every form got 403."""
    from_file = {name: value for name, value in dotenv_values(ENV_FILE).items() if value}
    return {**from_file, **os.environ}


def run(args: argparse.Namespace) -> int:
    """`omniroute simulate CHANNEL`."""
    signer = FormSigner.from_environment(gateway_environment())
    return simulate(
        args.channel, args.url, args.phone, args.service_code, dial=args.dial, signer=signer
    )
