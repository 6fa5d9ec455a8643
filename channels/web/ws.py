"""GET /channels/web/ws: the same chat messages over a WebSocket, one answer frame per frame.

A frame that is not a chat message gets an `{"error": …}` frame and the socket stays open; so
does a reply that ends the conversation (the next message starts over). A frame over the body
limit is refused by aiohttp with close code 1009 (message too big), as RFC 6455 prescribes.
When the gateway shuts down, every open socket is closed with 1001 (going away): a socket left
open kept the process waiting for aiohttp's shutdown timeout (past Kubernetes' grace period),
and the app saw its connection drop without a close code to reconnect on.
"""

from __future__ import annotations

import structlog
from aiohttp import WSCloseCode, WSMsgType, web

from channels.web.chat import answer
from channels.web.keys import MAX_BODY, SOCKETS
from channels.web.payloads import error_body

log = structlog.get_logger(__name__)

# Under the 30-60 s idle timeouts of the proxies and mobile networks between a phone and us.
HEARTBEAT_SECONDS = 25.0


async def websocket(request: web.Request) -> web.StreamResponse:
    # aiohttp refuses a frame whose size *reaches* max_msg_size; a POST body may be the limit.
    limit = request.app[MAX_BODY] + 1
    ws = web.WebSocketResponse(heartbeat=HEARTBEAT_SECONDS, max_msg_size=limit)
    if not ws.can_prepare(request).ok:
        return web.json_response(
            error_body("this URL speaks WebSocket: connect with an Upgrade: websocket request"),
            status=426,
            headers={"Upgrade": "websocket", "Connection": "Upgrade"},
        )
    await ws.prepare(request)
    request.app[SOCKETS].add(ws)
    async for frame in ws:
        if frame.type is WSMsgType.TEXT:
            body: object = (await answer(request, frame.data)).body
        elif frame.type is WSMsgType.BINARY:
            body = error_body("send each message as a text frame of JSON")
        else:  # ERROR: aiohttp has already closed the socket (1009 for an oversized frame)
            log.info("web.ws_refused_frame", reason=str(frame.data))
            break
        try:
            await ws.send_json(body)
        except ConnectionResetError:
            log.info("web.ws_gone_before_reply")
            break
    return ws


async def close_sockets(app: web.Application) -> None:
    """on_shutdown: the apps reconnect (to another gateway) on 1001 at once."""
    sockets = app[SOCKETS]
    for ws in list(sockets):
        await ws.close(code=WSCloseCode.GOING_AWAY, message=b"the gateway is restarting")
