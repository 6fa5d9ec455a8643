"""The small key-value cache port engines may use for hot reads (the session store provides it).

Engines write through: forget the key, write the database, then remember the new value; so a
failure between the steps leaves the cache empty (read from the database), never stale.
"""

from __future__ import annotations

from typing import Protocol


class KeyValueCache(Protocol):
    async def recall(self, key: str) -> bytes | None: ...

    async def remember(self, key: str, value: bytes, ttl_seconds: int) -> None: ...

    async def forget(self, key: str) -> None: ...


class NoCache:
    """For callers (scripts, tests of the database alone) that want every read from the source."""

    async def recall(self, key: str) -> bytes | None:
        return None

    async def remember(self, key: str, value: bytes, ttl_seconds: int) -> None:
        return None

    async def forget(self, key: str) -> None:
        return None
