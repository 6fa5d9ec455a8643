"""Callback URLs that prove themselves: M-Pesa and MoMo do not sign their callbacks.

Each intent gets its own URL, `…/webhooks/<provider>?intent=<id>&sig=<hmac>`, signed with
OMNIROUTE_PAYMENTS_CALLBACK_SECRET. A callback whose URL does not carry a valid signature is a
forgery; one that does names the intent it is about even if we never learned the provider's
reference (a crash right after the provider call).
"""

from __future__ import annotations

import hashlib
import hmac
import uuid
from urllib.parse import urlencode

from engines.payments.model import CallbackForgedError


class CallbackUrls:
    def __init__(self, public_url: str, secret: str) -> None:
        self._base = public_url.rstrip("/")
        self._secret = secret.encode()

    def _sig(self, provider: str, intent_id: uuid.UUID, kind: str) -> str:
        message = f"{provider}:{intent_id}:{kind}".encode()
        return hmac.new(self._secret, message, hashlib.sha256).hexdigest()[:32]

    def url(self, provider: str, intent_id: uuid.UUID, kind: str = "result") -> str:
        query = {"intent": str(intent_id), "sig": self._sig(provider, intent_id, kind)}
        if kind != "result":
            query["kind"] = kind
        return f"{self._base}/webhooks/{provider}?{urlencode(query)}"

    def check(self, provider: str, query: dict[str, str]) -> tuple[uuid.UUID, str]:
        """The intent and kind a callback URL names; CallbackForgedError if it is not ours."""
        try:
            intent_id = uuid.UUID(query.get("intent", ""))
        except ValueError:
            raise CallbackForgedError("callback URL names no intent") from None
        kind = query.get("kind", "result")
        given, expected = query.get("sig", ""), self._sig(provider, intent_id, kind)
        if not (given.isascii() and hmac.compare_digest(given, expected)):
            raise CallbackForgedError("callback URL signature does not match")
        return intent_id, kind
