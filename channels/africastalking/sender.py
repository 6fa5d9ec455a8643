"""Sends queued SMS through Africa's Talking's messaging API (POST /version1/messaging).

Our own small client rather than the official SDK: the SDK hard-codes its hosts, and
OMNIROUTE_AFRICASTALKING_BASE_URL must be able to point sandboxes and tests elsewhere.
Any failure raises, so the DeliveryWorker retries with back-off.
"""

from __future__ import annotations

import aiohttp
from pydantic import BaseModel, ConfigDict, SecretStr, ValidationError

from channels.render.sms import render_sms
from core.messages import ChannelKind, OutboundMessage, PermanentSendError

# Recipient statusCode: 100 Processed, 101 Sent, 102 Queued; 4xx/5xx are refusals
# (401 RiskHold, 403 InvalidPhoneNumber, 405 InsufficientBalance, 500 InternalServerError ...).
ACCEPTED_CODES = range(100, 103)
TIMEOUT_SECONDS = 15.0


# InvalidPhoneNumber, UnsupportedNumberType, UserInBlacklist, CouldNotRoute: retrying cannot help.
REFUSED_FOR_GOOD = frozenset({403, 404, 406, 407})


class AfricasTalkingSendError(RuntimeError):
    """Africa's Talking did not accept the message; the delivery stays queued for a retry."""


class _Recipient(BaseModel):
    model_config = ConfigDict(extra="allow")

    statusCode: int  # noqa: N815 - the API's field names
    status: str = ""
    messageId: str = ""  # noqa: N815
    number: str = ""


class _MessageData(BaseModel):
    model_config = ConfigDict(extra="allow")

    Message: str = ""
    Recipients: list[_Recipient]


class _MessagingResponse(BaseModel):
    model_config = ConfigDict(extra="allow")

    SMSMessageData: _MessageData


class AfricasTalkingSmsSender:
    """core.messages.MessageSender for provider "africastalking"."""

    def __init__(
        self,
        *,
        api_url: str,
        username: str,
        api_key: SecretStr,
        sender_id: str | None = None,
        timeout_seconds: float = TIMEOUT_SECONDS,
    ) -> None:
        self._url = f"{api_url.rstrip('/')}/version1/messaging"
        self._username = username
        self._api_key = api_key
        self._sender_id = sender_id
        self._timeout = aiohttp.ClientTimeout(total=timeout_seconds)
        self._session: aiohttp.ClientSession | None = None

    @property
    def url(self) -> str:
        return self._url

    async def send(self, message: OutboundMessage) -> str:
        if message.kind is not ChannelKind.SMS:
            raise AfricasTalkingSendError(f"cannot send {message.kind} messages")
        form = {
            "username": self._username,
            "to": message.to.e164,
            "message": render_sms(message.reply),
        }
        if self._sender_id:
            form["from"] = self._sender_id
        headers = {"apiKey": self._api_key.get_secret_value(), "Accept": "application/json"}
        async with self._client().post(self._url, data=form, headers=headers) as response:
            body = await response.text()
            if response.status >= 300:
                raise AfricasTalkingSendError(f"HTTP {response.status}: {body[:300]}")
        return _message_id(body)

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    def _client(self) -> aiohttp.ClientSession:
        """Created on first use, inside the running event loop, and reused for every send."""
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(timeout=self._timeout)
        return self._session


def _message_id(body: str) -> str:
    try:
        data = _MessagingResponse.model_validate_json(body).SMSMessageData
    except ValidationError as exc:
        raise AfricasTalkingSendError(f"unexpected answer: {body[:300]}") from exc
    if not data.Recipients:
        raise AfricasTalkingSendError(f"no recipient accepted: {data.Message or body[:300]}")
    recipient = data.Recipients[0]
    if recipient.statusCode in REFUSED_FOR_GOOD:
        raise AfricasTalkingRefusedError(
            f"recipient refused for good: {recipient.statusCode} {recipient.status}".rstrip()
        )
    if recipient.statusCode not in ACCEPTED_CODES or not recipient.messageId:
        raise AfricasTalkingSendError(
            f"recipient refused: {recipient.statusCode} {recipient.status}".rstrip()
        )
    return recipient.messageId


class AfricasTalkingRefusedError(AfricasTalkingSendError, PermanentSendError):
    """Africa's Talking will never deliver to this recipient."""
