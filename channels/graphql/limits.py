"""Limits on what one request may cost: query depth, query cost, and the rate per caller.

Cost: each field costs 1, and what sits under a paged field costs once per item asked for
(`first`, or the page size when it is a variable or absent), so `products(first: 100)` with
ten fields per product costs about a thousand. Introspection (`__schema`) is free and deep,
so the depth limit skips it.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any, Final, cast

from aiohttp import web
from aiohttp.typedefs import Middleware
from graphql import (
    ASTValidationRule,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    InlineFragmentNode,
    IntValueNode,
    OperationDefinitionNode,
    SelectionSetNode,
    ValidationContext,
    ValidationRule,
)
from strawberry.extensions import (
    AddValidationRules,
    ParserCache,
    QueryDepthLimiter,
    SchemaExtension,
    ValidationCache,
)
from strawberry.extensions.query_depth_limiter import IgnoreContext

from channels.graphql.auth import ClientError, InvalidTokenError, authenticate
from channels.graphql.context import GraphQLContext, GraphQLServices
from channels.graphql.scalars import MAX_PAGE
from core.config import Settings
from core.throttle import RateLimit
from engines.access import Principal

PRINCIPAL: Final = web.RequestKey("principal", Principal)
PAGED_FIELDS: Final = frozenset({"products", "orders", "tasks"})
DEFAULT_PAGE: Final = 20


def _multiplier(node: FieldNode, *, root: bool) -> int:
    for argument in node.arguments or ():
        if argument.name.value == "first":
            if isinstance(argument.value, IntValueNode):
                return max(1, min(MAX_PAGE, int(argument.value.value)))
            return MAX_PAGE
    # The paged fields are the query's own; a task's `orders` (its stops') is not a page.
    return DEFAULT_PAGE if root and node.name.value in PAGED_FIELDS else 1


def query_cost(
    selection_set: SelectionSetNode | None,
    fragments: dict[str, FragmentDefinitionNode],
    seen: frozenset[str] = frozenset(),
    *,
    root: bool = True,
) -> int:
    if selection_set is None:
        return 0
    total = 0
    for selection in selection_set.selections:
        if isinstance(selection, FieldNode):
            if selection.name.value.startswith("__"):
                continue
            below = query_cost(selection.selection_set, fragments, seen, root=False)
            total += 1 + _multiplier(selection, root=root) * below
        elif isinstance(selection, FragmentSpreadNode):
            name = selection.name.value
            fragment = fragments.get(name)
            if fragment is not None and name not in seen:
                total += query_cost(fragment.selection_set, fragments, seen | {name}, root=root)
        elif isinstance(selection, InlineFragmentNode):
            total += query_cost(selection.selection_set, fragments, seen, root=root)
    return total


def cost_limit(max_cost: int) -> type[ValidationRule]:
    class QueryCostRule(ValidationRule):
        def enter_operation_definition(self, node: OperationDefinitionNode, *_args: Any) -> None:
            fragments = {
                d.name.value: d
                for d in self.context.document.definitions
                if isinstance(d, FragmentDefinitionNode)
            }
            cost = query_cost(node.selection_set, fragments)
            if cost > max_cost:
                self.report_error(
                    GraphQLError(
                        f"query cost {cost} exceeds the limit of {max_cost}; ask for fewer "
                        "items (first) or fewer fields",
                        node,
                        extensions={"code": "QUERY_TOO_COMPLEX", "cost": cost, "limit": max_cost},
                    )
                )

    return QueryCostRule


def _introspection(context: IgnoreContext) -> bool:
    return context.field_name.startswith("__")


class _TooDeep:
    """A validation context whose errors carry the code an app switches on, as the cost's do."""

    def __init__(self, context: ValidationContext, limit: int) -> None:
        self._context = context
        self._limit = limit

    def report_error(self, error: GraphQLError) -> None:
        self._context.report_error(
            GraphQLError(
                error.message,
                error.nodes,
                extensions={"code": "QUERY_TOO_COMPLEX", "depthLimit": self._limit},
            )
        )

    def __getattr__(self, name: str) -> Any:
        return getattr(self._context, name)


def depth_limit(max_depth: int) -> type[ValidationRule]:
    [measure] = QueryDepthLimiter(
        max_depth=max_depth, should_ignore=_introspection
    ).validation_rules

    class QueryDepthRule(ValidationRule):
        def __init__(self, context: ValidationContext) -> None:
            measure(cast("ValidationContext", _TooDeep(context, max_depth)))
            super().__init__(context)

    return QueryDepthRule


def limit_extensions(max_depth: int, max_cost: int) -> list[Any]:
    """Factories, so strawberry builds fresh extensions per request.

    The rule classes are built once, so the validation cache (keyed by document and rules)
    validates each distinct query once: apps send the same few documents over and over.
    """
    rules: list[type[ASTValidationRule]] = [depth_limit(max_depth), cost_limit(max_cost)]
    return [
        lambda: ParserCache(maxsize=512),
        lambda: AddValidationRules(rules),
        lambda: ValidationCache(maxsize=512),
        SocketSignIn,
        SocketRateLimit,
    ]


def _buckets(
    settings: Settings, remote: str | None, principal: Principal | None
) -> list[tuple[str, RateLimit]]:
    """The IP's bucket, and the caller's (API key, OAuth client or user) when signed in."""
    buckets = [
        (
            f"ip:{remote}",
            RateLimit(settings.rate_limit_ip_per_second, settings.rate_limit_ip_burst),
        )
    ]
    if principal is not None:
        buckets.append(
            (
                f"caller:{principal.credential or principal.subject}",
                RateLimit(settings.rate_limit_user_per_second, settings.rate_limit_user_burst),
            )
        )
    return buckets


class SocketSignIn(SchemaExtension):
    """Each operation on a WebSocket checks the socket's credentials again.

    The socket is signed in once, at connection_init; an app kept querying (and subscribing)
    on it with a token that had expired, or an API key that had been revoked, meanwhile.
    """

    async def on_execute(self) -> AsyncIterator[None]:
        context = self.execution_context.context
        if isinstance(context, GraphQLContext) and isinstance(
            context.response, web.WebSocketResponse
        ):
            await context.still_signed_in()
        yield


class SocketRateLimit(SchemaExtension):
    """Each operation on a WebSocket takes from the buckets an HTTP request takes from.

    The guard sees only the socket's upgrade, and graphql-transport-ws runs queries and
    mutations as well as subscriptions: without this, one socket was a way round the limits.
    """

    async def on_execute(self) -> AsyncIterator[None]:
        context = self.execution_context.context
        if (
            isinstance(context, GraphQLContext)
            and isinstance(context.response, web.WebSocketResponse)
            and context.request is not None
        ):
            services = context.services
            decision = await services.buckets.take(
                _buckets(services.settings, context.request.remote, context.principal)
            )
            if not decision.allowed:
                raise ClientError(
                    "RATE_LIMITED",
                    f"too many requests; retry after {decision.retry_after_header} seconds",
                )
        yield


Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
GUARDED: Final = frozenset({"/graphql", "/oauth/token"})


def _error(code: str, message: str, *, status: int = 200, **headers: str) -> web.Response:
    body = {"data": None, "errors": [{"message": message, "extensions": {"code": code}}]}
    return web.json_response(body, status=status, headers=headers)


def api_guard(services: GraphQLServices) -> Middleware:
    """Authenticate, then take a token from the IP's bucket and the caller's (key or user)."""
    settings = services.settings

    @web.middleware
    async def guard(request: web.Request, handler: Handler) -> web.StreamResponse:
        if request.path not in GUARDED or request.method == "OPTIONS":
            # A browser's CORS preflight: no credentials, no query; it costs no token.
            return await handler(request)
        principal: Principal | None = None
        refused: InvalidTokenError | None = None
        if request.path == "/graphql":
            try:
                principal = await authenticate(
                    request.headers.get("Authorization"),
                    request.headers.get("X-API-Key"),
                    services.keys,
                    services.access,
                )
            except InvalidTokenError as exc:
                refused = exc
        # A refused credential spends the address's budget too: guessing keys is limited as
        # guessing client secrets at /oauth/token is.
        decision = await services.buckets.take(_buckets(settings, request.remote, principal))
        if not decision.allowed:
            return _error(
                "RATE_LIMITED",
                "too many requests; retry after the number of seconds in Retry-After",
                status=429,
                **{"Retry-After": decision.retry_after_header},
            )
        if refused is not None:
            # 200 with the error, as GraphQL clients (Apollo, gql, urql) expect it.
            return _error("UNAUTHENTICATED", f"invalid credentials: {refused}")
        if principal is not None:
            request[PRINCIPAL] = principal
        return await handler(request)

    return guard
