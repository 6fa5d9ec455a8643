"""POST /simulator/channels/…: the simulator page's forms, signed as their provider would sign them.

Once a provider's secret is set (staging), the real endpoints refuse the page's unsigned forms
with 403. The page posts here instead; this route adds what the provider adds — Africa's
Talking's `?token=`, Twilio's `X-Twilio-Signature` over the URL and the fields — and forwards
the request over HTTP to the channel endpoint on the same server, so the checks still run on
what it sends. Like the page, it is never mounted in production: it signs anything it is given.
"""

from __future__ import annotations

from urllib.parse import parse_qsl, quote

from aiohttp import ClientSession, ClientTimeout, web
from multidict import MultiDict
from twilio.request_validator import RequestValidator  # type: ignore[import-untyped]
from yarl import URL

from channels.twilio.signature import SIGNATURE_HEADER
from core.config import Settings

PREFIX = "/simulator"
# Only the providers whose forms the page posts; anything else is not the simulator's business.
AFRICASTALKING = "/channels/africastalking/"
TWILIO = "/channels/twilio/"
FORWARD_SECONDS = 30


class SimulatorForwarder:
    def __init__(self, settings: Settings) -> None:
        at_token = settings.africastalking_callback_token
        self._at_token = at_token.get_secret_value() if at_token is not None else ""
        twilio_token = settings.twilio_auth_token
        secret = twilio_token.get_secret_value() if twilio_token is not None else ""
        self._twilio = RequestValidator(secret) if secret else None
        self._public_url = settings.public_url.rstrip("/") if settings.public_url else None

    def mount(self, app: web.Application) -> None:
        app.router.add_post(PREFIX + "/{target:channels/.+}", self.forward)

    async def forward(self, request: web.Request) -> web.Response:
        target = request.raw_path.removeprefix(PREFIX)  # path and query, encoded as received
        if not target.startswith((AFRICASTALKING, TWILIO)):
            raise web.HTTPNotFound(
                text="The simulator only posts Africa's Talking and Twilio forms\n"
            )
        body = await request.read()
        headers = {"Content-Type": request.headers.get("Content-Type", "")}
        if target.startswith(AFRICASTALKING) and self._at_token:
            separator = "&" if "?" in target else "?"
            target = f"{target}{separator}token={quote(self._at_token, safe='')}"
        local = _local_origin(request)
        if target.startswith(TWILIO) and self._twilio is not None:
            fields = MultiDict(parse_qsl(body.decode("utf-8"), keep_blank_values=True))
            signed = (self._public_url or local) + target
            headers[SIGNATURE_HEADER] = self._twilio.compute_signature(signed, fields)
        async with (
            ClientSession(timeout=ClientTimeout(total=FORWARD_SECONDS)) as session,
            session.post(URL(local + target, encoded=True), data=body, headers=headers) as answer,
        ):
            return web.Response(
                status=answer.status,
                body=await answer.read(),
                content_type=answer.content_type,
                charset=answer.charset,
            )


def _local_origin(request: web.Request) -> str:
    """This server as the connection reached it: from inside the pod, whatever the proxy's name."""
    host, port = request.transport.get_extra_info("sockname")[:2] if request.transport else ("", 0)
    return str(URL.build(scheme="http", host=host, port=port)).rstrip("/")
