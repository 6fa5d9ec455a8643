"""The WhatsApp Cloud API webhook, as Meta posts it (object `whatsapp_business_account`).

Only what OmniRoute reads is declared; everything else Meta adds (pricing, referral, context,
identity hashes) is allowed through untouched, so a new field never turns into a 400.
Field names are Meta's. Reference: developers.facebook.com/documentation/business-messaging/
whatsapp/webhooks/reference/messages/ (text, interactive, button, location, media, status,
system) and the business-scoped user ID guide (`user_id`, `from_user_id`).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

# Meta's wamid ids are about 60 characters; our dedupe keys (200) have room for a prefix.
MESSAGE_ID_MAX = 160
MEDIA_TYPES = frozenset({"image", "audio", "video", "document", "sticker"})
# Nothing to answer: a reaction to our message, a system notice (number or user id changed).
SILENT_TYPES = frozenset({"reaction", "system", "ephemeral"})


class _Model(BaseModel):
    model_config = ConfigDict(extra="allow", frozen=True)


class Profile(_Model):
    name: str | None = None
    username: str | None = None


class Contact(_Model):
    """The sender. `wa_id` (the phone number's digits) is withheld for a user who has adopted a
    username and is unknown to the business; `user_id`, the business-scoped user ID, is not."""

    profile: Profile | None = None
    wa_id: str | None = None
    user_id: str | None = None


class Metadata(_Model):
    display_phone_number: str
    phone_number_id: str


class Text(_Model):
    body: str


class ListReply(_Model):
    id: str
    title: str | None = None
    description: str | None = None


class ButtonReply(_Model):
    id: str
    title: str | None = None


class Interactive(_Model):
    type: str
    list_reply: ListReply | None = None
    button_reply: ButtonReply | None = None


class QuickReply(_Model):
    """A template's quick-reply button: `payload` is ours, `text` the button's words."""

    payload: str | None = None
    text: str | None = None


class Media(_Model):
    """An image, video or document: what OmniRoute reads of it is the words typed with it."""

    caption: str | None = None


class Location(_Model):
    latitude: float
    longitude: float
    name: str | None = None
    address: str | None = None


class Context(_Model):
    """On a reply to one of our messages (a swipe-reply, a tap): the id of the message quoted."""

    id: str | None = None


class Reaction(_Model):
    """An emoji she put on one of our messages (`message_id`); removing it sends the same
    without `emoji`."""

    message_id: str | None = None
    emoji: str | None = None


class System(_Model):
    """A notice about the sender: `user_changed_number` gives her new number's `wa_id` (the
    message's `from` is the old one); `user_changed_user_id` only a new business-scoped ID."""

    type: str | None = None
    wa_id: str | None = None
    body: str | None = None


class Message(_Model):
    from_: str | None = Field(default=None, alias="from")
    from_user_id: str | None = None
    id: str = Field(min_length=1, max_length=MESSAGE_ID_MAX)
    timestamp: str
    type: str
    text: Text | None = None
    interactive: Interactive | None = None
    button: QuickReply | None = None
    location: Location | None = None
    image: Media | None = None
    video: Media | None = None
    document: Media | None = None
    context: Context | None = None
    reaction: Reaction | None = None
    system: System | None = None

    @property
    def caption(self) -> str | None:
        """The words typed with a picture, video or document; None without any."""
        media = {"image": self.image, "video": self.video, "document": self.document}
        attached = media.get(self.type)
        if attached is None or attached.caption is None or not attached.caption.strip():
            return None
        return attached.caption


class StatusError(_Model):
    code: int
    title: str | None = None
    message: str | None = None


class Status(_Model):
    id: str = Field(min_length=1)
    status: str
    timestamp: str
    recipient_id: str | None = None
    errors: list[StatusError] = Field(default_factory=list)


class MessagesValue(_Model):
    """The `value` of a change whose `field` is `messages`: incoming messages and statuses."""

    messaging_product: Literal["whatsapp"]
    metadata: Metadata
    contacts: list[Contact] = Field(default_factory=list)
    messages: list[Message] = Field(default_factory=list)
    statuses: list[Status] = Field(default_factory=list)

    def sender_of(self, message: Message) -> Contact | None:
        """The contact entry that sent `message` (Meta sends one per sender in the batch)."""
        for contact in self.contacts:
            if (message.from_ and contact.wa_id == message.from_) or (
                message.from_user_id and contact.user_id == message.from_user_id
            ):
                return contact
        return self.contacts[0] if len(self.contacts) == 1 else None


class Change(_Model):
    field: str
    # Other fields (account_update, message_template_status_update ...) have other shapes.
    value: dict[str, Any]


class Entry(_Model):
    id: str
    changes: list[Change]


class WebhookPayload(_Model):
    object: Literal["whatsapp_business_account"]
    entry: list[Entry]

    def messages_changes(self) -> Iterator[dict[str, Any]]:
        """Every `messages` change's value, in the order Meta sent them."""
        for entry in self.entry:
            for change in entry.changes:
                if change.field == "messages":
                    yield change.value
