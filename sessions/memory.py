"""The embedded session store: a dict with expiry, good for one process (make run, tests)."""

from __future__ import annotations

import asyncio
import heapq

from core.clock import Clock, SystemClock
from core.conversation import Session, SessionConflictError, TurnStart


class MemorySessionStore:
    def __init__(self, clock: Clock | None = None) -> None:
        self._clock = clock or SystemClock()
        self._items: dict[str, tuple[float, bytes]] = {}
        # A stored session's version beside its bytes: a save compares versions without decoding.
        self._versions: dict[str, int] = {}
        # (expiry, key) of every put, soonest first: expired keys leave a few at a time, as
        # they fall due, instead of a scan of the whole dict (tens of thousands of replies).
        self._expiries: list[tuple[float, str]] = []
        self._lock = asyncio.Lock()

    def _get(self, key: str) -> bytes | None:
        item = self._items.get(key)
        if item is None:
            return None
        expires, value = item
        if expires <= self._clock.monotonic():
            del self._items[key]
            if key.startswith("s:"):
                self._versions.pop(key[2:], None)
            return None
        return value

    def _put(self, key: str, value: bytes, ttl_seconds: int) -> None:
        now = self._clock.monotonic()
        expires = now + ttl_seconds
        self._items[key] = (expires, value)
        heapq.heappush(self._expiries, (expires, key))
        self._sweep(now)

    def _sweep(self, now: float) -> None:
        """Drop the keys that have expired; an entry for a key put again since is skipped."""
        due = self._expiries
        while due and due[0][0] <= now:
            _expired, key = heapq.heappop(due)
            item = self._items.get(key)
            if item is not None and item[0] <= now:
                del self._items[key]
                if key.startswith("s:"):
                    self._versions.pop(key[2:], None)

    async def load(self, key: str) -> Session | None:
        value = self._get(f"s:{key}")
        return None if value is None else Session.decode(value)

    async def save(self, key: str, session: Session, ttl_seconds: int) -> Session:
        async with self._lock:
            stored_version = 0 if self._get(f"s:{key}") is None else self._versions[key]
            if stored_version != session.version:
                raise SessionConflictError(key)
            saved = session.evolve(version=session.version + 1)
            self._put(f"s:{key}", saved.encode(), ttl_seconds)
            self._versions[key] = saved.version
            return saved

    async def delete(self, key: str) -> None:
        self._items.pop(f"s:{key}", None)
        self._versions.pop(key, None)

    async def recall(self, key: str) -> bytes | None:
        return self._get(f"r:{key}")

    async def remember(self, key: str, value: bytes, ttl_seconds: int) -> None:
        self._put(f"r:{key}", value, ttl_seconds)

    async def forget(self, key: str) -> None:
        self._items.pop(f"r:{key}", None)

    async def claim(self, key: str, ttl_seconds: int) -> bool:
        if self._get(f"c:{key}") is not None:
            return False
        self._put(f"c:{key}", b"1", ttl_seconds)
        return True

    async def open_turn(
        self, reply_key: str, claim_key: str, claim_ttl_seconds: int, session_key: str
    ) -> TurnStart:
        reply = await self.recall(reply_key)
        if reply is not None:
            return TurnStart(reply, False, None)  # a retry: its answer is all it needs
        claimed = await self.claim(claim_key, claim_ttl_seconds)
        return TurnStart(reply, claimed, await self.load(session_key))

    async def close_turn(
        self,
        session_key: str,
        session: Session | None,
        *,
        ttl_seconds: int,
        reply_key: str,
        reply: bytes,
        reply_ttl_seconds: int,
    ) -> None:
        if session is None:
            await self.delete(session_key)
        else:
            await self.save(session_key, session, ttl_seconds)
        await self.remember(reply_key, reply, reply_ttl_seconds)

    async def ping(self) -> bool:
        return True

    async def close(self) -> None:
        self._items.clear()
        self._versions.clear()
        self._expiries.clear()
