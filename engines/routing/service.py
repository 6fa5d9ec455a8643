"""Planning as a use case: fetch the travel matrix from the provider, solve off the event loop."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence

from engines.routing.matrix import MatrixProvider
from engines.routing.model import Plan, Problem, TravelMatrix
from engines.routing.solver import SolverSettings, replan, solve


class RoutePlanner:
    """Plans and re-plans routes for a fleet with distances from one matrix provider."""

    def __init__(self, matrices: MatrixProvider, settings: SolverSettings | None = None) -> None:
        self._matrices = matrices
        self._settings = settings or SolverSettings()

    async def matrix(self, problem: Problem) -> TravelMatrix:
        return await self._matrices.table(problem.points)

    async def plan(self, problem: Problem) -> tuple[Plan, TravelMatrix]:
        """The plan and the matrix it was made with (the checker and re-planning need it)."""
        matrix = await self.matrix(problem)
        # The solver holds the CPU for its whole time limit: never on the event loop.
        return await asyncio.to_thread(solve, problem, matrix, self._settings), matrix

    async def replan(
        self, problem: Problem, current: Plan | Mapping[str, Sequence[str]]
    ) -> tuple[Plan, TravelMatrix]:
        """After orders were added or a vehicle dropped out, continue from the current plan
        (or a stored plan's routes, vehicle id -> order ids)."""
        matrix = await self.matrix(problem)
        return await asyncio.to_thread(replan, problem, matrix, current, self._settings), matrix
