"""Documents land as files under the store's root and nowhere else."""

from __future__ import annotations

from pathlib import Path

import pytest

from core.objects import FileObjectStore, InvalidObjectKeyError, open_object_store


async def test_a_document_is_kept_and_read_back(tmp_path: Path) -> None:
    store = open_object_store(f"file://{tmp_path}")
    key = await store.put("workers/abc/national_id-1.jpg", b"\xff\xd8", "image/jpeg")
    assert (tmp_path / key).read_bytes() == b"\xff\xd8"
    assert await store.get(key) == b"\xff\xd8"
    with pytest.raises(KeyError):
        await store.get("workers/abc/missing.pdf")


@pytest.mark.parametrize("key", ["../etc/passwd", "/abs/path", "a//b", "workers/../x", ""])
async def test_keys_cannot_escape_the_root(tmp_path: Path, key: str) -> None:
    with pytest.raises(InvalidObjectKeyError):
        await FileObjectStore(tmp_path).put(key, b"x", "application/pdf")


def test_only_file_and_s3_urls_are_understood() -> None:
    with pytest.raises(ValueError, match="unsupported object store URL"):
        open_object_store("ftp://host/bucket")
