"""`omniroute serve` as a newcomer runs it: a process that migrates, seeds, serves the USSD
endpoint, says which event loop it runs on, and stops cleanly on Ctrl+C — on uvloop (the
default) and on the standard asyncio loop (OMNIROUTE_EVENT_LOOP=asyncio)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from urllib.parse import urlencode

import pytest

from tests.support.ports import free_port

pytestmark = pytest.mark.slow

CLI = [sys.executable, "-m", "core.app.cli"]


def _environment(tmp_path: Path, loop: str | None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("OMNIROUTE_")}
    env.update(
        OMNIROUTE_DATABASE_URL=f"sqlite+aiosqlite:///{tmp_path / 'omniroute.db'}",
        OMNIROUTE_OBJECT_STORE_URL=f"file://{tmp_path / 'objects'}",
        OMNIROUTE_TEMPORAL="off",  # no Temporal dev server: this test is about the process
    )
    if loop is not None:
        env["OMNIROUTE_EVENT_LOOP"] = loop
    return env


def _wait_until_serving(process: subprocess.Popen[str], port: int) -> tuple[str, str]:
    """The announcement line and what the gateway printed before it (its start-up log), once
    the gateway answers /healthz."""
    assert process.stdout is not None
    deadline = time.monotonic() + 90
    before: list[str] = []
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        if not line and process.poll() is not None:
            raise AssertionError(f"serve exited with {process.returncode}")
        if line.startswith("OmniRoute serving"):
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=5) as health:
                assert health.status == 200
            return line, "".join(before)
        before.append(line)
    raise AssertionError("serve did not announce itself within 90 s")


@pytest.mark.parametrize(("setting", "expected"), [(None, "uvloop"), ("asyncio", "asyncio")])
def test_serve_answers_a_dial_on_its_event_loop_and_stops_on_ctrl_c(
    tmp_path: Path, setting: str | None, expected: str
) -> None:
    env = _environment(tmp_path, setting)
    for command in (["migrate"], ["seed", "--demo"]):
        subprocess.run([*CLI, *command], cwd=tmp_path, env=env, check=True, timeout=120)
    port = free_port()
    process = subprocess.Popen(
        [*CLI, "serve", "--host", "127.0.0.1", "--port", str(port)],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        announced, startup_log = _wait_until_serving(process, port)
        assert f"http://127.0.0.1:{port} on {expected}" in announced
        # Started: the collector no longer walks the start-up heap (core/app/heap.py).
        assert "heap.frozen" in startup_log
        form = {
            "sessionId": "serve-test-1",
            "serviceCode": "*384*123#",
            "phoneNumber": "+2348030000001",
            "networkCode": "62130",
            "text": "",
        }
        request = urllib.request.Request(
            # A query string as Africa's Talking's callback token puts there: never logged.
            f"http://127.0.0.1:{port}/channels/africastalking/ussd?token=never-logged",
            data=urlencode(form).encode(),
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        )
        with urllib.request.urlopen(request, timeout=10) as dial:
            assert dial.status == 200
            screen = dial.read().decode()
        assert screen.startswith("CON ")
        assert "1. Shop" in screen
        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=60) == 0
        assert process.stdout is not None
        served_log = process.stdout.read()
        # One structured line per request (core/app/logs.py), its path without the query.
        assert "http.request" in served_log
        assert "path=/channels/africastalking/ussd" in served_log
        assert "status=200" in served_log
        assert "never-logged" not in served_log
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        assert process.stdout is not None
        process.stdout.close()
