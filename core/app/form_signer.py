"""Provider forms signed as their provider signs them, for the simulators.

Once a provider's secret is set (staging), the real endpoints refuse unsigned forms with 403.
The simulator page's route (simulator.py) and `omniroute simulate` both sign with `FormSigner`:
Africa's Talking's `?token=` on the path, Twilio's `X-Twilio-Signature` over the URL the gateway
checks and the fields. Kept free of aiohttp and pydantic: the terminal phone imports it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING
from urllib.parse import parse_qsl, quote

from multidict import MultiDict
from twilio.request_validator import RequestValidator  # type: ignore[import-untyped]

if TYPE_CHECKING:
    from core.config import Settings

AFRICASTALKING = "/channels/africastalking/"
TWILIO = "/channels/twilio/"
TWILIO_SIGNATURE_HEADER = "X-Twilio-Signature"  # channels.twilio.signature checks it
# The gateway's own variables (core.config.Settings, prefix OMNIROUTE_), read by the terminal.
ENVIRONMENT = (
    "OMNIROUTE_AFRICASTALKING_CALLBACK_TOKEN",
    "OMNIROUTE_TWILIO_AUTH_TOKEN",
    "OMNIROUTE_PUBLIC_URL",
)


class FormSigner:
    def __init__(self, at_token: str, twilio_token: str, public_url: str | None) -> None:
        self._at_token = at_token
        self._twilio = RequestValidator(twilio_token) if twilio_token else None
        self._public_url = public_url.rstrip("/") if public_url else None

    @classmethod
    def of(cls, settings: Settings) -> FormSigner:
        at_token = settings.africastalking_callback_token
        twilio_token = settings.twilio_auth_token
        return cls(
            at_token.get_secret_value() if at_token is not None else "",
            twilio_token.get_secret_value() if twilio_token is not None else "",
            settings.public_url,
        )

    @classmethod
    def from_environment(cls, environ: Mapping[str, str]) -> FormSigner:
        at_token, twilio_token, public_url = (environ.get(name, "") for name in ENVIRONMENT)
        return cls(at_token, twilio_token, public_url or None)

    def sign(self, target: str, body: bytes, origin: str) -> tuple[str, dict[str, str]]:
        """`target` (path and query, encoded) as it is to be posted, and the headers to add;
        `origin` is the gateway's address the form is posted to. Without the provider's secret
        its form goes as it is."""
        headers: dict[str, str] = {}
        if target.startswith(AFRICASTALKING) and self._at_token:
            separator = "&" if "?" in target else "?"
            target = f"{target}{separator}token={quote(self._at_token, safe='')}"
        if target.startswith(TWILIO) and self._twilio is not None:
            fields = MultiDict(parse_qsl(body.decode("utf-8"), keep_blank_values=True))
            signed = (self._public_url or origin.rstrip("/")) + target
            headers[TWILIO_SIGNATURE_HEADER] = self._twilio.compute_signature(signed, fields)
        return target, headers
