"""Rasa NLU behind the intent matcher port: what the built-in steps did not read, Rasa may.

`POST {OMNIROUTE_RASA_URL}/model/parse` with `{"text": …, "message_id": …}` answers
`{"text": …, "intent": {"name": …, "confidence": …}, "entities": […], "intent_ranking": […]}`
(Rasa's HTTP API). Its intent is taken when it is one of ours (by the names below) and at least
as confident as the threshold. Rasa slow, down or answering nonsense is logged and changes
nothing: the retailer gets the built-in answer, never an error.
"""

from __future__ import annotations

from typing import Any

import aiohttp
import structlog

from core.sentences import BALANCE, CANCEL, HELP, MENU, STATUS

log = structlog.get_logger(__name__)

# Rasa intent names (a bot's domain names them) as ours: our own names, and the ones Rasa's
# starter bots and its handoff docs use.
RASA_INTENTS: dict[str, str] = {
    **dict.fromkeys(("status", "order_status", "check_order_status", "track_order"), STATUS),
    **dict.fromkeys(("balance", "check_balance", "debt"), BALANCE),
    **dict.fromkeys(("help", "human_handoff", "talk_to_human", "ask_for_human"), HELP),
    **dict.fromkeys(("cancel", "cancel_order"), CANCEL),
    **dict.fromkeys(("menu", "show_menu", "main_menu"), MENU),
}


class RasaIntentMatcher:
    """An `IntentMatcher` over a Rasa server's HTTP API."""

    def __init__(self, base_url: str, *, threshold: float, timeout_seconds: float) -> None:
        self.url = f"{base_url.rstrip('/')}/model/parse"
        self._threshold = threshold
        self._timeout = aiohttp.ClientTimeout(total=timeout_seconds)
        self._session: aiohttp.ClientSession | None = None

    async def match(self, text: str, locale: str, *, message_id: str) -> str | None:
        """Our intent for `text`, or None: not confident enough, not one of ours, or Rasa did
        not answer in time."""
        try:
            async with self._client().post(
                self.url, json={"text": text, "message_id": message_id}
            ) as response:
                if response.status != 200:
                    body = (await response.text())[:200]
                    log.warning("rasa.refused", url=self.url, status=response.status, body=body)
                    return None
                parsed: Any = await response.json(content_type=None)
        except (aiohttp.ClientError, TimeoutError, ValueError) as exc:
            log.warning("rasa.unavailable", url=self.url, error=repr(exc))
            return None
        intent = parsed.get("intent") if isinstance(parsed, dict) else None
        if not isinstance(intent, dict):
            log.warning("rasa.unreadable", url=self.url, answer=str(parsed)[:200])
            return None
        name, confidence = intent.get("name"), intent.get("confidence")
        if not isinstance(confidence, int | float) or isinstance(confidence, bool):
            confidence = 0.0
        ours = RASA_INTENTS.get(name) if isinstance(name, str) else None
        log.info("rasa.parsed", intent=name, confidence=confidence, ours=ours, locale=locale)
        if ours is None or confidence < self._threshold:
            return None
        return ours

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    def _client(self) -> aiohttp.ClientSession:
        """Created on first use, inside the running event loop, and reused."""
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(timeout=self._timeout)
        return self._session
