"""The schema, one part per bounded context, merged into the three root types."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable, Iterator
from typing import Any

import strawberry
from graphql import (
    GraphQLError,
    GraphQLSyntaxError,
    OperationDefinitionNode,
    StringValueNode,
    ValidationRule,
)
from strawberry.extensions import (
    AddValidationRules,
    DisableIntrospection,
    MaskErrors,
    SchemaExtension,
)
from strawberry.tools import merge_types
from strawberry.types import ExecutionContext, ExecutionResult
from strawberry.types.graphql import OperationType

from channels.graphql.auth import ClientError
from channels.graphql.catalogue import CatalogueQuery
from channels.graphql.credit import CreditMutation
from channels.graphql.customers import CustomersQuery
from channels.graphql.drivers import DriversMutation, DriversQuery
from channels.graphql.errors import (
    InvalidCart,
    InvalidCustomer,
    InvalidIdempotencyKey,
    InvalidQuantity,
    InvalidVoucher,
    NotFound,
    OutOfStock,
    PaymentMethodUnavailable,
    UnknownProduct,
)
from channels.graphql.escalations import EscalationsMutation, EscalationsQuery
from channels.graphql.invoices import InvoicesQuery
from channels.graphql.limits import limit_extensions
from channels.graphql.orders import OrdersMutation, OrdersQuery, OrdersSubscription
from channels.graphql.quotes import PricingQuery

Query = merge_types(
    "Query",
    (
        CatalogueQuery,
        PricingQuery,
        OrdersQuery,
        CustomersQuery,
        DriversQuery,
        EscalationsQuery,
        InvoicesQuery,
    ),
)
Mutation = merge_types(
    "Mutation", (OrdersMutation, CreditMutation, DriversMutation, EscalationsMutation)
)
Subscription = merge_types("Subscription", (OrdersSubscription,))

ERROR_TYPES = (
    InvalidCart,
    InvalidCustomer,
    InvalidIdempotencyKey,
    InvalidQuantity,
    InvalidVoucher,
    NotFound,
    OutOfStock,
    PaymentMethodUnavailable,
    UnknownProduct,
)


class OmniRouteSchema(strawberry.Schema):
    """Logs only unexpected errors: a refused token or a bad query is the caller's, not ours."""

    def process_errors(
        self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None
    ) -> None:
        unexpected = [
            e
            for e in errors
            if e.original_error is not None and not isinstance(e.original_error, GraphQLError)
        ]
        super().process_errors(unexpected, execution_context)

    async def execute(  # noqa: PLR0917 - strawberry's signature
        self,
        query: str | None,
        variable_values: dict[str, Any] | None = None,
        context_value: Any | None = None,
        root_value: Any | None = None,
        operation_name: str | None = None,
        allowed_operation_types: Iterable[OperationType] | None = None,
        operation_extensions: dict[str, Any] | None = None,
    ) -> ExecutionResult:
        """One answer to one request: a subscription runs on the WebSocket (`stream`), and
        posted over HTTP it is a 400 saying so, not a resolver run as a query (an internal
        error)."""
        allowed = (
            {OperationType.QUERY, OperationType.MUTATION}
            if allowed_operation_types is None
            else set(allowed_operation_types)
        )
        return await super().execute(
            query,
            variable_values,
            context_value,
            root_value,
            operation_name,
            allowed - {OperationType.SUBSCRIPTION},
            operation_extensions,
        )


def _unexpected(error: GraphQLError) -> bool:
    """Our failure, not the caller's: an exception that is not a GraphQL error of ours."""
    return error.original_error is not None and not isinstance(error.original_error, GraphQLError)


class MaskUnexpectedErrors(MaskErrors):
    """An unexpected exception reaches the app as a plain internal error with a code, not as
    its own text (which can be a SQL statement or an internal id); the log keeps the original
    (process_errors runs before extensions see the result)."""

    def __init__(self) -> None:
        super().__init__(should_mask_error=_unexpected, error_message="internal error")

    def anonymise_error(self, error: GraphQLError) -> GraphQLError:
        return GraphQLError(
            self.error_message,
            nodes=error.nodes,
            source=error.source,
            positions=error.positions,
            path=error.path,
            extensions={"code": "INTERNAL_SERVER_ERROR"},
        )


NUL = "\x00"
NUL_REFUSED = "text may not contain the NUL character (U+0000)"


def _holds_nul(value: object) -> bool:
    if isinstance(value, str):
        return NUL in value
    if isinstance(value, dict):
        return any(_holds_nul(v) for v in value.values())
    if isinstance(value, list):
        return any(_holds_nul(v) for v in value)
    return False


class NulInLiteralRule(ValidationRule):
    """A string written in the query holding U+0000 (`"AB\\u0000C"`): see RefuseNulInVariables."""

    def enter_string_value(self, node: StringValueNode, *_args: Any) -> None:
        if NUL in node.value:
            self.report_error(
                GraphQLError(NUL_REFUSED, node, extensions={"code": "BAD_USER_INPUT"})
            )


class RefuseNulInVariables(SchemaExtension):
    """PostgreSQL can neither store nor compare text holding U+0000: a reference, key or code
    with one reached the database and failed there, an INTERNAL_SERVER_ERROR (logged as ours)
    where SQLite answered NotFound or placed the order. No text anyone types holds it: it is
    refused, BAD_USER_INPUT, before anything runs."""

    async def on_execute(self) -> AsyncIterator[None]:
        if _holds_nul(self.execution_context.variables or {}):
            raise ClientError("BAD_USER_INPUT", NUL_REFUSED)
        yield


OPERATION_NAME_REQUIRED = (
    "operationName is required: the document holds several operations, and none was run"
)


class OperationNameRequired(SchemaExtension):
    """A document holding several operations runs the one `operationName` names, and without
    one it is refused: strawberry ran the first, so an app that sent its whole file of queries
    and mutations (say `query Order … mutation Cancel …`) ran whichever came first, a mutation
    nobody meant to run. GraphQL over HTTP and graphql-core refuse it; so do we, as a
    validation error, before anything runs (over HTTP and on the WebSocket alike)."""

    def on_validate(self) -> Iterator[None]:
        context = self.execution_context
        document = context.graphql_document
        # strawberry's `operation_name` falls back to the first operation's: only the name the
        # request itself gave tells "none given" from "the first one's"
        named = context._provided_operation_name is not None
        if not named and document is not None:
            operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
            if len(operations) > 1:
                refused = GraphQLError(
                    OPERATION_NAME_REQUIRED,
                    operations,
                    extensions={"code": "GRAPHQL_VALIDATION_FAILED"},
                )
                # after the validation cache, whose list is the cache's own
                context.pre_execution_errors = [*(context.pre_execution_errors or ()), refused]
        yield


def _code(errors: Iterable[GraphQLError] | None, code: str) -> None:
    for error in errors or ():
        if (error.extensions or {}).get("code") is None and not _unexpected(error):
            error.extensions = {**(error.extensions or {}), "code": code}


class CodedErrors(SchemaExtension):
    """Every error names its kind in `extensions.code`, which apps switch on: a query that
    does not parse or fit the schema, and variables of the wrong type (a quantity past 32 bits,
    a string where an Int goes), came with a message alone, so an app's error handling (which
    reads the code) fell through to "something went wrong". They now say
    GRAPHQL_PARSE_FAILED, GRAPHQL_VALIDATION_FAILED and BAD_USER_INPUT, as Apollo's do."""

    def on_operation(self) -> Iterator[None]:
        try:
            yield
        except GraphQLSyntaxError as error:  # raised by the parser cache's own hook
            _code([error], "GRAPHQL_PARSE_FAILED")
            raise

    def on_validate(self) -> Iterator[None]:
        yield
        _code(self.execution_context.pre_execution_errors, "GRAPHQL_VALIDATION_FAILED")

    def on_execute(self) -> Iterator[None]:
        yield
        result = self.execution_context.result
        if result is not None:  # no path: refused before any field ran (the variables)
            _code([e for e in result.errors or () if not e.path], "BAD_USER_INPUT")


def build_schema(
    *, production: bool = False, max_depth: int = 10, max_cost: int = 5000
) -> strawberry.Schema:
    """Introspection is off in production: the schema is no map for strangers."""
    extensions: list[Any] = [
        CodedErrors,  # first: its operation hook sees what the parser cache's hook raises
        *limit_extensions(max_depth, max_cost),
        lambda: AddValidationRules([NulInLiteralRule]),
        RefuseNulInVariables,
        OperationNameRequired,  # after the validation cache, which sets the errors it found
        MaskUnexpectedErrors,
    ]
    if production:
        extensions.append(DisableIntrospection)
    return OmniRouteSchema(
        query=Query,
        mutation=Mutation,
        subscription=Subscription,
        types=ERROR_TYPES,
        extensions=extensions,
    )
