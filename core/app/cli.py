"""`omniroute`: serve, migrate, seed, simulate — the command line of interfaces.md."""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Callable, Sequence
from typing import NoReturn

from aiohttp import web

from core.app import credentials
from core.app.demo import load_demo
from core.app.logs import configure_logging
from core.app.server import create_app
from core.app.simulate import CHANNELS as SIMULATED_CHANNELS
from core.app.simulate import simulate
from core.clock import SystemClock
from core.config import Settings
from core.db import Database
from core.db.migrate import upgrade


class _Parser(argparse.ArgumentParser):
    """A bad argument prints one line with the reason and exits 2."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: {message}\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="omniroute", description="OmniRoute conversational commerce gateway")
    commands = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    serve = commands.add_parser("serve", help="run the gateway (HTTP + channels)")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8080)

    commands.add_parser("migrate", help="apply the database migrations (Alembic)")

    seed = commands.add_parser("seed", help="load the demo catalogue (idempotent)")
    seed.add_argument("--demo", action="store_true", help="load the demo data set")

    simulate = commands.add_parser("simulate", help="a phone in the terminal")
    simulate.add_argument("channel", choices=SIMULATED_CHANNELS)
    simulate.add_argument("--phone", default="+2348030000001", help="E.164 number")
    simulate.add_argument("--url", default="http://127.0.0.1:8080", help="the gateway")
    simulate.add_argument("--service-code", default="*384*123#")
    credentials.add_commands(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    match args.command:
        case "serve":
            return _serve(args.host, args.port)
        case "migrate":
            return _migrate()
        case "seed":
            return _seed(demo=args.demo)
        case "simulate":
            return simulate(args.channel, args.url, args.phone, args.service_code)
        case "apikey" | "client" | "token":
            return credentials.run(args)
    return 2


def _serve(host: str, port: int) -> int:
    settings = Settings()
    configure_logging(settings)
    web.run_app(create_app(settings), host=host, port=port, print=_announce(host, port))
    return 0


def _announce(host: str, port: int) -> Callable[[str], None]:
    def show(_message: str) -> None:
        print(f"OmniRoute serving on http://{host}:{port}  (Ctrl+C to stop)", flush=True)

    return show


def _migrate() -> int:
    settings = Settings()
    upgrade(settings.database_url)
    print("database is at the latest migration")
    return 0


def _seed(*, demo: bool) -> int:
    if not demo:
        print("omniroute: nothing to seed; pass --demo for the demo data set", file=sys.stderr)
        return 2

    async def run() -> int:
        db = Database(Settings().database_url)
        try:
            return await load_demo(db, SystemClock().now())
        finally:
            await db.dispose()

    inserted = asyncio.run(run())
    print(f"demo data loaded ({inserted} new rows)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
