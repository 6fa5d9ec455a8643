"""Shared GraphQL shapes: money as a decimal string with its currency, regions, paging."""

from __future__ import annotations

import base64
import binascii
from typing import Generic, TypeVar

import strawberry

from channels.graphql.auth import ClientError
from core.money import Money
from core.region import RegionCode

# Registered once; annotations use RegionCode itself, which strawberry now knows as `Region`.
strawberry.enum(RegionCode, name="Region", description="A market OmniRoute serves")


@strawberry.type(name="Money", description="A decimal `amount` string in an ISO 4217 currency")
class MoneyType:
    amount: str
    currency: str

    @classmethod
    def of(cls, money: Money) -> MoneyType:
        return cls(amount=str(money.amount), currency=money.currency)


@strawberry.type(description="Relay paging: where this page sits in the whole list")
class PageInfo:
    has_next_page: bool
    has_previous_page: bool
    start_cursor: str | None
    end_cursor: str | None


NodeT = TypeVar("NodeT")


@strawberry.type
class Edge(Generic[NodeT]):
    cursor: str
    node: NodeT


@strawberry.type
class Connection(Generic[NodeT]):
    edges: list[Edge[NodeT]]
    page_info: PageInfo
    total_count: int | None = None


class BadCursorError(ValueError):
    pass


def encode_cursor(kind: str, value: str) -> str:
    return base64.urlsafe_b64encode(f"{kind}:{value}".encode()).decode()


def decode_cursor(kind: str, cursor: str) -> str:
    try:
        text = base64.urlsafe_b64decode(cursor.encode()).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError) as exc:
        raise BadCursorError(cursor) from exc
    prefix, sep, value = text.partition(":")
    if prefix != kind or not sep:
        raise BadCursorError(cursor)
    return value


MAX_PAGE = 100


def page_size(first: int | None, default: int = 20) -> int:
    """`first` capped at MAX_PAGE (the cost limit counts it the same way).

    As Relay's connection spec says: `first: 0` is an empty page, a negative `first` an error.
    """
    if first is None:
        return default
    if first < 0:
        raise ClientError("BAD_USER_INPUT", f"first must be 0 or more, not {first}")
    return min(MAX_PAGE, first)
