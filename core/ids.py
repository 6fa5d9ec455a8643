"""Identifiers: time-ordered UUIDs for rows, short references people can read over the phone."""

from __future__ import annotations

import os
import secrets
import socket
import uuid
from typing import Protocol

import uuid6

# No 0/O, 1/I/L, 5/S, 8/B: a reference is read aloud over a bad line and keyed on a keypad.
REFERENCE_ALPHABET = "234679ACDEFGHJKMNPQRTUVWXYZ"
REFERENCE_LENGTH = 6


def worker_id() -> str:
    """Who holds a claim (an outbox batch, a send lease): this host and process, and a random
    part for a process id reused after a restart. Unique among the processes on one database,
    and readable by an operator who finds a row claimed."""
    return f"{socket.gethostname()[:40]}/{os.getpid()}/{secrets.token_hex(4)}"


class IdGenerator(Protocol):
    def uuid(self) -> uuid.UUID: ...

    def reference(self) -> str: ...


class RandomIds:
    """UUIDv7 keys spread writes over YugabyteDB tablets by time yet stay unique."""

    def uuid(self) -> uuid.UUID:
        return uuid.UUID(str(uuid6.uuid7()))

    def reference(self) -> str:
        return "".join(secrets.choice(REFERENCE_ALPHABET) for _ in range(REFERENCE_LENGTH))


class SeededIds:
    """Deterministic ids for tests and benchmarks."""

    def __init__(self, seed: int = 0) -> None:
        self._n = seed

    def uuid(self) -> uuid.UUID:
        self._n += 1
        return uuid.UUID(int=self._n)

    def reference(self) -> str:
        self._n += 1
        n, chars = self._n, []
        for _ in range(REFERENCE_LENGTH):
            n, r = divmod(n, len(REFERENCE_ALPHABET))
            chars.append(REFERENCE_ALPHABET[r])
        return "".join(reversed(chars))
