"""How long `omniroute` takes to answer, for the commands that need no service: help, a bad
argument, and the terminal phone's start.

    python -m bench.cli_startup [--runs 15] [--against-tree DIR]

Each command runs as its own process (`python -m core.app.cli …`, as the console script runs it),
`--runs` times, and the median wall time is printed beside two references measured in the same
rounds: the interpreter alone (`python -c pass`, the floor) and the import of the service graph
(`import core.app.bootstrap`: the engines, SQLAlchemy, GraphQL, Temporal, OR-Tools; what every
command paid before the command line imported its commands lazily). `--against-tree DIR` runs the
same commands from another checkout (`git worktree add /tmp/old <commit>`) in the same rounds,
alternating, so a change is measured side by side on one machine.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

from core.db.migrate import upgrade

HERE = Path(__file__).resolve().parents[1]

# (label, arguments to `python`): the references, then `omniroute` commands.
COMMANDS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("python -c pass (the floor)", ("-c", "pass")),
    ("import core.app.bootstrap (the services)", ("-c", "import core.app.bootstrap")),
    ("omniroute --help", ("-m", "core.app.cli", "--help")),
    ("omniroute deliveries --help", ("-m", "core.app.cli", "deliveries", "--help")),
    ("omniroute routes solve --help", ("-m", "core.app.cli", "routes", "solve", "--help")),
    (
        "omniroute stock count … x (bad, exit 2)",
        ("-m", "core.app.cli", "stock", "count", "W", "B", "S", "x"),
    ),
    ("omniroute migrate (up to date)", ("-m", "core.app.cli", "migrate")),
    (
        "omniroute deliveries escalated (engines)",
        ("-m", "core.app.cli", "deliveries", "escalated"),
    ),
    (
        "omniroute simulate ussd (no gateway)",
        ("-m", "core.app.cli", "simulate", "ussd", "--url", "http://127.0.0.1:9"),
    ),
)


def once(tree: Path, arguments: Sequence[str], database_url: str) -> float:
    """Seconds from spawn to exit; stdin closed so the terminal phone ends at once."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("OMNIROUTE_")}
    env["OMNIROUTE_DATABASE_URL"] = database_url
    started = time.perf_counter()
    subprocess.run(  # noqa: PLW1510 - exit 2 and 1 are among the measured answers
        [sys.executable, *arguments],
        cwd=tree,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    return time.perf_counter() - started


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--against-tree", type=Path, default=None, metavar="DIR")
    args = parser.parse_args(argv)
    trees = {"this tree": HERE}
    if args.against_tree is not None:
        trees[f"{args.against_tree}"] = args.against_tree.resolve()
    times: dict[tuple[str, str], list[float]] = {}
    with tempfile.TemporaryDirectory(prefix="omniroute-cli-") as scratch:
        # `deliveries escalated` reads a migrated, empty database: what an engine command costs.
        database_url = f"sqlite+aiosqlite:///{scratch}/cli.db"
        upgrade(database_url)
        for _ in range(args.runs):
            for label, arguments in COMMANDS:
                for name, tree in trees.items():
                    times.setdefault((label, name), []).append(once(tree, arguments, database_url))
    names = list(trees)
    print(f"median of {args.runs} runs each, alternating, Python {sys.version.split()[0]}\n")
    print("| command | " + " | ".join(f"{n} ms" for n in names) + " |")
    print("|---|" + "--:|" * len(names))
    for label, _arguments in COMMANDS:
        cells = [f"{statistics.median(times[(label, n)]) * 1000:,.0f}" for n in names]
        print(f"| {label} | " + " | ".join(cells) + " |")
    floor = statistics.median(times[(COMMANDS[0][0], names[0])])
    graph = statistics.median(times[(COMMANDS[1][0], names[0])])
    helps = statistics.median(times[(COMMANDS[2][0], names[0])])
    print(
        f"\nomniroute --help: {helps * 1000:,.0f} ms; the interpreter alone {floor * 1000:,.0f} ms,"
        f" the service graph's import {graph * 1000:,.0f} ms"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
