"""A Rasa server's HTTP API on loopback: `POST /model/parse` answered as Rasa 3 answers it."""

from __future__ import annotations

import asyncio
from typing import Any

from aiohttp import web

from tests.support.providers.loopback import LoopbackFake, ReceivedRequest

# What a Rasa model answers for a text it was not trained on: its best guess, unsure.
UNSURE = ("out_of_scope", 0.41)


class FakeRasa(LoopbackFake):
    """Knows the texts a test teaches it (`understands`); every other text gets UNSURE. Can be
    slow (`delay`) or broken (`status`), as a real server under load or restarting is."""

    def __init__(self) -> None:
        self.requests: list[ReceivedRequest] = []
        self.intents: dict[str, tuple[str, float]] = {}
        self.delay = 0.0
        self.status = 200

    def understands(self, text: str, intent: str, confidence: float) -> None:
        self.intents[text] = (intent, confidence)

    @property
    def parsed(self) -> list[Any]:
        """The JSON bodies posted to /model/parse."""
        return [r.json for r in self.requests if r.path == "/model/parse"]

    async def _handle(self, request: web.Request) -> web.Response:
        body = await request.read()
        self.requests.append(
            ReceivedRequest(request.method, request.path, dict(request.headers), body)
        )
        if self.delay:
            await asyncio.sleep(self.delay)
        if request.method != "POST" or request.path != "/model/parse":
            return web.json_response({"version": "3.6.20", "status": "failure"}, status=404)
        if self.status != 200:
            return web.json_response(
                {
                    "version": "3.6.20",
                    "status": "failure",
                    "message": "An unexpected error occurred. Error: model not loaded",
                    "reason": "ParsingError",
                    "code": self.status,
                },
                status=self.status,
            )
        text = str((await request.json())["text"])
        name, confidence = self.intents.get(text, UNSURE)
        ranking = [{"name": name, "confidence": confidence}]
        if (name, confidence) != UNSURE:
            ranking.append({"name": UNSURE[0], "confidence": round(1 - confidence, 4)})
        return web.json_response(
            {
                "text": text,
                "intent": {"name": name, "confidence": confidence},
                "entities": [],
                "text_tokens": [],
                "intent_ranking": ranking,
                "response_selector": {"all_retrieval_intents": []},
            }
        )
