"""Token-bucket rate limiting in the session store, and the per-phone guard of the channels.

Memory for one process (`memory://`); on a Redis-protocol server (Dragonfly, Valkey, Redis)
one Lua script refills and takes every bucket of a request atomically, so gateway replicas
share the budget. Time comes from the injected clock (tests step it) and travels as an
argument, so the script stays deterministic and replicates as written.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import replace
from typing import Final

import structlog
from redis.asyncio import Redis
from redis.exceptions import RedisError

from core.clock import Clock, SystemClock
from core.i18n import Translator
from core.messages import ChannelContext, Handler, InboundMessage, Reply
from core.region import market_locale
from core.throttle import Decision, RateLimit, TokenBuckets

log = structlog.get_logger(__name__)

NAMESPACE: Final = "omniroute:rl:"
# Waiting exactly `retry_after` must be enough, whatever the float rounding of the refill.
EPSILON: Final = 1e-9


class MemoryTokenBuckets:
    def __init__(self, clock: Clock | None = None) -> None:
        self._clock = clock or SystemClock()
        self._buckets: dict[str, tuple[float, float]] = {}

    async def take(self, buckets: Sequence[tuple[str, RateLimit]], cost: int = 1) -> Decision:
        now = self._clock.monotonic()
        levels: list[float] = []
        wait = 0.0
        for key, limit in buckets:
            tokens, at = self._buckets.get(key, (float(limit.burst), now))
            tokens = min(float(limit.burst), tokens + max(0.0, now - at) * limit.per_second)
            levels.append(tokens)
            if tokens < cost - EPSILON:
                wait = max(wait, (cost - tokens) / limit.per_second)
        if wait > 0:
            return Decision(False, wait)
        for (key, _limit), tokens in zip(buckets, levels, strict=True):
            self._buckets[key] = (max(0.0, tokens - cost), now)
        if len(self._buckets) > 100_000:
            self._buckets.clear()  # a crude bound on memory: full buckets are the default anyway
        return Decision(True)

    async def close(self) -> None:
        self._buckets.clear()


# KEYS: the buckets. ARGV[1] now (seconds), ARGV[2] cost, then per key: rate, burst.
# Each bucket is a hash {t: tokens, ts: last refill}; it expires once it would be full again.
_TAKE_SCRIPT: Final = """
local now = tonumber(ARGV[1])
local cost = tonumber(ARGV[2])
local levels = {}
local wait = 0
for i, key in ipairs(KEYS) do
  local rate = tonumber(ARGV[1 + 2 * i])
  local burst = tonumber(ARGV[2 + 2 * i])
  local stored = redis.call('HMGET', key, 't', 'ts')
  local tokens = tonumber(stored[1])
  local at = tonumber(stored[2])
  if tokens == nil or at == nil then
    tokens = burst
    at = now
  end
  tokens = math.min(burst, tokens + math.max(0, now - at) * rate)
  levels[i] = tokens
  if tokens < cost - 1e-9 then
    wait = math.max(wait, (cost - tokens) / rate)
  end
end
if wait > 0 then
  return {0, tostring(wait)}
end
for i, key in ipairs(KEYS) do
  local rate = tonumber(ARGV[1 + 2 * i])
  local burst = tonumber(ARGV[2 + 2 * i])
  redis.call('HSET', key, 't', tostring(math.max(0, levels[i] - cost)), 'ts', tostring(now))
  redis.call('EXPIRE', key, math.ceil(burst / rate) + 1)
end
return {1, '0'}
"""


class RedisTokenBuckets:
    """Buckets on a single Redis-protocol node (the script's keys need not share a slot)."""

    def __init__(self, client: Redis, clock: Clock | None = None) -> None:
        self._client = client
        self._clock = clock or SystemClock()
        self._take = client.register_script(_TAKE_SCRIPT)

    @classmethod
    def from_url(cls, url: str, clock: Clock | None = None) -> RedisTokenBuckets:
        return cls(Redis.from_url(url, socket_timeout=1.0, socket_connect_timeout=1.0), clock)

    async def take(self, buckets: Sequence[tuple[str, RateLimit]], cost: int = 1) -> Decision:
        args: list[str | float | int] = [repr(self._clock.now().timestamp()), cost]
        for _key, limit in buckets:
            args += [repr(limit.per_second), limit.burst]
        try:
            allowed, wait = await self._take(
                keys=[NAMESPACE + key for key, _ in buckets], args=args
            )
        except (RedisError, OSError) as exc:
            # Fail open: with the store down the request still gets its answer (the pipeline's
            # polite "not available" screen, or GraphQL's data), not a 500 from the limiter.
            log.warning("throttle.store_unavailable", error=str(exc))
            return Decision(True)
        return Decision(bool(int(allowed)), float(wait))

    async def close(self) -> None:
        await self._client.aclose()


def open_token_buckets(url: str, clock: Clock | None = None) -> TokenBuckets:
    """Beside the sessions: the same OMNIROUTE_SESSION_URL."""
    if url.startswith(("redis://", "rediss://")):
        return RedisTokenBuckets.from_url(url, clock)
    return MemoryTokenBuckets(clock)


# --- the channels' per-phone guard -------------------------------------------------------


class PhoneThrottle:
    """Wraps the pipeline's `handle`: one bucket per phone number across every channel.

    It sits behind each channel's own checks (size, signature, form), so a forged request
    cannot spend a real customer's budget, and before the pipeline, so a refused turn costs
    no session or engine work. A refusal is a polite closing Reply in the channel's own form
    (HTTP 200), never a 429: Africa's Talking and Twilio show a non-200 to a USSD or voice
    caller as a network error, and Meta, Twilio and Africa's Talking retry a non-200 SMS or
    WhatsApp callback, which would only add load. The SMS/WhatsApp refusal is a short message
    and costs no pipeline work. GraphQL, an HTTP API, answers 429 with Retry-After. Behind a
    200 the refusals are invisible to the status codes: `refused` counts them for /metrics.
    """

    def __init__(
        self,
        handle: Handler,
        buckets: TokenBuckets,
        limit: RateLimit,
        translate: Translator,
        *,
        locale_of: Callable[[InboundMessage], Awaitable[str]] | None = None,
    ) -> None:
        self._handle = handle
        self._buckets = buckets
        self._limit = limit
        self._translate = translate
        # The language she chose (the pipeline's session knows it), asked only on a refusal.
        self._locale_of = locale_of
        self.refused: Counter[str] = Counter()

    async def __call__(self, msg: InboundMessage) -> Reply:
        decision = await self._buckets.take([(f"phone:{msg.phone.e164}", self._limit)])
        if decision.allowed:
            return await self._handle(msg)
        log.warning("throttle.phone_refused", kind=msg.kind, phone=msg.phone.e164)
        self.refused[msg.kind.value] += 1
        # In a language the channel can say (Twilio's voice line has no Swahili voice)
        locale = msg.capabilities.in_language(await self._locale(msg))
        return Reply(self._translate(locale, "throttle.slow_down"), end=True, locale=locale)

    async def _locale(self, msg: InboundMessage) -> str:
        if self._locale_of is not None:
            try:
                return await self._locale_of(msg)
            except Exception:
                # The refusal is still owed, in the language the message itself suggests.
                log.exception("throttle.locale_unavailable", phone=msg.phone.e164)
        return msg.locale_hint or market_locale(msg.phone) or "en"

    def guard(self, context: ChannelContext) -> ChannelContext:
        return replace(context, handle=self)


__all__ = ["MemoryTokenBuckets", "PhoneThrottle", "RedisTokenBuckets", "open_token_buckets"]
