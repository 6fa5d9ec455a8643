"""Session stores: the in-memory default and (with the real-backends work) Redis protocol."""

from core.conversation import Session, SessionConflictError, SessionStore
from sessions.factory import open_session_store
from sessions.memory import MemorySessionStore

__all__ = [
    "MemorySessionStore",
    "Session",
    "SessionConflictError",
    "SessionStore",
    "open_session_store",
]
