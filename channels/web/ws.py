"""GET /channels/web/ws: the same chat messages over a WebSocket, one answer frame per frame.

A frame that is not a chat message gets an `{"error": …}` frame and the socket stays open; so
does a reply that ends the conversation (the next message starts over). A frame over the body
limit is refused by aiohttp with close code 1009 (message too big), as RFC 6455 prescribes.
When the gateway shuts down, every open socket is closed with 1001 (going away): a socket left
open kept the process waiting for aiohttp's shutdown timeout (past Kubernetes' grace period),
and the app saw its connection drop without a close code to reconnect on.

A socket whose credentials are refused (none in production, an invalid or expired token) is
closed with 4401 and the reason: after answering its frame with the 401 error, or after
SIGN_IN_GRACE_SECONDS without a frame. In production a socket was held open without a token,
every frame refused, for as long as the client liked.
"""

from __future__ import annotations

import structlog
from aiohttp import WSCloseCode, WSMsgType, web

from channels.web.auth import Denied
from channels.web.chat import answer
from channels.web.keys import AUTHORIZE, MAX_BODY, SOCKETS
from channels.web.payloads import error_body

log = structlog.get_logger(__name__)

# Under the 30-60 s idle timeouts of the proxies and mobile networks between a phone and us.
HEARTBEAT_SECONDS = 25.0
# A socket opened without valid credentials (in production: without a token) has this long to
# send its first frame, which is answered with the 401 error; then it is closed with 4401.
SIGN_IN_GRACE_SECONDS = 10.0
# Unauthorized, as graphql-transport-ws closes a socket that did not sign in: the app signs in
# (a fresh token) and reconnects; 1008 would not tell it from other refusals.
UNAUTHORIZED = 4401


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
    verdict = await request.app[AUTHORIZE](request, None)
    refused = verdict if isinstance(verdict, Denied) else None
    grace = SIGN_IN_GRACE_SECONDS if refused is not None else None
    while True:
        try:
            frame = await ws.receive(timeout=grace)
        except TimeoutError:
            assert refused is not None
            await _close_unauthorized(ws, refused.reason)
            break
        grace = None
        status = 200
        if frame.type is WSMsgType.TEXT:
            replied = await answer(request, frame.data)
            status, body = replied.status, replied.body
        elif frame.type is WSMsgType.BINARY:
            body = error_body("send each message as a text frame of JSON")
        elif frame.type is WSMsgType.ERROR:  # aiohttp closed the socket (1009: frame too big)
            log.info("web.ws_refused_frame", reason=str(frame.data))
            break
        else:  # the client's close
            break
        try:
            await ws.send_json(body)
        except ConnectionResetError:
            log.info("web.ws_gone_before_reply")
            break
        if status == 401:  # the socket's credentials will not get better: sign in, reconnect
            await _close_unauthorized(ws, str(body.get("error", "")))
            break
    return ws


async def _close_unauthorized(ws: web.WebSocketResponse, reason: str) -> None:
    # RFC 6455 §5.5: a close frame's reason fits in 123 bytes.
    message = reason.encode()[:123].decode(errors="ignore").encode()
    await ws.close(code=UNAUTHORIZED, message=message)


async def close_sockets(app: web.Application) -> None:
    """on_shutdown: the apps reconnect (to another gateway) on 1001 at once."""
    sockets = app[SOCKETS]
    for ws in list(sockets):
        await ws.close(code=WSCloseCode.GOING_AWAY, message=b"the gateway is restarting")
