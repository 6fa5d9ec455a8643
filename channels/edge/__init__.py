"""What every provider edge does the same way: bounded bodies, form parsing, clear 4xx errors."""

from channels.edge.requests import (
    BodyTooLargeError,
    bad_request,
    parse_form,
    read_bounded,
    read_form,
    too_large,
)

__all__ = [
    "BodyTooLargeError",
    "bad_request",
    "parse_form",
    "read_bounded",
    "read_form",
    "too_large",
]
