"""The chat JSON both ways: a validated `ChatMessage` in, a `ChatReply` out.

One shape for POST bodies and WebSocket frames (interfaces.md):
`{"user": "+2348…", "text": "…", "id"?: "…", "locale"?: "…"}` ->
`{"text": "…", "options": [{"key": "1", "label": "…"}], "end": false}`.
"""

from __future__ import annotations

import re
from typing import TypedDict

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator
from pydantic_core import ErrorDetails

from core.layout import layout, measure
from core.messages import WEB_CAPABILITIES, Reply
from core.phone import InvalidPhoneError, Phone

MAX_TEXT_CHARS = 1000
MAX_ID_CHARS = 128
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_LANGUAGE_TAG = r"^[A-Za-z]{2,3}(?:[-_][A-Za-z0-9]{1,8})*$"


class InvalidMessageError(ValueError):
    """Not a chat message; `reason` is written for the client's developer."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class ChatMessage(BaseModel):
    """One message typed in a web or mobile chat.

    Strict types (a number is not a phone, nor an id); unknown fields are ignored so a newer app
    keeps working against an older gateway.
    """

    model_config = ConfigDict(extra="ignore", frozen=True, strict=True)

    user: str = Field(min_length=1, max_length=32)
    text: str = Field(max_length=MAX_TEXT_CHARS)
    id: str | None = Field(default=None, min_length=1, max_length=MAX_ID_CHARS)
    locale: str | None = Field(default=None, max_length=35, pattern=_LANGUAGE_TAG)

    @field_validator("user")
    @classmethod
    def _valid_phone(cls, value: str) -> str:
        try:
            return Phone.parse(value).e164
        except InvalidPhoneError as exc:
            raise ValueError(str(exc)) from exc

    @field_validator("text")
    @classmethod
    def _readable_text(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("must not be blank")
        if _CONTROL.search(value):
            raise ValueError("must not contain control characters")
        return value

    @field_validator("locale")
    @classmethod
    def _language(cls, value: str | None) -> str | None:
        """Catalogues are per language, so 'sw-KE' is asked for as 'sw'."""
        return None if value is None else re.split(r"[-_]", value, maxsplit=1)[0].lower()

    @property
    def phone(self) -> Phone:
        return Phone(self.user)


def parse_message(body: bytes | str) -> ChatMessage:
    """A chat message from a POST body or a text frame, or InvalidMessageError saying why."""
    if isinstance(body, bytes):
        try:
            body = body.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise InvalidMessageError("the body is not UTF-8") from exc
    try:
        return ChatMessage.model_validate_json(body)
    except ValidationError as exc:
        raise InvalidMessageError("; ".join(describe(e) for e in exc.errors())) from exc


def describe(err: ErrorDetails) -> str:
    """One pydantic error as a sentence, without links to pydantic's documentation."""
    where = ".".join(str(part) for part in err["loc"])
    kind = err["type"]
    if kind == "json_invalid":
        detail = str(err.get("ctx", {}).get("error", err["msg"]))
        return f"the body is not valid JSON ({detail})"
    if not where:
        return 'the body must be a JSON object with "user" and "text"'
    if kind == "missing":
        return f"{where} is required"
    if kind == "string_type":
        return f"{where} must be a string"
    if kind == "string_too_long":
        return f"{where} is longer than {err.get('ctx', {}).get('max_length')} characters"
    if kind == "string_too_short":
        return f"{where} must not be empty"
    if kind == "string_pattern_mismatch" and where == "locale":
        return 'locale must be a language tag such as "en" or "sw-KE"'
    message = err["msg"].removeprefix("Value error, ")
    return f"{where} {message}" if message.startswith("must ") else f"{where}: {message}"


class ChatOption(TypedDict):
    key: str
    label: str


class ChatReply(TypedDict):
    text: str
    options: list[ChatOption]
    end: bool


class WebReplyTooLongError(ValueError):
    """The dialog produced more than a chat bubble holds: a bug, never truncated."""


def render_reply(reply: Reply) -> ChatReply:
    if measure(layout(reply.text, reply.options), WEB_CAPABILITIES) > WEB_CAPABILITIES.screen_chars:
        raise WebReplyTooLongError(reply.text)
    return {
        "text": reply.text,
        "options": [{"key": o.key, "label": o.label} for o in reply.options],
        "end": reply.end,
    }


def error_body(reason: str) -> dict[str, str]:
    return {"error": reason}
