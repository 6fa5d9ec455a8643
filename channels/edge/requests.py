"""Reading provider requests safely: a size bound before parsing, and errors a person can read."""

from __future__ import annotations

from typing import TypeVar
from urllib.parse import parse_qsl

from aiohttp import web
from pydantic import BaseModel, ValidationError

M = TypeVar("M", bound=BaseModel)


class BodyTooLargeError(Exception):
    pass


async def read_bounded(request: web.Request, limit: int) -> bytes:
    """The body, refusing anything over `limit` bytes without reading it all."""
    if request.content_length is not None and request.content_length > limit:
        raise BodyTooLargeError
    chunks: list[bytes] = []
    size = 0
    # One read() returns only what has arrived so far: keep reading to the end (or the limit).
    while chunk := await request.content.read(limit + 1 - size):
        chunks.append(chunk)
        size += len(chunk)
        if size > limit:
            raise BodyTooLargeError
    return b"".join(chunks)


def parse_form(body: bytes, model: type[M]) -> M:
    fields = dict(parse_qsl(body.decode("utf-8", errors="strict"), keep_blank_values=True))
    return model.model_validate(fields)


def bad_request(exc: ValidationError | UnicodeDecodeError) -> web.Response:
    if isinstance(exc, UnicodeDecodeError):
        reason = "the body is not UTF-8"
    else:
        reason = "; ".join(_describe(err) for err in exc.errors())
    return web.Response(status=400, text=f"Bad request: {reason}\n")


def too_large(limit: int) -> web.Response:
    return web.Response(status=413, text=f"Request body larger than {limit} bytes\n")


def _describe(err: object) -> str:
    assert isinstance(err, dict)
    where = ".".join(str(p) for p in err.get("loc", ())) or "body"
    if err.get("type") == "missing":
        return f"{where} is required"
    message = str(err.get("msg", "invalid")).removeprefix("Value error, ")
    return f"{where}: {message}"


async def read_form(request: web.Request, model: type[M], limit: int) -> M | web.Response:
    """The bounded, validated form, or the 413/400 answer to send instead."""
    try:
        return parse_form(await read_bounded(request, limit), model)
    except BodyTooLargeError:
        return too_large(limit)
    except (ValidationError, UnicodeDecodeError) as exc:
        return bad_request(exc)
