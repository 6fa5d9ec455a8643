"""A scripted feature phone: walks a USSD journey through the HTTP endpoint as Africa's Talking."""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field

from aiohttp.test_utils import TestClient

from core.gsm7 import gsm7_length

USSD_PATH = "/channels/africastalking/ussd"
_session_numbers = itertools.count(1)


@dataclass
class Screen:
    kind: str  # "CON" or "END"
    body: str

    @property
    def lines(self) -> list[str]:
        return self.body.splitlines()

    def key_for(self, label_part: str) -> str:
        """The menu key of the first option whose label contains `label_part`."""
        for line in self.lines:
            key, sep, label = line.partition(". ")
            if sep and key.isdigit() and label_part in label:
                return key
        raise AssertionError(f"no option {label_part!r} on screen:\n{self.body}")

    def __contains__(self, text: str) -> bool:
        return text in self.body


@dataclass
class UssdPhone:
    client: TestClient[object, object]
    number: str
    service_code: str = "*384*123#"
    session_id: str = ""
    inputs: list[str] = field(default_factory=list)
    screens: list[Screen] = field(default_factory=list)

    async def dial(self) -> Screen:
        self.session_id = f"ATUid_test_{next(_session_numbers)}"
        self.inputs = []
        return await self._send()

    async def press(self, text: str) -> Screen:
        self.inputs.append(text)
        return await self._send()

    async def choose(self, label_part: str) -> Screen:
        return await self.press(self.screens[-1].key_for(label_part))

    def form(self) -> dict[str, str]:
        return {
            "sessionId": self.session_id,
            "serviceCode": self.service_code,
            "phoneNumber": self.number,
            "networkCode": "62130",
            "text": "*".join(self.inputs),
        }

    async def resend(self) -> Screen:
        """Africa's Talking retrying the last request (same sessionId, same text)."""
        return await self._send()

    async def _send(self) -> Screen:
        response = await self.client.post(USSD_PATH, data=self.form())
        assert response.status == 200, await response.text()
        assert response.content_type == "text/plain"
        raw = await response.text()
        kind, _, body = raw.partition(" ")
        assert kind in {"CON", "END"}, raw
        assert gsm7_length(body) <= 182, f"screen over 182 GSM-7 chars:\n{body}"
        screen = Screen(kind, body)
        self.screens.append(screen)
        return screen
