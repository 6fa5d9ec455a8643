"""Pick the session store from OMNIROUTE_SESSION_URL."""

from __future__ import annotations

from core.clock import Clock
from core.conversation import SessionStore
from sessions.memory import MemorySessionStore


class UnsupportedSessionUrlError(ValueError):
    pass


def open_session_store(url: str, clock: Clock | None = None) -> SessionStore:
    if url.startswith("memory://"):
        return MemorySessionStore(clock)
    raise UnsupportedSessionUrlError(
        f"OMNIROUTE_SESSION_URL={url!r}: only memory:// is supported in this build"
    )
