"""Walking distance of the three pick-path policies on generated warehouses.

    python -m bench.pick_paths [--seeds 20] [--time-limit-ms 300]
    python -m bench.pick_paths --recheck-ms 3000 --seeds 8    # how much a longer search finds

For each warehouse shape (aisles x bays, 4 m between aisle centres, 1.5 m bays, a 2 m front
and back cross-aisle, the dock at the front left) and each pick-list size, `--seeds` random pick
lists are drawn (uniform over bins; repeats of a bin count once) and walked by S-shape, largest
gap and the OR-Tools tour (`engines.wms.paths`). Prints the mean distance per policy, the
S-shape and largest-gap excess over the OR-Tools tour, and the tour's mean solve time.
With --recheck-ms, lists of more than 10 distinct stops (not solved exactly) are solved again
with that longer budget, and how much shorter the longer search's tour is gets printed instead.
"""

from __future__ import annotations

import argparse
import random
import statistics
import time
from collections.abc import Sequence

from engines.wms import Layout, PathPolicy, Point, grid, pick_path

SHAPES = ((6, 20), (10, 30), (20, 40))
SIZES = (5, 10, 20, 40)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=20)
    parser.add_argument("--time-limit-ms", type=int, default=300)
    parser.add_argument("--recheck-ms", type=int, default=0)
    args = parser.parse_args(argv)
    if args.recheck_ms:
        return recheck(args.seeds, args.time_limit_ms, args.recheck_ms)
    print(
        "| aisles x bays | picks | S-shape m | largest gap m | OR-Tools m "
        "| S-shape excess | largest-gap excess | OR-Tools s |"
    )
    print("| --- | --- | --- | --- | --- | --- | --- | --- |")
    for aisles, bays in SHAPES:
        bins = grid("B", "Z", aisles=aisles, bays=bays, aisle_pitch=4.0, bay_pitch=1.5)
        layout = Layout("B", depth=2.0 + bays * 1.5 + 2.0, dock_x=0.0)
        for size in SIZES:
            rng = random.Random(f"{aisles}x{bays}:{size}")
            totals: dict[PathPolicy, list[float]] = {p: [] for p in PathPolicy}
            seconds = []
            for _ in range(args.seeds):
                points = [Point(b.x, b.y) for b in rng.choices(bins, k=size)]
                for policy in PathPolicy:
                    started = time.perf_counter()
                    path = pick_path(layout, points, policy, time_limit_ms=args.time_limit_ms)
                    if policy is PathPolicy.OPTIMAL:
                        seconds.append(time.perf_counter() - started)
                    totals[policy].append(path.distance)
            mean = {p: statistics.fmean(v) for p, v in totals.items()}
            best = mean[PathPolicy.OPTIMAL]
            print(
                f"| {aisles} x {bays} | {size} | {mean[PathPolicy.S_SHAPE]:.1f} "
                f"| {mean[PathPolicy.LARGEST_GAP]:.1f} | {best:.1f} "
                f"| +{100 * (mean[PathPolicy.S_SHAPE] / best - 1):.1f} % "
                f"| +{100 * (mean[PathPolicy.LARGEST_GAP] / best - 1):.1f} % "
                f"| {statistics.fmean(seconds):.2f} |",
                flush=True,
            )
    return 0


def recheck(seeds: int, short_ms: int, long_ms: int) -> int:
    print(f"| aisles x bays | picks | lists improved by {long_ms} ms | mean gain | max gain |")
    print("| --- | --- | --- | --- | --- |")
    for aisles, bays in SHAPES:
        bins = grid("B", "Z", aisles=aisles, bays=bays, aisle_pitch=4.0, bay_pitch=1.5)
        layout = Layout("B", depth=2.0 + bays * 1.5 + 2.0, dock_x=0.0)
        for size in (s for s in SIZES if s > 10):
            rng = random.Random(f"{aisles}x{bays}:{size}")
            gains = []
            for _ in range(seeds):
                points = [Point(b.x, b.y) for b in rng.choices(bins, k=size)]
                quick = pick_path(layout, points, PathPolicy.OPTIMAL, time_limit_ms=short_ms)
                slow = pick_path(layout, points, PathPolicy.OPTIMAL, time_limit_ms=long_ms)
                gains.append(quick.distance / slow.distance - 1)
            improved = sum(g > 1e-9 for g in gains)
            print(
                f"| {aisles} x {bays} | {size} | {improved} of {seeds} "
                f"| {100 * statistics.fmean(gains):.2f} % | {100 * max(gains):.2f} % |",
                flush=True,
            )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
