"""GraphQL for the apps: strawberry on the gateway's own aiohttp app, at /graphql.

`mount(app, services)` adds /graphql (HTTP and graphql-transport-ws), POST /oauth/token, and
the guard middleware (authentication and rate limits). GraphiQL is served only in dev.
"""

from __future__ import annotations

from aiohttp import web
from strawberry.subscriptions import GRAPHQL_TRANSPORT_WS_PROTOCOL

from channels.graphql.auth import TokenKeys
from channels.graphql.context import GraphQLContext, GraphQLServices
from channels.graphql.limits import api_guard
from channels.graphql.oauth import token_endpoint
from channels.graphql.schema import build_schema
from channels.graphql.updates import OrderUpdates
from channels.graphql.view import OmniRouteGraphQLView, refuse_methods

__all__ = [
    "GraphQLContext",
    "GraphQLServices",
    "OrderUpdates",
    "TokenKeys",
    "build_schema",
    "mount",
]


def mount(app: web.Application, services: GraphQLServices) -> None:
    settings = services.settings
    schema = build_schema(
        production=settings.production,
        max_depth=settings.graphql_max_depth,
        max_cost=settings.graphql_max_cost,
    )
    view = OmniRouteGraphQLView(
        services,
        schema=schema,
        graphql_ide="graphiql" if settings.env == "dev" else None,
        subscription_protocols=(GRAPHQL_TRANSPORT_WS_PROTOCOL,),
    )
    # GET (queries, GraphiQL, the WebSocket) and POST, by name: CORS answers OPTIONS itself.
    app.router.add_route("GET", "/graphql", view)
    app.router.add_route("POST", "/graphql", view)
    app.on_shutdown.append(view.close_sockets)
    app.router.add_post("/oauth/token", token_endpoint(services))
    app.middlewares.append(api_guard(services))
    app.middlewares.append(refuse_methods)
