"""Session stores: the in-memory default and Redis protocol (Dragonfly, Valkey, Redis)."""

from core.conversation import Session, SessionConflictError, SessionStore
from sessions.factory import open_session_store
from sessions.memory import MemorySessionStore
from sessions.redis import RedisSessionStore

__all__ = [
    "MemorySessionStore",
    "RedisSessionStore",
    "Session",
    "SessionConflictError",
    "SessionStore",
    "open_session_store",
]
