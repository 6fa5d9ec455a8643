"""A gql client for the app under test, signed in as whoever the test needs."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from aiohttp.test_utils import TestClient
from gql import Client, GraphQLRequest
from gql.client import AsyncClientSession
from gql.transport.aiohttp import AIOHTTPTransport

from channels.graphql import TokenKeys
from core.config import Settings
from engines.access import Principal, Role


def bearer(settings: Settings, subject: str, role: Role | str) -> dict[str, str]:
    token = TokenKeys.from_settings(settings).issue(Principal(subject, Role(role)))
    return {"Authorization": f"Bearer {token}"}


@asynccontextmanager
async def gql_session(
    client: TestClient[Any, Any], headers: dict[str, str] | None = None
) -> AsyncIterator[AsyncClientSession]:
    transport = AIOHTTPTransport(url=str(client.make_url("/graphql")), headers=headers or {})
    async with Client(transport=transport, fetch_schema_from_transport=False) as session:
        yield session


async def run(
    session: AsyncClientSession, document: str, variables: dict[str, Any] | None = None
) -> dict[str, Any]:
    """Execute one operation (gql 4 wants variables on the request, not on execute)."""
    return await session.execute(GraphQLRequest(document, variable_values=variables or {}))
