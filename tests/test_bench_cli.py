"""The command line's start-up bench runs and prints every command beside its references."""

from __future__ import annotations

import re

from bench.cli_startup import COMMANDS
from tests.support.benches import run_bench


def test_the_startup_bench_prints_a_median_for_every_command() -> None:
    out = run_bench("bench.cli_startup", "--runs", "1")
    for label, _arguments in COMMANDS:
        row = re.search(rf"^\| {re.escape(label)} \| ([\d,]+) \|$", out, re.MULTILINE)
        assert row is not None, f"no row for {label!r}:\n{out}"
    assert re.search(r"omniroute --help: [\d,]+ ms; the interpreter alone", out)
