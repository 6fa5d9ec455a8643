"""The Graph API's messages endpoint: `POST {base}/{phone-number-id}/messages`.

Our own small aiohttp client: one call is all OmniRoute needs, and the base URL
(OMNIROUTE_META_GRAPH_BASE_URL) must be able to point at a sandbox or a test server.
Every failure raises GraphApiError, so the DeliveryWorker retries with back-off.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import aiohttp
from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError

from core.messages import PermanentSendError
from core.phone import Phone

TIMEOUT_SECONDS = 15.0


class GraphApiError(RuntimeError):
    """The Graph API did not accept the message (HTTP status and Meta's error code, if any)."""

    def __init__(self, status: int, code: int | None, message: str) -> None:
        super().__init__(f"HTTP {status}" + (f" code {code}" if code else "") + f": {message}")
        self.status = status
        self.code = code


@dataclass(frozen=True, slots=True)
class Recipient:
    """Who a message goes to: a phone number, or a business-scoped user ID (`US.1349…`) for a
    user whose number Meta does not share. With both, Meta uses the phone number."""

    phone: Phone | None = None
    user_id: str | None = None

    def fields(self) -> dict[str, str]:
        if self.phone is not None:
            return {"to": self.phone.digits}
        if self.user_id:
            return {"recipient": self.user_id}
        raise ValueError("a recipient needs a phone number or a user id")


class _SentMessage(BaseModel):
    model_config = ConfigDict(extra="allow")

    id: str = Field(min_length=1)


class _SendResponse(BaseModel):
    model_config = ConfigDict(extra="allow")

    messages: list[_SentMessage] = Field(min_length=1)


class _Error(BaseModel):
    model_config = ConfigDict(extra="allow")

    message: str = ""
    code: int | None = None


class _ErrorResponse(BaseModel):
    model_config = ConfigDict(extra="allow")

    error: _Error


class GraphClient:
    def __init__(
        self,
        *,
        base_url: str,
        phone_number_id: str,
        access_token: SecretStr,
        timeout_seconds: float = TIMEOUT_SECONDS,
    ) -> None:
        self.url = f"{base_url.rstrip('/')}/{phone_number_id}/messages"
        self._token = access_token
        self._timeout = aiohttp.ClientTimeout(total=timeout_seconds)
        self._session: aiohttp.ClientSession | None = None

    async def send(self, recipient: Recipient, content: Mapping[str, Any]) -> str:
        """Send one message; Meta's id for it (`wamid.…`), which its status webhooks quote."""
        body = {
            "messaging_product": "whatsapp",
            "recipient_type": "individual",
            **recipient.fields(),
            **content,
        }
        headers = {"Authorization": f"Bearer {self._token.get_secret_value()}"}
        async with self._client().post(self.url, json=body, headers=headers) as response:
            text = await response.text()
            if response.status >= 300:
                raise _error(response.status, text)
        try:
            return _SendResponse.model_validate_json(text).messages[0].id
        except ValidationError as exc:
            raise GraphApiError(response.status, None, f"unexpected answer: {text[:300]}") from exc

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    def _client(self) -> aiohttp.ClientSession:
        """Created on first use, inside the running event loop, and reused for every send."""
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(timeout=self._timeout)
        return self._session


class PermanentGraphApiError(GraphApiError, PermanentSendError):
    """Meta refuses this message for good (bad parameter, undeliverable, unknown template)."""


# Meta's error codes that no retry can fix (developers.facebook.com, Cloud API error codes).
# 131047: more than 24 hours since she last wrote, by Meta's count; only she can reopen it.
PERMANENT_CODES = frozenset({100, 131008, 131009, 131021, 131026, 131047, 131051, 132000, 132001})


def _error(status: int, text: str) -> GraphApiError:
    try:
        error = _ErrorResponse.model_validate_json(text).error
    except ValidationError:
        return GraphApiError(status, None, text[:300])
    kind = PermanentGraphApiError if error.code in PERMANENT_CODES else GraphApiError
    return kind(status, error.code, error.message[:300])
