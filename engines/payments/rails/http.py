"""The one HTTP client the rails share: aiohttp, JSON with exact decimals, errors as outcomes.

A provider that does not answer, answers 5xx or drops the connection leaves the outcome unknown
(RailUnavailableError); a 4xx is the provider's refusal, for the rail to interpret.
"""

from __future__ import annotations

import asyncio
import base64
import json
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import aiohttp

from engines.payments.model import RailUnavailableError

# A USSD turn waits on the submit: better an `unknown` intent the requery settles than a dead
# session. Every provider answers a healthy request well within this.
TIMEOUT_SECONDS = 8.0


@dataclass(frozen=True, slots=True)
class HttpAnswer:
    status: int
    body: Any  # parsed JSON (decimals as Decimal), or the text when it is not JSON

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300

    def field(self, name: str, default: Any = None) -> Any:
        return self.body.get(name, default) if isinstance(self.body, dict) else default


def basic_auth(user: str, password: str) -> dict[str, str]:
    """An `Authorization: Basic …` header (aiohttp's BasicAuth is deprecated)."""
    token = base64.b64encode(f"{user}:{password}".encode()).decode()
    return {"Authorization": f"Basic {token}"}


def loads(raw: bytes | str) -> Any:
    """JSON with every number exact: 1.00 stays Decimal('1.00'), never a float."""
    return json.loads(raw, parse_float=Decimal)


class RailHttp:
    """A lazily opened ClientSession (it must be created inside the running loop)."""

    def __init__(self, base_url: str, *, timeout: float = TIMEOUT_SECONDS) -> None:
        self.base_url = base_url.rstrip("/")
        self._timeout = aiohttp.ClientTimeout(total=timeout)
        self._session: aiohttp.ClientSession | None = None

    def _client(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(timeout=self._timeout)
        return self._session

    async def request(
        self,
        method: str,
        path: str,
        *,
        headers: dict[str, str] | None = None,
        json_body: Any = None,
        params: dict[str, str] | None = None,
    ) -> HttpAnswer:
        data = None
        sent_headers = dict(headers or {})
        if json_body is not None:
            data = json.dumps(json_body, default=str).encode()
            sent_headers["Content-Type"] = "application/json"
        try:
            async with self._client().request(
                method,
                self.base_url + path,
                headers=sent_headers,
                data=data,
                params=params,
            ) as response:
                raw = await response.read()
                status = response.status
        except (TimeoutError, asyncio.TimeoutError, aiohttp.ClientError) as exc:  # noqa: UP041
            raise RailUnavailableError(f"{method} {path}: {type(exc).__name__} {exc}") from exc
        if status in (502, 503, 504):  # a gateway in front of the provider gave up
            raise RailUnavailableError(f"{method} {path}: HTTP {status}")
        try:
            body: Any = loads(raw) if raw else None
        except ValueError:
            body = raw.decode(errors="replace")
        return HttpAnswer(status, body)

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None
