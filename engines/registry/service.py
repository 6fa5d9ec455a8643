"""The service registry: what the ServiceCreation workflow publishes and the channels serve.

A published version never changes: publishing it again with the same definition does nothing,
with another definition is refused. The newest version of a service is what a new session gets.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Final

from sqlalchemy import Row, bindparam, case, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from core.clock import Clock
from core.db import Database, Prepared
from engines.fulfilment.model import ServiceDefinition
from engines.registry.model import (
    PublishedService,
    ServiceCodeTakenError,
    UnknownServiceError,
    VersionTakenError,
    definition_from,
    document_of,
)
from engines.registry.tables import service_claims, services

NEWEST_ON_CODE: Final = Prepared(
    lambda _dialect: (
        select(services.c.definition, services.c.published_at, services.c.published_by)
        .join(service_claims, service_claims.c.name == services.c.name)
        .where(service_claims.c.service_code == bindparam("code"))
        .order_by(services.c.version.desc())
        .limit(1)
    )
)


class ServiceRegistry:
    def __init__(self, db: Database, clock: Clock) -> None:
        self._db = db
        self._clock = clock

    async def publish(
        self, definition: ServiceDefinition, *, by: str | None = None
    ) -> PublishedService:
        """Publish `definition` (already validated); the row already there when it is the same.

        Raises VersionTakenError for another definition under the same name and version, and
        ServiceCodeTakenError when another service answers on its service code.
        """
        try:
            async with self._db.transaction() as s:
                return await self._publish(s, definition, by)
        except IntegrityError:
            # Another publish committed at the same moment (this version, or a claim on this
            # code): once more, reading what it wrote, so theirs stands and this one is told why.
            async with self._db.transaction() as s:
                return await self._publish(s, definition, by)

    async def _publish(
        self, s: AsyncSession, definition: ServiceDefinition, by: str | None
    ) -> PublishedService:
        kept = await self._version(s, definition.name, definition.version)
        if kept is not None:
            published = _same_or_refused(kept, definition)
        else:
            published = PublishedService(definition, self._clock.now(), by)
            await s.execute(
                services.insert().values(
                    name=definition.name,
                    version=definition.version,
                    definition=document_of(definition),
                    service_code=definition.service_code,
                    published_at=published.published_at,
                    published_by=by,
                )
            )
        newest = await s.scalar(
            select(func.max(services.c.version)).where(services.c.name == definition.name)
        )
        if newest == definition.version:
            await self._claim(s, definition.name, definition.service_code)
        return published

    async def _claim(self, s: AsyncSession, name: str, code: str | None) -> None:
        """The service answers on `code` (its newest version's) and on no other. The code is
        unique in service_claims: a claim written at the same moment makes this one fail."""
        if code is not None:
            holder = await s.scalar(
                select(service_claims.c.name).where(
                    service_claims.c.service_code == code, service_claims.c.name != name
                )
            )
            if holder is not None:
                raise ServiceCodeTakenError(code, holder)
        # Publishing a retired service puts it back on the air, from now; one on the air stays
        # on it since when it went on.
        now = self._clock.now()
        still = service_claims.c.retired_at.is_(None) & service_claims.c.on_air_since.is_not(None)
        claimed = await s.execute(
            service_claims.update()
            .where(service_claims.c.name == name)
            .values(
                service_code=code,
                retired_at=None,
                on_air_since=case((still, service_claims.c.on_air_since), else_=now),
            )
        )
        if claimed.rowcount == 0:  # type: ignore[attr-defined]
            await s.execute(
                service_claims.insert().values(name=name, service_code=code, on_air_since=now)
            )

    async def retire(self, name: str) -> PublishedService:
        """Take the service off the air: its code answers no service from the next dial (a
        session in progress finishes on its version). Retiring it again changes nothing.

        Returns its newest version with when it was retired; raises UnknownServiceError."""
        async with self._db.transaction() as s:
            await s.execute(
                service_claims.update()
                .where(service_claims.c.name == name, service_claims.c.retired_at.is_(None))
                .values(service_code=None, retired_at=self._clock.now())
            )
            retired_at = await s.scalar(
                select(service_claims.c.retired_at).where(service_claims.c.name == name)
            )
            newest = (
                await s.execute(
                    select(services)
                    .where(services.c.name == name)
                    .order_by(services.c.version.desc())
                    .limit(1)
                )
            ).first()
        if newest is None or retired_at is None:
            raise UnknownServiceError(name)
        return replace(_published(newest), retired_at=retired_at)

    async def latest(self) -> list[PublishedService]:
        """The newest version of every service, by name, retired ones with when they were."""
        async with self._db.transaction() as s:
            rows = await s.execute(
                select(services, service_claims.c.retired_at, service_claims.c.on_air_since)
                .outerjoin(service_claims, service_claims.c.name == services.c.name)
                .order_by(services.c.name, services.c.version.desc())
            )
            newest: dict[str, PublishedService] = {}
            for row in rows:
                if row.name not in newest:
                    newest[row.name] = replace(
                        _published(row), retired_at=row.retired_at, on_air_since=row.on_air_since
                    )
        return list(newest.values())

    async def answering(self, service_code: str) -> PublishedService | None:
        """The newest version of the service that answers on `service_code`, if one does.

        Asked on every USSD session's first dial (mostly of codes no service answers on): one
        prepared statement, no ORM session."""
        rows = await self._db.fetch(NEWEST_ON_CODE, code=service_code)
        if not rows:
            return None
        document, published_at, published_by = rows[0]
        return PublishedService(definition_from(document), published_at, published_by)

    async def version(self, name: str, version: int) -> PublishedService | None:
        async with self._db.transaction() as s:
            return await self._version(s, name, version)

    async def _version(self, s: AsyncSession, name: str, version: int) -> PublishedService | None:
        row = (
            await s.execute(
                select(services).where(services.c.name == name, services.c.version == version)
            )
        ).first()
        return _published(row) if row is not None else None


def _same_or_refused(kept: PublishedService, definition: ServiceDefinition) -> PublishedService:
    if kept.definition != definition:
        raise VersionTakenError(definition.name, definition.version)
    return kept


def _published(row: Row[tuple[object, ...]]) -> PublishedService:
    mapping = row._mapping
    return PublishedService(
        definition_from(mapping["definition"]),
        mapping["published_at"],
        mapping["published_by"],
    )
