"""A conversation's state between turns, and the port of the store that keeps it.

The port lives in core so the pipeline can depend on it; `sessions/` holds the adapters.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field, fields
from typing import Any, Protocol


class SessionConflictError(RuntimeError):
    """Someone else saved the session since we loaded it; reload and try the turn again."""


@dataclass(frozen=True, slots=True)
class Session:
    """Where a user is in a dialog. `version` makes saving a compare-and-set."""

    state: str
    locale: str
    stack: tuple[str, ...] = ()
    page: int = 0
    vars: dict[str, Any] = field(default_factory=dict)
    transcript: str | None = None
    version: int = 0
    # Unix seconds at which the provider received the newest message applied (Meta's
    # `timestamp`); None where the provider gives no time. An older message came late.
    sent_at: int | None = None

    def evolve(self, **changes: Any) -> Session:
        """A copy with `changes`; several per turn, so no `dataclasses.replace` introspection."""
        unknown = changes.keys() - _SESSION_FIELDS
        if unknown:
            raise TypeError(f"Session has no field {sorted(unknown)[0]!r}")
        return Session(
            changes.get("state", self.state),
            changes.get("locale", self.locale),
            changes.get("stack", self.stack),
            changes.get("page", self.page),
            changes.get("vars", self.vars),
            changes.get("transcript", self.transcript),
            changes.get("version", self.version),
            changes.get("sent_at", self.sent_at),
        )

    def encode(self) -> bytes:
        """Compact JSON with one-letter keys: a USSD session must stay well under 1 KiB."""
        doc = {
            "s": self.state,
            "l": self.locale,
            "k": list(self.stack),
            "p": self.page,
            "v": self.vars,
            "t": self.transcript,
            "n": self.version,
        }
        if self.sent_at is not None:
            doc["a"] = self.sent_at
        return json.dumps(doc, separators=(",", ":"), ensure_ascii=False).encode()

    @classmethod
    def decode(cls, data: bytes | str) -> Session:
        doc = json.loads(data)
        return cls(
            state=doc["s"],
            locale=doc["l"],
            stack=tuple(doc["k"]),
            page=int(doc["p"]),
            vars=dict(doc["v"]),
            transcript=doc["t"],
            version=int(doc["n"]),
            sent_at=int(doc["a"]) if doc.get("a") is not None else None,
        )


_SESSION_FIELDS = frozenset(f.name for f in fields(Session))


class SessionStore(Protocol):
    async def load(self, key: str) -> Session | None: ...

    async def save(self, key: str, session: Session, ttl_seconds: int) -> Session:
        """Store `session` if the stored version is still `session.version`; return it bumped.

        Raises SessionConflictError when another turn saved first.
        """
        ...

    async def delete(self, key: str) -> None: ...

    async def recall(self, key: str) -> bytes | None:
        """A small value remembered under `key` (stored replies for retried webhooks)."""
        ...

    async def remember(self, key: str, value: bytes, ttl_seconds: int) -> None: ...

    async def forget(self, key: str) -> None: ...

    async def claim(self, key: str, ttl_seconds: int) -> bool:
        """Take `key` if nobody holds it (SET NX): the first copy of a request does the work."""
        ...

    async def open_turn(
        self, reply_key: str, claim_key: str, claim_ttl_seconds: int, session_key: str
    ) -> TurnStart:
        """`recall(reply_key)`, then `claim(claim_key)`, then `load(session_key)`, in that order;
        one round trip where the store allows (a USSD turn's first three questions). With a
        stored reply the rest does not matter: a store may skip it or, pipelining, still claim
        (harmless: the claim only expires, and every later copy finds the reply first)."""
        ...

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
        """`save` (or `delete`, for None) and then `remember` the reply, in one round trip where
        the store allows. Raises SessionConflictError, remembering nothing, like `save`."""
        ...

    async def ping(self) -> bool: ...

    async def close(self) -> None: ...


@dataclass(frozen=True, slots=True)
class TurnStart:
    """What a turn finds: a stored reply (a retry), whether it claimed the request, the session."""

    reply: bytes | None
    claimed: bool
    session: Session | None
