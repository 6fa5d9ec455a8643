"""Whether this gateway is the only one on its database, so it may take back the claims a killed
run of it left behind (`Services.start`).

A SQLite file is the embedded single-process default: no replica on another host can open it.
Two gateways on one machine still could (another port, the same file), so the one that takes
the lock beside the file (`<file>.gateway.lock`, `flock`, held until the process ends, killed or
not) is alone; one that finds it taken is not. PostgreSQL is where replicas run: never alone.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
from pathlib import Path

from sqlalchemy.engine import make_url


class AloneLock:
    """The lock held while this process is the only gateway on its SQLite file."""

    def __init__(self) -> None:
        self._fd = -1

    def take(self, database_url: str) -> bool:
        """Whether this process is (now) the only gateway on `database_url`."""
        if self._fd >= 0:
            return True
        url = make_url(database_url)
        if url.get_backend_name() != "sqlite" or url.database in (None, "", ":memory:"):
            return False
        fd = os.open(Path(f"{url.database}.gateway.lock"), os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            return False
        self._fd = fd
        return True

    def release(self) -> None:
        if self._fd < 0:
            return
        with contextlib.suppress(OSError):
            os.close(self._fd)  # closing the descriptor gives the flock back
        self._fd = -1
