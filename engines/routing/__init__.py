"""Routing: capacitated vehicle routing with time windows, shifts and optional orders (OR-Tools)."""

from engines.routing.feasibility import violations
from engines.routing.matrix import EuclideanMatrix, GreatCircleMatrix, MatrixProvider
from engines.routing.model import (
    Depot,
    Order,
    Plan,
    Point,
    Problem,
    Route,
    RoutingError,
    Stop,
    TimeWindow,
    TravelMatrix,
    Unassigned,
    UnassignedReason,
    Vehicle,
)
from engines.routing.osrm import OsrmError, OsrmTableMatrix
from engines.routing.plans import (
    PlanClaim,
    PlanStop,
    PlanStopStatus,
    RoutePlanStore,
    StoredPlan,
)
from engines.routing.service import RoutePlanner
from engines.routing.solomon import SolomonInstance, parse_solomon, vehicles_first
from engines.routing.solver import SolverSettings, replan, solve

__all__ = [
    "Depot",
    "EuclideanMatrix",
    "GreatCircleMatrix",
    "MatrixProvider",
    "Order",
    "OsrmError",
    "OsrmTableMatrix",
    "Plan",
    "PlanClaim",
    "PlanStop",
    "PlanStopStatus",
    "Point",
    "Problem",
    "Route",
    "RoutePlanStore",
    "RoutePlanner",
    "RoutingError",
    "SolomonInstance",
    "SolverSettings",
    "Stop",
    "StoredPlan",
    "TimeWindow",
    "TravelMatrix",
    "Unassigned",
    "UnassignedReason",
    "Vehicle",
    "parse_solomon",
    "replan",
    "solve",
    "vehicles_first",
    "violations",
]
