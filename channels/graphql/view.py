"""strawberry's aiohttp view, with our context: the caller the guard found, and the loaders.

Subscription sockets get a heartbeat and are closed with 1001 (going away) on shutdown.
strawberry opens them without either: an app whose phone lost its network kept its
subscription (and its listener on the order's updates) until the kernel's TCP keepalive gave
up, hours later; and one app following an order kept `omniroute serve` from stopping on Ctrl+C
or SIGTERM for as long as it stayed connected.
"""

from __future__ import annotations

import weakref
from http import HTTPStatus
from typing import Any

from aiohttp import WSCloseCode, web
from aiohttp.typedefs import Handler
from cross_web import HTTPException
from strawberry.aiohttp.views import GraphQLView
from strawberry.types.unset import UnsetType

from channels.graphql.auth import Credentials, InvalidTokenError
from channels.graphql.context import GraphQLContext, GraphQLServices
from channels.graphql.limits import PRINCIPAL

# Under the 30-60 s idle timeouts of the proxies and mobile networks between a phone and us.
HEARTBEAT_SECONDS = 25.0


def refusal(status: HTTPStatus, message: str, **headers: str) -> web.Response:
    """A request refused before any operation ran, as a GraphQL error an app's client can read
    (Apollo, gql and urql parse JSON; plain text reached them as a network failure). No `data`."""
    error = {"message": message, "extensions": {"code": status.name}}
    return web.json_response({"errors": [error]}, status=status, headers=headers)


@web.middleware
async def refuse_methods(request: web.Request, handler: Handler) -> web.StreamResponse:
    """aiohttp's router refuses a PUT or DELETE to /graphql before the view sees it: the same
    405 and `Allow`, as a GraphQL error."""
    try:
        return await handler(request)
    except web.HTTPMethodNotAllowed as refused:
        if request.path != "/graphql":
            raise
        allowed = ", ".join(sorted(refused.allowed_methods))
        message = f"GraphQL only supports {allowed} requests"
        return refusal(HTTPStatus.METHOD_NOT_ALLOWED, message, Allow=refused.headers["Allow"])


class OmniRouteGraphQLView(GraphQLView[GraphQLContext, None]):
    def __init__(self, services: GraphQLServices, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.services = services
        self.sockets: weakref.WeakSet[web.WebSocketResponse] = weakref.WeakSet()

    async def __call__(self, request: web.Request) -> web.StreamResponse:
        """A request strawberry cannot take (no JSON, no query, a batch, a content type it does
        not read) is refused with the same status, and the reason as a GraphQL error with a code
        (`BAD_REQUEST`): strawberry answered it in plain text, which an app's GraphQL client
        (that parses JSON) reported as a network failure, not the reason. No `data`: nothing ran."""
        try:
            return await self.run(request=request)
        except HTTPException as refused:
            return refusal(HTTPStatus(refused.status_code), refused.reason)

    async def reject_websocket(self, request: web.Request) -> web.Response:
        """A socket opened by a page of another origin: 403, as a GraphQL error (FORBIDDEN)."""
        return refusal(HTTPStatus.FORBIDDEN, "WebSocket connections from this origin are refused")

    async def get_context(
        self, request: web.Request, response: web.Response | web.WebSocketResponse
    ) -> GraphQLContext:
        return GraphQLContext.build(self.services, request.get(PRINCIPAL), request, response)

    async def on_ws_connect(self, context: GraphQLContext) -> UnsetType | dict[str, object] | None:
        """The token in connection_init signs in every operation on the socket, queries and
        mutations as well as subscriptions (the upgrade's own headers win when they carry one).
        A bad one signs in nobody: a subscription then says why, as it did. The credentials are
        kept: each operation checks them again (SocketSignIn), and a subscription ends when
        its token expires (GraphQLContext.while_signed_in)."""
        if context.principal is not None and context.request is not None:
            headers = context.request.headers
            context.credentials = Credentials(
                headers.get("Authorization"), headers.get("X-API-Key")
            )
        elif context.principal is None and context.connection_params:
            services = self.services
            credentials = Credentials.from_params(context.connection_params)
            try:
                principal = await credentials.authenticate(services.keys, services.access)
            except InvalidTokenError:
                principal = None
            if principal is not None:
                signed_in = GraphQLContext.build(
                    services, principal, context.request, context.response
                )
                context.principal, context.loaders = principal, signed_in.loaders
                context.credentials = credentials
        return await super().on_ws_connect(context)

    async def create_websocket_response(
        self, request: web.Request, subprotocol: str | None
    ) -> web.WebSocketResponse:
        protocols = [subprotocol] if subprotocol else []
        ws = web.WebSocketResponse(protocols=protocols, heartbeat=HEARTBEAT_SECONDS)
        await ws.prepare(request)
        self.sockets.add(ws)
        return ws

    async def close_sockets(self, _app: web.Application) -> None:
        """on_shutdown: the apps resubscribe (to another gateway) on 1001 at once."""
        for ws in list(self.sockets):
            await ws.close(code=WSCloseCode.GOING_AWAY, message=b"the gateway is restarting")
