"""Backends parametrised over [embedded, real]: one test, both servers (aiogram style).

The database pair (`any_database_url`, `pg_database_url`) is in tests/support/databases.py."""

from __future__ import annotations

import itertools

import pytest

from tests.support.servers import KafkaServer

_topic_numbers = itertools.count(1)


@pytest.fixture(params=["memory", pytest.param("kafka", marks=pytest.mark.real)])
def any_events_url(request: pytest.FixtureRequest) -> str:
    if request.param == "memory":
        return "memory://"
    server: KafkaServer = request.getfixturevalue("kafka_server")
    return server.url
