"""The rate-limiter port: token buckets kept in the session store (memory or Redis protocol).

The port lives in core so edges (GraphQL, channels) depend on it; `core.app.throttle` holds
the adapters and picks one from OMNIROUTE_SESSION_URL.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True, slots=True)
class RateLimit:
    """A bucket holds up to `burst` tokens and refills `per_second` tokens a second."""

    per_second: float
    burst: int


@dataclass(frozen=True, slots=True)
class Decision:
    allowed: bool
    # Seconds until the request would be allowed (0 when allowed); whole seconds for Retry-After.
    retry_after: float = 0.0

    @property
    def retry_after_header(self) -> str:
        return str(max(1, int(-(-self.retry_after // 1))))


class TokenBuckets(Protocol):
    async def take(self, buckets: Sequence[tuple[str, RateLimit]], cost: int = 1) -> Decision:
        """Take `cost` tokens from every bucket, or from none when any of them is short."""
        ...

    async def close(self) -> None: ...
