"""`omniroute warehouses list|locate`: an operator sees where each warehouse stands and moves
it, and the region's route planning starts from the new point; a wrong argument is one clear
line and exit 2, nothing stored."""

from __future__ import annotations

import asyncio

import pytest

from core.app.bootstrap import build_services
from core.app.cli import main
from core.config import Settings
from engines.wms import Site


def lagos_site(database_url: str) -> Site | None:
    """The warehouse and point the Lagos day plan starts its routes from."""

    async def run() -> Site | None:
        services = build_services(Settings(env="test", database_url=database_url, _env_file=None))
        try:
            return await services.warehouse.site("lagos")
        finally:
            await services.close()

    return asyncio.run(run())


@pytest.fixture
def cli_database(database_url: str, monkeypatch: pytest.MonkeyPatch) -> str:
    """The database as an operator's after `omniroute seed --demo`: a warehouse per region."""
    monkeypatch.setenv("OMNIROUTE_DATABASE_URL", database_url)
    assert main(["seed", "--demo"]) == 0
    return database_url


def test_list_shows_each_warehouse_and_where_it_stands(
    cli_database: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["warehouses", "list"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "id,region,name,lat,lon"
    site = lagos_site(cli_database)
    assert site is not None
    [lagos] = [line for line in lines[1:] if line.startswith(f"{site.warehouse_id},")]
    assert lagos.split(",")[1] == "lagos"
    assert lagos.split(",")[3:] == [str(site.lat), str(site.lon)]
    assert {line.split(",")[1] for line in lines[1:]} == {"lagos", "nairobi", "cape_town"}


def test_locate_moves_the_point_the_regions_routes_start_from(
    cli_database: str, capsys: pytest.CaptureFixture[str]
) -> None:
    before = lagos_site(cli_database)
    assert before is not None
    wh = before.warehouse_id

    assert main(["warehouses", "locate", wh.lower(), "--lat", "6.5244", "--lon", "3.3792"]) == 0

    assert capsys.readouterr().out.startswith(f"{wh} (lagos) stands at 6.5244, 3.3792")
    assert lagos_site(cli_database) == Site(wh, 6.5244, 3.3792)
    assert main(["warehouses", "list"]) == 0
    [row] = [r for r in capsys.readouterr().out.splitlines() if r.startswith(f"{wh},")]
    assert row.split(",")[3:] == ["6.5244", "3.3792"]


@pytest.mark.parametrize(
    ("warehouse", "lat", "lon", "said"),
    [
        ("WH-ATLANTIS", "6.45", "3.36", "no warehouse WH-ATLANTIS (see warehouses list)"),
        ("LAGOS", "north", "3.36", "--lat is not a number"),
        ("LAGOS", "91", "3.36", "--lat must be between -90 and 90"),
        ("LAGOS", "6.45", "nan", "--lon must be between -180 and 180"),
        # Nairobi's coordinates for the Lagos warehouse: a swapped or mistyped point
        ("LAGOS", "-1.2864", "36.8172", "is outside NG"),
        ("LAGOS", "3.36", "6.45", "is outside NG"),  # lat and lon swapped
    ],
)
def test_a_wrong_argument_is_one_line_and_exit_2(
    cli_database: str,
    capsys: pytest.CaptureFixture[str],
    warehouse: str,
    lat: str,
    lon: str,
    said: str,
) -> None:
    before = lagos_site(cli_database)
    assert before is not None
    target = before.warehouse_id if warehouse == "LAGOS" else warehouse

    assert main(["warehouses", "locate", target, "--lat", lat, "--lon", lon]) == 2

    out = capsys.readouterr()
    assert out.out == ""
    [line] = out.err.splitlines()
    assert line.startswith("omniroute warehouses locate: ")
    assert said in line
    assert lagos_site(cli_database) == before
