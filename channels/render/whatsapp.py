"""WhatsApp Cloud API message content: a Reply as reply buttons, a list, or plain text.

Pure, and never cuts a word: up to three short choices become reply buttons, up to ten become a
list (a label too long for a row title is shortened there and given whole in the row's
description), and anything that fits neither is sent as numbered text, which a customer answers
by typing the number. Button and row ids are the option keys, so a tap reaches the dialog as the
same input as typing the number, followed by `@` and the reply's screen name when it has one: a
customer may scroll back and tap an older list, and that tap must not be read against the
screen shown since.

The limits are Meta's (developers.facebook.com/documentation/business-messaging/whatsapp/
messages/interactive-list-messages and interactive-reply-buttons-messages, the official Node.js
SDK's RowObject/InteractiveObject reference); `check_limits` enforces every one of them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from core.layout import layout
from core.messages import Option, Reply

TEXT_BODY_MAX = 4096
INTERACTIVE_BODY_MAX = 1024
HEADER_TEXT_MAX = 60
FOOTER_TEXT_MAX = 60
REPLY_BUTTONS_MAX = 3
BUTTON_TITLE_MAX = 20
BUTTON_ID_MAX = 256
LIST_BUTTON_MAX = 20
LIST_SECTIONS_MAX = 10
LIST_ROWS_MAX = 10  # across all sections
SECTION_TITLE_MAX = 24
ROW_ID_MAX = 200
ROW_TITLE_MAX = 24
ROW_DESCRIPTION_MAX = 72

ELLIPSIS = "…"
SCREEN_SEPARATOR = "@"

Message = dict[str, Any]


class WhatsAppLimitError(ValueError):
    """A message over one of Meta's limits: Meta would refuse it, so it is never sent."""


def render_whatsapp(reply: Reply, *, list_button: str) -> Message:
    """The message's `type` and content; the sender adds `messaging_product` and the recipient.

    `list_button` is the localised label of the button that opens a list ("Choose").
    """
    message = None
    if reply.options and not reply.end:
        tapped = tuple(Option(option_id(o.key, reply.screen), o.label) for o in reply.options)
        message = _buttons(reply.text, tapped) or _list(reply.text, tapped, list_button)
    if message is None:
        message = _text(layout(reply.text, reply.options))
    check_limits(message)
    return message


def render_template(name: str, language: str, values: Sequence[str]) -> Message:
    """An approved template: the only message allowed outside the 24-hour service window."""
    template: dict[str, Any] = {"name": name, "language": {"code": language}}
    if values:
        template["components"] = [
            {"type": "body", "parameters": [{"type": "text", "text": v} for v in values]}
        ]
    return {"type": "template", "template": template}


def option_id(key: str, screen: str | None) -> str:
    """A button's or row's id: the option's key, and the screen it was offered on."""
    return key if screen is None else f"{key}{SCREEN_SEPARATOR}{screen}"


def read_option_id(tapped: str) -> tuple[str, str | None]:
    """The key and the screen of a tapped button or row (no screen in ids sent before)."""
    key, separator, screen = tapped.partition(SCREEN_SEPARATOR)
    return (key, screen or None) if separator else (tapped, None)


def row_title(label: str) -> str:
    """The label, or as many of its leading words as fit with an ellipsis (never empty)."""
    if len(label) <= ROW_TITLE_MAX:
        return label
    room = ROW_TITLE_MAX - len(ELLIPSIS)
    title = ""
    for word in label.split():
        candidate = f"{title} {word}" if title else word
        if len(candidate) > room:
            break
        title = candidate
    return (title or label.strip()[:room]) + ELLIPSIS


# --- the three layouts ----------------------------------------------------------------------


def _text(body: str) -> Message:
    return {"type": "text", "text": {"preview_url": False, "body": body}}


def _buttons(body: str, options: Sequence[Option]) -> Message | None:
    labels = [o.label for o in options]
    if (
        len(options) > REPLY_BUTTONS_MAX
        or not _fits_body(body)
        or not _unique_ids(options, BUTTON_ID_MAX)
        or len(set(labels)) != len(labels)
        or not all(label.strip() and len(label) <= BUTTON_TITLE_MAX for label in labels)
    ):
        return None
    return {
        "type": "interactive",
        "interactive": {
            "type": "button",
            "body": {"text": body},
            "action": {
                "buttons": [
                    {"type": "reply", "reply": {"id": o.key, "title": o.label}} for o in options
                ]
            },
        },
    }


def _list(body: str, options: Sequence[Option], button: str) -> Message | None:
    if (
        len(options) > LIST_ROWS_MAX
        or not (button.strip() and len(button) <= LIST_BUTTON_MAX)
        or not _fits_body(body)
        or not _unique_ids(options, ROW_ID_MAX)
        or not all(o.label.strip() and len(o.label) <= ROW_DESCRIPTION_MAX for o in options)
    ):
        return None
    return {
        "type": "interactive",
        "interactive": {
            "type": "list",
            "body": {"text": body},
            "action": {"button": button, "sections": [{"rows": [_row(o) for o in options]}]},
        },
    }


def _row(option: Option) -> dict[str, str]:
    if len(option.label) <= ROW_TITLE_MAX:
        return {"id": option.key, "title": option.label}
    return {"id": option.key, "title": row_title(option.label), "description": option.label}


def _fits_body(body: str) -> bool:
    return bool(body.strip()) and len(body) <= INTERACTIVE_BODY_MAX


def _unique_ids(options: Sequence[Option], limit: int) -> bool:
    keys = [o.key for o in options]
    return len(set(keys)) == len(keys) and all(0 < len(k) <= limit for k in keys)


# --- the limits, as Meta checks them --------------------------------------------------------


def check_limits(message: Mapping[str, Any]) -> None:
    """Raise WhatsAppLimitError naming every limit the message breaks."""
    problems = list(_problems(message))
    if problems:
        raise WhatsAppLimitError("; ".join(problems))


def _problems(message: Mapping[str, Any]) -> list[str]:
    kind = message.get("type")
    if kind == "text":
        return _length("text.body", message["text"].get("body", ""), TEXT_BODY_MAX)
    if kind == "template":
        return [] if message["template"].get("name") else ["template.name is empty"]
    if kind != "interactive":
        return [f"unknown message type {kind!r}"]
    interactive = message["interactive"]
    problems = _length(
        "body.text", interactive.get("body", {}).get("text", ""), INTERACTIVE_BODY_MAX
    )
    header = interactive.get("header")
    if header is not None and header.get("type") == "text":
        problems += _length("header.text", header.get("text", ""), HEADER_TEXT_MAX)
    footer = interactive.get("footer")
    if footer is not None:
        problems += _length("footer.text", footer.get("text", ""), FOOTER_TEXT_MAX)
    action = interactive.get("action", {})
    if interactive.get("type") == "button":
        return problems + _button_problems(action.get("buttons", []))
    if interactive.get("type") == "list":
        return problems + _list_problems(action)
    return [*problems, f"unknown interactive type {interactive.get('type')!r}"]


def _button_problems(buttons: Sequence[Mapping[str, Any]]) -> list[str]:
    problems = _count("buttons", len(buttons), REPLY_BUTTONS_MAX)
    replies = [b.get("reply", {}) for b in buttons]
    for n, reply in enumerate(replies):
        problems += _length(f"buttons[{n}].title", reply.get("title", ""), BUTTON_TITLE_MAX)
        problems += _length(f"buttons[{n}].id", reply.get("id", ""), BUTTON_ID_MAX)
    problems += _distinct("button titles", [r.get("title") for r in replies])
    return problems + _distinct("button ids", [r.get("id") for r in replies])


def _list_problems(action: Mapping[str, Any]) -> list[str]:
    problems = _length("action.button", action.get("button", ""), LIST_BUTTON_MAX)
    sections = action.get("sections", [])
    problems += _count("sections", len(sections), LIST_SECTIONS_MAX)
    rows = [row for section in sections for row in section.get("rows", [])]
    problems += _count("rows", len(rows), LIST_ROWS_MAX)
    for n, section in enumerate(sections):
        title = section.get("title")
        if title is not None or len(sections) > 1:
            problems += _length(f"sections[{n}].title", title or "", SECTION_TITLE_MAX)
    for n, row in enumerate(rows):
        problems += _length(f"rows[{n}].id", row.get("id", ""), ROW_ID_MAX)
        problems += _length(f"rows[{n}].title", row.get("title", ""), ROW_TITLE_MAX)
        if "description" in row:
            problems += _length(f"rows[{n}].description", row["description"], ROW_DESCRIPTION_MAX)
    return problems + _distinct("row ids", [row.get("id") for row in rows])


def _length(where: str, text: str, limit: int) -> list[str]:
    if not text.strip():
        return [f"{where} is empty"]
    if len(text) > limit:
        return [f"{where} has {len(text)} characters, over {limit}"]
    return []


def _count(what: str, count: int, limit: int) -> list[str]:
    if count == 0:
        return [f"no {what}"]
    if count > limit:
        return [f"{count} {what}, over {limit}"]
    return []


def _distinct(what: str, values: Sequence[object]) -> list[str]:
    return [] if len(set(values)) == len(values) else [f"{what} repeat"]
