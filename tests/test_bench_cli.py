"""The command line's start-up bench runs and prints every command beside its references."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

from bench.cli_startup import COMMANDS

ROOT = Path(__file__).resolve().parent.parent


def test_the_startup_bench_prints_a_median_for_every_command() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "bench.cli_startup", "--runs", "1"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    for label, _arguments in COMMANDS:
        row = re.search(rf"^\| {re.escape(label)} \| ([\d,]+) \|$", done.stdout, re.MULTILINE)
        assert row is not None, f"no row for {label!r}:\n{done.stdout}"
    assert re.search(r"omniroute --help: [\d,]+ ms; the interpreter alone", done.stdout)
