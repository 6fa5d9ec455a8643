"""`omniroute routes solve|plan` and `omniroute waves plan`: the planners from the terminal."""

from __future__ import annotations

import argparse
import sys

from core.app.dispatch_plan import plan_day_command
from core.app.routes import print_plan, solve_file
from core.app.waves import plan_command
from core.region import RegionCode
from engines.routing import RoutingError
from engines.wms import WavePolicy


def run(args: argparse.Namespace) -> int:
    if args.command == "waves":
        policy = WavePolicy(args.cutoff_minutes, args.pickers, args.lines_per_picker)
        return plan_command(args.file, policy)
    if args.routes_command == "plan":
        return plan_day_command(RegionCode(args.region), args.date, args.time_limit)
    try:
        plan = solve_file(
            args.file, time_limit=args.time_limit, vehicles=args.vehicles, objective=args.objective
        )
    except RoutingError as exc:
        print(f"omniroute routes solve: {exc}", file=sys.stderr)
        return 2
    print_plan(plan)
    return 0
