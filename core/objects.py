"""The object store port (documents, photos) and its two adapters: files under var/, or S3.

`OMNIROUTE_OBJECT_STORE_URL` picks the adapter: `file://var/objects` (the default; a relative
path is taken from the working directory) or `s3://bucket[/prefix]` for S3 or an S3-compatible
server such as MinIO (`OMNIROUTE_S3_ENDPOINT_URL`, credentials from `AWS_ACCESS_KEY_ID` and
`AWS_SECRET_ACCESS_KEY`). The same tests run against both.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import urlsplit

from aiobotocore.config import AioConfig
from aiobotocore.session import get_session
from botocore.exceptions import ClientError

from core.config import SettingError

_KEY = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*(/[A-Za-z0-9][A-Za-z0-9._-]*)*$")
# S3's bucket naming rules (lower case, digits, dots and hyphens, 3 to 63 characters).
_BUCKET = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")
_MISSING = {"NoSuchKey", "404", "NotFound"}


class ObjectStore(Protocol):
    async def put(self, key: str, data: bytes, content_type: str) -> str:
        """Store `data` under `key` (replacing it); returns the key."""
        ...

    async def get(self, key: str) -> bytes:
        """The stored bytes; KeyError when there are none."""
        ...

    async def ping(self) -> bool:
        """Whether the store answers (readiness)."""
        ...

    async def close(self) -> None: ...


class InvalidObjectKeyError(ValueError):
    pass


class ObjectStoreConfigError(SettingError, ValueError):
    """The object store URL or its settings cannot work; the message names the variable."""


def checked_key(key: str) -> str:
    """Keys are relative paths of plain segments: no '..', no absolute paths, no surprises."""
    if len(key) > 200 or not _KEY.match(key) or ".." in key.split("/"):
        raise InvalidObjectKeyError(key)
    return key


class FileObjectStore:
    def __init__(self, root: Path) -> None:
        self.root = root

    def _path(self, key: str) -> Path:
        return self.root / checked_key(key)

    async def put(self, key: str, data: bytes, content_type: str) -> str:
        path = self._path(key)

        def write() -> None:
            path.parent.mkdir(parents=True, exist_ok=True)
            partial = path.with_name(path.name + ".part")
            partial.write_bytes(data)
            partial.replace(path)  # readers never see half a file

        await asyncio.to_thread(write)
        return key

    async def get(self, key: str) -> bytes:
        path = self._path(key)
        try:
            return await asyncio.to_thread(path.read_bytes)
        except FileNotFoundError:
            raise KeyError(key) from None

    async def ping(self) -> bool:
        return True

    async def close(self) -> None:
        return None


@dataclass(frozen=True, slots=True)
class S3Config:
    """Where the bucket is and who we are to it; None leaves a value to botocore's defaults."""

    bucket: str
    prefix: str = ""
    endpoint_url: str | None = None
    region: str = "us-east-1"
    access_key_id: str | None = None
    secret_access_key: str | None = None


class S3ObjectStore:
    """Objects in one S3 bucket (or MinIO's), under an optional key prefix.

    One aiobotocore client is opened on first use and kept (its connection pool) until
    `close`. S3's PUT replaces an object atomically, so readers never see half a document.
    """

    def __init__(self, config: S3Config) -> None:
        self._config = config
        self._stack = contextlib.AsyncExitStack()
        self._client: Any = None
        self._opening = asyncio.Lock()

    async def _s3(self) -> Any:
        async with self._opening:
            if self._client is None:
                c = self._config
                self._client = await self._stack.enter_async_context(
                    get_session().create_client(
                        "s3",
                        endpoint_url=c.endpoint_url,
                        region_name=c.region,
                        aws_access_key_id=c.access_key_id,
                        aws_secret_access_key=c.secret_access_key,
                        # path-style addressing: MinIO and test servers have no bucket DNS
                        config=AioConfig(
                            s3={"addressing_style": "path"},
                            connect_timeout=5,
                            read_timeout=20,
                            retries={"max_attempts": 3, "mode": "standard"},
                        ),
                    )
                )
            return self._client

    def _key(self, key: str) -> str:
        checked = checked_key(key)
        return f"{self._config.prefix}/{checked}" if self._config.prefix else checked

    async def put(self, key: str, data: bytes, content_type: str) -> str:
        s3 = await self._s3()
        await s3.put_object(
            Bucket=self._config.bucket, Key=self._key(key), Body=data, ContentType=content_type
        )
        return key

    async def get(self, key: str) -> bytes:
        s3 = await self._s3()
        try:
            answer = await s3.get_object(Bucket=self._config.bucket, Key=self._key(key))
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") in _MISSING:
                raise KeyError(key) from None
            raise
        async with answer["Body"] as body:
            data: bytes = await body.read()
        return data

    async def ping(self) -> bool:
        try:
            s3 = await self._s3()
            await s3.head_bucket(Bucket=self._config.bucket)
        except Exception:
            return False
        return True

    async def close(self) -> None:
        await self._stack.aclose()
        self._client = None


def parse_s3_url(url: str) -> tuple[str, str]:
    """`s3://bucket/some/prefix` -> ('bucket', 'some/prefix')."""
    parts = urlsplit(url)
    bucket, prefix = parts.netloc, parts.path.strip("/")
    if not _BUCKET.match(bucket):
        raise ObjectStoreConfigError(
            f"OMNIROUTE_OBJECT_STORE_URL {url!r}: the bucket name must be 3-63 lower-case "
            "letters, digits, dots or hyphens (s3://bucket[/prefix])"
        )
    if prefix:
        checked_key(prefix)
    return bucket, prefix


def open_object_store(url: str, s3: S3Config | None = None) -> ObjectStore:
    """The adapter for `url`; `s3` carries the endpoint and credentials of an s3:// URL."""
    parts = urlsplit(url)
    if parts.scheme == "file":
        return FileObjectStore(Path(parts.netloc + parts.path))
    if parts.scheme == "s3":
        bucket, prefix = parse_s3_url(url)
        base = s3 or S3Config(bucket)
        return S3ObjectStore(
            S3Config(
                bucket,
                prefix,
                base.endpoint_url,
                base.region,
                base.access_key_id,
                base.secret_access_key,
            )
        )
    raise ValueError(f"unsupported object store URL {url!r}: use file://PATH or s3://BUCKET")
