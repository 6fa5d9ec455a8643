"""The gig platform: workers, their vehicles and shifts, delivery tasks, offers, proofs and pay.

Pure domain code. A task is one delivery route (an ordered list of stops) taken by one worker;
it is offered to the best available worker, who accepts or declines by phone; each stop is
proved by the customer's one-time code, and each proved stop earns money.
"""

from __future__ import annotations

import hashlib
import math
import re
import uuid
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from enum import StrEnum

from core.bank import BankAccount, InvalidBankAccountError
from core.money import Money
from core.phone import Phone
from core.region import RegionCode, zone

CODE_DIGITS = 4
MAX_CODE_ATTEMPTS = 3
MAX_DOCUMENT_BYTES = 5 * 1024 * 1024
DOCUMENT_TYPES = {"image/jpeg": "jpg", "image/png": "png", "application/pdf": "pdf"}
_NATIONAL_ID = re.compile(r"^[A-Z0-9]{5,20}$")
_PLATE = re.compile(r"^[A-Z0-9][A-Z0-9 -]{1,10}[A-Z0-9]$")
# Roads are not straight: a leg is the great-circle distance times this, as the day planner
# measures it (`engines.routing.GreatCircleMatrix`'s default).
ROAD_FACTOR = 1.3


class GigError(Exception):
    """Base of the gig context's domain errors."""


class InvalidWorkerError(GigError):
    """An onboarding field is wrong; `field` names it for the form that sent it."""

    def __init__(self, field_name: str, reason: str) -> None:
        super().__init__(f"{field_name}: {reason}")
        self.field = field_name
        self.reason = reason


class UnknownWorkerError(GigError):
    pass


class UnknownTaskError(GigError):
    pass


class OfferClosedError(GigError):
    """The offer was already answered, withdrawn or has expired."""


class DriverBusyError(OfferClosedError):
    """The driver already holds a route in progress for that time: one route at a time. The
    offer is closed (as declined) and its route goes to another driver."""

    def __init__(self, offer: str, busy_with: str) -> None:
        super().__init__(f"{offer}: the driver is on route {busy_with}")
        self.busy_with = busy_with  # the reference of the route in progress


class TaskStateError(GigError):
    """The task is not in a state that allows this (not this worker's, already done...)."""


class EscalationError(GigError):
    """An escalated delivery cannot be resolved as asked; the message says why, in one line."""


class VehicleKind(StrEnum):
    BICYCLE = "bicycle"
    MOTORBIKE = "motorbike"
    TRICYCLE = "tricycle"
    CAR = "car"
    VAN = "van"
    TRUCK = "truck"


class DocumentKind(StrEnum):
    NATIONAL_ID = "national_id"
    DRIVING_LICENCE = "driving_licence"
    VEHICLE_PHOTO = "vehicle_photo"


class WorkerStatus(StrEnum):
    PENDING = "pending"  # documents missing
    ACTIVE = "active"
    SUSPENDED = "suspended"


@dataclass(frozen=True, slots=True)
class GeoPoint:
    lat: float
    lon: float

    def __post_init__(self) -> None:
        if not (-90 <= self.lat <= 90 and -180 <= self.lon <= 180):
            raise ValueError(f"not a place on Earth: {self.lat}, {self.lon}")

    def km_to(self, other: GeoPoint) -> float:
        """Great-circle distance (haversine), good enough to rank who is nearest."""
        p1, p2 = math.radians(self.lat), math.radians(other.lat)
        dp, dl = p2 - p1, math.radians(other.lon - self.lon)
        a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
        return 2 * 6371.0 * math.asin(math.sqrt(a))

    def leg_km(self, other: GeoPoint) -> Decimal:
        """The drive to `other` as a route's leg is paid: by road, to 100 m."""
        return Decimal(f"{self.km_to(other) * ROAD_FACTOR:.1f}")


@dataclass(frozen=True, slots=True)
class Vehicle:
    kind: VehicleKind
    plate: str | None
    capacity_units: int

    @property
    def motorised(self) -> bool:
        return self.kind is not VehicleKind.BICYCLE


@dataclass(frozen=True, slots=True)
class Onboard:
    """A new worker as the onboarding form (or an agent) submits it."""

    phone: Phone
    name: str
    national_id: str
    region: RegionCode
    vehicle: Vehicle
    locale: str | None = None
    bank: BankAccount | None = None  # where payouts go (Lagos, Cape Town); M-Pesa in Kenya


def validate(command: Onboard) -> Onboard:
    """Clean and check an onboarding form; raises InvalidWorkerError naming the bad field."""
    name = " ".join(command.name.split())
    if not 2 <= len(name) <= 80:
        raise InvalidWorkerError("name", "between 2 and 80 characters")
    national_id = command.national_id.replace(" ", "").upper()
    if not _NATIONAL_ID.match(national_id):
        raise InvalidWorkerError("national_id", "5 to 20 letters or digits")
    plate = command.vehicle.plate.upper().strip() if command.vehicle.plate else None
    if command.vehicle.motorised and (plate is None or not _PLATE.match(plate)):
        raise InvalidWorkerError("plate", "a motorised vehicle needs its number plate")
    if not 1 <= command.vehicle.capacity_units <= 10_000:
        raise InvalidWorkerError("capacity_units", "between 1 and 10000")
    vehicle = Vehicle(command.vehicle.kind, plate, command.vehicle.capacity_units)
    bank = None
    if command.bank is not None:
        bank = checked_bank(command.region, command.bank.bank_code, command.bank.number)
    return Onboard(command.phone, name, national_id, command.region, vehicle, command.locale, bank)


def checked_bank(region: RegionCode, bank_code: str, number: str) -> BankAccount:
    """The payout account for a worker of `region`; InvalidWorkerError names the bad field."""
    try:
        return BankAccount.parse(region, bank_code, number)
    except InvalidBankAccountError as bad:
        raise InvalidWorkerError(bad.field, bad.reason) from bad


def required_documents(vehicle: Vehicle) -> frozenset[DocumentKind]:
    if vehicle.motorised:
        return frozenset({DocumentKind.NATIONAL_ID, DocumentKind.DRIVING_LICENCE})
    return frozenset({DocumentKind.NATIONAL_ID})


@dataclass(frozen=True, slots=True)
class Worker:
    id: uuid.UUID
    phone: Phone
    name: str
    national_id: str
    region: RegionCode
    locale: str | None
    vehicle: Vehicle
    status: WorkerStatus
    available: bool
    position: GeoPoint | None
    rating_total: int
    rating_count: int
    created_at: datetime
    bank: BankAccount | None = None

    @property
    def rating(self) -> Decimal:
        """Mean stars; a newcomer counts as 4 so they get work before anyone has rated them."""
        if self.rating_count == 0:
            return Decimal(4)
        return (Decimal(self.rating_total) / self.rating_count).quantize(Decimal("0.01"))


@dataclass(frozen=True, slots=True)
class Document:
    id: uuid.UUID
    worker_id: uuid.UUID
    kind: DocumentKind
    object_key: str
    content_type: str
    size: int
    uploaded_at: datetime


@dataclass(frozen=True, slots=True)
class Shift:
    id: uuid.UUID
    worker_id: uuid.UUID
    starts_at: datetime
    ends_at: datetime

    def covers(self, at: datetime) -> bool:
        return self.starts_at <= at < self.ends_at


def local_shift(
    region: RegionCode, day: date, starts: time, ends: time
) -> tuple[datetime, datetime]:
    """The UTC instants of a shift from `starts` to `ends` on the region's `day`, in its time;
    one ending at or before it starts ends the next day (a night shift, 22:00-06:00)."""
    start = datetime.combine(day, starts, tzinfo=zone(region))
    end = datetime.combine(day, ends, tzinfo=zone(region))
    if end <= start:
        end += timedelta(days=1)
    return start.astimezone(UTC), end.astimezone(UTC)


# --- routes in, tasks out -----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class RouteStop:
    """One stop of a planned route, in visiting order; `leg_km` is the drive from the stop
    before it (or from the depot, for the first)."""

    order_reference: str
    customer: Phone
    address: str
    point: GeoPoint
    units: int
    leg_km: Decimal


@dataclass(frozen=True, slots=True)
class DeliveryRoute:
    """What the route optimiser hands over: one vehicle's ordered stops from a depot."""

    route_id: str
    region: RegionCode
    depot: GeoPoint
    departure: datetime
    stops: tuple[RouteStop, ...]
    # back at the depot, as planned (None: the optimiser did not say)
    returns_at: datetime | None = None


class TaskStatus(StrEnum):
    OPEN = "open"  # waiting for an offer
    OFFERED = "offered"  # one worker has an open offer
    ASSIGNED = "assigned"  # accepted; the worker is on the road
    COMPLETED = "completed"
    CANCELLED = "cancelled"
    EXPIRED = "expired"  # its day ended before anyone started it (`GigService.expire_stale_tasks`)


class StopStatus(StrEnum):
    PENDING = "pending"
    ARRIVED = "arrived"
    DELIVERED = "delivered"
    ESCALATED = "escalated"  # three wrong codes, or a problem reported: an operator takes over
    RETURNED = "returned"  # escalated, and the operator had the goods brought back


# What an operator may make of an escalated stop (`GigService.resolve_escalation`).
RESOLUTIONS = frozenset({StopStatus.DELIVERED, StopStatus.RETURNED})


# A task someone could still be sent on.
LIVE = frozenset({TaskStatus.OPEN, TaskStatus.OFFERED, TaskStatus.ASSIGNED})


class ExpiryReason(StrEnum):
    NOT_TAKEN = "not_taken"  # nobody accepted it on its day
    NOT_STARTED = "not_started"  # accepted, but no door was reached on its day


@dataclass(frozen=True, slots=True)
class TaskStop:
    position: int
    order_reference: str
    customer: Phone
    address: str
    point: GeoPoint
    units: int
    leg_km: Decimal
    status: StopStatus = StopStatus.PENDING
    code_attempts: int = 0

    @property
    def open(self) -> bool:
        return self.status in (StopStatus.PENDING, StopStatus.ARRIVED)

    @property
    def reached(self) -> bool:
        """The driver got to the door (arrived, a code keyed, delivered, escalated...)."""
        return self.status is not StopStatus.PENDING or self.code_attempts > 0


@dataclass(frozen=True, slots=True)
class Task:
    id: uuid.UUID
    reference: str
    route_id: str
    region: RegionCode
    depot: GeoPoint
    departure: datetime
    status: TaskStatus
    worker_id: uuid.UUID | None
    stops: tuple[TaskStop, ...]
    created_at: datetime
    # back at the depot, as planned: a driver's shift must last that long (None: not known)
    returns_at: datetime | None = None

    @property
    def duration(self) -> timedelta:
        """How long the route takes as planned, from the depot back to it."""
        return self.returns_at - self.departure if self.returns_at else timedelta(0)

    @property
    def units(self) -> int:
        return sum(s.units for s in self.stops)

    @property
    def km(self) -> Decimal:
        return sum((s.leg_km for s in self.stops), Decimal(0))

    @property
    def next_stop(self) -> TaskStop | None:
        return next((s for s in self.stops if s.open), None)

    @property
    def started(self) -> bool:
        """A door was reached (arrived, a code keyed, delivered, escalated...)."""
        return any(s.reached for s in self.stops)

    @property
    def first_point(self) -> GeoPoint:
        return self.stops[0].point if self.stops else self.depot


class OfferStatus(StrEnum):
    OPEN = "open"
    ACCEPTED = "accepted"
    DECLINED = "declined"
    EXPIRED = "expired"


@dataclass(frozen=True, slots=True)
class Offer:
    id: uuid.UUID
    task_id: uuid.UUID
    worker_id: uuid.UUID
    status: OfferStatus
    offered_at: datetime
    expires_at: datetime


def code_digest(task_id: uuid.UUID, position: int, code: str) -> str:
    """Codes are kept only as digests salted by the stop, so the table never shows them."""
    return hashlib.sha256(f"{task_id}:{position}:{code}".encode()).hexdigest()


# --- proofs and incidents -------------------------------------------------------------------------


class IncidentKind(StrEnum):
    CODE_FAILED = "code_failed"  # three wrong codes
    ROUTE_UNFINISHED = "route_unfinished"  # a door still open at 04:00 local after its route's day
    CUSTOMER_ABSENT = "customer_absent"
    WRONG_ADDRESS = "wrong_address"
    VEHICLE = "vehicle"
    OTHER = "other"


# What a driver reports at a stop himself (the IVR's problem menu, the app's reportProblem),
# in the order the IVR reads them out.
DRIVER_PROBLEMS = (
    IncidentKind.CUSTOMER_ABSENT,
    IncidentKind.WRONG_ADDRESS,
    IncidentKind.VEHICLE,
    IncidentKind.OTHER,
)
# What hands a stop to an operator (it becomes ESCALATED, resolved by hand): three wrong codes,
# the route's day over, or the driver's own report at the door (VEHICLE: every open door).
ESCALATIONS = (IncidentKind.CODE_FAILED, IncidentKind.ROUTE_UNFINISHED, *DRIVER_PROBLEMS)


@dataclass(frozen=True, slots=True)
class Incident:
    id: uuid.UUID
    task_id: uuid.UUID
    worker_id: uuid.UUID
    position: int | None
    kind: IncidentKind
    reported_at: datetime


@dataclass(frozen=True, slots=True)
class ProblemReport:
    """A driver's problem at a stop, reported once: `already` when it was reported before
    (the incident then is that first report, and nobody is told again)."""

    incident: Incident
    already: bool = False


@dataclass(frozen=True, slots=True)
class Proof:
    """How a delivery was proved: the code matched, plus a photo and a GPS fix when the phone
    can send them (a basic phone keys the code only)."""

    photo_ref: str | None = None
    point: GeoPoint | None = None


class CodeCheck(StrEnum):
    DELIVERED = "delivered"
    WRONG = "wrong"
    ESCALATED = "escalated"


@dataclass(frozen=True, slots=True)
class Escalation:
    """A stop waiting for an operator: the order, where it is, why and since when it was
    handed over."""

    order_reference: str
    task_reference: str
    position: int
    customer: Phone
    address: str
    reason: IncidentKind
    since: datetime


@dataclass(frozen=True, slots=True)
class Resolution:
    """An escalated stop resolved by an operator; `already` when an earlier run had done it."""

    order_reference: str
    task_reference: str
    position: int
    outcome: StopStatus
    already: bool = False


@dataclass(frozen=True, slots=True)
class DeliveryResult:
    outcome: CodeCheck
    attempts_left: int
    earned: Money | None = None
    task_completed: bool = False
    # the route's completion bonus, in `earned`; None when a door went to an operator
    bonus: Money | None = None


# --- pay ----------------------------------------------------------------------------------------


class EarningKind(StrEnum):
    STOP = "stop"
    DISTANCE = "distance"
    BONUS = "bonus"


@dataclass(frozen=True, slots=True)
class Tariff:
    """What a stop, a kilometre and a route finished without an escalation pay."""

    per_stop: Money
    per_km: Money
    completion_bonus: Money

    def for_stop(self, leg_km: Decimal) -> tuple[Money, Money]:
        return self.per_stop, self.per_km * leg_km


TARIFFS: dict[str, Tariff] = {
    "NGN": Tariff(
        Money(Decimal(500), "NGN"), Money(Decimal(120), "NGN"), Money(Decimal(1500), "NGN")
    ),
    "KES": Tariff(Money(Decimal(50), "KES"), Money(Decimal(15), "KES"), Money(Decimal(150), "KES")),
    "ZAR": Tariff(Money(Decimal(12), "ZAR"), Money(Decimal(3), "ZAR"), Money(Decimal(40), "ZAR")),
}


@dataclass(frozen=True, slots=True)
class Earning:
    id: uuid.UUID
    worker_id: uuid.UUID
    task_id: uuid.UUID
    kind: EarningKind
    amount: Money
    earned_on: date
    payout_id: uuid.UUID | None = None


class PayoutStatus(StrEnum):
    PENDING = "pending"  # recorded; the payments engine sends the money later
    PAID = "paid"  # the rail confirmed it reached the worker
    FAILED = "failed"  # the rail refused it; nothing left the wallet


@dataclass(frozen=True, slots=True)
class Payout:
    id: uuid.UUID
    worker_id: uuid.UUID
    amount: Money
    earned_on: date
    status: PayoutStatus
    earnings: tuple[uuid.UUID, ...] = field(default=())


def total(amounts: list[Money], currency: str) -> Money:
    result = Money.zero(currency)
    for amount in amounts:
        result = result + amount
    return result
