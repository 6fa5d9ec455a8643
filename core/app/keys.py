"""Typed application keys of the root aiohttp app."""

from aiohttp import web

from core.app.bootstrap import Services

SERVICES = web.AppKey("services", Services)
