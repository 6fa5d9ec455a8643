"""USSD hops per second: the gateway against a bare aiohttp handler, in the same run.

    python -m bench.ussd_hops [--concurrency 64] [--seconds 20] [--rounds 4] [--warmup 3]
                              [--journey shop|browse] [--loop uvloop|asyncio]
                              [--against-asyncio] [--against-settings 'OMNIROUTE_X=1 ...']
                              [--profile FILE] [--check]

Each server runs in its own subprocess (`--serve-gateway PORT` / `--serve-bare PORT`, PORT 0
picks a free one), so the load generator never shares an event loop with the server it measures.
The parent drives both over loopback with one aiohttp ClientSession and `--concurrency` simulated
phones, each walking a whole USSD journey with Africa's Talking form bodies; every HTTP request is
one hop. After a warm-up, the bare and the gateway phases alternate (`--rounds`) so the machine's
noise falls on both, and the figures are summed over the rounds.

The gateway is the product with its embedded defaults, built as the tests build it: a fresh
SQLite file in a temporary directory migrated with the real Alembic scripts, the demo data, memory
sessions, `build_services(Settings(...))` and `create_app` (OMNIROUTE_* variables and .env are
ignored). The bare handler reads the form and answers `CON hello`: the floor any USSD callback
pays (HTTP parsing, the form, the response). Neither server writes an access log. Both run on
the event loop `omniroute serve` runs on by default, uvloop (`--loop asyncio`: the standard one);
`--against-asyncio` adds a third target, the gateway on the standard loop, to the same rounds, and
compares the two gateways' server CPU per hop (what uvloop saves, measured side by side);
`--against-settings` does the same for a gateway with other OMNIROUTE_* settings (a pool size...).
`--against-unfrozen` adds the gateway without `gc.freeze()` after start-up (core/app/heap.py),
which `omniroute serve` and every server here otherwise do.
`--against-edge` adds the gateway's edge alone: the same app with the pipeline answering one fixed
screen, so the provider form's validation, the middlewares, the rate limiter, routing and the
rendering run and the conversation does not (what the HTTP edge costs; the rest is the turn).

`--profile FILE` runs the gateway's main thread under cProfile for the whole run (its idle time
during the bare phases shows up as `epoll.poll`) and writes the stats to FILE for `pstats`.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import cProfile
import dataclasses
import itertools
import os
import secrets
import signal
import statistics
import sys
import tempfile
import time
from collections import Counter, deque
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlencode

import aiohttp
from aiohttp import web

from core.app.bootstrap import build_services
from core.app.demo import load_demo
from core.app.eventloop import EventLoopChoice, loop_factory
from core.app.heap import freeze_after_startup
from core.app.server import create_app
from core.config import Settings
from core.db.migrate import upgrade
from core.messages import InboundMessage, Reply
from core.pipeline import Pipeline

ROOT = Path(__file__).resolve().parent.parent
USSD_PATH = "/channels/africastalking/ussd"
SERVICE_CODE = "*384*123#"
NETWORK_CODE = "62130"  # MTN Nigeria
# +234 803 001 0000 onwards: valid MTN Nigeria numbers, clear of the demo customers
# (+2348030000001/2); each phone takes a fresh one per phase, and after any error.
FIRST_NUMBER = 2348030010000
LAST_NUMBER = 2348030099999
READY = "bench-ready"
TARGET_RATIO = {"embedded": 0.6, "real": 0.4}  # issue 2 (embedded defaults), issue 3 (real)
TARGET_P99_MS = 100.0
ON_ASYNCIO = "gateway (asyncio)"  # the --against-asyncio target
EDGE = "edge only"  # the --against-edge target
UNFROZEN = "gateway (heap not frozen)"  # the --against-unfrozen target
UNFROZEN_VAR = "BENCH_HEAP_NOT_FROZEN"
FORM_HEADERS = {"Content-Type": "application/x-www-form-urlencoded"}
BENCH_PHONE_RATE = 1000.0  # hops/s per phone the gateway accepts in the bench
RUN_TAG = secrets.token_hex(4)  # in every sessionId: no two runs share a session or a reply


# -- the servers (child processes) ------------------------------------------------------------


async def bare_ussd(request: web.Request) -> web.Response:
    await request.post()
    return web.Response(text="CON hello", content_type="text/plain")


def bare_app() -> web.Application:
    app = web.Application()
    app.router.add_post(USSD_PATH, bare_ussd)
    return app


class FixedScreen(Pipeline):
    """The edge-only target's pipeline: every turn answers the same screen, touching nothing."""

    def __init__(self) -> None:  # no store, dialog or translator: nothing of the turn runs
        self._reply = Reply("Welcome\n1. Shop\n2. Cart", end=False, locale="en")
        self.failures: Counter[str] = Counter()  # /metrics reads it; no turn here ever fails

    async def handle(self, msg: InboundMessage) -> Reply:
        return self._reply


async def gateway_app(
    database_url: str, session_url: str = "memory://", *, edge_only: bool = False
) -> web.Application:
    """The product: embedded defaults (SQLite, memory sessions) or real PostgreSQL + Valkey.

    `edge_only`: the same app and services with the pipeline replaced by `FixedScreen`."""
    settings = Settings(
        database_url=database_url,
        session_url=session_url,
        # Each simulated phone dials journeys back to back, some 10 hops a second where a person
        # manages one: the per-phone limit (1/s, burst 60) would refuse them. The limiter still
        # runs on every hop (its cost is measured); it just never says no.
        rate_limit_phone_per_second=BENCH_PHONE_RATE,
        rate_limit_phone_burst=int(BENCH_PHONE_RATE),
        _env_file=None,
    )
    services = build_services(settings)
    await load_demo(services.db, services.clock.now())
    if edge_only:
        services = dataclasses.replace(services, pipeline=FixedScreen())
    return create_app(settings, build=lambda _settings: services)


async def serve_forever(app: web.Application, port: int, profile: Path | None) -> None:
    """Serve on 127.0.0.1:port until SIGTERM/SIGINT; print `bench-ready PORT` when listening.

    The start-up heap is frozen once started, as `omniroute serve` does (core/app/heap.py),
    unless the target is `--against-unfrozen`'s."""
    if not os.environ.get(UNFROZEN_VAR):
        app = freeze_after_startup(app)
    runner = web.AppRunner(app, access_log=None, handle_signals=False)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", port, backlog=1024)
    await site.start()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    bound = runner.addresses[0][1]
    profiler = cProfile.Profile() if profile else None
    print(f"{READY} {bound}", flush=True)
    try:
        if profiler:
            profiler.enable()
        await stop.wait()
    finally:
        if profiler and profile:
            profiler.disable()
            profiler.dump_stats(profile)
        await runner.cleanup()


def serve(kind: str, port: int, profile: Path | None, loop: EventLoopChoice) -> int:
    """Serve `kind` (bare, gateway or edge) on `loop`: every server runs on the same loop, the
    one `omniroute serve` uses."""
    edge_only = kind == "edge"
    with asyncio.Runner(loop_factory=loop_factory(loop)) as runner:
        if kind == "bare":
            runner.run(_serve_bare(port, profile))
            return 0
        real_db, real_sessions = os.environ.get(REAL_DB_VAR), os.environ.get(REAL_SESSIONS_VAR)
        if real_db and real_sessions:
            upgrade(real_db)
            runner.run(_serve_gateway(real_db, port, profile, real_sessions, edge_only))
            return 0
        with migrated_sqlite() as url:
            runner.run(_serve_gateway(url, port, profile, edge_only=edge_only))
        return 0


@contextlib.contextmanager
def migrated_sqlite() -> Iterator[str]:
    """The URL of a fresh, migrated SQLite file in a temporary directory (the embedded default).

    Call it before the event loop starts: Alembic's env.py runs a loop of its own."""
    with tempfile.TemporaryDirectory(prefix="omniroute-bench-") as tmp:
        url = f"sqlite+aiosqlite:///{Path(tmp) / 'omniroute.db'}"
        upgrade(url)
        yield url


async def _serve_bare(port: int, profile: Path | None) -> None:
    await serve_forever(bare_app(), port, profile)


async def _serve_gateway(
    url: str,
    port: int,
    profile: Path | None,
    session_url: str = "memory://",
    edge_only: bool = False,
) -> None:
    app = await gateway_app(url, session_url, edge_only=edge_only)
    await serve_forever(app, port, profile)


# -- the phones (parent process) ---------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Step:
    key: str  # what the phone types; "" is the dial
    expect: str  # text the gateway's screen must contain (the bare handler only says hello)


def shop_journey(n: int) -> list[Step]:
    """Dial, Shop, a category, its first product, 2 cartons, View cart, the line, Remove.

    Removing the line leaves the cart empty, so the next dial gets the main menu again.
    """
    category = str(1 + n % 8)
    return [
        Step("", "1. Shop"),
        Step("1", "Choose a category"),
        Step(category, "NGN "),
        Step("1", "Enter quantity"),
        Step("2", "Added 2 x"),
        Step("2", "Cart ("),
        Step("2", "2. Remove"),
        Step("2", "Your cart is empty"),
    ]


def browse_journey(n: int) -> list[Step]:
    """Dial, Shop, then three categories' product lists, going Back to the categories each time."""
    steps = [Step("", "1. Shop"), Step("1", "Choose a category")]
    for k in range(3):
        steps.append(Step(str(1 + (n + k) % 8), "NGN "))
        steps.append(Step("0", "Choose a category"))
    return steps


JOURNEYS: dict[str, Callable[[int], list[Step]]] = {"shop": shop_journey, "browse": browse_journey}


@dataclass
class Tally:
    """One target's hops over every measured phase."""

    latencies: list[float] = field(default_factory=list)
    errors: int = 0
    first_error: str | None = None
    elapsed: float = 0.0
    client_cpu: float = 0.0
    server_cpu: float | None = 0.0
    server_log: list[str] = field(default_factory=list)

    def fail(self, problem: str) -> None:
        self.errors += 1
        if self.first_error is None:
            self.first_error = problem

    @property
    def hops(self) -> int:
        return len(self.latencies)

    @property
    def cpu_per_hop_us(self) -> float | None:
        """The server's CPU time per hop (all its threads), in microseconds."""
        if self.server_cpu is None or not self.hops:
            return None
        return self.server_cpu / self.hops * 1e6

    @property
    def rate(self) -> float:
        return self.hops / self.elapsed if self.elapsed else 0.0

    def percentile_ms(self, p: int) -> float:
        if len(self.latencies) < 2:
            return self.latencies[0] * 1000 if self.latencies else float("nan")
        return statistics.quantiles(self.latencies, n=100, method="inclusive")[p - 1] * 1000


def ussd_form(session_id: str, number: str, inputs: Sequence[str]) -> dict[str, str]:
    """Africa's Talking's USSD callback form: the inputs so far joined by '*'."""
    return {
        "sessionId": session_id,
        "serviceCode": SERVICE_CODE,
        "phoneNumber": number,
        "networkCode": NETWORK_CODE,
        "text": "*".join(inputs),
    }


def numbers() -> Iterator[str]:
    for n in itertools.cycle(range(FIRST_NUMBER, LAST_NUMBER + 1)):
        yield f"+{n}"


def check(status: int, body: str, expect: str | None) -> str | None:
    """Why a response is wrong, or None. Every screen of these journeys is a `CON` screen."""
    if status != 200:
        return f"HTTP {status}: {body[:120]!r}"
    if not body.startswith(("CON ", "END ")):
        return f"not a USSD screen: {body[:120]!r}"
    if not body.startswith("CON "):
        return f"unexpected END mid-journey: {body[:120]!r}"
    if expect is not None and expect not in body:
        return f"expected {expect!r} on screen: {body[:120]!r}"
    return None


async def phone(
    client: aiohttp.ClientSession,
    target: Target,
    journey: Callable[[int], list[Step]],
    phones: Iterator[str],
    deadline: float,
    tally: Tally | None,
) -> None:
    """One feature phone dialling journeys back to back until the deadline."""
    number = next(phones)
    journeys = itertools.count()
    while time.perf_counter() < deadline:
        n = next(journeys)
        session_id = f"ATUid_{RUN_TAG}_{number[1:]}_{n}"
        inputs: list[str] = []
        for step in journey(n):
            if time.perf_counter() >= deadline:
                return
            if step.key:
                inputs.append(step.key)
            form = ussd_form(session_id, number, inputs)
            started = time.perf_counter()
            try:
                async with client.post(
                    target.url, data=urlencode(form).encode(), headers=FORM_HEADERS
                ) as response:
                    body = await response.text()
                    problem = check(response.status, body, step.expect if target.strict else None)
            except (aiohttp.ClientError, TimeoutError) as exc:
                problem = f"{type(exc).__name__}: {exc}"
            if tally is not None:
                tally.latencies.append(time.perf_counter() - started)
                if problem:
                    tally.fail(problem)
            if problem:
                number = next(phones)  # a fresh phone: no half-finished cart to trip over
                break


@dataclass
class Target:
    name: str
    process: asyncio.subprocess.Process
    port: int
    strict: bool
    output: deque[str] = field(default_factory=lambda: deque(maxlen=20))
    drain: asyncio.Task[None] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}{USSD_PATH}"

    def cpu_seconds(self) -> float | None:
        """User + system CPU of the server process (all its threads), where /proc exists."""
        try:
            fields = Path(f"/proc/{self.process.pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            return None
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def start(
    kind: str,
    profile: Path | None,
    loop: EventLoopChoice,
    name: str | None = None,
    settings: dict[str, str] | None = None,
) -> Target:
    args = ["-m", "bench.ussd_hops", f"--serve-{kind}", "0", "--loop", loop]
    if profile:
        args += ["--profile", str(profile)]
    env = {k: v for k, v in os.environ.items() if not k.startswith("OMNIROUTE_")}
    env.update(REAL_BACKENDS)
    env.update(settings or {})
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        *args,
        cwd=ROOT,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    assert process.stdout is not None
    seen: list[str] = []
    async with asyncio.timeout(120):
        while True:
            raw = await process.stdout.readline()
            if not raw:
                await process.wait()
                text = "".join(seen[-20:])
                raise RuntimeError(f"the {kind} server exited ({process.returncode}):\n{text}")
            line = raw.decode(errors="replace")
            if line.startswith(READY):
                break
            seen.append(line)
    target = Target(name or kind, process, int(line.split()[1]), strict=kind == "gateway")
    target.drain = asyncio.create_task(_drain(process, target.output))
    return target


async def _drain(process: asyncio.subprocess.Process, into: deque[str]) -> None:
    assert process.stdout is not None
    while raw := await process.stdout.readline():
        into.append(raw.decode(errors="replace").rstrip())


async def stop(target: Target) -> None:
    if target.process.returncode is None:
        target.process.terminate()
        try:
            async with asyncio.timeout(30):
                await target.process.wait()
        except TimeoutError:
            target.process.kill()
            await target.process.wait()
    if target.drain:
        with contextlib.suppress(asyncio.CancelledError):
            await target.drain


async def phase(
    client: aiohttp.ClientSession,
    target: Target,
    args: argparse.Namespace,
    phones: Iterator[str],
    seconds: float,
    tally: Tally | None,
) -> None:
    journey = JOURNEYS[args.journey]
    cpu_before, server_before = time.process_time(), target.cpu_seconds()
    started = time.perf_counter()
    deadline = started + seconds
    await asyncio.gather(
        *(phone(client, target, journey, phones, deadline, tally) for _ in range(args.concurrency))
    )
    elapsed = time.perf_counter() - started
    if tally is None:
        return
    tally.elapsed += elapsed
    tally.client_cpu += time.process_time() - cpu_before
    server_after = target.cpu_seconds()
    if tally.server_cpu is not None and server_before is not None and server_after is not None:
        tally.server_cpu += server_after - server_before
    else:
        tally.server_cpu = None


async def run(args: argparse.Namespace) -> dict[str, Tally]:
    tallies = {"bare": Tally(), "gateway": Tally()}
    targets: list[Target] = []
    try:
        targets.append(await start("bare", None, args.loop))
        targets.append(await start("gateway", args.profile, args.loop))
        if args.against_asyncio:
            tallies[ON_ASYNCIO] = Tally()
            targets.append(await start("gateway", None, "asyncio", ON_ASYNCIO))
        for assignments in args.against_settings:
            settings = parse_settings(assignments)
            name = f"gateway ({' '.join(f'{k}={v}' for k, v in settings.items())})"
            tallies[name] = Tally()
            targets.append(await start("gateway", None, args.loop, name, settings))
        if args.against_unfrozen:
            tallies[UNFROZEN] = Tally()
            unfrozen = {UNFROZEN_VAR: "1"}
            targets.append(await start("gateway", None, args.loop, UNFROZEN, unfrozen))
        if args.against_edge:
            tallies[EDGE] = Tally()
            targets.append(await start("edge", None, args.loop, EDGE))
        phones = numbers()
        connector = aiohttp.TCPConnector(limit=0, limit_per_host=args.concurrency)
        timeout = aiohttp.ClientTimeout(total=10)
        async with aiohttp.ClientSession(connector=connector, timeout=timeout) as client:
            for target in targets:
                print(f"warm-up   {target.name:<8} {args.warmup:g} s", flush=True)
                await phase(client, target, args, phones, args.warmup, None)
            per_round = args.seconds / args.rounds
            for r in range(args.rounds):
                order = targets if r % 2 == 0 else targets[::-1]
                for target in order:
                    tally = tallies[target.name]
                    hops = tally.hops
                    await phase(client, target, args, phones, per_round, tally)
                    print(
                        f"round {r + 1}/{args.rounds} {target.name:<8} "
                        f"{tally.hops - hops} hops in {per_round:g} s",
                        flush=True,
                    )
    finally:
        for target in targets:
            await stop(target)
            tallies[target.name].server_log = list(target.output)
    return tallies


def parse_settings(assignments: str) -> dict[str, str]:
    """'OMNIROUTE_X=1 OMNIROUTE_Y=2' as environment variables for one more gateway."""
    settings: dict[str, str] = {}
    for assignment in assignments.split():
        key, sep, value = assignment.partition("=")
        if not sep or not key.startswith("OMNIROUTE_"):
            raise SystemExit(f"--against-settings: {assignment!r} is not OMNIROUTE_NAME=value")
        settings[key] = value
    return settings


def verdict(ok: bool) -> str:
    return "PASS" if ok else "MISS"


def report(tallies: dict[str, Tally], args: argparse.Namespace) -> bool:
    bare, gateway = tallies["bare"], tallies["gateway"]
    print()
    print(
        f"{args.concurrency} concurrent phones, '{args.journey}' journey, "
        f"{args.seconds:g} s per target in {args.rounds} alternating rounds, "
        f"{os.cpu_count()} CPUs, Python {sys.version.split()[0]}, servers on {args.loop}"
    )
    print()
    header = (
        "target",
        "hops",
        "hops/s",
        "p50 ms",
        "p99 ms",
        "errors",
        "server CPU",
        "server µs/hop",
        "client CPU",
    )
    print("| " + " | ".join(header) + " |")
    print("|" + "|".join(["---"] + ["--:"] * (len(header) - 1)) + "|")
    for name, t in tallies.items():
        server = f"{t.server_cpu / t.elapsed:.0%}" if t.server_cpu is not None else "n/a"
        cells = (
            name,
            f"{t.hops}",
            f"{t.rate:,.0f}",
            f"{t.percentile_ms(50):.1f}",
            f"{t.percentile_ms(99):.1f}",
            f"{t.errors}",
            server,
            f"{t.cpu_per_hop_us:,.0f}" if t.cpu_per_hop_us is not None else "n/a",
            f"{t.client_cpu / t.elapsed:.0%}",
        )
        print("| " + " | ".join(cells) + " |")
    ratio = gateway.rate / bare.rate if bare.rate else 0.0
    p99 = gateway.percentile_ms(99)
    target = TARGET_RATIO[args.backends]
    checks = [
        (f"gateway/bare hops/s  {ratio:.2f}x", f"target >= {target}x", ratio >= target),
        (
            f"gateway p99          {p99:.1f} ms",
            f"target < {TARGET_P99_MS:g} ms",
            p99 < TARGET_P99_MS,
        ),
        (
            f"errors               {gateway.errors + bare.errors}",
            "target 0",
            gateway.errors + bare.errors == 0,
        ),
    ]
    print()
    for what, goal, ok in checks:
        print(f"{what:<32} ({goal:<16}) {verdict(ok)}")
    for name, other in tallies.items():
        if name in ("bare", "gateway") or not other.cpu_per_hop_us or not gateway.cpu_per_hop_us:
            continue
        change = other.cpu_per_hop_us / gateway.cpu_per_hop_us - 1
        print(
            f"gateway CPU per hop   {gateway.cpu_per_hop_us:,.0f} µs; "
            f"{name}: {other.cpu_per_hop_us:,.0f} µs ({change:+.1%})"
        )
    edge = tallies.get(EDGE)
    if edge and edge.cpu_per_hop_us and gateway.cpu_per_hop_us and bare.rate:
        # One process serves on one core: at the target's rate a hop may cost this much CPU.
        budget = 1e6 / (target * bare.rate)
        print(
            f"CPU budget per hop    {budget:,.0f} µs on one core at {target}x the bare "
            f"{bare.rate:,.0f} hops/s; the edge takes {edge.cpu_per_hop_us:,.0f}, leaving "
            f"{budget - edge.cpu_per_hop_us:,.0f} µs for a turn, which takes "
            f"{gateway.cpu_per_hop_us - edge.cpu_per_hop_us:,.0f}"
        )
    for name, t in tallies.items():
        if t.first_error:
            print(f"first {name} error: {t.first_error}")
            print(f"last lines from the {name} server:", *t.server_log, sep="\n  ")
    return all(ok for _, _, ok in checks)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m bench.ussd_hops",
        description="USSD hops/s, p50 and p99: the gateway against a bare aiohttp handler.",
    )
    parser.add_argument("--concurrency", type=int, default=64, help="phones at once (64)")
    parser.add_argument("--seconds", type=float, default=20, help="measured seconds per target")
    parser.add_argument("--rounds", type=int, default=4, help="alternating bare/gateway rounds")
    parser.add_argument("--warmup", type=float, default=3, help="warm-up seconds per target")
    parser.add_argument("--journey", choices=sorted(JOURNEYS), default="shop")
    parser.add_argument(
        "--loop",
        choices=["uvloop", "asyncio"],
        default="uvloop",
        help="event loop of both servers (uvloop, as `omniroute serve` by default)",
    )
    parser.add_argument(
        "--profile", type=Path, help="run the server under cProfile and write the stats here"
    )
    parser.add_argument("--check", action="store_true", help="exit 1 when a target is missed")
    parser.add_argument(
        "--against-settings",
        action="append",
        default=[],
        metavar="'OMNIROUTE_X=1 OMNIROUTE_Y=2'",
        help="also run the gateway with these settings, in the same rounds (repeatable)",
    )
    parser.add_argument(
        "--against-asyncio",
        action="store_true",
        help="also run the gateway on the standard asyncio loop, in the same rounds",
    )
    parser.add_argument(
        "--against-unfrozen",
        action="store_true",
        help="also run the gateway without freezing its start-up heap, in the same rounds",
    )
    parser.add_argument(
        "--against-edge",
        action="store_true",
        help="also run the gateway's edge alone (the pipeline answers one fixed screen)",
    )
    parser.add_argument(
        "--backends",
        choices=["embedded", "real"],
        default="embedded",
        help="real: the gateway on PostgreSQL + Valkey started for the run (target >= 0.4x)",
    )
    serve_as = parser.add_mutually_exclusive_group()
    serve_as.add_argument("--serve-gateway", type=int, metavar="PORT", help=argparse.SUPPRESS)
    serve_as.add_argument("--serve-bare", type=int, metavar="PORT", help=argparse.SUPPRESS)
    serve_as.add_argument("--serve-edge", type=int, metavar="PORT", help=argparse.SUPPRESS)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.serve_gateway is not None:
        return serve("gateway", args.serve_gateway, args.profile, args.loop)
    if args.serve_bare is not None:
        return serve("bare", args.serve_bare, args.profile, args.loop)
    if args.serve_edge is not None:
        return serve("edge", args.serve_edge, args.profile, args.loop)
    if args.concurrency < 1 or args.rounds < 1 or args.seconds <= 0 or args.warmup < 0:
        parser.error("--concurrency and --rounds must be >= 1, --seconds > 0, --warmup >= 0")
    if args.profile:
        args.profile = args.profile.resolve()
    if args.backends == "real":
        met = _run_on_real_backends(args)
    else:
        met = report(asyncio.run(run(args)), args)
    if args.profile:
        print(f"\ngateway profile written to {args.profile} (figures above include its overhead)")
    return 1 if args.check and not met else 0


REAL_DB_VAR = "BENCH_REAL_DATABASE_URL"
REAL_SESSIONS_VAR = "BENCH_REAL_SESSION_URL"
REAL_BACKENDS: dict[str, str] = {}


def _run_on_real_backends(args: argparse.Namespace) -> bool:
    """Start PostgreSQL and Valkey as the tests do, point the gateway at them, measure."""
    from tests.support.servers import running_postgres, running_valkey  # noqa: PLC0415

    with (
        tempfile.TemporaryDirectory(prefix="omniroute-bench-real-") as tmp,
        running_postgres(Path(tmp)) as postgres,
        running_valkey(Path(tmp)) as valkey,
    ):
        REAL_BACKENDS[REAL_DB_VAR] = postgres.create_database("bench")
        REAL_BACKENDS[REAL_SESSIONS_VAR] = valkey.url
        print(f"gateway on PostgreSQL :{postgres.port} and Valkey :{valkey.port}", flush=True)
        return report(asyncio.run(run(args)), args)


if __name__ == "__main__":
    raise SystemExit(main())
