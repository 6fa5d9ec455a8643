"""The stored webhook bodies (fixtures/<kind>/<situation>.form; see fixtures/SOURCES.md)."""

from __future__ import annotations

from pathlib import Path

FIXTURES = Path(__file__).parent / "fixtures"


def stored(kind: str, name: str) -> bytes:
    return (FIXTURES / kind / f"{name}.form").read_bytes()


def situations(kind: str) -> list[str]:
    return sorted(p.stem for p in (FIXTURES / kind).glob("*.form"))
