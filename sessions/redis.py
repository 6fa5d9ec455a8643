"""The production session store: Dragonfly, Valkey or Redis, through `redis.asyncio`.

A session is a hash `omniroute:s:<key>` with `v` (the version), `d` (the encoded Session) and
`w` (a token naming the save that wrote it); a remembered reply is a plain string
`omniroute:r:<key>`. Saving is one Lua script so the version check, the write and the TTL are
atomic. The script names every key in KEYS and uses no cjson, so Dragonfly runs it as well.
"""

from __future__ import annotations

import secrets
from typing import Final

from redis.asyncio import Redis
from redis.asyncio.retry import Retry
from redis.backoff import ExponentialWithJitterBackoff
from redis.exceptions import RedisError

from core.conversation import Session, SessionConflictError, TurnStart

NAMESPACE: Final = "omniroute"

# KEYS[1] the session hash. ARGV: expected version, new version, encoded session, ttl, token.
# A missing key counts as version 0. The token makes a save idempotent: when the client
# resends the script because the reply was lost (timeout, dropped connection), the stored
# hash already carries this save's token and the save reports success instead of a conflict
# with itself. A rival's save has another token, so it still conflicts.
_SAVE_SCRIPT: Final = """
local stored = redis.call('HGET', KEYS[1], 'v')
local current = 0
if stored then current = tonumber(stored) end
if current ~= tonumber(ARGV[1]) then
  if stored == ARGV[2] and redis.call('HGET', KEYS[1], 'w') == ARGV[5] then
    return 1
  end
  return 0
end
redis.call('HSET', KEYS[1], 'v', ARGV[2], 'd', ARGV[3], 'w', ARGV[5])
redis.call('EXPIRE', KEYS[1], ARGV[4])
return 1
"""

# The same save, and when it stores (or finds its own earlier store), the turn's reply too:
# KEYS[2] the reply key; ARGV[6] the reply, ARGV[7] its ttl. A conflict remembers nothing.
_SAVE_AND_REMEMBER_SCRIPT: Final = """
local stored = redis.call('HGET', KEYS[1], 'v')
local current = 0
if stored then current = tonumber(stored) end
if current ~= tonumber(ARGV[1]) then
  if not (stored == ARGV[2] and redis.call('HGET', KEYS[1], 'w') == ARGV[5]) then
    return 0
  end
else
  redis.call('HSET', KEYS[1], 'v', ARGV[2], 'd', ARGV[3], 'w', ARGV[5])
  redis.call('EXPIRE', KEYS[1], ARGV[4])
end
redis.call('SET', KEYS[2], ARGV[6], 'EX', ARGV[7])
return 1
"""

# A USSD gateway waits a few seconds for the whole turn (recall, load, save, remember), so a
# dead or unreachable server must fail each command within about two seconds, not hang.
DEFAULT_SOCKET_TIMEOUT: Final = 1.0
# One quick retry reconnects a pooled connection the server dropped (a restart, an idle
# timeout, a failover) without the caller noticing; more would only delay the error screen.
DEFAULT_RETRIES: Final = 1


class RedisSessionStore:
    """SessionStore over a Redis-protocol server. Connection errors propagate to the caller.

    The connection pool reconnects on the next command once the server is back, so the same
    store keeps working after an outage or a restart (an empty server just means no sessions).
    """

    def __init__(self, client: Redis, *, namespace: str = NAMESPACE) -> None:
        self._client = client
        self._sessions = f"{namespace}:s:"
        self._replies = f"{namespace}:r:"
        self._save = client.register_script(_SAVE_SCRIPT)
        self._save_and_remember = client.register_script(_SAVE_AND_REMEMBER_SCRIPT)

    @classmethod
    def from_url(
        cls,
        url: str,
        *,
        socket_timeout: float = DEFAULT_SOCKET_TIMEOUT,
        retries: int = DEFAULT_RETRIES,
        namespace: str = NAMESPACE,
    ) -> RedisSessionStore:
        """Open a pooled client; URL query options (`?socket_timeout=2`) override the defaults."""
        client = Redis.from_url(
            url,
            socket_timeout=socket_timeout,
            socket_connect_timeout=socket_timeout,
            retry=Retry(ExponentialWithJitterBackoff(base=0.05, cap=0.25), retries),
        )
        return cls(client, namespace=namespace)

    async def load(self, key: str) -> Session | None:
        data = await self._client.hget(self._sessions + key, "d")
        return None if data is None else Session.decode(data)

    async def save(self, key: str, session: Session, ttl_seconds: int) -> Session:
        saved = session.evolve(version=session.version + 1)
        token = secrets.token_hex(6)
        args = (session.version, saved.version, saved.encode(), ttl_seconds, token)
        stored = await self._save(keys=[self._sessions + key], args=args)
        if stored != 1:
            raise SessionConflictError(key)
        return saved

    async def delete(self, key: str) -> None:
        await self._client.delete(self._sessions + key)

    async def recall(self, key: str) -> bytes | None:
        value = await self._client.get(self._replies + key)
        # A URL with ?decode_responses=true would hand back str; the port promises bytes.
        return value.encode() if isinstance(value, str) else value

    async def remember(self, key: str, value: bytes, ttl_seconds: int) -> None:
        await self._client.set(self._replies + key, value, ex=ttl_seconds)

    async def forget(self, key: str) -> None:
        await self._client.delete(self._replies + key)

    async def claim(self, key: str, ttl_seconds: int) -> bool:
        return bool(
            await self._client.set(self._replies + "claim:" + key, b"1", nx=True, ex=ttl_seconds)
        )

    async def open_turn(
        self, reply_key: str, claim_key: str, claim_ttl_seconds: int, session_key: str
    ) -> TurnStart:
        """GET, SET NX, GET, HGET in one pipelined round trip (the server runs them in order).

        The claim holds a token of this turn's own, read back in the same round trip: when the
        client resends the pipeline because the answer was lost (a timeout, a dropped
        connection) after the server had claimed, the resend finds its own token and the turn
        goes on, instead of waiting for a copy of itself to answer.
        """
        token = secrets.token_hex(6)
        claim = self._replies + "claim:" + claim_key
        async with self._client.pipeline(transaction=False) as pipe:
            # A pipeline queues the commands; their awaitables are only for the non-pipelined API.
            _ = pipe.get(self._replies + reply_key)
            _ = pipe.set(claim, token, nx=True, ex=claim_ttl_seconds)
            _ = pipe.get(claim)
            _ = pipe.hget(self._sessions + session_key, "d")
            reply, claimed, holder, data = await pipe.execute()
        if isinstance(reply, str):
            reply = reply.encode()
        if isinstance(holder, bytes):
            holder = holder.decode()
        claimed = bool(claimed) or holder == token
        return TurnStart(reply, claimed, None if data is None else Session.decode(data))

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
        if session is None:
            async with self._client.pipeline(transaction=False) as pipe:
                _ = pipe.delete(self._sessions + session_key)
                _ = pipe.set(self._replies + reply_key, reply, ex=reply_ttl_seconds)
                await pipe.execute()
            return
        saved = session.evolve(version=session.version + 1)
        args = (
            session.version,
            saved.version,
            saved.encode(),
            ttl_seconds,
            secrets.token_hex(6),
            reply,
            reply_ttl_seconds,
        )
        keys = [self._sessions + session_key, self._replies + reply_key]
        if await self._save_and_remember(keys=keys, args=args) != 1:
            raise SessionConflictError(session_key)

    async def ping(self) -> bool:
        """Health check: False while the server cannot be reached, never an exception."""
        try:
            return bool(await self._client.ping())
        except (RedisError, OSError):
            return False

    async def close(self) -> None:
        await self._client.aclose()
