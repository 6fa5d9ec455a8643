"""Structured logs: JSON lines in production, readable lines on a laptop."""

from __future__ import annotations

import logging

import structlog

from core.config import Settings


def configure_logging(settings: Settings) -> None:
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    renderer: structlog.types.Processor = (
        structlog.processors.JSONRenderer()
        if settings.production
        else structlog.dev.ConsoleRenderer(colors=False)
    )
    structlog.configure(
        processors=[
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            structlog.processors.format_exc_info,
            renderer,
        ],
    )
