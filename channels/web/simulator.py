"""GET /: the simulator — a phone on a page, for people trying OmniRoute without a phone.

The page holds no business logic: its script posts the same provider-shaped forms a real phone's
provider would (Africa's Talking USSD, Twilio SMS/WhatsApp/voice) to the gateway's own channel
endpoints, so what it shows is exactly what a customer would get. It posts them through
`/simulator/channels/…` (core/app/simulator.py), which signs them with the configured secrets.
Its inbox shows what the gateway sent the page's number later, from `GET /simulator/inbox`.
"""

from __future__ import annotations

from importlib.resources import files

from aiohttp import web

PAGE = files("channels.web").joinpath("static", "simulator.html")


async def simulator_page(_request: web.Request) -> web.Response:
    return web.Response(text=PAGE.read_text(encoding="utf-8"), content_type="text/html")
