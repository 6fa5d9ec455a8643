"""The one intent pipeline: every channel's message goes through `Pipeline.handle`.

A retried webhook (same idempotency key) gets the stored reply and applies nothing twice;
otherwise: load the session, find the newest input, resolve the intent, take one dialog step,
save the session (compare-and-set) and remember the reply. The store does the first three
questions (stored reply? claimed? session?) in one round trip and the save with the remember in
another, where it can (a pipeline and a Lua script on Redis).
"""

from __future__ import annotations

import asyncio
import json
from collections import Counter
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Protocol

import structlog

from core.conversation import Session, SessionConflictError, SessionStore
from core.i18n import DEFAULT_LOCALE, Translator
from core.intents import (
    OPT_OUT,
    Intent,
    IntentKind,
    resolve_command,
    resolve_intent,
    sentence_intent,
)
from core.messages import ChannelKind, InboundMessage, Reply
from core.phone import Phone
from core.region import market_locale

log = structlog.get_logger(__name__)

# WhatsApp's customer service window: a message older than this is past answering, and past
# acting on.
SERVICE_WINDOW = timedelta(hours=24)
# Where people type sentences: the built-in matcher reads them there (a keypad sends keys).
SENTENCE_KINDS = frozenset({ChannelKind.SMS, ChannelKind.WHATSAPP})
SAVE_ATTEMPTS = 4
# How long the language a customer chose is kept in the store for a refused request that has no
# session to say it: a flood costs one database read a phone, and a change shows within it.
CHOSEN_LOCALE_TTL_SECONDS = 300
NO_CHOICE = b"-"  # kept for a customer who never chose: the next refusal asks no database
CLAIM_SECONDS = 15
DUPLICATE_POLL_SECONDS = 0.02


class Dialog(Protocol):
    async def step(
        self, msg: InboundMessage, session: Session | None, intent: Intent
    ) -> tuple[Session, Reply]:
        """One turn. `session` is None for a new conversation (intent START)."""
        ...


def newest_input(transcript: str, previous: str | None) -> str | None:
    """The input this turn added to a cumulative transcript; None when it cannot be known.

    Africa's Talking joins inputs with '*', and an input may contain '*' itself, so the
    boundary comes from what the session already consumed, not from splitting.
    """
    if previous is None:
        return None
    if previous == "":
        return transcript if transcript else None
    if transcript.startswith(previous + "*"):
        return transcript[len(previous) + 1 :]
    return None


def first_locale(msg: InboundMessage) -> str:
    """The language a first message's keyword may be in (ACHA, HALI): the channel's hint, else
    the language of the phone's market (English keywords are understood in every language)."""
    return msg.locale_hint or market_locale(msg.phone) or DEFAULT_LOCALE


class Pipeline:
    def __init__(
        self,
        store: SessionStore,
        dialog: Dialog,
        translate: Translator,
        *,
        session_ttl_seconds: int,
        reply_ttl_seconds: int,
        chat_session_ttl_seconds: int | None = None,
        chosen_locale: Callable[[Phone], Awaitable[str | None]] | None = None,
        now: Callable[[], datetime] | None = None,
    ) -> None:
        self._store = store
        self._now = now or (lambda: datetime.now(UTC))
        # The language the customer chose (None: never chose): a first keyword may be in it.
        self._chosen_locale = chosen_locale
        self._dialog = dialog
        self._t = translate
        self._session_ttl = session_ttl_seconds
        # USSD sessions die with the call; a chat's place is kept for a while between messages.
        self._chat_session_ttl = chat_session_ttl_seconds or session_ttl_seconds
        self._reply_ttl = reply_ttl_seconds
        # Turns answered with the apology, by channel kind: the HTTP answer is still a 200 (as
        # the providers need), so /metrics reads these to show the outage.
        self.failures: Counter[str] = Counter()

    async def handle(self, msg: InboundMessage) -> Reply:
        """Never raises: a broken backend gets the user a polite closing screen, not a 500."""
        try:
            return await self._handle(msg)
        except Exception:
            log.exception("pipeline.failed", session_key=msg.session_key, kind=msg.kind)
            self.failures[msg.kind.value] += 1
            locale = msg.capabilities.in_language(first_locale(msg))  # one the line can say
            return Reply(self._t(locale, "error.unavailable"), end=True, locale=locale)

    async def _handle(self, msg: InboundMessage) -> Reply:
        reply_key = f"reply:{msg.idempotency_key}"
        start = await self._store.open_turn(
            reply_key, msg.idempotency_key, CLAIM_SECONDS, msg.session_key
        )
        if start.reply is not None:
            return Reply.from_dict(json.loads(start.reply))
        if not start.claimed:
            # A copy of this request is being handled right now: answer with its reply.
            return await self._await_reply(reply_key)
        session = start.session
        for attempt in range(SAVE_ATTEMPTS):
            if attempt:
                cached = await self._store.recall(reply_key)
                if cached is not None:
                    return Reply.from_dict(json.loads(cached))
                session = await self._store.load(msg.session_key)
            if (
                session is not None
                and msg.transcript is not None
                and session.transcript == msg.transcript
            ):
                # A duplicate racing the original: wait for the original's reply.
                await asyncio.sleep(0.01)
                continue
            intent = await self._intent(msg, session)
            if self._late(msg, session) and not (
                intent.kind is IntentKind.COMMAND and intent.text == OPT_OUT
            ):
                # Typed against a screen she has left (or a day ago): it changes nothing. Only
                # opting out is still honoured.
                log.info("message.late", session_key=msg.session_key, sent_at=msg.sent_at)
                intent = Intent(IntentKind.LATE)
            fresh = intent.kind is IntentKind.START or session is None
            new_session, reply = await self._dialog.step(msg, None if fresh else session, intent)
            new_session = new_session.evolve(
                transcript=msg.transcript,
                version=0 if session is None else session.version,
                sent_at=newest(session.sent_at if session else None, msg.sent_at),
            )
            ttl = self._session_ttl if msg.kind is ChannelKind.USSD else self._chat_session_ttl
            try:
                await self._store.close_turn(
                    msg.session_key,
                    None if reply.end else new_session,
                    ttl_seconds=ttl,
                    reply_key=reply_key,
                    reply=json.dumps(reply.to_dict()).encode(),
                    reply_ttl_seconds=self._reply_ttl,
                )
            except SessionConflictError:
                log.info("session.conflict", session_key=msg.session_key)
                continue
            if session is not None and new_session.locale != session.locale:
                # She chose another language: a refusal kept in the old one is forgotten.
                await self._store.forget(chosen_locale_key(msg.phone))
            return reply
        raise SessionConflictError(msg.session_key)

    async def customer_locale(self, msg: InboundMessage) -> str:
        """The language to answer `msg` in without running a turn (a refusal): the session's,
        which is the language she chose (else the app's, else her market's); without a session,
        the one she chose, kept in the store for a while, else the channel's hint or market's.
        One store read with a session; a database read a phone per few minutes without."""
        session = await self._store.load(msg.session_key)
        if session is not None:
            return msg.capabilities.in_language(session.locale)
        chosen = None
        if self._chosen_locale is not None:
            key = chosen_locale_key(msg.phone)
            kept = await self._store.recall(key)
            if kept is None:
                chosen = await self._chosen_locale(msg.phone)
                kept = chosen.encode() if chosen else NO_CHOICE
                await self._store.remember(key, kept, CHOSEN_LOCALE_TTL_SECONDS)
            chosen = kept.decode() if kept != NO_CHOICE else None
        return msg.capabilities.in_language(chosen or first_locale(msg))

    def _late(self, msg: InboundMessage, session: Session | None) -> bool:
        """Whether the provider received `msg` before the newest message the conversation has
        applied (it overtook this one), or longer ago than WhatsApp's 24-hour window."""
        if msg.sent_at is None:
            return False
        if self._now() - msg.sent_at >= SERVICE_WINDOW:
            return True
        newest_applied = session.sent_at if session is not None else None
        return newest_applied is not None and msg.sent_at.timestamp() < newest_applied

    async def _await_reply(self, reply_key: str) -> Reply:
        for _ in range(int(CLAIM_SECONDS / DUPLICATE_POLL_SECONDS)):
            await asyncio.sleep(DUPLICATE_POLL_SECONDS)
            cached = await self._store.recall(reply_key)
            if cached is not None:
                return Reply.from_dict(json.loads(cached))
        raise TimeoutError(f"no reply for {reply_key} from the request that claimed it")

    async def _intent(self, msg: InboundMessage, session: Session | None) -> Intent:
        if session is None:
            # A first SMS or WhatsApp message may already be a command ("STATUS"), in the
            # market's language, English, or the language the customer chose (asked only when
            # the first two do not know the word).
            if msg.transcript is None:
                command = resolve_command(msg.text, first_locale(msg), self._t)
                chosen = None
                if command is None and self._chosen_locale is not None and msg.text.strip():
                    chosen = await self._chosen_locale(msg.phone)
                    if chosen is not None:
                        command = resolve_command(msg.text, chosen, self._t)
                if command is not None:
                    return Intent(IntentKind.COMMAND, command)
                # "where is my order" as the first text is STATUS; "show me the menu" starts.
                if msg.kind in SENTENCE_KINDS:
                    languages = [each for each in (chosen, first_locale(msg)) if each]
                    meant = sentence_intent(msg.text.strip(), languages)
                    if meant is not None and meant.kind is IntentKind.COMMAND:
                        return meant
            return Intent(IntentKind.START)
        if msg.transcript is not None:
            text = newest_input(msg.transcript, session.transcript)
            if text is None:
                return Intent(IntentKind.START)
        else:
            text = msg.text
        # The session speaks the customer's language; the market's keywords count too.
        return resolve_intent(
            text,
            session.locale,
            self._t,
            also=(first_locale(msg),),
            sentences=msg.kind in SENTENCE_KINDS,
        )


def chosen_locale_key(phone: Phone) -> str:
    """Where the language a customer chose is kept for refusals without a session."""
    return f"locale:{phone.e164}"


def newest(applied: int | None, sent_at: datetime | None) -> int | None:
    """The Unix second of the newest message a conversation has applied."""
    if sent_at is None:
        return applied
    stamp = int(sent_at.timestamp())
    return stamp if applied is None else max(applied, stamp)
