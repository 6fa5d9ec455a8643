"""One suite over every SessionStore: the in-memory default and Valkey (aiogram style).

The same behaviour is asserted for both; only the passing of time differs (a stepped clock
for memory, a real one-second TTL for the server). The Valkey-only tests at the end are about
what a network store adds: outages, restarts, timeouts and replies lost on the wire.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable

import pytest
import redis.asyncio as redis
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from core.clock import SteppedClock
from core.conversation import Session, SessionConflictError, SessionStore
from core.i18n import Translator
from core.intents import Intent
from core.messages import USSD_CAPABILITIES, ChannelKind, InboundMessage, Option, Reply
from core.phone import Phone
from core.pipeline import Pipeline
from sessions import MemorySessionStore, RedisSessionStore, open_session_store
from sessions.factory import UnsupportedSessionUrlError
from tests.support.servers import ValkeyServer

PassTime = Callable[[float], Awaitable[None]]

KEY = "at-ussd:ATUid_0f3c9a1e2b"


async def _flush(url: str) -> None:
    admin = redis.Redis.from_url(url)
    try:
        await admin.flushdb()
    finally:
        await admin.aclose()


@pytest.fixture(params=["memory", pytest.param("valkey", marks=pytest.mark.real)])
async def store(request: pytest.FixtureRequest, clock: SteppedClock) -> AsyncIterator[SessionStore]:
    if request.param == "memory":
        built: SessionStore = MemorySessionStore(clock)
    else:
        server: ValkeyServer = request.getfixturevalue("valkey_server")
        await _flush(server.url)
        built = RedisSessionStore.from_url(server.url)
    yield built
    await built.close()


@pytest.fixture
def pass_time(store: SessionStore, clock: SteppedClock) -> PassTime:
    """Step the memory store's clock; let real seconds pass for a server (which keeps TTLs)."""

    async def step(seconds: float) -> None:
        clock.advance(seconds)

    return step if isinstance(store, MemorySessionStore) else asyncio.sleep


def _session(**changes: object) -> Session:
    base = Session(
        state="quantity",
        locale="yo",
        stack=("main", "categories", "products"),
        page=1,
        vars={"cat": "noodles", "sku": "NDL-INDO-CHK", "note": "Ẹ kú àárọ̀ — ₦"},
        transcript="1*1*98*2",
        sent_at=1767603600,
    )
    return base.evolve(**changes)


async def test_saved_session_loads_back_with_every_field_and_the_next_version(
    store: SessionStore,
) -> None:
    saved = await store.save(KEY, _session(), ttl_seconds=60)

    assert saved == _session(version=1)
    assert await store.load(KEY) == saved
    assert await store.load("at-ussd:someone-else") is None


async def test_each_save_moves_the_version_on_by_one(store: SessionStore) -> None:
    first = await store.save(KEY, _session(), ttl_seconds=60)
    second = await store.save(KEY, first.evolve(state="added", page=0), ttl_seconds=60)

    assert (first.version, second.version) == (1, 2)
    assert await store.load(KEY) == _session(state="added", page=0, version=2)


async def test_saving_from_a_stale_version_raises_conflict_and_keeps_the_winner(
    store: SessionStore,
) -> None:
    loaded = await store.save(KEY, _session(), ttl_seconds=60)
    winner = await store.save(KEY, loaded.evolve(state="cart"), ttl_seconds=60)

    with pytest.raises(SessionConflictError):
        await store.save(KEY, loaded.evolve(state="help"), ttl_seconds=60)
    with pytest.raises(SessionConflictError):  # a missing session is version 0, not "anything"
        await store.save("at-ussd:never-saved", _session(version=3), ttl_seconds=60)

    assert await store.load(KEY) == winner
    assert await store.load("at-ussd:never-saved") is None


async def test_concurrent_turns_on_one_session_lose_no_update(store: SessionStore) -> None:
    """50 turns race load -> modify -> save on one key; compare-and-set makes losers retry."""
    await store.save(KEY, _session(vars={"items": []}), ttl_seconds=60)
    conflicts = 0

    async def turn(item: int) -> None:
        nonlocal conflicts
        for _attempt in range(1000):
            session = await store.load(KEY)
            assert session is not None
            await asyncio.sleep(0)  # the dialog step awaits engines: others interleave here
            items = [*session.vars["items"], item]
            try:
                await store.save(KEY, session.evolve(vars={"items": items}), ttl_seconds=60)
            except SessionConflictError:
                conflicts += 1
                continue
            return
        pytest.fail(f"turn {item} never managed to save")

    async with asyncio.TaskGroup() as group:
        for item in range(50):
            group.create_task(turn(item))

    final = await store.load(KEY)
    assert final is not None
    assert sorted(final.vars["items"]) == list(range(50))
    assert final.version == 51
    assert conflicts > 0  # the turns really did collide


async def test_session_lives_for_its_ttl_after_the_last_save(
    store: SessionStore, pass_time: PassTime
) -> None:
    saved = await store.save(KEY, _session(), ttl_seconds=1)
    await pass_time(0.6)
    saved = await store.save(KEY, saved.evolve(state="cart"), ttl_seconds=1)  # refreshes it
    await pass_time(0.6)
    assert await store.load(KEY) == saved

    await pass_time(0.6)
    assert await store.load(KEY) is None
    # The user dials again: a fresh session starts from version 0.
    assert (await store.save(KEY, _session(), ttl_seconds=1)).version == 1


async def test_deleted_session_is_gone_and_can_start_again(store: SessionStore) -> None:
    await store.save(KEY, _session(), ttl_seconds=60)

    await store.delete(KEY)
    await store.delete(KEY)  # deleting nothing is fine

    assert await store.load(KEY) is None
    assert (await store.save(KEY, _session(), ttl_seconds=60)).version == 1


async def test_remembered_reply_is_recalled_until_its_ttl_passes(
    store: SessionStore, pass_time: PassTime
) -> None:
    reply = '{"text":"Habari — ₦","end":false}'.encode()
    assert await store.recall("reply:at-ussd:abc") is None

    await store.remember("reply:at-ussd:abc", reply, ttl_seconds=1)
    assert await store.recall("reply:at-ussd:abc") == reply

    await pass_time(1.1)
    assert await store.recall("reply:at-ussd:abc") is None


async def test_replies_and_sessions_do_not_share_keys(store: SessionStore) -> None:
    await store.remember(KEY, b"a reply", ttl_seconds=60)
    assert await store.load(KEY) is None

    await store.save(KEY, _session(), ttl_seconds=60)
    await store.delete(KEY)
    assert await store.recall(KEY) == b"a reply"


async def test_ping_reports_a_reachable_store(store: SessionStore) -> None:
    assert await store.ping() is True


async def test_a_turn_opens_claims_and_closes_with_its_reply(store: SessionStore) -> None:
    """The pipeline's two round trips: (reply?, claim, session) in, (save, reply) out."""
    first = await store.open_turn("reply:t1", "t1", 15, KEY)
    assert (first.reply, first.claimed, first.session) == (None, True, None)
    assert (await store.open_turn("reply:t1", "t1", 15, KEY)).claimed is False  # a copy

    await store.close_turn(
        KEY, _session(), ttl_seconds=60, reply_key="reply:t1", reply=b"CON 1", reply_ttl_seconds=60
    )
    retried = await store.open_turn("reply:t1", "t1", 15, KEY)
    assert retried.reply == b"CON 1"  # a retry gets the stored answer

    following = await store.open_turn("reply:t2", "t2", 15, KEY)
    assert (following.reply, following.claimed) == (None, True)
    assert following.session == _session(version=1)


async def test_a_turn_that_loses_the_race_remembers_no_reply(store: SessionStore) -> None:
    loaded = await store.save(KEY, _session(), ttl_seconds=60)
    await store.save(KEY, loaded.evolve(state="cart"), ttl_seconds=60)

    with pytest.raises(SessionConflictError):
        await store.close_turn(
            KEY, loaded, ttl_seconds=60, reply_key="reply:t3", reply=b"CON x", reply_ttl_seconds=60
        )
    assert await store.recall("reply:t3") is None
    assert await store.load(KEY) == _session(state="cart", version=2)


async def test_a_closing_turn_deletes_the_session_and_keeps_its_reply(store: SessionStore) -> None:
    await store.save(KEY, _session(), ttl_seconds=60)
    await store.close_turn(
        KEY, None, ttl_seconds=60, reply_key="reply:t4", reply=b"END bye", reply_ttl_seconds=60
    )
    assert await store.load(KEY) is None
    assert await store.recall("reply:t4") == b"END bye"


# -- what only a server store has ------------------------------------------------------------


@pytest.fixture
async def valkey_store(valkey_server: ValkeyServer) -> AsyncIterator[RedisSessionStore]:
    await _flush(valkey_server.url)
    built = RedisSessionStore.from_url(valkey_server.url)
    yield built
    await built.close()


@pytest.mark.real
async def test_valkey_keys_are_namespaced_and_carry_the_ttl(
    valkey_server: ValkeyServer, valkey_store: RedisSessionStore
) -> None:
    await valkey_store.save(KEY, _session(), ttl_seconds=180)
    await valkey_store.remember("reply:at-ussd:abc", b"{}", ttl_seconds=600)

    admin = redis.Redis.from_url(valkey_server.url)
    try:
        assert sorted(await admin.keys("*")) == [
            b"omniroute:r:reply:at-ussd:abc",
            f"omniroute:s:{KEY}".encode(),
        ]
        assert 178 <= await admin.ttl(f"omniroute:s:{KEY}") <= 180
        assert 598 <= await admin.ttl("omniroute:r:reply:at-ussd:abc") <= 600
        assert await admin.hget(f"omniroute:s:{KEY}", "v") == b"1"
    finally:
        await admin.aclose()


@pytest.mark.real
async def test_valkey_restart_fails_fast_then_the_same_store_recovers(
    valkey_server: ValkeyServer, valkey_store: RedisSessionStore
) -> None:
    await valkey_store.save(KEY, _session(), ttl_seconds=60)

    valkey_server.stop()
    try:
        assert await valkey_store.ping() is False
        began = time.monotonic()
        with pytest.raises(RedisConnectionError):
            await valkey_store.load(KEY)
        with pytest.raises(RedisConnectionError):
            await valkey_store.save(KEY, _session(version=1), ttl_seconds=60)
        assert time.monotonic() - began < 3.0  # an error screen, not a hung USSD session
    finally:
        valkey_server.start()

    assert await valkey_store.ping() is True
    assert await valkey_store.load(KEY) is None  # the server came back empty
    # The script cache is empty too: the store reloads its compare-and-set script by itself.
    saved = await valkey_store.save(KEY, _session(), ttl_seconds=60)
    assert await valkey_store.load(KEY) == saved


async def test_redis_store_times_out_on_a_server_that_never_answers() -> None:
    """A black-holed server (accepts, never replies) costs about two seconds, then an error."""
    accepted: list[asyncio.StreamWriter] = []

    async def swallow(_reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        accepted.append(writer)

    server = await asyncio.start_server(swallow, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    silent = RedisSessionStore.from_url(f"redis://127.0.0.1:{port}/0")
    try:
        began = time.monotonic()
        with pytest.raises(RedisTimeoutError):
            await silent.load(KEY)
        assert time.monotonic() - began < 3.0
    finally:
        await silent.close()
        for writer in accepted:
            writer.close()
        server.close()
        await server.wait_closed()


class _ReplyDroppingProxy:
    """A TCP proxy to Valkey that can lose one reply: the command ran, the client never hears.

    `drop_next_reply` closes the connection with it; `withhold_next_reply` keeps the connection
    open and silent, so the client's socket timeout runs out.
    """

    def __init__(self, upstream_port: int) -> None:
        self._upstream_port = upstream_port
        self._server: asyncio.Server | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self._writers: list[asyncio.StreamWriter] = []
        self.drop_next_reply = False
        self.withhold_next_reply = False
        self.dropped = 0

    async def start(self) -> str:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        return f"redis://127.0.0.1:{self._server.sockets[0].getsockname()[1]}/0"

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self._upstream_port)
        self._writers += [writer, up_writer]
        for source, sink, replies in ((reader, up_writer, False), (up_reader, writer, True)):
            task = asyncio.create_task(self._pump(source, sink, replies, (writer, up_writer)))
            self._tasks.add(task)

    async def _pump(
        self,
        source: asyncio.StreamReader,
        sink: asyncio.StreamWriter,
        replies: bool,
        both: tuple[asyncio.StreamWriter, ...],
    ) -> None:
        with contextlib.suppress(ConnectionError):
            while data := await source.read(65536):
                if replies and self.drop_next_reply:
                    self.drop_next_reply = False
                    self.dropped += 1
                    break
                if replies and self.withhold_next_reply:
                    self.withhold_next_reply = False
                    self.dropped += 1
                    continue
                sink.write(data)
                await sink.drain()
        for writer in both:
            writer.close()

    async def close(self) -> None:
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        for writer in self._writers:
            writer.close()
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()


@pytest.mark.real
async def test_save_whose_reply_was_lost_is_not_a_conflict_with_itself(
    valkey_server: ValkeyServer,
) -> None:
    """The client resends a save when the connection drops; the resend must see its own write."""
    await _flush(valkey_server.url)
    proxy = _ReplyDroppingProxy(valkey_server.port)
    store = RedisSessionStore.from_url(await proxy.start())
    try:
        await store.save("warm-up", _session(), ttl_seconds=60)  # connected, script cached
        first = await store.save(KEY, _session(), ttl_seconds=60)

        proxy.drop_next_reply = True
        second = await store.save(KEY, first.evolve(state="cart"), ttl_seconds=60)

        assert proxy.dropped == 1
        assert second.version == 2
        assert await store.load(KEY) == second
        with pytest.raises(SessionConflictError):  # a rival at the old version still loses
            await store.save(KEY, first.evolve(state="help"), ttl_seconds=60)
    finally:
        await store.close()
        await proxy.close()


class _MenuDialog:
    """The shortest dialog: every turn answers the main menu and keeps the session."""

    async def step(
        self, msg: InboundMessage, session: Session | None, intent: Intent
    ) -> tuple[Session, Reply]:
        return (session or Session("main", "en")), Reply("Welcome", (Option("1", "Shop"),))


@pytest.mark.real
async def test_a_turn_whose_claim_reply_timed_out_still_answers_its_screen(
    valkey_server: ValkeyServer,
) -> None:
    """Valkey took the claim but its answer came too late: the client's retry must find the
    claim its own, not a copy of the request being handled elsewhere (which would wait for a
    reply nobody writes, then show the apology)."""
    await _flush(valkey_server.url)
    proxy = _ReplyDroppingProxy(valkey_server.port)
    store = RedisSessionStore.from_url(await proxy.start(), socket_timeout=0.3)
    pipeline = Pipeline(
        store, _MenuDialog(), Translator.load(), session_ttl_seconds=180, reply_ttl_seconds=600
    )
    dial = InboundMessage(
        kind=ChannelKind.USSD,
        provider="africastalking",
        phone=Phone.parse("+2348030000001"),
        session_key=KEY,
        text="",
        capabilities=USSD_CAPABILITIES,
        idempotency_key=f"{KEY}:",
        transcript="",
    )
    try:
        await store.load("warm-up")  # connected

        proxy.withhold_next_reply = True  # the answer to the turn's first round trip
        began = time.monotonic()
        reply = await pipeline.handle(dial)

        assert proxy.dropped == 1
        assert reply.text == "Welcome"
        assert time.monotonic() - began < 3.0
        assert pipeline.failures == Counter()
        saved = await store.load(KEY)
        assert saved is not None
        assert saved.transcript == ""
        assert await pipeline.handle(dial) == reply  # Africa's Talking's retry: the same screen
    finally:
        await store.close()
        await proxy.close()


async def test_session_url_picks_the_store() -> None:
    memory = open_session_store("memory://")
    valkey = open_session_store("redis://127.0.0.1:6379/0")
    tls = open_session_store("rediss://user:secret@sessions.internal:6380/2")
    try:
        assert isinstance(memory, MemorySessionStore)
        assert isinstance(valkey, RedisSessionStore)
        assert isinstance(tls, RedisSessionStore)
    finally:
        for built in (memory, valkey, tls):
            await built.close()
    with pytest.raises(UnsupportedSessionUrlError):
        open_session_store("memcached://127.0.0.1:11211")
