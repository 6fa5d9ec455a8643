"""Outbound SMS and WhatsApp messages through Twilio's Messages API, with the twilio SDK.

Used for messages that do not answer a webhook (an order confirmation when
`OMNIROUTE_SMS_PROVIDER=twilio`); webhook answers go back as TwiML instead.

`OMNIROUTE_TWILIO_BASE_URL` (a sandbox, the tests' fake) is honoured through the SDK's
extension point for transports, a custom `HttpClient`: `RebasedHttpClient` is the SDK's own
aiohttp client, sending whatever the SDK addresses to a `*.twilio.com` host to the base URL
instead, same path and query. The SDK's region and edge settings only rename `twilio.com` hosts,
so they cannot point at a sandbox, and they are rebased like any other Twilio host.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from aiohttp import ClientSession, encode_basic_auth
from twilio.base.exceptions import TwilioRestException  # type: ignore[import-untyped]
from twilio.http.async_http_client import (  # type: ignore[import-untyped]
    AsyncTwilioHttpClient,
)
from twilio.rest import Client  # type: ignore[import-untyped]

from channels.render.sms import render_sms
from core.config import Settings
from core.messages import ChannelKind, OutboundMessage, PermanentSendError

TWILIO_DOMAIN = "twilio.com"
WHATSAPP_PREFIX = "whatsapp:"
TIMEOUT_SECONDS = 15.0
STATUS_PATH = "/channels/twilio/status"


# Twilio's refusals about the recipient or the message that no retry can change
# (twilio.com/docs/api/errors): an invalid 'To' (21211), a recipient who replied STOP (21610),
# unroutable (21612), not SMS-capable (21614), a landline (21635), and free-form WhatsApp
# outside the 24-hour window (63016). Anything else (a 5xx, a rate limit, the account's own
# settings) may pass later, so it is retried.
PERMANENT_CODES = frozenset({21211, 21610, 21612, 21614, 21635, 63016})


class TwilioSenderConfigError(RuntimeError):
    """A message Twilio cannot be asked to send with the settings given (no sender number)."""


class TwilioRefusedError(PermanentSendError):
    """Twilio refuses this message for good: the delivery fails now instead of being retried."""

    def __init__(self, code: int, message: str) -> None:
        super().__init__(f"Twilio error {code}: {message}")
        self.code = code


class RebasedHttpClient(AsyncTwilioHttpClient):  # type: ignore[misc]
    """The SDK's aiohttp transport, pointed at `base_url` when one is configured."""

    session: Any

    def __init__(self, base_url: str | None, timeout: float = TIMEOUT_SECONDS) -> None:
        # No pooled session yet: aiohttp wants a running event loop, and senders are built
        # before the server's loop starts. The first request opens it.
        super().__init__(pool_connections=False, timeout=timeout)
        self._base = base_url.rstrip("/") if base_url else None

    def rebase(self, url: str) -> str:
        if self._base is None:
            return url
        parts = urlsplit(url)
        host = parts.hostname or ""
        if host != TWILIO_DOMAIN and not host.endswith("." + TWILIO_DOMAIN):
            return url
        return self._base + urlunsplit(("", "", parts.path, parts.query, parts.fragment))

    async def request(
        self,
        method: str,
        url: str,
        *,
        params: dict[str, object] | None = None,
        data: dict[str, object] | None = None,
        headers: dict[str, str] | None = None,
        auth: tuple[str, str] | None = None,
        timeout: float | None = None,  # noqa: ASYNC109 - the SDK's HttpClient signature
        allow_redirects: bool = False,
    ) -> Any:
        if self.session is None:
            self.session = ClientSession()
        if auth is not None:
            # The same Basic credentials, as a header: the SDK's own path goes through
            # aiohttp.BasicAuth, which aiohttp 3.14 deprecates.
            headers = {**(headers or {}), "Authorization": encode_basic_auth(*auth)}
        return await super().request(
            method,
            self.rebase(url),
            params=params,
            data=data,
            headers=headers,
            auth=None,
            # The SDK's aiohttp client would wait forever without one.
            timeout=timeout if timeout is not None else self.timeout,
            allow_redirects=allow_redirects,
        )


class TwilioSender:
    """Implements core.messages.MessageSender: one Messages API call per message."""

    def __init__(
        self,
        *,
        account_sid: str,
        auth_token: str,
        base_url: str | None = None,
        sms_from: str | None = None,
        whatsapp_from: str | None = None,
        public_url: str | None = None,
    ) -> None:
        self._http = RebasedHttpClient(base_url)
        self._client = Client(account_sid, auth_token, http_client=self._http)
        self._sms_from = sms_from
        self._whatsapp_from = whatsapp_from
        self._status_callback = public_url.rstrip("/") + STATUS_PATH if public_url else None

    @classmethod
    def from_settings(cls, settings: Settings) -> TwilioSender | None:
        """None unless both the account SID and the Auth Token are set."""
        token = settings.twilio_auth_token.get_secret_value() if settings.twilio_auth_token else ""
        if not settings.twilio_account_sid or not token:
            return None
        return cls(
            account_sid=settings.twilio_account_sid,
            auth_token=token,
            base_url=settings.twilio_base_url,
            sms_from=settings.twilio_sms_from,
            whatsapp_from=settings.twilio_whatsapp_from,
            public_url=settings.public_url,
        )

    async def send(self, message: OutboundMessage) -> str:
        """Twilio's message SID; raises when Twilio refuses: TwilioRefusedError when for good,
        anything else when a retry may pass."""
        to, sender = self._addresses(message)
        fields: dict[str, object] = {"to": to, "from_": sender}
        if self._status_callback is not None:
            fields["status_callback"] = self._status_callback
        if message.template is not None:
            # An approved Content template (WhatsApp outside the 24-hour window): its SID and
            # its numbered variables, as Twilio's Content API takes them.
            fields["content_sid"] = message.template
            values = {str(n): v for n, v in enumerate(message.template_values, start=1)}
            fields["content_variables"] = json.dumps(values, ensure_ascii=False)
        else:
            fields["body"] = render_sms(message.reply)
        try:
            created = await self._client.messages.create_async(**fields)
        except TwilioRestException as exc:
            if exc.code in PERMANENT_CODES:
                raise TwilioRefusedError(exc.code, str(exc.msg)) from exc
            raise
        return str(created.sid)

    async def close(self) -> None:
        await self._http.close()

    def _addresses(self, message: OutboundMessage) -> tuple[str, str]:
        if message.kind is ChannelKind.WHATSAPP:
            if not self._whatsapp_from:
                raise TwilioSenderConfigError(
                    "OMNIROUTE_TWILIO_WHATSAPP_FROM is not set: no WhatsApp sender to send from"
                )
            number = self._whatsapp_from.removeprefix(WHATSAPP_PREFIX)
            return WHATSAPP_PREFIX + message.to.e164, WHATSAPP_PREFIX + number
        if message.kind is ChannelKind.SMS:
            if not self._sms_from:
                raise TwilioSenderConfigError(
                    "OMNIROUTE_TWILIO_SMS_FROM is not set: no number or sender ID to send from"
                )
            return message.to.e164, self._sms_from
        raise TwilioSenderConfigError(f"Twilio messages cannot be of kind {message.kind.value}")
