"""Sends queued WhatsApp messages through the Graph API: a rendered Reply, or a template.

Which one is decided before the message gets here: the deliveries outbox (engines/
notifications) lets a free-form message out only within 24 hours of the customer's last
message, hands over the template otherwise, and refuses a message that has neither. So this
sender sends a template exactly when the message names one.
"""

from __future__ import annotations

from collections.abc import Callable

from channels.meta.graph import GraphClient, Recipient
from channels.meta.words import LIST_BUTTON, words
from channels.render.whatsapp import Message, render_template, render_whatsapp
from core.config import Settings
from core.i18n import Translator
from core.messages import ChannelKind, OutboundMessage, Reply


class MetaSendError(RuntimeError):
    """A message this sender cannot send (not WhatsApp)."""


class MetaWhatsAppSender:
    """core.messages.MessageSender for provider "meta"."""

    def __init__(self, graph: GraphClient, translate: Callable[..., str]) -> None:
        self._graph = graph
        self._t = translate

    @classmethod
    def from_settings(
        cls, settings: Settings, translate: Callable[..., str] | None = None
    ) -> MetaWhatsAppSender | None:
        """None until both the access token and the phone number id are configured."""
        token = settings.meta_access_token
        if token is None or not token.get_secret_value() or not settings.meta_phone_number_id:
            return None
        graph = GraphClient(
            base_url=settings.meta_graph_base_url,
            phone_number_id=settings.meta_phone_number_id,
            access_token=token,
        )
        return cls(graph, translate or Translator.load())

    async def send(self, message: OutboundMessage) -> str:
        if message.kind is not ChannelKind.WHATSAPP:
            raise MetaSendError(f"cannot send {message.kind} messages")
        return await self._graph.send(Recipient(phone=message.to), self.content(message))

    async def send_to_user_id(self, user_id: str, reply: Reply) -> str:
        """A reply to a user known only by business-scoped user ID (no phone number)."""
        return await self._graph.send(Recipient(user_id=user_id), self.render(reply))

    def content(self, message: OutboundMessage) -> Message:
        if message.template:
            return render_template(message.template, message.reply.locale, message.template_values)
        return self.render(message.reply)

    def render(self, reply: Reply) -> Message:
        return render_whatsapp(reply, list_button=words(self._t, reply.locale, LIST_BUTTON))

    async def close(self) -> None:
        await self._graph.close()
