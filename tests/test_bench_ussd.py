"""The USSD benchmarks run and say what they measured (short runs; figures go in BENCHMARKS.md)."""

from __future__ import annotations

import re

import pytest

from tests.support.benches import run_bench

pytestmark = pytest.mark.slow


def test_the_hops_bench_splits_a_hop_into_the_edge_and_the_turn() -> None:
    out = run_bench(
        "bench.ussd_hops",
        "--seconds", "1", "--rounds", "1", "--warmup", "0", "--concurrency", "8",
        "--against-edge",
    )  # fmt: skip
    rows = {
        cells[0]: cells
        for line in out.splitlines()
        if line.startswith("| ") and (cells := [c.strip() for c in line.strip("|").split("|")])
    }
    edge, gateway = rows["edge only"], rows["gateway"]
    # Both served every hop they were sent, and the edge (no conversation) costs less CPU.
    assert int(edge[1]) > 0
    assert edge[5] == "0"
    assert int(gateway[1]) > 0
    assert gateway[5] == "0"
    assert int(edge[7].replace(",", "")) < int(gateway[7].replace(",", ""))
    budget = re.search(
        r"CPU budget per hop +([\d,]+) µs on one core at 0\.6x the bare [\d,]+ hops/s; "
        r"the edge takes ([\d,]+), leaving (-?[\d,]+) µs for a turn, which takes (-?[\d,]+)",
        out,
    )
    assert budget, out
    total, edge_us, left, _turn = (int(g.replace(",", "")) for g in budget.groups())
    assert abs(left - (total - edge_us)) <= 1  # each figure is rounded on its own


def test_the_turn_bench_measures_both_journeys_without_http() -> None:
    out = run_bench("bench.ussd_turn", "--journeys", "64", "--rounds", "1")
    shop = re.search(r"turn, shop +journey +([\d.]+) µs", out)
    browse = re.search(r"turn, browse +journey +([\d.]+) µs", out)
    assert shop, out
    assert browse, out
    assert float(shop.group(1)) > 0
    assert float(browse.group(1)) > 0
    assert re.search(r"shop/browse +[\d.]+x \(the cart writes\)", out)
