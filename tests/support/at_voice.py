"""A caller on Africa's Talking voice: posts the callbacks Africa's Talking posts (documented
field order), following each GetDigits' callbackUrl, and reads the voice XML it gets back."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from urllib.parse import urlencode

from aiohttp import web
from aiohttp.test_utils import TestClient
from yarl import URL

from tests.support.spoken_menu import key_spoken_for

VOICE = "/channels/africastalking/voice"
FORM = {"Content-Type": "application/x-www-form-urlencoded"}
DECLARATION = '<?xml version="1.0" encoding="UTF-8"?>'
DESTINATION = "+2342017001234"


def callback_body(
    phone: str, session_id: str, digits: str | None = None, *, active: bool = True
) -> bytes:
    fields = [
        ("isActive", "1" if active else "0"),
        ("sessionId", session_id),
        ("direction", "Inbound"),
        ("callerNumber", phone),
        ("destinationNumber", DESTINATION),
    ]
    if digits is not None:
        fields.append(("dtmfDigits", digits))
    return urlencode(fields).encode()


@dataclass
class AtPrompt:
    xml: str
    root: ET.Element

    @property
    def say(self) -> str:
        says = self.root.findall(".//Say")
        assert len(says) == 1, self.xml
        return says[0].text or ""

    @property
    def get_digits(self) -> ET.Element | None:
        return self.root.find("GetDigits")

    @property
    def ends_call(self) -> bool:
        return self.get_digits is None

    def key_for(self, label_part: str) -> str:
        return key_spoken_for(self.say, label_part)


@dataclass
class AtCaller:
    client: TestClient[web.Request, web.Application]
    phone: str
    session_id: str
    prompts: list[AtPrompt] = field(default_factory=list)

    @property
    def prompt(self) -> AtPrompt:
        return self.prompts[-1]

    async def dial(self) -> AtPrompt:
        return await self._post(VOICE, callback_body(self.phone, self.session_id))

    async def press(self, digits: str) -> AtPrompt:
        getter = self.prompt.get_digits
        assert getter is not None, "the call has ended"
        url = str(URL(getter.attrib["callbackUrl"]).relative())
        return await self._post(url, callback_body(self.phone, self.session_id, digits))

    async def stay_silent(self) -> AtPrompt:
        """No keys before the timeout: Africa's Talking moves on to the Redirect after GetDigits."""
        redirect = self.prompt.root.find("Redirect")
        assert redirect is not None, "the call would hang up"
        assert redirect.text
        url = str(URL(redirect.text).relative())
        return await self._post(url, callback_body(self.phone, self.session_id))

    async def choose(self, label_part: str) -> AtPrompt:
        return await self.press(self.prompt.key_for(label_part))

    async def hang_up(self) -> None:
        """The last callback of a call: isActive=0 with the call's duration and cost."""
        body = callback_body(self.phone, self.session_id, active=False)
        body += b"&durationInSeconds=95&currencyCode=NGN&amount=12.5000"
        response = await self.client.post(VOICE, data=body, headers=FORM)
        assert response.status == 200

    async def _post(self, url: str, body: bytes) -> AtPrompt:
        response = await self.client.post(url, data=body, headers=FORM)
        text = await response.text()
        assert response.status == 200, text
        assert response.content_type == "application/xml"
        assert text.startswith(DECLARATION)
        prompt = AtPrompt(text, ET.fromstring(text.removeprefix(DECLARATION)))
        self.prompts.append(prompt)
        return prompt
