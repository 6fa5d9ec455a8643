"""Loopback ports for the servers the tests start, chosen where the kernel puts no client.

Binding port 0 hands out a port from the ephemeral range, the range the kernel also draws
from for the source port of every outgoing connection. Between choosing such a port and the
server listening on it, a connection to PostgreSQL, Valkey or a provider stand-in could take
it, and the server fails with "Address already in use". A port just below that range is only
ever taken by something that listens on it, and the probe below checks that nothing does.
"""

from __future__ import annotations

import random
import socket
from pathlib import Path
from typing import Final

LOOPBACK: Final = "127.0.0.1"
_EPHEMERAL_RANGE: Final = Path("/proc/sys/net/ipv4/ip_local_port_range")
_SPAN: Final = 10_000  # how far below the ephemeral range to look
_LOWEST: Final = 10_000  # never among the well-known and registered services' usual ports
_ATTEMPTS: Final = 200
_given: set[int] = set()  # this process's own choices, not yet bound by their servers


def _first_ephemeral_port() -> int | None:
    try:
        return int(_EPHEMERAL_RANGE.read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return None  # not Linux: no range to avoid that we know of


def _bindable(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        try:
            probe.bind((LOOPBACK, port))
        except OSError:
            return False
        return True


def _any_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((LOOPBACK, 0))
        port: int = probe.getsockname()[1]
        return port


def free_port() -> int:
    """A loopback port nothing listens on, outside the range outgoing connections draw from."""
    first = _first_ephemeral_port()
    if first is None or first - _LOWEST < 1_000:
        return _any_port()
    low = max(_LOWEST, first - _SPAN)
    for _ in range(_ATTEMPTS):
        port = random.randrange(low, first)
        if port not in _given and _bindable(port):
            _given.add(port)
            return port
    return _any_port()
