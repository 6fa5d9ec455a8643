"""Structured logs: JSON lines in production, readable lines on a laptop — every line of them.

OmniRoute's own events (structlog) and what its libraries log through the standard `logging`
module (aiokafka's group joins, the Temporal worker, aiohttp) go through one formatter, so a
production log pipeline parses every line as JSON with its timestamp, level and logger.

Requests are logged by `AccessLog`, one `http.request` event each, with the path but never the
query string: callbacks carry secrets there (Africa's Talking's `?token=`, Meta's
`hub.verify_token`, the web chat's `?access_token=`), and aiohttp's default access line, which
prints the whole request line, would write them to the logs. For the same reason a request
aiohttp cannot parse is one `http.bad_request` line with the parser's reason, not aiohttp's
error with a traceback that quotes the raw request line (query string and all).
"""

from __future__ import annotations

import logging
import sys
from typing import TextIO

import structlog
from aiohttp import web
from aiohttp.abc import AbstractAccessLogger
from aiohttp.http_exceptions import HttpProcessingError

from core.config import Settings

# Applied to both OmniRoute's events and the libraries' records.
_SHARED: list[structlog.types.Processor] = [
    structlog.stdlib.add_log_level,
    structlog.stdlib.add_logger_name,
    structlog.processors.TimeStamper(fmt="iso", utc=True),
]


def configure_logging(settings: Settings, *, level: int = logging.INFO) -> None:
    """One handler on the root logger (stderr), rendering every record the same way."""
    renderer: structlog.types.Processor = (
        structlog.processors.JSONRenderer()
        if settings.production
        else structlog.dev.ConsoleRenderer(colors=False)
    )
    structlog.configure(
        processors=[
            structlog.stdlib.filter_by_level,
            *_SHARED,
            structlog.stdlib.PositionalArgumentsFormatter(),
            structlog.stdlib.ProcessorFormatter.wrap_for_formatter,
        ],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )
    handler = CurrentStderrHandler()
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            foreign_pre_chain=_SHARED,
            processors=[
                structlog.stdlib.ProcessorFormatter.remove_processors_meta,
                structlog.processors.format_exc_info,
                renderer,
            ],
        )
    )
    root = logging.getLogger()
    root.handlers = [handler]
    root.setLevel(level)
    server = logging.getLogger("aiohttp.server")
    for old in [f for f in server.filters if isinstance(f, BadRequestFilter)]:
        server.removeFilter(old)
    server.addFilter(BadRequestFilter())


class BadRequestFilter(logging.Filter):
    """aiohttp logs a request it cannot parse as an error, with a traceback quoting the raw
    request line: the client's mistake (a scanner, a broken proxy) paged the operators as a
    server error and wrote the query string's tokens to the log. It becomes one info line."""

    def filter(self, record: logging.LogRecord) -> bool:
        error = record.exc_info[1] if record.exc_info else None
        if not isinstance(error, HttpProcessingError):
            return True
        reason = error.message.split("\n", 1)[0].strip().rstrip(":")
        remote = record.args[0] if isinstance(record.args, tuple) and record.args else None
        structlog.stdlib.get_logger(record.name).info(
            "http.bad_request", status=error.code, reason=reason, remote=remote
        )
        return False


class CurrentStderrHandler(logging.StreamHandler[TextIO]):
    """Writes to whatever `sys.stderr` is when a record is emitted, not the stream it was when
    logging was configured: a test harness (or a daemoniser) that swaps and closes stderr
    would otherwise leave every later line failing with "I/O operation on closed file"."""

    @property
    def stream(self) -> TextIO:
        return sys.stderr

    @stream.setter
    def stream(self, _value: object) -> None:
        return None


class AccessLog(AbstractAccessLogger):
    """`web.run_app(..., access_log_class=AccessLog)`: a structured line per request."""

    def log(self, request: web.BaseRequest, response: web.StreamResponse, time: float) -> None:
        structlog.stdlib.get_logger(self.logger.name).info(
            "http.request",
            method=request.method,
            path=request.path,  # without the query string: see the module's docstring
            status=response.status,
            bytes=response.body_length,  # sent, headers included (aiohttp's %b)
            ms=round(time * 1000, 1),
            remote=request.remote,
        )

    @property
    def enabled(self) -> bool:
        return self.logger.isEnabledFor(logging.INFO)
