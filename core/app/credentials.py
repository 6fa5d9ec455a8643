"""`omniroute apikey create`, `omniroute client create`, `omniroute token`: credentials for apps.

A secret is printed once: only its hash is stored, so a lost key is replaced, not recovered.
"""

from __future__ import annotations

import argparse
import asyncio
import sys

from channels.graphql import TokenKeys
from core.clock import SystemClock
from core.config import Settings
from core.db import Database
from core.ids import RandomIds
from engines.access import AccessService, IssuedSecret, Principal, Role


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
