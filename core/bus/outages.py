"""Telling a backend that could not be reached from an event a subscriber cannot handle."""

from __future__ import annotations

from core.db.database import is_unavailable


def is_outage(error: BaseException) -> bool:
    """Whether a subscriber failed because a backend could not be reached (refused, reset,
    timed out, the database going down), by the error or what it was raised from.

    Such a failure says nothing about the event: every event fails alike until the backend is
    back. It is not counted towards `max_attempts`, or an outage longer than the retries (a
    database failover, a restart) would set aside as dead letters, lost to their subscribers,
    the sound events that came meanwhile; the event is tried again until the backend answers.
    """
    seen: set[int] = set()
    stack: list[BaseException] = [error]
    while stack:
        exc = stack.pop()
        if id(exc) in seen:
            continue
        seen.add(id(exc))
        if isinstance(exc, ConnectionError | TimeoutError) or is_unavailable(exc):
            return True
        linked = (exc.__cause__, exc.__context__, getattr(exc, "orig", None))
        stack.extend(e for e in linked if isinstance(e, BaseException))
    return False
