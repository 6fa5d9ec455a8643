"""The embedded session store: expiry by the injected clock, compare-and-set, small sessions."""

from __future__ import annotations

import pytest

from core.clock import SteppedClock
from core.conversation import Session, SessionConflictError
from sessions.memory import MemorySessionStore

KEY = "at-ussd:ATUid_1"
TTL = 180


@pytest.fixture
def store(clock: SteppedClock) -> MemorySessionStore:
    return MemorySessionStore(clock)


def checkout_session() -> Session:
    """Ngozi at the confirm screen after a long journey: the largest session the shop makes."""
    return Session(
        state="confirm",
        locale="sw",
        stack=("main", "categories", "products", "cart", "quote", "payment"),
        page=2,
        vars={
            "cat": "noodles",
            "sku": "NDL-INDO-CHK",
            "added": 9_999,
            "edit": 1,
            "checkout": "at-ussd:" + "f" * 32,
            "pay": "ON_DELIVERY",
        },
        transcript="*".join(["1", "1", "98", "98", "4", "9999", "2", "1", "2", "00"] * 4),
        version=41,
    )


async def test_saved_session_loads_back_with_its_version_bumped(store: MemorySessionStore) -> None:
    session = checkout_session().evolve(version=0)

    saved = await store.save(KEY, session, TTL)

    assert saved == session.evolve(version=1)
    assert await store.load(KEY) == saved


async def test_unknown_key_loads_nothing(store: MemorySessionStore) -> None:
    assert await store.load("at-ussd:nobody") is None


async def test_session_expires_after_its_ttl(
    store: MemorySessionStore, clock: SteppedClock
) -> None:
    await store.save(KEY, Session("main", "en"), TTL)

    clock.advance(TTL - 1)
    assert await store.load(KEY) is not None
    clock.advance(1)
    assert await store.load(KEY) is None


async def test_each_save_restarts_the_ttl(store: MemorySessionStore, clock: SteppedClock) -> None:
    saved = await store.save(KEY, Session("main", "en"), TTL)
    clock.advance(TTL - 10)

    await store.save(KEY, saved.evolve(state="categories"), TTL)
    clock.advance(TTL - 10)

    loaded = await store.load(KEY)
    assert loaded is not None
    assert loaded.state == "categories"


async def test_saving_a_stale_version_raises_conflict(store: MemorySessionStore) -> None:
    first = await store.save(KEY, Session("main", "en"), TTL)
    await store.save(KEY, first.evolve(state="categories"), TTL)

    with pytest.raises(SessionConflictError):
        await store.save(KEY, first.evolve(state="cart"), TTL)
    loaded = await store.load(KEY)
    assert loaded is not None
    assert loaded.state == "categories"
    assert loaded.version == 2


async def test_a_new_session_cannot_overwrite_an_existing_one(store: MemorySessionStore) -> None:
    await store.save(KEY, Session("main", "en"), TTL)

    with pytest.raises(SessionConflictError):
        await store.save(KEY, Session("cart", "en"), TTL)


async def test_deleted_session_is_gone_and_can_start_again(store: MemorySessionStore) -> None:
    await store.save(KEY, Session("main", "en"), TTL)

    await store.delete(KEY)

    assert await store.load(KEY) is None
    restarted = await store.save(KEY, Session("main", "sw"), TTL)
    assert restarted.version == 1


async def test_deleting_an_unknown_key_is_harmless(store: MemorySessionStore) -> None:
    await store.delete("at-ussd:nobody")

    assert await store.load("at-ussd:nobody") is None


async def test_remembered_value_is_recalled_until_it_expires(
    store: MemorySessionStore, clock: SteppedClock
) -> None:
    await store.remember("reply:k1", b'{"text":"Hi"}', 600)

    clock.advance(599)
    assert await store.recall("reply:k1") == b'{"text":"Hi"}'
    clock.advance(1)
    assert await store.recall("reply:k1") is None


async def test_remembered_values_and_sessions_do_not_share_keys(
    store: MemorySessionStore,
) -> None:
    await store.save(KEY, Session("main", "en"), TTL)
    await store.remember(KEY, b"reply", TTL)

    assert await store.recall(KEY) == b"reply"
    loaded = await store.load(KEY)
    assert loaded is not None
    assert loaded.state == "main"


async def test_close_forgets_everything(store: MemorySessionStore) -> None:
    await store.save(KEY, Session("main", "en"), TTL)

    await store.close()

    assert await store.load(KEY) is None


def test_realistic_ussd_session_encodes_under_one_kib() -> None:
    encoded = checkout_session().encode()

    assert len(encoded) < 1024


def test_session_survives_an_encode_decode_round_trip() -> None:
    session = checkout_session().evolve(vars={"note": "Ngozi’s duka", "n": 3})

    assert Session.decode(session.encode()) == session


async def test_expired_entries_are_dropped_as_new_ones_arrive_so_memory_stays_bounded(
    store: MemorySessionStore, clock: SteppedClock
) -> None:
    for n in range(3000):
        await store.remember(f"reply:{n}", b"CON hello", 60)
        clock.advance(0.1)  # 600 replies live at any time

    assert len(store._items) <= 601  # what the store holds is the point here
    assert await store.recall("reply:2999") == b"CON hello"
    assert await store.recall("reply:0") is None


async def test_a_key_put_again_is_not_dropped_by_its_earlier_expiry(
    store: MemorySessionStore, clock: SteppedClock
) -> None:
    await store.remember("reply:a", b"first", 10)
    clock.advance(5)
    await store.remember("reply:a", b"again", 10)
    clock.advance(6)  # past the first expiry, not the second
    await store.remember("reply:b", b"other", 10)  # a put sweeps what has fallen due

    assert await store.recall("reply:a") == b"again"
