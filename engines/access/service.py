"""Access use cases: issue API keys and OAuth clients (shown once), check and revoke them."""

from __future__ import annotations

import hmac
import secrets
from typing import Any

from sqlalchemy import Row, insert, select, update

from core.clock import Clock
from core.db import Database
from core.ids import IdGenerator
from engines.access.model import (
    ApiKeyRecord,
    ClientRecord,
    IssuedSecret,
    Principal,
    Role,
    secret_hash,
)
from engines.access.tables import api_keys, oauth_clients

API_KEY_PREFIX = "omr_"
# How a principal names the OAuth client it came through (its tokens' `client_id` claim).
CLIENT_CREDENTIAL = "client:"


class AccessService:
    def __init__(self, db: Database, clock: Clock, ids: IdGenerator) -> None:
        self._db = db
        self._clock = clock
        self._ids = ids

    async def create_api_key(
        self, role: Role, *, subject: str | None = None, name: str = ""
    ) -> IssuedSecret:
        """A key `omr_<id>_<secret>`: the id finds the row, only the hash of the whole is kept."""
        key_id = secrets.token_hex(6)
        key = f"{API_KEY_PREFIX}{key_id}_{secrets.token_urlsafe(32)}"
        subject = subject or f"apikey:{key_id}"
        async with self._db.transaction() as s:
            await s.execute(
                insert(api_keys).values(
                    id=self._ids.uuid(),
                    key_id=key_id,
                    secret_hash=secret_hash(key),
                    role=role.value,
                    subject=subject,
                    name=name or key_id,
                    created_at=self._clock.now(),
                )
            )
        return IssuedSecret(key_id, key, role, subject)

    async def authenticate_api_key(self, key: str) -> Principal | None:
        parts = key.removeprefix(API_KEY_PREFIX).split("_", 1)
        if not key.startswith(API_KEY_PREFIX) or len(parts) != 2:
            return None
        async with self._db.transaction() as s:
            row = (
                await s.execute(
                    select(api_keys).where(
                        api_keys.c.key_id == parts[0], api_keys.c.revoked_at.is_(None)
                    )
                )
            ).first()
        if row is None or not hmac.compare_digest(row.secret_hash, secret_hash(key)):
            return None
        return Principal(row.subject, Role(row.role), credential=f"apikey:{row.key_id}")

    async def api_keys(self) -> list[ApiKeyRecord]:
        """Every API key issued, revoked ones too, oldest first."""
        async with self._db.transaction() as s:
            rows = (await s.execute(select(api_keys).order_by(api_keys.c.created_at))).all()
        return [_record(row) for row in rows]

    async def revoke_api_key(self, key_id: str) -> ApiKeyRecord | None:
        """Refuse the key from now on (the gateway reads keys on every request); None when no
        key has that id. Revoking again keeps the first revocation's time."""
        async with self._db.transaction() as s:
            await s.execute(
                update(api_keys)
                .where(api_keys.c.key_id == key_id, api_keys.c.revoked_at.is_(None))
                .values(revoked_at=self._clock.now())
            )
            row = (await s.execute(select(api_keys).where(api_keys.c.key_id == key_id))).first()
        return None if row is None else _record(row)

    async def create_client(
        self, role: Role, *, subject: str | None = None, name: str = ""
    ) -> IssuedSecret:
        """An OAuth 2.0 client for the client-credentials grant (RFC 6749 §4.4)."""
        client_id = f"omr-{secrets.token_hex(8)}"
        secret = secrets.token_urlsafe(32)
        subject = subject or f"client:{client_id}"
        async with self._db.transaction() as s:
            await s.execute(
                insert(oauth_clients).values(
                    id=self._ids.uuid(),
                    client_id=client_id,
                    secret_hash=secret_hash(secret),
                    role=role.value,
                    subject=subject,
                    name=name or client_id,
                    created_at=self._clock.now(),
                )
            )
        return IssuedSecret(client_id, secret, role, subject)

    async def authenticate_client(self, client_id: str, secret: str) -> Principal | None:
        async with self._db.transaction() as s:
            row = (
                await s.execute(
                    select(oauth_clients).where(
                        oauth_clients.c.client_id == client_id,
                        oauth_clients.c.revoked_at.is_(None),
                    )
                )
            ).first()
        # Hash even when the client is unknown, so timing does not reveal which ids exist.
        expected = row.secret_hash if row is not None else secret_hash("")
        if not hmac.compare_digest(expected, secret_hash(secret)) or row is None:
            return None
        return Principal(row.subject, Role(row.role), credential=f"{CLIENT_CREDENTIAL}{client_id}")

    async def clients(self) -> list[ClientRecord]:
        """Every OAuth client issued, revoked ones too, oldest first."""
        async with self._db.transaction() as s:
            rows = (
                await s.execute(select(oauth_clients).order_by(oauth_clients.c.created_at))
            ).all()
        return [_client(row) for row in rows]

    async def revoke_client(self, client_id: str) -> ClientRecord | None:
        """Refuse the client a token from now on, and the tokens it was issued (the gateway
        asks `client_revoked` on every request); None when no client has that id. Revoking
        again keeps the first revocation's time."""
        async with self._db.transaction() as s:
            await s.execute(
                update(oauth_clients)
                .where(oauth_clients.c.client_id == client_id, oauth_clients.c.revoked_at.is_(None))
                .values(revoked_at=self._clock.now())
            )
            row = (
                await s.execute(select(oauth_clients).where(oauth_clients.c.client_id == client_id))
            ).first()
        return None if row is None else _client(row)

    async def client_revoked(self, credential: str) -> bool:
        """Whether a token's `client_id` claim (`client:<id>`) names a client revoked since. A
        claim naming no client of ours (another issuer's) is not ours to refuse."""
        if not credential.startswith(CLIENT_CREDENTIAL):
            return False
        client_id = credential.removeprefix(CLIENT_CREDENTIAL)
        async with self._db.transaction() as s:
            revoked = (
                await s.execute(
                    select(oauth_clients.c.revoked_at).where(oauth_clients.c.client_id == client_id)
                )
            ).scalar()
        return revoked is not None


def _record(row: Row[Any]) -> ApiKeyRecord:
    return ApiKeyRecord(
        key_id=row.key_id,
        role=Role(row.role),
        subject=row.subject,
        name=row.name,
        created_at=row.created_at,
        revoked_at=row.revoked_at,
    )


def _client(row: Row[Any]) -> ClientRecord:
    return ClientRecord(
        client_id=row.client_id,
        role=Role(row.role),
        subject=row.subject,
        name=row.name,
        created_at=row.created_at,
        revoked_at=row.revoked_at,
    )
