"""strawberry's aiohttp view, with our context: the caller the guard found, and the loaders."""

from __future__ import annotations

from typing import Any

from aiohttp import web
from strawberry.aiohttp.views import GraphQLView

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
