"""One store test over both backends: files under var/ and a real S3 server (moto on loopback).

The S3 runs speak the S3 API over HTTP to `moto_server`, exactly as production speaks to MinIO,
so a wrong request, a missing bucket or a lost content type shows up here.
"""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
from aiobotocore.session import get_session

from core.app.bootstrap import Services, build_services
from core.app.cli import main
from core.app.objects import MissingObjectStoreSettingError, build_object_store
from core.app.server import create_app
from core.clock import SteppedClock
from core.config import Settings
from core.ids import RandomIds
from core.objects import InvalidObjectKeyError, ObjectStore, ObjectStoreConfigError
from core.phone import Phone
from core.region import RegionCode
from engines.gig import DocumentKind, Onboard, Vehicle, VehicleKind, WorkerStatus
from tests.support.demo_template import seed_demo
from tests.support.ports import free_port
from tests.support.servers import S3Server

_buckets = itertools.count(1)


async def _s3_client(server: S3Server) -> Any:
    return get_session().create_client(
        "s3",
        endpoint_url=server.endpoint_url,
        region_name=server.region,
        aws_access_key_id=server.access_key_id,
        aws_secret_access_key=server.secret_access_key,
    )


@pytest.fixture(params=["file", pytest.param("s3", marks=pytest.mark.real)])
def store_settings(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[dict[str, Any]]:
    """Settings for a fresh store: a directory, or a new bucket (under a prefix) on S3."""
    if request.param == "file":
        yield {"object_store_url": f"file://{tmp_path / 'objects'}"}
        return
    server: S3Server = request.getfixturevalue("s3_server")
    bucket = f"omniroute-docs-{next(_buckets)}"

    async def make_bucket() -> None:
        async with await _s3_client(server) as s3:
            await s3.create_bucket(Bucket=bucket)

    asyncio.run(make_bucket())
    yield {
        "object_store_url": f"s3://{bucket}/gig",
        "s3_endpoint_url": server.endpoint_url,
        "s3_region": server.region,
        "s3_access_key_id": server.access_key_id,
        "s3_secret_access_key": server.secret_access_key,
    }


@pytest.fixture
async def store(store_settings: dict[str, Any]) -> AsyncIterator[ObjectStore]:
    opened = build_object_store(Settings(env="test", _env_file=None, **store_settings))
    yield opened
    await opened.close()


async def test_a_document_is_kept_replaced_and_read_back(store: ObjectStore) -> None:
    key = await store.put("workers/abc/national_id-1.jpg", b"\xff\xd8first", "image/jpeg")
    assert key == "workers/abc/national_id-1.jpg"
    assert await store.get(key) == b"\xff\xd8first"
    await store.put(key, b"\xff\xd8second", "image/jpeg")
    assert await store.get(key) == b"\xff\xd8second"
    big = bytes(range(256)) * 4096  # 1 MiB of every byte value: no text mangling on the way
    await store.put("workers/abc/driving_licence-2.pdf", big, "application/pdf")
    assert await store.get("workers/abc/driving_licence-2.pdf") == big
    assert await store.ping()


async def test_a_missing_document_is_a_key_error(store: ObjectStore) -> None:
    with pytest.raises(KeyError):
        await store.get("workers/abc/missing.pdf")


@pytest.mark.parametrize("key", ["../etc/passwd", "/abs/path", "a//b", "workers/../x", ""])
async def test_keys_cannot_escape_the_store(store: ObjectStore, key: str) -> None:
    with pytest.raises(InvalidObjectKeyError):
        await store.put(key, b"x", "application/pdf")
    with pytest.raises(InvalidObjectKeyError):
        await store.get(key)


@pytest.fixture
async def services(
    store_settings: dict[str, Any], any_database_url: str
) -> AsyncIterator[Services]:
    clock = SteppedClock()
    settings = Settings(env="test", database_url=any_database_url, _env_file=None, **store_settings)
    built = build_services(settings, clock=clock, ids=RandomIds())
    await seed_demo(built.db, clock.now())
    yield built
    await built.close()


async def test_a_drivers_onboarding_documents_round_trip_through_the_store(
    services: Services,
) -> None:
    gig = services.gig
    worker = await gig.onboard(
        Onboard(
            Phone("+2348031000001"),
            "Emeka Okafor",
            "NIN12345678",
            RegionCode.LAGOS,
            Vehicle(VehicleKind.MOTORBIKE, "LAG-123-XY", 40),
        )
    )
    scan = await gig.upload_document(
        worker.id, DocumentKind.NATIONAL_ID, b"\xff\xd8jpeg scan", "image/jpeg"
    )
    assert (await gig.worker(worker.id)).status is WorkerStatus.PENDING  # licence missing
    licence = await gig.upload_document(
        worker.id, DocumentKind.DRIVING_LICENCE, b"%PDF-1.4 licence", "application/pdf"
    )
    assert (await gig.worker(worker.id)).status is WorkerStatus.ACTIVE
    kept = {d.kind: d.object_key for d in await gig.documents(worker.id)}
    assert kept == {
        DocumentKind.NATIONAL_ID: scan.object_key,
        DocumentKind.DRIVING_LICENCE: licence.object_key,
    }
    assert await services.objects.get(scan.object_key) == b"\xff\xd8jpeg scan"
    assert await services.objects.get(licence.object_key) == b"%PDF-1.4 licence"


@pytest.mark.real
async def test_s3_documents_land_in_the_bucket_under_the_prefix_with_their_type(
    s3_server: S3Server,
) -> None:
    async with await _s3_client(s3_server) as s3:
        await s3.create_bucket(Bucket="omniroute-typed")
        store = build_object_store(
            Settings(
                env="test",
                object_store_url="s3://omniroute-typed/drivers",
                s3_endpoint_url=s3_server.endpoint_url,
                s3_access_key_id=s3_server.access_key_id,
                s3_secret_access_key=s3_server.secret_access_key,
                _env_file=None,
            )
        )
        try:
            await store.put("workers/w1/national_id-1.jpg", b"\xff\xd8", "image/jpeg")
        finally:
            await store.close()
        head = await s3.head_object(
            Bucket="omniroute-typed", Key="drivers/workers/w1/national_id-1.jpg"
        )
        assert head["ContentType"] == "image/jpeg"
        assert head["ContentLength"] == 2


@pytest.mark.real
async def test_readiness_says_the_bucket_is_down_when_it_does_not_exist(
    s3_server: S3Server,
) -> None:
    store = build_object_store(
        Settings(
            env="test",
            object_store_url="s3://no-such-bucket",
            s3_endpoint_url=s3_server.endpoint_url,
            s3_access_key_id=s3_server.access_key_id,
            s3_secret_access_key=s3_server.secret_access_key,
            _env_file=None,
        )
    )
    try:
        assert not await store.ping()
    finally:
        await store.close()


def test_production_refuses_s3_without_credentials_naming_the_variables(tmp_path: Path) -> None:
    base = {
        "env": "production",
        "database_url": f"sqlite+aiosqlite:///{tmp_path / 'x.db'}",
        "channels": "web",
        "object_store_url": "s3://omniroute-docs",
        "s3_endpoint_url": "http://minio:9000",
        "_env_file": None,
    }
    with pytest.raises(
        MissingObjectStoreSettingError, match="AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY"
    ):
        create_app(Settings(**base))  # type: ignore[arg-type]
    with pytest.raises(MissingObjectStoreSettingError, match="AWS_SECRET_ACCESS_KEY must be set"):
        create_app(Settings(**base, s3_access_key_id="minio"))  # type: ignore[arg-type]
    app = create_app(
        Settings(**base, s3_access_key_id="minio", s3_secret_access_key="minio-secret")  # type: ignore[arg-type]
    )
    assert app is not None


@pytest.mark.parametrize(
    ("url", "endpoint", "message"),
    [
        ("s3://Bad_Bucket", None, "bucket name"),
        ("s3://ok-bucket", "minio:9000", "OMNIROUTE_S3_ENDPOINT_URL"),
        ("ftp://host/x", None, "ftp:// is not supported"),
    ],
)
def test_an_unusable_object_store_url_is_refused_with_the_reason(
    url: str, endpoint: str | None, message: str
) -> None:
    def build() -> object:
        settings = Settings(
            env="test", object_store_url=url, s3_endpoint_url=endpoint, _env_file=None
        )
        return build_object_store(settings)

    with pytest.raises((ObjectStoreConfigError, ValueError), match=message):
        build()


def test_serve_in_production_without_s3_credentials_says_which_and_exits(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    for name, value in {
        "OMNIROUTE_ENV": "production",
        "OMNIROUTE_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'x.db'}",
        "OMNIROUTE_CHANNELS": "web",
        "OMNIROUTE_TEMPORAL": "off",
        "OMNIROUTE_OBJECT_STORE_URL": "s3://omniroute-docs",
        "OMNIROUTE_SESSION_URL": "memory://",
        "OMNIROUTE_EVENTS_URL": "memory://",
        "AWS_ACCESS_KEY_ID": "minio",
    }.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("AWS_SECRET_ACCESS_KEY", raising=False)
    monkeypatch.chdir(tmp_path)  # no .env from the checkout
    assert main(["serve", "--port", str(free_port())]) == 1
    err = capsys.readouterr().err
    assert err.startswith("omniroute: AWS_SECRET_ACCESS_KEY must be set")
    assert len(err.strip().splitlines()) == 1
