"""`omniroute apikey create`, `omniroute client create`, `omniroute token`: credentials for apps.

A secret is printed once: only its hash is stored, so a lost key is replaced, not recovered.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from typing import Any

from channels.graphql import TokenKeys
from core.clock import SystemClock
from core.config import Settings
from core.db import Database
from core.ids import RandomIds
from engines.access import AccessService, IssuedSecret, Principal, Role

ROLES = [role.value for role in Role]


def add_commands(commands: argparse._SubParsersAction[Any]) -> None:
    for name, what in (("apikey", "an API key"), ("client", "an OAuth 2.0 client")):
        parser = commands.add_parser(name, help=f"manage {what} for the GraphQL API")
        actions = parser.add_subparsers(dest="action", required=True, parser_class=type(parser))
        create = actions.add_parser("create", help=f"create {what}; the secret is printed once")
        create.add_argument("--role", required=True, choices=ROLES)
        create.add_argument("--subject", help="whom it acts as (a customer's E.164 phone)")
        create.add_argument("--name", default="", help="a label for operators")

    token = commands.add_parser("token", help="sign a JWT bearer token with the configured key")
    token.add_argument("--sub", required=True, help="the user's E.164 phone or an operator id")
    token.add_argument("--role", required=True, choices=ROLES)


def run(args: argparse.Namespace) -> int:
    settings = Settings()
    if args.command == "token":
        keys = TokenKeys.from_settings(settings)
        if keys.sign_algorithm is None:
            print("omniroute: set OMNIROUTE_JWT_SECRET to sign tokens", file=sys.stderr)
            return 2
        print(keys.issue(Principal(args.sub, Role(args.role))))
        return 0

    async def create() -> IssuedSecret:
        db = Database(settings.database_url)
        try:
            access = AccessService(db, SystemClock(), RandomIds())
            make = access.create_api_key if args.command == "apikey" else access.create_client
            return await make(Role(args.role), subject=args.subject, name=args.name)
        finally:
            await db.dispose()

    issued = asyncio.run(create())
    if args.command == "apikey":
        print(issued.secret)
        print(
            f"API key {issued.id} for {issued.subject} ({issued.role}); shown once. "
            "Send it as: Authorization: Bearer <key>  (or X-API-Key: <key>)",
            file=sys.stderr,
        )
    else:
        print(f"client_id={issued.id}")
        print(f"client_secret={issued.secret}")
        print(
            f"OAuth client for {issued.subject} ({issued.role}); the secret is shown once. "
            "POST /oauth/token with grant_type=client_credentials",
            file=sys.stderr,
        )
    return 0
