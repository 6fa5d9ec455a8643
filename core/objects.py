"""The object store port (documents, photos) and its embedded adapter: files under var/.

`OMNIROUTE_OBJECT_STORE_URL` picks the adapter: `file://var/objects` (the default; a relative
path is taken from the working directory). An S3/MinIO adapter goes behind the same port.
"""

from __future__ import annotations

import asyncio
import re
from pathlib import Path
from typing import Protocol
from urllib.parse import urlsplit

_KEY = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*(/[A-Za-z0-9][A-Za-z0-9._-]*)*$")


class ObjectStore(Protocol):
    async def put(self, key: str, data: bytes, content_type: str) -> str:
        """Store `data` under `key` (replacing it); returns the key."""
        ...

    async def get(self, key: str) -> bytes:
        """The stored bytes; KeyError when there are none."""
        ...


class InvalidObjectKeyError(ValueError):
    pass


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


def open_object_store(url: str) -> ObjectStore:
    parts = urlsplit(url)
    if parts.scheme == "file":
        return FileObjectStore(Path(parts.netloc + parts.path))
    raise ValueError(f"unsupported object store URL {url!r}: use file://PATH")
