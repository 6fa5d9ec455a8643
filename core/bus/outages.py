"""Telling a backend that could not be reached from an event a subscriber cannot handle."""

from __future__ import annotations

from core.db.database import is_unavailable

# gRPC's statuses of a server that did not answer in time or at all, or asks to slow down:
# transient conditions (Temporal's client raises them once its own retries of a call ran out),
# true of every event alike until the server is back.
TRANSIENT_GRPC = frozenset({"UNAVAILABLE", "DEADLINE_EXCEEDED", "RESOURCE_EXHAUSTED"})


def is_outage(error: BaseException) -> bool:
    """Whether a subscriber failed because a backend could not be reached (refused, reset,
    timed out, the database or Temporal going down), by the error or what it was raised from.

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
        if getattr(getattr(exc, "status", None), "name", None) in TRANSIENT_GRPC:
            return True  # a gRPC call's (Temporal's RPCError): the server is not answering
        linked = (exc.__cause__, exc.__context__, getattr(exc, "orig", None))
        stack.extend(e for e in linked if isinstance(e, BaseException))
    return False
