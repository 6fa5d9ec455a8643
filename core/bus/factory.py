"""Pick the event bus from OMNIROUTE_EVENTS_URL."""

from __future__ import annotations

from core.bus.kafka import KafkaEventBus
from core.bus.memory import MemoryEventBus
from core.bus.port import EventBus


def open_event_bus(url: str) -> EventBus:
    if url.startswith("memory://"):
        return MemoryEventBus()
    if url.startswith("kafka://"):
        return KafkaEventBus(url)
    raise ValueError(f"OMNIROUTE_EVENTS_URL={url!r}: expected memory:// or kafka://host:port")
