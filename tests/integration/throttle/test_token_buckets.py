"""The rate limiter's buckets behave the same in memory and on a real Valkey (Lua script)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from core.app.throttle import MemoryTokenBuckets, RedisTokenBuckets
from core.clock import SteppedClock
from core.throttle import RateLimit, TokenBuckets
from tests.support.servers import ValkeyServer

TWO_A_SECOND = RateLimit(per_second=2.0, burst=3)


@pytest.fixture(params=["memory", pytest.param("valkey", marks=pytest.mark.real)])
async def buckets(
    request: pytest.FixtureRequest, clock: SteppedClock
) -> AsyncIterator[TokenBuckets]:
    if request.param == "memory":
        store: TokenBuckets = MemoryTokenBuckets(clock)
    else:
        server: ValkeyServer = request.getfixturevalue("valkey_server")
        store = RedisTokenBuckets.from_url(server.url, clock)
        await store._client.flushdb()  # type: ignore[attr-defined]
    yield store
    await store.close()


async def test_a_burst_passes_then_the_next_request_waits_for_a_refill(
    buckets: TokenBuckets, clock: SteppedClock
) -> None:
    taken = [await buckets.take([("user:a", TWO_A_SECOND)]) for _ in range(3)]
    assert all(d.allowed for d in taken)
    refused = await buckets.take([("user:a", TWO_A_SECOND)])
    assert not refused.allowed
    assert refused.retry_after == pytest.approx(0.5)
    assert refused.retry_after_header == "1"
    clock.advance(0.5)
    assert (await buckets.take([("user:a", TWO_A_SECOND)])).allowed
    assert not (await buckets.take([("user:a", TWO_A_SECOND)])).allowed


async def test_buckets_are_separate_per_key(buckets: TokenBuckets) -> None:
    for _ in range(3):
        await buckets.take([("user:a", TWO_A_SECOND)])
    assert not (await buckets.take([("user:a", TWO_A_SECOND)])).allowed
    assert (await buckets.take([("user:b", TWO_A_SECOND)])).allowed


async def test_a_refused_request_takes_nothing_from_its_other_buckets(
    buckets: TokenBuckets,
) -> None:
    roomy = RateLimit(per_second=1.0, burst=5)
    for _ in range(3):
        assert (await buckets.take([("ip:1", roomy), ("user:a", TWO_A_SECOND)])).allowed
    assert not (await buckets.take([("ip:1", roomy), ("user:a", TWO_A_SECOND)])).allowed
    # The IP bucket still holds its last two tokens.
    assert (await buckets.take([("ip:1", roomy)])).allowed
    assert (await buckets.take([("ip:1", roomy)])).allowed
    assert not (await buckets.take([("ip:1", roomy)])).allowed


async def test_a_bucket_never_holds_more_than_its_burst(
    buckets: TokenBuckets, clock: SteppedClock
) -> None:
    clock.advance(3600)
    allowed = [(await buckets.take([("user:c", TWO_A_SECOND)])).allowed for _ in range(5)]
    assert allowed == [True, True, True, False, False]


@pytest.mark.real
async def test_with_the_store_down_requests_pass_rather_than_fail(
    valkey_server: ValkeyServer, clock: SteppedClock
) -> None:
    store = RedisTokenBuckets.from_url(valkey_server.url, clock)
    valkey_server.stop()
    try:
        assert (await store.take([("user:z", TWO_A_SECOND)])).allowed
    finally:
        valkey_server.start()
        await store.close()
