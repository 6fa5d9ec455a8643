"""A scripted web chat: sends messages as a browser or the mobile app would, over POST or WS.

Every reply is checked to have exactly interfaces.md's shape before a test looks at it.
(Shared with tests/journeys; it belongs next to UssdPhone in tests/support once that moves.)
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from aiohttp import ClientWebSocketResponse, WSMsgType
from aiohttp.test_utils import TestClient

MESSAGES = "/channels/web/messages"
WS = "/channels/web/ws"


def message_body(user: str, text: str, **extra: str) -> dict[str, str]:
    """A chat message as clients send it: user, text, then the optional id/locale."""
    return {"user": user, "text": text, **extra}


def assert_reply_shape(body: Any) -> dict[str, Any]:
    """`{"text": str, "options": [{"key": str, "label": str}], "end": bool}` and nothing else."""
    assert isinstance(body, dict), body
    assert set(body) == {"text", "options", "end"}, body
    assert isinstance(body["text"], str), body
    assert body["text"], body
    assert isinstance(body["end"], bool), body
    assert isinstance(body["options"], list), body
    for option in body["options"]:
        assert isinstance(option, dict), body
        assert set(option) == {"key", "label"}, body
        assert isinstance(option["key"], str), body
        assert isinstance(option["label"], str), body
    return body


def key_for(reply: dict[str, Any], label_part: str) -> str:
    """The key of the first option whose label contains `label_part`."""
    for option in reply["options"]:
        if label_part in option["label"]:
            return str(option["key"])
    raise AssertionError(f"no option {label_part!r} in {json.dumps(reply, ensure_ascii=False)}")


def labels(reply: dict[str, Any]) -> list[str]:
    return [str(o["label"]) for o in reply["options"]]


@dataclass
class WebChat:
    """A chat window over POST /channels/web/messages."""

    client: TestClient[object, object]
    user: str
    replies: list[dict[str, Any]] = field(default_factory=list)

    async def send(self, text: str, **extra: str) -> dict[str, Any]:
        response = await self.client.post(MESSAGES, json=message_body(self.user, text, **extra))
        assert response.status == 200, await response.text()
        assert response.content_type == "application/json"
        reply = assert_reply_shape(await response.json())
        self.replies.append(reply)
        return reply

    async def choose(self, label_part: str) -> dict[str, Any]:
        return await self.send(key_for(self.reply, label_part))

    @property
    def reply(self) -> dict[str, Any]:
        return self.replies[-1]


@dataclass
class SocketChat:
    """A chat window over an open WebSocket."""

    ws: ClientWebSocketResponse
    user: str
    replies: list[dict[str, Any]] = field(default_factory=list)

    async def send(self, text: str, **extra: str) -> dict[str, Any]:
        await self.ws.send_json(message_body(self.user, text, **extra))
        reply = assert_reply_shape(await self.receive())
        self.replies.append(reply)
        return reply

    async def choose(self, label_part: str) -> dict[str, Any]:
        return await self.send(key_for(self.reply, label_part))

    async def receive(self) -> Any:
        frame = await self.ws.receive(timeout=10)
        assert frame.type is WSMsgType.TEXT, frame
        return json.loads(frame.data)

    @property
    def reply(self) -> dict[str, Any]:
        return self.replies[-1]
