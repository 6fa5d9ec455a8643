"""GET and POST /channels/meta/whatsapp: the WhatsApp Cloud API webhook.

GET is the subscription handshake. POST carries incoming messages and the statuses of ours:
the signature is checked on the raw body before anything is parsed (403, nothing changes), the
body is validated (400 with the reason), every message becomes one InboundMessage for the
pipeline and its Reply goes into the deliveries outbox (the sender renders and sends it), and
statuses update their deliveries. Meta is answered 200 as soon as that is recorded; a webhook
Meta redelivers is applied once, because the Meta message id is the idempotency key.
"""

from __future__ import annotations

import hmac
from dataclasses import replace
from datetime import UTC, datetime

import structlog
from aiohttp import web
from pydantic import ValidationError

from channels.edge import BodyTooLargeError, bad_request, read_bounded, too_large
from channels.meta.keys import (
    APP_SECRET,
    CONTEXT,
    MAX_BODY,
    PHONE_NUMBER_ID,
    USER_ID_REPLIES,
    VERIFY_TOKEN,
)
from channels.meta.payloads import (
    MEDIA_TYPES,
    SILENT_TYPES,
    Message,
    MessagesValue,
    Status,
    WebhookPayload,
)
from channels.meta.signature import SIGNATURE_HEADER, signature_valid
from channels.meta.words import ATTACHMENT, NO_PHONE, locale_of_country, words
from channels.render.whatsapp import read_option_id
from core.messages import (
    WHATSAPP_INTERACTIVE_CAPABILITIES,
    ChannelContext,
    ChannelKind,
    InboundMessage,
    OutboundMessage,
    Reply,
)
from core.phone import InvalidPhoneError, Phone
from core.region import market_locale

log = structlog.get_logger(__name__)

PROVIDER = "meta"
# Meta batches updates into one POST of up to 3 MB; refusing one would only make Meta retry it.
WEBHOOK_MAX_BYTES = 3 * 1024 * 1024
MAX_TIMESTAMP_DIGITS = 11  # Unix seconds until the year 5138: longer is not a time
# A reaction that answers our Yes/No question: thumbs up (U+1F44D) and thumbs down (U+1F44E).
REACTION_ANSWERS = {"\U0001f44d": "yes", "\U0001f44e": "no"}
# Skin tones (U+1F3FB-U+1F3FF) and the emoji presentation selector (U+FE0F) a phone may add.
EMOJI_MODIFIERS = frozenset({*map(chr, range(0x1F3FB, 0x1F400)), "\ufe0f"})


async def verify(request: web.Request) -> web.Response:
    """The handshake Meta makes when the callback URL is saved in the App Dashboard."""
    query = request.query
    expected = request.app[VERIFY_TOKEN]
    given = query.get("hub.verify_token", "")
    if (
        expected is None
        or query.get("hub.mode") != "subscribe"
        or not hmac.compare_digest(given.encode(), expected.get_secret_value().encode())
    ):
        return web.Response(
            status=403, text="Forbidden: hub.mode or hub.verify_token does not match\n"
        )
    if "hub.challenge" not in query:
        return web.Response(status=400, text="Bad request: hub.challenge is required\n")
    return web.Response(text=query["hub.challenge"], content_type="text/plain")


async def webhook(request: web.Request) -> web.Response:
    limit = request.app[MAX_BODY]
    try:
        body = await read_bounded(request, limit)
    except BodyTooLargeError:
        return too_large(limit)
    secret = request.app[APP_SECRET]
    if secret is not None and not signature_valid(
        secret, body, request.headers.get(SIGNATURE_HEADER)
    ):
        log.warning("meta.bad_signature", present=SIGNATURE_HEADER in request.headers)
        return web.Response(status=403, text=f"Forbidden: bad or missing {SIGNATURE_HEADER}\n")
    try:
        changes = parse(body)
    except ValidationError as exc:
        return bad_request(exc)
    ctx = request.app[CONTEXT]
    ours = request.app[PHONE_NUMBER_ID]
    for value in changes:
        if ours is not None and value.metadata.phone_number_id != ours:
            log.warning("meta.other_number", phone_number_id=value.metadata.phone_number_id)
            continue
        for message in value.messages:
            await _answer(request.app, ctx, value, message)
        for status in value.statuses:
            await _report(ctx, status)
    return web.Response(text="OK")


def parse(body: bytes) -> list[MessagesValue]:
    """Every `messages` change of the webhook, all validated before any is acted on."""
    payload = WebhookPayload.model_validate_json(body)
    return [MessagesValue.model_validate(value) for value in payload.messages_changes()]


def text_of(message: Message) -> str | None:
    """What the customer said, as the dialog reads it; None for what we cannot read yet.

    A tapped list row or reply button arrives as its id, the option's key (and the screen it
    was offered on, see `screen_of`), so a tap and typing the number are the same input. A
    shared location arrives as a line describing it: the dialog has no step that takes a
    location yet, so it answers as to any other text. A picture, video or document sent with a
    caption is its caption ("5 cartons of this"); without one it is not read.
    """
    if message.type == "text" and message.text is not None:
        return message.text.body
    if message.type == "interactive" and message.interactive is not None:
        chosen = message.interactive.list_reply or message.interactive.button_reply
        return read_option_id(chosen.id)[0] if chosen is not None else None
    if message.type == "button" and message.button is not None:
        return message.button.payload or message.button.text or ""
    if message.type == "location" and message.location is not None:
        place = message.location
        where = ", ".join(part for part in (place.name, place.address) if part)
        return f"location {place.latitude:.6f},{place.longitude:.6f}" + (
            f" ({where})" if where else ""
        )
    if message.caption is not None:
        return message.caption  # typed with a picture, as Twilio's Body is: read as a text
    if message.type == "request_welcome":
        return ""  # the user opened the chat for the first time: greet them
    return None


def screen_of(message: Message) -> str | None:
    """The screen a tapped row or button was offered on; None for anything typed."""
    if message.type == "interactive" and message.interactive is not None:
        chosen = message.interactive.list_reply or message.interactive.button_reply
        return read_option_id(chosen.id)[1] if chosen is not None else None
    return None


def to_message(
    message: Message,
    phone: Phone,
    text: str,
    sent_at: datetime | None = None,
    quoted: str | None = None,
) -> InboundMessage:
    return InboundMessage(
        kind=ChannelKind.WHATSAPP,
        provider=PROVIDER,
        phone=phone,
        session_key=f"whatsapp:{phone.e164}",
        text=text,
        capabilities=WHATSAPP_INTERACTIVE_CAPABILITIES,
        idempotency_key=message.id,
        locale_hint=market_locale(phone),
        raw=message.model_dump(mode="json", by_alias=True, exclude_none=True),
        screen=screen_of(message) or quoted,
        sent_at=sent_at,
    )


async def _answer(
    app: web.Application, ctx: ChannelContext, value: MessagesValue, message: Message
) -> None:
    contact = value.sender_of(message)
    phone = _phone(message.from_ or (contact.wa_id if contact else None))
    if message.type == "reaction" and phone is not None:
        await _reacted(ctx, message, phone)
        return
    if message.type == "system" and phone is not None:
        await _system(ctx, message, phone)
        return
    if message.type in SILENT_TYPES:
        log.info("meta.message_ignored", type=message.type, message_id=message.id)
        return
    if phone is None:
        user_id = message.from_user_id or (contact.user_id if contact else None)
        if user_id is None:
            log.warning("meta.message_without_sender", message_id=message.id)
            return
        locale = locale_of_country(user_id.partition(".")[0])
        reply = Reply(words(ctx.translate, locale, NO_PHONE), end=True, locale=locale)
        app[USER_ID_REPLIES].answer(message.id, user_id, reply)
        return
    text = text_of(message)
    sent_at = received_at(message)
    if text is None:
        if message.type not in MEDIA_TYPES:
            log.info("meta.message_unreadable", type=message.type, message_id=message.id)
        locale = await ctx.locale_of(phone) if ctx.locale_of else _default_locale(phone)
        reply = Reply(words(ctx.translate, locale, ATTACHMENT), locale=locale)
    else:
        quoted = await _quoted_screen(ctx, message, text)
        reply = await ctx.handle(to_message(message, phone, text, sent_at, quoted))
    await _queue_reply(ctx, message, phone, reply, sent_at)


async def _queue_reply(
    ctx: ChannelContext, message: Message, phone: Phone, reply: Reply, sent_at: datetime | None
) -> None:
    """Queue our answer to `message` as a reply to it, once (keyed by its id: Meta's retry of
    the same webhook queues nothing twice)."""
    await ctx.queue_outbound(
        OutboundMessage(
            provider=PROVIDER,
            kind=ChannelKind.WHATSAPP,
            to=phone,
            reply=reply,
            dedupe_key=f"meta-reply:{message.id}",
            reply_to=message.id,
            received_at=sent_at,
        )
    )


async def _reacted(ctx: ChannelContext, message: Message, phone: Phone) -> None:
    """A 👍 (any skin tone) or 👎 on the newest screen we sent her is her Yes or No to it; any
    other emoji, one on an older message, or one taken back (no emoji) changes nothing and is
    not answered. The dialog answers only where that screen asks Yes or No."""
    reaction = message.reaction
    answer = REACTION_ANSWERS.get(_bare_emoji(reaction.emoji if reaction else None))
    if reaction is None or answer is None or ctx.last_screen_sent is None:
        log.info("meta.reaction_ignored", message_id=message.id)
        return
    last = await ctx.last_screen_sent(PROVIDER, phone)
    if last is None or last[0] != reaction.message_id:
        log.info("meta.reaction_ignored", message_id=message.id, reason="not the newest screen")
        return
    sent_at = received_at(message)
    inbound = replace(to_message(message, phone, "", sent_at), screen=last[1], reaction=answer)
    reply = await ctx.handle(inbound)
    if reply.says_nothing:
        return
    await _queue_reply(ctx, message, phone, reply, sent_at)


async def _system(ctx: ChannelContext, message: Message, phone: Phone) -> None:
    """She changed her number (`user_changed_number`, from her old one to `system.wa_id`): she
    stays the same customer there. Nothing is said to her; any other notice is only logged."""
    notice = message.system
    new = _phone(notice.wa_id) if notice is not None else None
    kind = notice.type if notice is not None else None
    if kind != "user_changed_number" or new is None or ctx.change_number is None:
        log.info("meta.message_ignored", type=message.type, system=kind, message_id=message.id)
        return
    await ctx.change_number(phone, new)


def _bare_emoji(emoji: str | None) -> str:
    """The emoji without its skin tone or presentation selector: 👍🏾 is 👍."""
    return "".join(ch for ch in emoji or "" if ch not in EMOJI_MODIFIERS)


async def _quoted_screen(ctx: ChannelContext, message: Message, text: str) -> str | None:
    """The screen of our message she swipe-replied to with a number ("2", "2."): the number
    is that list's choice, as a tap on it is, so a list scrolled back to is not read against
    the screen shown since. None for anything else (words keep their meaning)."""
    quoted = message.context.id if message.context is not None else None
    if message.type != "text" or not quoted or ctx.screen_sent is None:
        return None
    key = text.strip().rstrip(".)").strip()
    if not (key.isascii() and key.isdigit()):
        return None
    return await ctx.screen_sent(PROVIDER, quoted)


def received_at(message: Message) -> datetime | None:
    """When WhatsApp received the message (`timestamp`, Unix seconds as a string): the
    customer service window counts from it. None for one that is not a time at all."""
    stamp = message.timestamp.strip()
    if not stamp.isascii() or not stamp.isdigit() or len(stamp) > MAX_TIMESTAMP_DIGITS:
        log.warning("meta.bad_timestamp", message_id=message.id)
        return None
    return datetime.fromtimestamp(int(stamp), tz=UTC)


async def _report(ctx: ChannelContext, status: Status) -> None:
    matched = await ctx.report_delivery(PROVIDER, status.id, status.status)
    if status.errors:
        first = status.errors[0]
        log.warning(
            "meta.delivery_failed",
            provider_message_id=status.id,
            code=first.code,
            title=first.title,
            matched=matched,
        )


def _phone(digits: str | None) -> Phone | None:
    if not digits:
        return None
    try:
        return Phone.parse(digits)
    except InvalidPhoneError:
        log.warning("meta.invalid_phone")
        return None


def _default_locale(phone: Phone) -> str:
    return locale_of_country(phone.country)
