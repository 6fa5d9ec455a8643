"""Pick the event bus from OMNIROUTE_EVENTS_URL."""

from __future__ import annotations

from core.bus.kafka import KafkaEventBus
from core.bus.memory import MemoryEventBus
from core.bus.port import MAX_ATTEMPTS, EventBus


def open_event_bus(url: str, *, max_attempts: int = MAX_ATTEMPTS) -> EventBus:
    if url.startswith("memory://"):
        return MemoryEventBus(max_attempts=max_attempts)
    if url.startswith("kafka://"):
        return KafkaEventBus(url, max_attempts=max_attempts)
    raise ValueError(f"OMNIROUTE_EVENTS_URL={url!r}: expected memory:// or kafka://host:port")
