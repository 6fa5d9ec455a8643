"""/readyz and the schema: a gateway is not ready on a database its migrations have not reached.

On Kubernetes the migrate Job and the new gateway pods start together; a pod that called itself
ready on the old schema would take traffic and answer 500 until the Job finished.
"""

from __future__ import annotations

from aiohttp.test_utils import TestClient
from sqlalchemy import text

from core.app.bootstrap import Services


async def _set_revision(services: Services, statement: str) -> None:
    async with services.db.engine.begin() as conn:
        await conn.execute(text(statement))


async def test_readyz_is_503_until_the_database_is_migrated_to_this_code(
    client: TestClient[object, object], services: Services
) -> None:
    assert (await client.get("/readyz")).status == 200

    await _set_revision(services, "UPDATE alembic_version SET version_num = '0001'")
    behind = await client.get("/readyz")
    assert behind.status == 503
    assert (await behind.json())["checks"]["database"] == "down"

    await _set_revision(services, "DROP TABLE alembic_version")
    assert (await client.get("/readyz")).status == 503


async def test_readyz_stays_200_once_a_newer_release_has_migrated(
    client: TestClient[object, object], services: Services
) -> None:
    """The old pods of a rolling update keep serving while the new release's Job migrates."""
    await _set_revision(services, "UPDATE alembic_version SET version_num = '9999_next_release'")
    ready = await client.get("/readyz")
    assert ready.status == 200
    assert (await ready.json())["checks"]["database"] == "up"
