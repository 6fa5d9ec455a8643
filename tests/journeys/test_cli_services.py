"""`omniroute services publish|list`: an operator publishes a service from a JSON file and
sees it listed; a refused definition prints its problems one per line, a file that is not a
definition one clear line, each with exit 2 and nothing published."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest

from core.app.cli import main
from core.clock import SystemClock
from core.db import Database
from core.ids import RandomIds
from core.phone import Phone
from engines.notifications import NotificationService, message_of

EXAMPLE = Path(__file__).parents[2] / "deploy" / "services" / "order-status.json"


@pytest.fixture
def cli_database(database_url: str, monkeypatch: pytest.MonkeyPatch) -> str:
    """An operator's database, with workflows off (no Temporal to run them)."""
    monkeypatch.setenv("OMNIROUTE_DATABASE_URL", database_url)
    monkeypatch.setenv("OMNIROUTE_TEMPORAL", "off")
    return database_url


def listed(capsys: pytest.CaptureFixture[str]) -> list[list[str]]:
    assert main(["services", "list"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "name,version,published_at,service_code,retired_at"
    return [line.split(",") for line in lines[1:]]


def test_the_example_service_is_published_and_listed_with_its_code(
    cli_database: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["services", "publish", str(EXAMPLE), "--operator", "+2348030000002"]) == 0
    assert capsys.readouterr().out == "published order-status v1\n"
    [(name, version, published_at, code, retired_at)] = listed(capsys)
    assert (name, version, code, retired_at) == ("order-status", "1", "*384*77#", "")
    assert published_at.startswith("20")

    # the same file again: nothing changes, and it says it is live
    assert main(["services", "publish", str(EXAMPLE)]) == 0
    assert capsys.readouterr().out == "published order-status v1\n"
    assert listed(capsys) == [[name, version, published_at, code, ""]]


def test_a_changed_definition_needs_a_new_version_and_the_list_shows_the_newest(
    cli_database: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["services", "publish", str(EXAMPLE)]) == 0
    document = json.loads(EXAMPLE.read_text())
    document["states"][0]["prompts"]["en"] = "Orders"
    changed = tmp_path / "changed.json"
    changed.write_text(json.dumps(document))
    capsys.readouterr()

    assert main(["services", "publish", str(changed)]) == 2
    said = capsys.readouterr()
    assert said.err == "order-status v1 is already published with a different definition\n"
    assert said.out == ""

    document["version"] = 2
    changed.write_text(json.dumps(document))
    assert main(["services", "publish", str(changed)]) == 0
    assert capsys.readouterr().out == "published order-status v2\n"
    assert [row[:2] for row in listed(capsys)] == [["order-status", "2"]]


def test_a_refused_definition_prints_each_problem_and_publishes_nothing(
    cli_database: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    document = json.loads(EXAMPLE.read_text())
    document["states"][0]["transitions"]["3"] = "nowhere"
    del document["states"][2]["prompts"]["sw"]
    broken = tmp_path / "broken.json"
    broken.write_text(json.dumps(document))

    assert main(["services", "publish", str(broken)]) == 2
    said = capsys.readouterr()
    assert said.err.splitlines() == [
        "state 'menu' key '3' goes to unknown 'nowhere'",
        "state 'prices' has no sw prompt",
    ]
    assert listed(capsys) == []


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        ('{"name": "x",', "is not valid JSON (Expecting property name enclosed in double"),
        ("[1, 2]", "is not a service definition (not a JSON object)"),
        (
            json.dumps({"name": "x", "version": 1, "start": "a"}),
            "is not a service definition: states: Field required",
        ),
        (
            json.dumps({"name": "x", "version": "one", "start": "a", "states": []}),
            "is not a service definition: version: Input should be a valid integer",
        ),
    ],
)
def test_a_file_that_is_not_a_definition_is_one_line_and_exit_2(
    cli_database: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    content: str,
    reason: str,
) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text(content)
    assert main(["services", "publish", str(bad)]) == 2
    said = capsys.readouterr()
    assert said.err.startswith(f"omniroute services publish: {bad} {reason}")
    assert said.err.count("\n") == 1
    assert "Traceback" not in said.err
    assert listed(capsys) == []


def test_a_missing_file_or_a_wrong_operator_phone_is_one_line_and_exit_2(
    cli_database: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    missing = tmp_path / "missing.json"
    assert main(["services", "publish", str(missing)]) == 2
    assert capsys.readouterr().err == (
        f"omniroute services publish: cannot read {missing}: No such file or directory\n"
    )
    assert main(["services", "publish", str(EXAMPLE), "--operator", "0803"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("omniroute services publish: --operator 0803: ")
    assert err.count("\n") == 1
    assert listed(capsys) == []


def test_a_retired_service_is_listed_without_its_code_and_gets_it_back_only_if_free(
    cli_database: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["services", "publish", str(EXAMPLE)]) == 0
    capsys.readouterr()

    for _ in range(2):
        assert main(["services", "retire", "order-status"]) == 0
        said = capsys.readouterr()
        assert said.out == "retired order-status: *384*77# gets the shopping dialog\n"
        assert said.err == ""
    # its code answers the shopping dialog now: the row holds it no more
    [(name, version, _published_at, code, retired_at)] = listed(capsys)
    assert (name, version, code) == ("order-status", "1", "")
    assert retired_at.startswith("20")

    # another service took the code meanwhile: putting it back is refused, saying by whom
    airtime = tmp_path / "airtime.json"
    airtime.write_text(json.dumps({**json.loads(EXAMPLE.read_text()), "name": "airtime"}))
    assert main(["services", "publish", str(airtime)]) == 0
    assert main(["services", "retire", "order-status"]) == 0
    assert capsys.readouterr().out.splitlines()[-1] == "retired order-status"
    assert main(["services", "publish", str(EXAMPLE)]) == 2
    assert capsys.readouterr().err == "service code *384*77# is already answered by airtime\n"
    assert [[row[0], *row[3:]] for row in listed(capsys)] == [
        ["airtime", "*384*77#", ""],
        ["order-status", "", retired_at],
    ]

    # once free, publishing it again puts it back on the air, on its code
    assert main(["services", "retire", "airtime"]) == 0
    assert main(["services", "publish", str(EXAMPLE)]) == 0
    capsys.readouterr()
    assert listed(capsys)[1][3:] == ["*384*77#", ""]


def test_an_older_version_published_after_retiring_says_the_service_stays_retired(
    cli_database: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The operator retired order-status (v2 newest) and published v1 again: told "published
    order-status v1", she expected *384*77# to answer it, but the service stayed retired (it
    answers on its newest version's claim). Told what happened, exit 0: v1 is kept."""
    document = json.loads(EXAMPLE.read_text())
    document["version"] = 2
    newer = tmp_path / "v2.json"
    newer.write_text(json.dumps(document))
    assert main(["services", "publish", str(EXAMPLE)]) == 0
    assert main(["services", "publish", str(newer)]) == 0
    capsys.readouterr()
    assert main(["services", "publish", str(EXAMPLE)]) == 0
    assert capsys.readouterr().out == "order-status v1 recorded; order-status v2 stays on the air\n"
    assert main(["services", "retire", "order-status"]) == 0
    capsys.readouterr()

    assert main(["services", "publish", str(EXAMPLE)]) == 0

    assert capsys.readouterr().out == (
        "order-status v1 recorded; order-status is retired — publish v2 or a newer version to"
        " put it back on the air\n"
    )
    [(name, version, _published_at, _code, retired_at)] = listed(capsys)
    assert (name, version) == ("order-status", "2")
    assert retired_at.startswith("20")


def texts_to(database_url: str, phone: str) -> list[str]:
    """What the gateway queued for `phone`, oldest first."""

    async def read() -> list[str]:
        db = Database(database_url)
        try:
            found = await NotificationService(db, SystemClock(), RandomIds()).for_recipient(
                Phone(phone)
            )
        finally:
            await db.dispose()
        ordered = sorted(found, key=lambda d: d.created_at)
        return [message_of(d).reply.text for d in ordered]

    return asyncio.run(read())


def test_an_older_version_published_texts_the_operator_what_stays_on_the_air(
    cli_database: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """order-status v3 is on the air; v1 published with --operator was texted "service
    order-status version 1 is live", and so was v2 once the service was retired: neither was.
    She is told it was recorded and what answers instead, in her market's language."""
    document = json.loads(EXAMPLE.read_text())
    files = {}
    for version in (2, 3):
        document["version"] = version
        files[version] = tmp_path / f"v{version}.json"
        files[version].write_text(json.dumps(document))
    lagos, nairobi = "+2348030000002", "+254711000009"
    assert main(["services", "publish", str(files[3]), "--operator", lagos]) == 0
    assert main(["services", "publish", str(EXAMPLE), "--operator", lagos]) == 0
    assert texts_to(cli_database, lagos) == [
        "OmniRoute: service order-status version 3 is live.",
        "OmniRoute: service order-status version 1 recorded, not put on the air:"
        " version 3 stays live.",
    ]
    assert main(["services", "retire", "order-status"]) == 0

    assert main(["services", "publish", str(files[2]), "--operator", nairobi]) == 0
    assert main(["services", "publish", str(files[2]), "--operator", nairobi]) == 0  # again

    assert texts_to(cli_database, nairobi) == [
        "OmniRoute: huduma order-status toleo 2 imehifadhiwa, lakini order-status imesitishwa:"
        " chapisha toleo 3 au jipya zaidi kuirudisha hewani."
    ]
    capsys.readouterr()


def test_retiring_a_service_never_published_is_one_line_and_exit_2(
    cli_database: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["services", "retire", "order-stauts"]) == 2
    said = capsys.readouterr()
    assert said.err == "omniroute services retire: no service named order-stauts is published\n"
    assert said.out == ""


def test_an_operator_outside_our_markets_is_texted_in_english(
    cli_database: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """The operator's phone is American (head office): publishing crashed with a traceback and
    exit 1 after the service was already on the air, and no SMS went; it is published, said so,
    and the operator texted in English."""
    assert main(["services", "publish", str(EXAMPLE), "--operator", "+12025550123"]) == 0
    assert capsys.readouterr().out == "published order-status v1\n"
    assert [row[:2] for row in listed(capsys)] == [["order-status", "1"]]
    assert texts_to(cli_database, "+12025550123") == [
        "OmniRoute: service order-status version 1 is live."
    ]


def test_putting_a_retired_service_back_on_the_air_texts_the_operator_once_more(
    cli_database: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """order-status v1 was live, then retired; publishing v1 again puts it back on the air, and
    the operator was texted nothing (the same name and version as the first text). She is told
    it is live again, once: publishing it once more changes nothing and texts no one."""
    lagos = "+2348030000002"
    assert main(["services", "publish", str(EXAMPLE), "--operator", lagos]) == 0
    assert main(["services", "retire", "order-status"]) == 0
    assert main(["services", "publish", str(EXAMPLE), "--operator", lagos]) == 0
    assert main(["services", "publish", str(EXAMPLE), "--operator", lagos]) == 0  # again

    assert capsys.readouterr().out.splitlines()[-1] == "published order-status v1"
    assert texts_to(cli_database, lagos) == [
        "OmniRoute: service order-status version 1 is live.",
        "OmniRoute: service order-status version 1 is live.",
    ]
