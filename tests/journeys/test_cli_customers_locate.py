"""`omniroute customers locate`: an operator sets where a customer's deliveries go, and route
planning finds the point; a wrong argument is one clear line and exit 2, nothing stored."""

from __future__ import annotations

import asyncio

import pytest

from core.app.bootstrap import build_services
from core.app.cli import main
from core.config import Settings
from core.phone import Phone
from engines.customers import DeliveryPoint
from engines.gig import GeoPoint

AMINA = Phone("+2348030000777")  # a Lagos retailer with no delivery point yet


def points(database_url: str) -> dict[Phone, DeliveryPoint]:
    async def run() -> dict[Phone, DeliveryPoint]:
        services = build_services(Settings(env="test", database_url=database_url, _env_file=None))
        try:
            return await services.customers.delivery_points([AMINA])
        finally:
            await services.close()

    return asyncio.run(run())


def test_locate_sets_the_point_route_planning_uses(
    database_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("OMNIROUTE_DATABASE_URL", database_url)
    assert points(database_url) == {}
    argv = ["customers", "locate", "--phone", AMINA.e164, "--lat", "6.4474", "--lon", "3.3640"]

    assert main([*argv, "--address", "3 Creek Road,  Apapa"]) == 0
    assert "+2348030000777: delivery point 6.4474, 3.364" in capsys.readouterr().out
    assert points(database_url) == {
        AMINA: DeliveryPoint("3 Creek Road, Apapa", GeoPoint(6.4474, 3.364))
    }

    # moved: the new point replaces the old one
    assert main([*argv[:-4], "--lat", "6.60", "--lon", "3.35", "--address", "Ikeja"]) == 0
    assert points(database_url)[AMINA] == DeliveryPoint("Ikeja", GeoPoint(6.60, 3.35))


def test_moving_the_point_alone_keeps_the_address_drivers_read(
    database_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """An operator nudged Amina's pin without repeating her address: the driver's screen then
    read '+2348030000777' where '3 Creek Road, Apapa' had been."""
    monkeypatch.setenv("OMNIROUTE_DATABASE_URL", database_url)
    argv = ["customers", "locate", "--phone", AMINA.e164]
    assert main([*argv, "--lat", "6.4474", "--lon", "3.3640", "--address", "3 Creek Road"]) == 0

    assert main([*argv, "--lat", "6.4480", "--lon", "3.3652"]) == 0

    assert "(3 Creek Road)" in capsys.readouterr().out.splitlines()[-1]
    assert points(database_url) == {AMINA: DeliveryPoint("3 Creek Road", GeoPoint(6.4480, 3.3652))}


@pytest.mark.parametrize(
    ("phone", "lat", "lon", "said"),
    [
        ("08030000777", "6.45", "3.36", "--phone must be E.164"),
        ("+23480300", "6.45", "3.36", "--phone is not a valid E.164 number"),
        ("+14155550100", "6.45", "3.36", "country US is not served"),
        ("+2348030000777", "north", "3.36", "--lat is not a number"),
        ("+2348030000777", "91", "3.36", "--lat must be between -90 and 90"),
        ("+2348030000777", "6.45", "nan", "--lon must be between -180 and 180"),
        ("+2348030000777", "6.45", "-181", "--lon must be between -180 and 180"),
        # Nairobi's coordinates for a Nigerian number: a swapped or mistyped point
        ("+2348030000777", "-1.2864", "36.8172", "is outside NG, the country of +2348030000777"),
        ("+254712345678", "6.45", "3.36", "is outside KE"),
        ("+27821234567", "33.9249", "18.4241", "is outside ZA"),  # the sign of the latitude lost
    ],
)
def test_a_wrong_argument_is_one_line_and_exit_2(
    database_url: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    phone: str,
    lat: str,
    lon: str,
    said: str,
) -> None:
    monkeypatch.setenv("OMNIROUTE_DATABASE_URL", database_url)
    assert main(["customers", "locate", "--phone", phone, "--lat", lat, "--lon", lon]) == 2
    err = capsys.readouterr().err
    assert err.startswith("omniroute customers locate: ")
    assert said in err
    assert err.count("\n") == 1
    assert points(database_url) == {}


def test_an_address_too_long_or_blank_is_refused(
    database_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("OMNIROUTE_DATABASE_URL", database_url)
    for address in ("   ", "x" * 500):
        argv = ["customers", "locate", "--phone", AMINA.e164, "--lat", "6.45", "--lon", "3.36"]
        assert main([*argv, "--address", address]) == 2
        assert "--address: an address is 1 to" in capsys.readouterr().err
    assert points(database_url) == {}


def test_missing_coordinates_are_an_argument_error(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["customers", "locate", "--phone", AMINA.e164, "--lat", "6.45"])
    assert exited.value.code == 2
    assert "--lon" in capsys.readouterr().err
