"""`omniroute apikey create|list|revoke`, `client create|list|revoke`, `token`: credentials for
apps.

A secret is printed once: only its hash is stored, so a lost key is replaced, not recovered.
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import sys
from collections.abc import Awaitable, Callable
from typing import TypeVar

from channels.graphql import TokenKeys
from core.clock import SystemClock
from core.config import Settings, database_url
from core.db import Database
from core.ids import RandomIds
from core.phone import InvalidPhoneError, Phone
from engines.access import (
    API_KEY_PREFIX,
    AccessService,
    ApiKeyRecord,
    ClientRecord,
    IssuedSecret,
    Principal,
    Role,
)

# The gateway matches these roles' subject against phones in E.164 (a customer's own orders, a
# driver's own tasks): any other spelling makes a credential that is refused everything.
PHONE_ROLES = (Role.CUSTOMER, Role.DRIVER)
KEY_COLUMNS = ("key_id", "role", "subject", "name", "created_at", "revoked_at")
CLIENT_COLUMNS = ("client_id", "role", "subject", "name", "created_at", "revoked_at")

T = TypeVar("T")


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
    if args.command == "apikey" and args.action in ("list", "revoke"):
        return _manage_keys(settings, args)
    if args.command == "client" and args.action in ("list", "revoke"):
        return _manage_clients(settings, args)
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


def _with_access(settings: Settings, use: Callable[[AccessService], Awaitable[T]]) -> T:
    async def go() -> T:
        db = Database(database_url(settings))
        try:
            return await use(AccessService(db, SystemClock(), RandomIds()))
        finally:
            await db.dispose()

    return asyncio.run(go())


def _manage_keys(settings: Settings, args: argparse.Namespace) -> int:
    """`apikey list` as CSV; `apikey revoke KEY_ID`: the gateway reads keys on every request,
    so the next one with it is refused, and a subscription it opened ends within a minute."""
    if args.action == "list":
        found = _with_access(settings, lambda access: access.api_keys())
        out = csv.writer(sys.stdout, lineterminator="\n")
        out.writerow(KEY_COLUMNS)
        out.writerows(_row(record) for record in found)
        return 0
    # The key's id, or the whole key pasted by mistake (omr_<id>_<secret>).
    key_id = args.key_id.strip().removeprefix(API_KEY_PREFIX).split("_", 1)[0]

    async def revoke(access: AccessService) -> tuple[ApiKeyRecord | None, ApiKeyRecord | None]:
        was = next((r for r in await access.api_keys() if r.key_id == key_id), None)
        if was is None or was.revoked_at is not None:
            return was, was
        return was, await access.revoke_api_key(key_id)

    was, now = _with_access(settings, revoke)
    if was is None or now is None:
        print(f"omniroute apikey revoke: no API key {key_id!r} (see apikey list)", file=sys.stderr)
        return 2
    at = now.revoked_at.isoformat() if now.revoked_at else ""
    if was.revoked_at is not None:
        print(f"API key {key_id} was already revoked at {at}")
    else:
        print(f"API key {key_id} ({was.role.value}, {was.subject}) revoked at {at}")
    return 0


def _manage_clients(settings: Settings, args: argparse.Namespace) -> int:
    """`client list` as CSV; `client revoke CLIENT_ID`: the client gets no new token, and the
    gateway, which looks up a token's client on every request, refuses those it holds."""
    if args.action == "list":
        found = _with_access(settings, lambda access: access.clients())
        out = csv.writer(sys.stdout, lineterminator="\n")
        out.writerow(CLIENT_COLUMNS)
        out.writerows(_row(record) for record in found)
        return 0
    # The id, or the line `client create` printed pasted whole (client_id=omr-…).
    client_id = args.client_id.strip().removeprefix("client_id=")

    async def revoke(access: AccessService) -> tuple[ClientRecord | None, ClientRecord | None]:
        was = next((r for r in await access.clients() if r.client_id == client_id), None)
        if was is None or was.revoked_at is not None:
            return was, was
        return was, await access.revoke_client(client_id)

    was, now = _with_access(settings, revoke)
    if was is None or now is None:
        print(
            f"omniroute client revoke: no OAuth client {client_id!r} (see client list)",
            file=sys.stderr,
        )
        return 2
    at = now.revoked_at.isoformat() if now.revoked_at else ""
    if was.revoked_at is not None:
        print(f"OAuth client {client_id} was already revoked at {at}")
    else:
        print(f"OAuth client {client_id} ({was.role.value}, {was.subject}) revoked at {at}")
    return 0


def _row(record: ApiKeyRecord | ClientRecord) -> tuple[str, ...]:
    return (
        record.key_id if isinstance(record, ApiKeyRecord) else record.client_id,
        record.role.value,
        record.subject,
        record.name,
        record.created_at.isoformat(),
        record.revoked_at.isoformat() if record.revoked_at else "",
    )
