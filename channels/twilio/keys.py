"""Typed keys of the Twilio sub-app and of its requests."""

from aiohttp import web

from core.messages import ChannelContext

PROVIDER = "twilio"
CONTEXT = web.AppKey("context", ChannelContext)
PUBLIC_URL: web.AppKey[str | None] = web.AppKey("public_url")
BODY = web.RequestKey("body", bytes)
"""The request body, read once (bounded) by the signature middleware for the handler."""
