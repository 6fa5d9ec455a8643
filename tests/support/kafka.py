"""Reading a topic back from the real broker, as an independent consumer would."""

from __future__ import annotations

import asyncio
import time

from aiokafka import AIOKafkaConsumer

from core.bus import EventEnvelope


async def read_topic(
    bootstrap: str, topic: str, *, until: int = 10**9, timeout: float = 20.0, idle: float = 2.0
) -> list[EventEnvelope]:
    """Every envelope on `topic` from the beginning: until `until` arrived, nothing new came
    for `idle` seconds after the first message, or `timeout` ran out."""
    consumer = AIOKafkaConsumer(
        topic,
        bootstrap_servers=bootstrap,
        auto_offset_reset="earliest",
        enable_auto_commit=False,
    )
    await consumer.start()
    found: list[EventEnvelope] = []
    deadline = time.monotonic() + timeout
    last_news = time.monotonic()
    try:
        while len(found) < until and time.monotonic() < deadline:
            batches = await consumer.getmany(timeout_ms=250)
            for messages in batches.values():
                found.extend(EventEnvelope.from_bytes(m.value) for m in messages if m.value)
                last_news = time.monotonic()
            if found and time.monotonic() - last_news > idle:
                break
            await asyncio.sleep(0)
    finally:
        await consumer.stop()
    return found
