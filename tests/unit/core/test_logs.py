"""Every log line is structured, the libraries' too, and no request's query string is logged."""

from __future__ import annotations

import asyncio
import io
import json
import logging
import socket
import sys
from collections.abc import Iterator

import pytest
import structlog
from aiohttp import ClientSession, web

from core.app.logs import AccessLog, configure_logging
from core.config import Settings


@pytest.fixture
def restored_logging() -> Iterator[None]:
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    yield
    root.handlers, root.level = handlers, level
    structlog.reset_defaults()


def _lines(err: str) -> list[dict[str, object]]:
    return [json.loads(line) for line in err.splitlines() if line.strip()]


@pytest.mark.usefixtures("restored_logging")
def test_in_production_omniroutes_and_the_libraries_lines_are_json(
    capsys: pytest.CaptureFixture[str],
) -> None:
    configure_logging(Settings(env="production", _env_file=None))
    structlog.get_logger("core.app.heap").info("heap.frozen", objects=3)
    logging.getLogger("aiokafka.consumer.group_coordinator").info(
        "Successfully synced group %s with generation %s", "payouts", 0
    )
    logging.getLogger("temporalio.worker").debug("below the level: not written")
    try:
        raise RuntimeError("broker gone")
    except RuntimeError:
        logging.getLogger("core.bus.kafka").exception("kafka.consumer_failed")

    ours, library, failure = _lines(capsys.readouterr().err)
    assert ours["event"] == "heap.frozen"
    assert ours["objects"] == 3
    assert ours["level"] == "info"
    assert ours["logger"] == "core.app.heap"
    assert library["event"] == "Successfully synced group payouts with generation 0"
    assert library["logger"] == "aiokafka.consumer.group_coordinator"
    assert library["level"] == "info"
    assert str(library["timestamp"]).endswith("Z")
    assert failure["level"] == "error"
    assert "RuntimeError: broker gone" in str(failure["exception"])


@pytest.mark.usefixtures("restored_logging")
def test_on_a_laptop_the_same_lines_are_readable_text(capsys: pytest.CaptureFixture[str]) -> None:
    configure_logging(Settings(env="dev", _env_file=None))
    logging.getLogger("temporalio.worker").info("Beginning worker shutdown")
    line = capsys.readouterr().err.strip()
    assert "[info" in line
    assert "Beginning worker shutdown" in line
    assert "[temporalio.worker]" in line
    with pytest.raises(json.JSONDecodeError):
        json.loads(line)


@pytest.mark.usefixtures("restored_logging")
async def test_a_request_is_logged_with_its_path_status_and_time_but_not_its_query(
    capsys: pytest.CaptureFixture[str],
) -> None:
    configure_logging(Settings(env="production", _env_file=None))

    async def ussd(_request: web.Request) -> web.Response:
        return web.Response(text="CON hello")

    app = web.Application()
    app.router.add_post("/channels/africastalking/ussd", ussd)
    # As `omniroute serve` runs it: web.run_app(..., access_log_class=AccessLog) makes this runner.
    runner = web.AppRunner(app, access_log_class=AccessLog)
    await runner.setup()
    site = web.SockSite(runner, socket.create_server(("127.0.0.1", 0)))
    await site.start()
    base = f"http://127.0.0.1:{runner.addresses[0][1]}"
    try:
        async with ClientSession() as client:
            url = f"{base}/channels/africastalking/ussd?token=s3cret-callback-token"
            async with client.post(url) as answer:
                assert answer.status == 200
            url = f"{base}/channels/meta/whatsapp?hub.verify_token=v3rify"
            async with client.get(url) as missing:
                assert missing.status == 404
    finally:
        await runner.cleanup()

    err = capsys.readouterr().err
    assert "s3cret" not in err
    assert "v3rify" not in err
    posted, not_found = (line for line in _lines(err) if line["event"] == "http.request")
    assert posted["method"] == "POST"
    assert posted["path"] == "/channels/africastalking/ussd"
    assert posted["status"] == 200
    assert posted["bytes"] > len("CON hello")  # what was sent, the headers included
    assert isinstance(posted["ms"], float)
    assert posted["logger"] == "aiohttp.access"
    assert not_found["path"] == "/channels/meta/whatsapp"
    assert not_found["status"] == 404


@pytest.mark.usefixtures("restored_logging")
async def test_a_request_that_cannot_be_parsed_is_one_info_line_without_its_request_line(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """A scanner's or a broken client's bytes are their mistake: no error, no traceback, and
    the query string it carried (a callback's token) stays out of the log."""
    configure_logging(Settings(env="production", _env_file=None))
    runner = web.AppRunner(web.Application(), access_log_class=AccessLog)
    await runner.setup()
    site = web.SockSite(runner, socket.create_server(("127.0.0.1", 0)))
    await site.start()
    try:
        reader, writer = await asyncio.open_connection("127.0.0.1", runner.addresses[0][1])
        writer.write(b"GET /channels/web/ws?access_token=s3cret\x01 HTTP/1.1\r\nHost: x\r\n\r\n")
        answer = await reader.read()
        writer.close()
    finally:
        await runner.cleanup()

    assert answer.startswith(b"HTTP/1.0 400 ")
    err = capsys.readouterr().err
    assert "s3cret" not in err
    lines = _lines(err)
    assert all(line["level"] == "info" for line in lines), lines
    [bad] = [line for line in lines if line["event"] == "http.bad_request"]
    assert bad["status"] == 400
    assert bad["reason"] == "Invalid char in url query"
    assert bad["remote"] == "127.0.0.1"
    assert "exception" not in bad


@pytest.mark.usefixtures("restored_logging")
def test_lines_go_to_the_stderr_of_the_moment_even_after_the_first_one_is_closed(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    first, second = io.StringIO(), io.StringIO()
    monkeypatch.setattr(sys, "stderr", first)
    configure_logging(Settings(env="production", _env_file=None))
    first.close()  # as a test harness closes the capture it had handed out
    monkeypatch.setattr(sys, "stderr", second)

    logging.getLogger("alembic.runtime.migration").info("Context impl %s.", "SQLiteImpl")

    [line] = _lines(second.getvalue())
    assert line["event"] == "Context impl SQLiteImpl."
