"""`omniroute apikey create`, `omniroute client create`, `omniroute token`: credentials for apps.

A secret is printed once: only its hash is stored, so a lost key is replaced, not recovered.
"""

from __future__ import annotations

import argparse
import asyncio
import sys

from channels.graphql import TokenKeys
from core.clock import SystemClock
from core.config import Settings, database_url
from core.db import Database
from core.ids import RandomIds
from core.phone import InvalidPhoneError, Phone
from engines.access import AccessService, IssuedSecret, Principal, Role

# The gateway matches these roles' subject against phones in E.164 (a customer's own orders, a
# driver's own tasks): any other spelling makes a credential that is refused everything.
PHONE_ROLES = (Role.CUSTOMER, Role.DRIVER)


class SubjectError(ValueError):
    pass


def subject_of(role: Role, raw: str | None, option: str) -> str | None:
    """A customer's or driver's subject as the E.164 phone the gateway compares it with."""
    if role not in PHONE_ROLES:
        return raw
    if not raw:
        raise SubjectError(f"{option} is required for a {role.value}: their E.164 phone")
    try:
        return Phone.parse(raw).e164
    except InvalidPhoneError:
        raise SubjectError(
            f"{option} must be the {role.value}'s E.164 phone (+ and country code): {raw!r}"
        ) from None


def run(args: argparse.Namespace) -> int:
    settings = Settings()
    role = Role(args.role)
    option, raw = ("--sub", args.sub) if args.command == "token" else ("--subject", args.subject)
    try:
        subject = subject_of(role, raw, option)
    except SubjectError as exc:
        print(f"omniroute {args.command}: {exc}", file=sys.stderr)
        return 2
    if args.command == "token":
        keys = TokenKeys.from_settings(settings)
        if keys.sign_algorithm is None:
            print("omniroute: set OMNIROUTE_JWT_SECRET to sign tokens", file=sys.stderr)
            return 2
        print(keys.issue(Principal(subject or args.sub, role)))
        return 0

    async def create() -> IssuedSecret:
        db = Database(database_url(settings))
        try:
            access = AccessService(db, SystemClock(), RandomIds())
            make = access.create_api_key if args.command == "apikey" else access.create_client
            return await make(role, subject=subject, name=args.name)
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
