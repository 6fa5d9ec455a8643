"""strawberry's aiohttp view, with our context: the caller the guard found, and the loaders."""

from __future__ import annotations

from typing import Any

from aiohttp import web
from strawberry.aiohttp.views import GraphQLView
from strawberry.types.unset import UnsetType

from channels.graphql.auth import InvalidTokenError, authenticate_params
from channels.graphql.context import GraphQLContext, GraphQLServices
from channels.graphql.limits import PRINCIPAL


class OmniRouteGraphQLView(GraphQLView[GraphQLContext, None]):
    def __init__(self, services: GraphQLServices, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.services = services

    async def get_context(
        self, request: web.Request, response: web.Response | web.WebSocketResponse
    ) -> GraphQLContext:
        return GraphQLContext.build(self.services, request.get(PRINCIPAL), request, response)

    async def on_ws_connect(self, context: GraphQLContext) -> UnsetType | dict[str, object] | None:
        """The token in connection_init signs in every operation on the socket, queries and
        mutations as well as subscriptions (the upgrade's own headers win when they carry one).
        A bad one signs in nobody: a subscription then says why, as it did."""
        if context.principal is None and context.connection_params:
            services = self.services
            try:
                principal = await authenticate_params(
                    context.connection_params, services.keys, services.access.authenticate_api_key
                )
            except InvalidTokenError:
                principal = None
            if principal is not None:
                signed_in = GraphQLContext.build(
                    services, principal, context.request, context.response
                )
                context.principal, context.loaders = principal, signed_in.loaders
        return await super().on_ws_connect(context)
