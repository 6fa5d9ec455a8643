"""`omniroute customers locate`: set a customer's delivery point, the place route planning
drives to (orders of a customer without one are left unassigned as `no_location`).

Everything is checked here, at the edge, before the database is touched: the phone is E.164 and
in a market OmniRoute serves, the point is on Earth and inside that market's country.
"""

from __future__ import annotations

import argparse
import asyncio
import math
import sys
from dataclasses import dataclass

from core.app.bootstrap import build_services
from core.config import Settings
from core.phone import InvalidPhoneError, Phone
from core.region import UnsupportedRegionError, region_for_phone
from engines.customers import DeliveryPoint
from engines.gig import GeoPoint

PROG = "omniroute customers locate"


@dataclass(frozen=True, slots=True)
class Box:
    """A country's bounding box, generous by a few km at the borders and the coast."""

    south: float
    north: float
    west: float
    east: float

    def holds(self, lat: float, lon: float) -> bool:
        return self.south <= lat <= self.north and self.west <= lon <= self.east


COUNTRY_BOXES: dict[str, Box] = {
    "NG": Box(4.0, 14.0, 2.6, 14.7),
    "KE": Box(-4.8, 5.1, 33.9, 42.0),
    "ZA": Box(-35.0, -22.1, 16.4, 33.0),
}


class LocateError(ValueError):
    """A locate argument that cannot be right; its message is the one line the operator sees."""


def checked(phone: str, lat: str, lon: str, address: str | None) -> tuple[Phone, DeliveryPoint]:
    """The customer and point, or a LocateError saying what is wrong."""
    if not phone.startswith("+"):
        raise LocateError(f"--phone must be E.164 (+ and country code): {phone!r}")
    try:
        who = Phone.parse(phone)
    except InvalidPhoneError:
        raise LocateError(f"--phone is not a valid E.164 number: {phone!r}") from None
    try:
        market = region_for_phone(who)
    except UnsupportedRegionError:
        raise LocateError(f"--phone {who.e164}: country {who.country} is not served") from None
    y, x = point_in(market.country, lat, lon, whose=f"the country of {who.e164}")
    text = who.e164 if address is None else address
    try:
        return who, DeliveryPoint(text, GeoPoint(y, x))
    except ValueError as exc:
        raise LocateError(f"--address: {exc}") from None


def run(args: argparse.Namespace) -> int:
    try:
        phone, where = checked(args.phone, args.lat, args.lon, args.address)
    except LocateError as exc:
        print(f"{PROG}: {exc}", file=sys.stderr)
        return 2
    where = asyncio.run(_locate(phone, where, keep_address=args.address is None))
    print(f"{phone.e164}: delivery point {where.point.lat}, {where.point.lon} ({where.address})")
    return 0


def point_in(country: str, lat: str, lon: str, *, whose: str) -> tuple[float, float]:
    """--lat and --lon as degrees inside `country` (also a warehouse's: `warehouses locate`),
    or a LocateError naming `whose` country it should be."""
    y, x = _degrees("--lat", lat, 90), _degrees("--lon", lon, 180)
    if not COUNTRY_BOXES[country].holds(y, x):
        raise LocateError(f"--lat/--lon {y}, {x} is outside {country}, {whose}")
    return y, x


def _degrees(flag: str, text: str, limit: int) -> float:
    try:
        value = float(text)
    except ValueError:
        raise LocateError(f"{flag} is not a number: {text!r}") from None
    if not math.isfinite(value) or not -limit <= value <= limit:
        raise LocateError(f"{flag} must be between -{limit} and {limit}: {text!r}")
    return value


async def _locate(phone: Phone, where: DeliveryPoint, *, keep_address: bool) -> DeliveryPoint:
    """Store the point; without --address a known address stays (the phone stands in for
    none), so moving a pin never wipes the address drivers read."""
    services = build_services(Settings())
    try:
        if keep_address:
            known = (await services.customers.delivery_points([phone])).get(phone)
            if known is not None:
                where = DeliveryPoint(known.address, where.point)
        await services.customers.set_delivery_point(phone, where)
        return where
    finally:
        await services.close()
