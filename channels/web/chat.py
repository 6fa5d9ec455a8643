"""One chat turn, whether it came as a POST body or a WebSocket frame."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field

from aiohttp import web

from channels.web.auth import Denied, Proven
from channels.web.keys import AUTHORIZE, HANDLE
from channels.web.payloads import (
    ChatMessage,
    ChatReply,
    InvalidMessageError,
    error_body,
    parse_message,
    render_reply,
)
from core.messages import WEB_CAPABILITIES, ChannelKind, InboundMessage

PROVIDER = "web"


@dataclass(frozen=True, slots=True)
class Answer:
    """What to send back: the reply (200) or `{"error": …}` with its HTTP status (and a 401's
    WWW-Authenticate)."""

    status: int
    body: ChatReply | dict[str, str]
    headers: dict[str, str] = field(default_factory=dict)


def session_key(message: ChatMessage) -> str:
    """One chat per phone, shared by every web and mobile client of that number."""
    return f"web:{message.user}"


def idempotency_key(message: ChatMessage) -> str:
    """A client id makes a resend apply once; without one, every message is a new turn."""
    if message.id is not None:
        return f"web:{message.user}:{message.id}"
    return f"web:{uuid.uuid4()}"


def to_message(message: ChatMessage, *, proven: bool = False) -> InboundMessage:
    """`proven`: the credentials are the phone's own token; otherwise the phone is only
    claimed, and nothing is done to its SMS (STOP)."""
    return InboundMessage(
        kind=ChannelKind.WEB,
        provider=PROVIDER,
        phone=message.phone,
        session_key=session_key(message),
        text=message.text,
        capabilities=WEB_CAPABILITIES,
        idempotency_key=idempotency_key(message),
        locale_hint=message.locale,
        raw=message.model_dump(),
        phone_claimed=not proven,
    )


async def answer(request: web.Request, body: bytes | str) -> Answer:
    """Validate, authorize, then one pipeline turn; a refused message changes nothing."""
    try:
        message = parse_message(body)
    except InvalidMessageError as exc:
        return Answer(400, error_body(exc.reason))
    verdict = await request.app[AUTHORIZE](request, message.phone)
    if isinstance(verdict, Denied):
        challenge = {} if verdict.challenge is None else {"WWW-Authenticate": verdict.challenge}
        return Answer(verdict.status, error_body(verdict.reason), challenge)
    reply = await request.app[HANDLE](to_message(message, proven=isinstance(verdict, Proven)))
    return Answer(200, render_reply(reply))
