"""Pick the session store from OMNIROUTE_SESSION_URL."""

from __future__ import annotations

from core.clock import Clock
from core.conversation import SessionStore
from sessions.memory import MemorySessionStore
from sessions.redis import RedisSessionStore


class UnsupportedSessionUrlError(ValueError):
    pass


def open_session_store(url: str, clock: Clock | None = None) -> SessionStore:
    """`memory://` for one process; `redis://` or `rediss://` for Dragonfly, Valkey or Redis.

    The Redis store keeps time on the server (key TTLs), so `clock` only drives the memory one.
    """
    if url.startswith("memory://"):
        return MemorySessionStore(clock)
    if url.startswith(("redis://", "rediss://")):
        return RedisSessionStore.from_url(url)
    raise UnsupportedSessionUrlError(
        f"OMNIROUTE_SESSION_URL={url!r}: expected memory://, redis:// or rediss://"
    )
