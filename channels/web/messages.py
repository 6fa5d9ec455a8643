"""POST /channels/web/messages: one chat message in, the reply out, both JSON."""

from __future__ import annotations

from aiohttp import web

from channels.edge import BodyTooLargeError, read_bounded
from channels.web.chat import answer
from channels.web.keys import MAX_BODY
from channels.web.payloads import error_body


async def post_message(request: web.Request) -> web.Response:
    limit = request.app[MAX_BODY]
    try:
        body = await read_bounded(request, limit)
    except BodyTooLargeError:
        return web.json_response(error_body(f"the body is larger than {limit} bytes"), status=413)
    result = await answer(request, body)
    return web.json_response(result.body, status=result.status, headers=result.headers)
