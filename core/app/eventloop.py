"""The event loop the gateway serves on: uvloop by default, the standard one on request.

uvloop implements asyncio's loop on libuv; aiohttp, asyncpg, redis, aiokafka and temporalio run
on it unchanged. Measured side by side (BENCHMARKS.md), a USSD turn costs some 4 % less CPU on
it: a small gain, but free. The standard loop stays one setting away
(`OMNIROUTE_EVENT_LOOP=asyncio`), for tools that only know it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Literal

import uvloop

EventLoopChoice = Literal["uvloop", "asyncio"]


def loop_factory(choice: EventLoopChoice) -> Callable[[], asyncio.AbstractEventLoop]:
    """What creates a new loop of `choice` (for `asyncio.Runner` and `web.run_app`)."""
    if choice == "uvloop":
        return uvloop.new_event_loop
    return asyncio.new_event_loop


def running_loop_name() -> str:
    """'uvloop' or 'asyncio': what the running loop really is (said at start-up)."""
    return "uvloop" if isinstance(asyncio.get_running_loop(), uvloop.Loop) else "asyncio"
