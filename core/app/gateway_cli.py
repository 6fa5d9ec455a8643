"""`omniroute serve`, `worker`, `payments requery` and `refunds pending`: the gateway's own
processes, and what its payments requery leaves open."""

from __future__ import annotations

import argparse
import asyncio
import errno
import os
import socket
import sys
from collections.abc import Callable

import structlog
from aiohttp import web
from dotenv import dotenv_values

from core.app.bootstrap import build_services
from core.app.eventloop import loop_factory, running_loop_name
from core.app.heap import freeze_after_startup
from core.app.logs import AccessLog, configure_logging
from core.app.objects import MissingObjectStoreSettingError
from core.app.refunds import pending_lines
from core.app.server import create_app
from core.app.temporal_dev import TemporalUnavailableError, embedded_temporal
from core.app.worker import run_worker
from core.config import Settings, database_url, shared_backends, unknown_variables

log = structlog.get_logger(__name__)


def run(args: argparse.Namespace) -> int:
    match args.command:
        case "serve":
            return _serve(args.host, args.port)
        case "worker":
            return _worker(args.host, args.port)
        case "refunds":
            return _pending_refunds()
    return _requery()


def _serve(host: str, port: int) -> int:
    settings = Settings()
    database_url(settings)
    shared_backends(settings)
    configure_logging(settings)
    _warn_unknown_variables()
    taken = _port_taken(host, port)
    if taken is not None:  # said at once, before a second gateway starts on the database
        return _cannot_listen_on(taken, "serve", host, port)
    try:
        with embedded_temporal(settings) as running:
            web.run_app(
                freeze_after_startup(create_app(running)),
                host=host,
                port=port,
                access_log_class=AccessLog,
                print=_announce(host, port),
                loop=loop_factory(settings.event_loop)(),
            )
    except (TemporalUnavailableError, MissingObjectStoreSettingError) as error:
        # a production setting that cannot work: one line naming it, not a traceback
        print(f"omniroute: {error}", file=sys.stderr)
        return 1
    except OSError as error:
        return _cannot_listen_on(error, "serve", host, port)
    return 0


def _cannot_listen_on(error: OSError, command: str, host: str, port: int | None) -> int:
    """One line naming the address it cannot listen on (exit 2); another OSError is raised."""
    if not _cannot_listen(error):
        raise error
    # uvloop's strerror repeats the address; the errno says it in a few words
    code = error.errno or 0
    reason = os.strerror(code) if code > 0 else (error.strerror or str(error))
    print(f"omniroute {command}: cannot listen on {host}:{port}: {reason}", file=sys.stderr)
    return 2


def _port_taken(host: str, port: int) -> OSError | None:
    """Why `host:port` cannot be listened on when another process holds it (a gateway already
    running: `make run` twice); None when it is free, or for run_app to say what else is wrong."""
    try:
        addresses = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except socket.gaierror:
        return None
    for family, kind, proto, _name, address in addresses:
        with socket.socket(family, kind, proto) as probe:
            # as run_app binds: a port left in TIME_WAIT is free, one listened on is not
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                probe.bind(address)
            except OSError as error:
                if error.errno == errno.EADDRINUSE:
                    return error
    return None


def _cannot_listen(error: OSError) -> bool:
    """The host is no address of this machine, or the port is taken (asyncio's and uvloop's
    create_server say "while attempting to bind")."""
    return (
        isinstance(error, socket.gaierror)
        or "attempting to bind" in str(error)
        or error.errno == errno.EADDRINUSE
    )


def _worker(host: str, port: int | None) -> int:
    settings = Settings()
    database_url(settings)
    shared_backends(settings)
    configure_logging(settings)
    _warn_unknown_variables()
    if settings.temporal == "off" or not settings.temporal_address:
        print(
            "omniroute worker: set OMNIROUTE_TEMPORAL_ADDRESS to the Temporal cluster (host:7233);"
            " without it `omniroute serve` runs the worker itself",
            file=sys.stderr,
        )
        return 2
    try:
        asyncio.run(run_worker(settings, host=host, port=port))
    except OSError as error:
        return _cannot_listen_on(error, "worker", host, port)
    return 0


def _warn_unknown_variables() -> None:
    """Name each OMNIROUTE_* variable no setting reads (never its value: it may be a secret)."""
    env_file = Settings.model_config.get("env_file")
    from_file = dotenv_values(env_file) if isinstance(env_file, str) else {}
    for name, meant in unknown_variables([*from_file, *os.environ]).items():
        log.warning("settings.unknown_variable", variable=name, did_you_mean=meant)


def _announce(host: str, port: int) -> Callable[[str], None]:
    def show(_message: str) -> None:
        loop = running_loop_name()
        print(f"OmniRoute serving on http://{host}:{port} on {loop}  (Ctrl+C to stop)", flush=True)

    return show


def _requery() -> int:
    """One requery pass, for cron or an operator; the gateway also runs it every minute."""

    async def requery() -> int:
        services = build_services(Settings())
        try:
            assert services.payments is not None
            report = await services.payments.requery()
        finally:
            await services.close()
        print(
            f"checked {report.checked} payments: {report.settled} settled, "
            f"{report.still_open} still open"
        )
        return 0

    return asyncio.run(requery())


def _pending_refunds() -> int:
    """The refunds still open, one line each; exit 1 when one waits on someone (Paystack's
    `needs-attention`), so cron can page an operator. The requery keeps asking about them."""

    async def pending() -> int:
        services = build_services(Settings())
        try:
            assert services.payments is not None
            refunds = await services.payments.pending_refunds()
        finally:
            await services.close()
        for line in pending_lines(refunds):
            print(line)
        waiting = sum(1 for r in refunds if r.attention)
        return 1 if waiting else 0

    return asyncio.run(pending())
