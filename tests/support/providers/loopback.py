"""What every fake provider API shares: a loopback HTTP server and the requests it received."""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl

from aiohttp import web
from aiohttp.test_utils import TestServer


@dataclass(frozen=True)
class ReceivedRequest:
    """One request as it reached the fake, before any check."""

    method: str
    path: str
    headers: dict[str, str]
    body: bytes

    @property
    def form(self) -> list[tuple[str, str]]:
        """The form fields in the order they were sent."""
        return parse_qsl(self.body.decode(), keep_blank_values=True)

    @property
    def fields(self) -> dict[str, str]:
        return dict(self.form)

    def field(self, name: str) -> str | None:
        return self.fields.get(name)

    @property
    def json(self) -> Any:
        return json.loads(self.body)

    @property
    def basic_auth(self) -> tuple[str, str] | None:
        scheme, _, encoded = self.headers.get("Authorization", "").partition(" ")
        if scheme != "Basic":
            return None
        user, _, password = base64.b64decode(encoded).decode().partition(":")
        return user, password


class LoopbackFake:
    """A provider's API on a free 127.0.0.1 port; subclasses answer in `_handle`."""

    _server: TestServer | None = None

    async def start(self) -> None:
        app = web.Application()
        app.router.add_route("*", "/{path:.*}", self._handle)
        self._server = TestServer(app, host="127.0.0.1")
        await self._server.start_server()

    async def close(self) -> None:
        if self._server is not None:
            await self._server.close()
            self._server = None

    @property
    def url(self) -> str:
        assert self._server is not None, "start() the fake first"
        return str(self._server.make_url("")).rstrip("/")

    async def _handle(self, request: web.Request) -> web.Response:
        raise NotImplementedError
