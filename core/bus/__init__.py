"""Events: versioned domain events, the transactional outbox, the relay and the bus port."""

from core.bus.events import DomainEvent, EventEnvelope
from core.bus.port import EventBus, Subscriber

__all__ = ["DomainEvent", "EventBus", "EventEnvelope", "Subscriber"]
