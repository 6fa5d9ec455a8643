"""The service registry on SQLite and on PostgreSQL: a published version never changes, two
operators publishing the same version at once leave one, and the newest answers its code."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import replace

import pytest

from core.clock import SteppedClock
from core.db import Database
from engines.registry import (
    ServiceCodeTakenError,
    ServiceDefinition,
    ServiceRegistry,
    ServiceState,
    UnknownServiceError,
    VersionTakenError,
)

LABELS = {"1": {"en": "Yes", "sw": "Ndiyo"}}
AIRTIME = ServiceDefinition(
    name="airtime",
    version=1,
    start="menu",
    service_code="*384*77#",
    states=(
        ServiceState("menu", {"en": "Buy airtime?", "sw": "Nunua?"}, {"1": "done"}, LABELS),
        ServiceState("done", {"en": "Done", "sw": "Tayari"}, end=True),
    ),
)


@pytest.fixture
async def registry(any_database_url: str) -> AsyncIterator[ServiceRegistry]:
    db = Database(any_database_url)
    yield ServiceRegistry(db, SteppedClock())
    await db.dispose()


async def test_the_same_version_again_is_no_change_and_another_definition_is_refused(
    registry: ServiceRegistry,
) -> None:
    first = await registry.publish(AIRTIME, by="+2348030000002")
    again = await registry.publish(AIRTIME, by="+2348030000003")
    with pytest.raises(VersionTakenError):
        await registry.publish(replace(AIRTIME, start="done"))

    assert again == first
    kept = await registry.version("airtime", 1)
    assert kept == first
    assert kept.definition == AIRTIME
    assert kept.published_by == "+2348030000002"


async def test_two_publishes_of_one_version_at_once_leave_one(registry: ServiceRegistry) -> None:
    results = await asyncio.gather(
        registry.publish(AIRTIME, by="+2348030000002"),
        registry.publish(AIRTIME, by="+2348030000003"),
        return_exceptions=True,
    )
    assert not [r for r in results if isinstance(r, BaseException)]
    assert len(await registry.latest()) == 1


async def test_the_newest_version_answers_its_code_and_another_service_may_not_take_it(
    registry: ServiceRegistry,
) -> None:
    await registry.publish(AIRTIME)
    await registry.publish(replace(AIRTIME, version=2))
    answering = await registry.answering("*384*77#")
    assert answering is not None
    assert answering.version == 2
    assert await registry.answering("*384*78#") is None
    with pytest.raises(ServiceCodeTakenError):
        await registry.publish(replace(AIRTIME, name="data"))
    assert [(s.name, s.version) for s in await registry.latest()] == [("airtime", 2)]


async def test_two_services_publishing_one_code_at_once_leave_one_answering_it(
    registry: ServiceRegistry,
) -> None:
    results = await asyncio.gather(
        registry.publish(AIRTIME, by="+2348030000002"),
        registry.publish(replace(AIRTIME, name="data"), by="+2348030000003"),
        return_exceptions=True,
    )

    refused = [r for r in results if isinstance(r, BaseException)]
    [kept] = [r for r in results if not isinstance(r, BaseException)]
    assert [type(r) for r in refused] == [ServiceCodeTakenError]
    # the refused one is not published at all, and the code answers the one that was
    assert [s.name for s in await registry.latest()] == [kept.name]
    answering = await registry.answering("*384*77#")
    assert answering is not None
    assert answering.name == kept.name


async def test_a_new_version_on_another_code_frees_the_old_one(registry: ServiceRegistry) -> None:
    await registry.publish(AIRTIME)
    await registry.publish(replace(AIRTIME, version=2, service_code="*384*78#"))

    assert await registry.answering("*384*77#") is None
    moved = await registry.answering("*384*78#")
    assert moved is not None
    assert moved.version == 2
    await registry.publish(replace(AIRTIME, name="data"))
    taken = await registry.answering("*384*77#")
    assert taken is not None
    assert taken.name == "data"


async def test_a_retired_service_answers_nothing_and_frees_its_code(
    registry: ServiceRegistry,
) -> None:
    await registry.publish(AIRTIME)
    retired = await registry.retire("airtime")
    again = await registry.retire("airtime")

    assert retired.retired_at is not None
    assert again.retired_at == retired.retired_at
    assert await registry.answering("*384*77#") is None
    [listed] = await registry.latest()
    assert listed.retired_at == retired.retired_at
    await registry.publish(replace(AIRTIME, name="data"))
    taken = await registry.answering("*384*77#")
    assert taken is not None
    assert taken.name == "data"
    with pytest.raises(UnknownServiceError):
        await registry.retire("nothing")
