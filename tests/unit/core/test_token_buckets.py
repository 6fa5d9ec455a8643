"""Token-bucket invariants, for any pattern of requests (the memory adapter; the Lua script
is held to the same behaviour by tests/integration/throttle)."""

from __future__ import annotations

import asyncio

from hypothesis import given
from hypothesis import strategies as st

from core.app.throttle import MemoryTokenBuckets
from core.clock import SteppedClock
from core.throttle import RateLimit

steps = st.lists(
    st.tuples(st.floats(min_value=0, max_value=3, allow_nan=False), st.integers(1, 5)),
    min_size=1,
    max_size=40,
)


@given(
    steps=steps,
    per_second=st.sampled_from([0.5, 1.0, 2.0, 10.0]),
    burst=st.integers(1, 20),
)
def test_never_more_than_the_burst_plus_the_refill(
    steps: list[tuple[float, int]], per_second: float, burst: int
) -> None:
    async def run() -> None:
        clock = SteppedClock()
        buckets = MemoryTokenBuckets(clock)
        limit = RateLimit(per_second, burst)
        allowed = 0
        elapsed = 0.0
        for wait, requests in steps:
            clock.advance(wait)
            elapsed += wait
            for _ in range(requests):
                decision = await buckets.take([("k", limit)])
                allowed += decision.allowed
                if not decision.allowed:
                    assert decision.retry_after > 0
            assert allowed <= burst + per_second * elapsed + 1e-9

    asyncio.run(run())


@given(steps=steps, burst=st.integers(1, 10))
def test_waiting_retry_after_is_always_enough(steps: list[tuple[float, int]], burst: int) -> None:
    async def run() -> None:
        clock = SteppedClock()
        buckets = MemoryTokenBuckets(clock)
        limit = RateLimit(2.0, burst)
        for wait, requests in steps:
            clock.advance(wait)
            for _ in range(requests):
                decision = await buckets.take([("k", limit)])
                if not decision.allowed:
                    clock.advance(decision.retry_after)
                    assert (await buckets.take([("k", limit)])).allowed

    asyncio.run(run())
