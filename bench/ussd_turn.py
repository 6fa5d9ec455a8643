"""CPU per USSD turn without HTTP: the conversation alone, on the shop and the browse journeys.

    python -m bench.ussd_turn [--journeys 1024] [--rounds 3]

`bench/ussd_hops.py --against-edge` splits a served hop into the HTTP edge and the turn (the
rate limiter, session, intent, dialog step and engines) and says how much CPU a turn may take for
the gateway to reach its target. This bench measures the turn apart, as its floor: the gateway
is built as ussd_hops builds it (SQLite, memory sessions, demo data), and 64 phones at once walk
the journeys by calling the Africa's Talking channel's handler directly with the message the
USSD endpoint builds from the same form, validated the same way. No sockets, no aiohttp request.

Both journeys run in alternating rounds in one process, side by side: `shop` (dial, Shop, a
category, a product, 2 cartons, View cart, the line, Remove: two cart writes per journey) and
`browse` (menus only). It prints the median µs per turn of each: the time of the handler call,
which is CPU time here (SQLite runs on the loop's thread and the memory store never waits; a turn
that had to wait would count the other phones' turns too, and the figure would say so by
growing), and what the shop journey's cart writes add.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time
from collections.abc import Sequence

from aiohttp import web

from bench.ussd_hops import JOURNEYS, gateway_app, migrated_sqlite, ussd_form
from channels.africastalking.forms import UssdForm
from channels.africastalking.keys import HANDLE
from channels.africastalking.ussd import to_message
from channels.render.ussd import render_ussd
from core.app.eventloop import loop_factory
from core.app.heap import freeze_after_startup
from core.messages import Handler

PHONES = 64


def channel_handler(app: web.Application) -> Handler:
    """The USSD endpoint's handler (rate limiter + pipeline), as mounted in the gateway."""
    for sub in app._subapps:
        if HANDLE in sub:
            return sub[HANDLE]
    raise SystemExit("the gateway has no Africa's Talking channel")


async def walk(
    handle: Handler,
    journey: str,
    journeys: int,
    tag: str,
) -> tuple[int, float]:
    """`journeys` journeys split over PHONES phones at once; (turns, seconds spent in turns)."""

    async def phone(k: int) -> tuple[int, float]:
        turns, spent = 0, 0.0
        number = f"+23480300{20000 + k}"
        for n in range(journeys // PHONES):
            inputs: list[str] = []
            for step in JOURNEYS[journey](n):
                if step.key:
                    inputs.append(step.key)
                form = UssdForm.model_validate(
                    ussd_form(f"ATUid_turn_{tag}_{k}_{n}", number, inputs)
                )
                message = to_message(form)
                started = time.perf_counter()
                reply = await handle(message)
                spent += time.perf_counter() - started
                screen = render_ussd(reply)
                if step.expect not in screen:
                    raise SystemExit(f"expected {step.expect!r} on screen: {screen!r}")
                turns += 1
        return turns, spent

    results = await asyncio.gather(*(phone(k) for k in range(PHONES)))
    return sum(t for t, _ in results), sum(s for _, s in results)


async def measure(url: str, args: argparse.Namespace) -> dict[str, list[float]]:
    app = freeze_after_startup(await gateway_app(url))  # as `omniroute serve` and ussd_hops
    runner = web.AppRunner(app, access_log=None, handle_signals=False)
    await runner.setup()
    try:
        handle = channel_handler(app)
        per_turn: dict[str, list[float]] = {name: [] for name in JOURNEYS}
        for name in per_turn:
            await walk(handle, name, PHONES * 4, f"warm{name}")
        for r in range(args.rounds):
            names = sorted(per_turn) if r % 2 == 0 else sorted(per_turn, reverse=True)
            for name in names:
                turns, spent = await walk(handle, name, args.journeys, f"{r}{name}")
                per_turn[name].append(spent / turns * 1e6)
                print(f"round {r + 1}/{args.rounds} {name:<7} {turns} turns", flush=True)
        return per_turn
    finally:
        await runner.cleanup()


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.ussd_turn", description=__doc__)
    parser.add_argument("--journeys", type=int, default=1024, help="journeys per round (1024)")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args(argv)
    if args.journeys < PHONES or args.rounds < 1:
        parser.error(f"--journeys must be >= {PHONES} and --rounds >= 1")
    with (
        migrated_sqlite() as url,  # before the loop starts: Alembic runs a loop of its own
        asyncio.Runner(loop_factory=loop_factory("uvloop")) as runner,
    ):
        per_turn = runner.run(measure(url, args))
    median = {name: statistics.median(figures) for name, figures in per_turn.items()}
    print()
    print(
        f"{PHONES} phones, {args.journeys} journeys per round, {args.rounds} alternating rounds "
        f"(median), Python {sys.version.split()[0]} on uvloop, no HTTP"
    )
    for name, us in median.items():
        print(f"turn, {name:<7} journey  {us:6.1f} µs")
    print(f"shop/browse           {median['shop'] / median['browse']:6.2f}x (the cart writes)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
