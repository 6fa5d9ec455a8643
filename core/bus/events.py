"""The shape every domain event shares, and the envelope it travels in."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict


class DomainEvent(BaseModel):
    """A past-tense fact. Subclasses name their Kafka topic (`omniroute.<context>.<event>.v1`).

    `aggregate_id` is the Kafka key, so one order's events stay in order on one partition.

    Forward compatible: a field a newer release added (optional, by the rule that a change a
    reader could not ignore takes a new version and topic) is ignored by an older reader, so
    consumers of the release being replaced keep handling events during a rolling deploy. The
    strictness that protects something stays: a missing or ill-typed field is still refused,
    and the version is the topic's (`.v1`), which an older reader never subscribes past.
    """

    model_config = ConfigDict(frozen=True, extra="ignore")

    topic: ClassVar[str]
    version: ClassVar[int] = 1

    event_id: uuid.UUID
    occurred_at: datetime
    aggregate_id: str

    @classmethod
    def event_type(cls) -> str:
        return cls.__name__

    def envelope(self) -> EventEnvelope:
        return EventEnvelope(
            event_id=self.event_id,
            event_type=self.event_type(),
            version=self.version,
            topic=self.topic,
            key=self.aggregate_id,
            occurred_at=self.occurred_at,
            data=self.model_dump(mode="json"),
        )


class EventEnvelope(BaseModel):
    """What is stored in the outbox and published: type and version travel with the data."""

    model_config = ConfigDict(frozen=True)

    event_id: uuid.UUID
    event_type: str
    version: int
    topic: str
    key: str
    occurred_at: datetime
    data: dict[str, Any]

    def to_bytes(self) -> bytes:
        return self.model_dump_json().encode()

    @classmethod
    def from_bytes(cls, raw: bytes) -> EventEnvelope:
        return cls.model_validate_json(raw)
