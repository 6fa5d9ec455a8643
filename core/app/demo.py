"""The demo catalogue: three regions, eight categories, 34 products each, stock and a promotion.

Loading is idempotent: existing rows are left as they are, so `make run` can seed every time.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from sqlalchemy import Table, select
from sqlalchemy.ext.asyncio import AsyncSession

from core.db import Database
from core.region import REGIONS, Region, RegionCode, local_date
from engines.catalogue.tables import (
    categories,
    product_aliases,
    products,
    stock_levels,
    warehouses,
)
from engines.customers.tables import customers
from engines.gig import local_shift
from engines.gig.tables import gig_shifts, gig_workers
from engines.pricing.tables import (
    contract_prices,
    customer_terms,
    delivery_zones,
    prices,
    promotions,
    segment_prices,
)
from engines.wms import grid
from engines.wms.tables import wms_layouts, wms_locations, wms_stock, wms_zones

# (id, English, Swahili, French): Pidgin reads the English names; GSM-7 has no â, so "pates".
CATEGORIES: list[tuple[str, str, str, str]] = [
    ("noodles", "Noodles & Pasta", "Tambi na Pasta", "Nouilles et pates"),
    ("rice", "Rice & Grains", "Mchele na Nafaka", "Riz et céréales"),
    ("oil", "Cooking Oil", "Mafuta ya Kupikia", "Huile de cuisine"),
    ("drinks", "Drinks", "Vinywaji", "Boissons"),
    ("dairy", "Milk & Dairy", "Maziwa", "Lait et laitages"),
    ("care", "Personal Care", "Usafi wa Mwili", "Hygiène"),
    ("cleaning", "Household Cleaning", "Usafi wa Nyumba", "Entretien maison"),
    ("snacks", "Snacks & Biscuits", "Vitafunio na Biskuti", "Snacks et biscuits"),
]
# Hausa, Yoruba and Igbo names, in the plain GSM-7 letters their catalogues use (no hooked,
# dotted or tone-marked letters); Indomie is what Lagos calls noodles.
CATEGORY_NAMES_NG: dict[str, dict[str, str]] = {
    "noodles": {"ha": "Taliya da Indomie", "yo": "Indomie ati Pasita", "ig": "Indomie na Pasta"},
    "rice": {"ha": "Shinkafa da Hatsi", "yo": "Iresi ati Oka", "ig": "Osikapa na Mkpuru"},
    "oil": {"ha": "Man Girki", "yo": "Epo Idana", "ig": "Mmanu Esi Nri"},
    "drinks": {"ha": "Abin Sha", "yo": "Ohun Mimu", "ig": "Ihe Onunu"},
    "dairy": {"ha": "Madara", "yo": "Wara", "ig": "Mmiri Ara Ehi"},
    "care": {"ha": "Kula da Jiki", "yo": "Itoju Ara", "ig": "Nlekota Ahu"},
    "cleaning": {"ha": "Tsaftar Gida", "yo": "Imototo Ile", "ig": "Nhicha Ulo"},
    "snacks": {"ha": "Ciye-ciye da Biskit", "yo": "Ipanu ati Biskiti", "ig": "Nri Nta na Biskit"},
}

# Each promotion's name in every language a shopper can choose (Hausa, Yoruba and Igbo in plain
# GSM-7 letters, as the category names): Promotion.name() falls back to English.
PROMOTION_NAMES: dict[str, dict[str, str]] = {
    "NOODLE-WEEK": {
        "en": "Noodle week",
        "sw": "Wiki ya tambi",
        "fr": "Semaine des nouilles",
        "pcm": "Noodles week",
        "ha": "Makon taliya",
        "yo": "Ose nudulu",
        "ig": "Izu nudulu",
    },
    "COLA-10-1": dict.fromkeys(("en", "sw", "fr", "pcm", "ha", "yo", "ig"), "Cola 10+1"),
    "BREAKFAST": {
        "en": "Breakfast bundle",
        "sw": "Kifurushi cha kifungua kinywa",
        "fr": "Lot petit-déjeuner",
        "pcm": "Breakfast package",
        "ha": "Kunshin karin kumallo",
        "yo": "Idii ounje aaro",
        "ig": "Ngwugwu nri ututu",
    },
    "FREE-DELIVERY": {
        "en": "Free delivery",
        "sw": "Usafirishaji bure",
        "fr": "Livraison offerte",
        "pcm": "Delivery wey free",
        "ha": "Kai kaya kyauta",
        "yo": "Ifijise ofe",
        "ig": "Nnyefe n'efu",
    },
    "WELCOME": {
        "en": "Welcome code",
        "sw": "Msimbo wa karibu",
        "fr": "Code de bienvenue",
        "pcm": "Welcome code",
        "ha": "Lambar maraba",
        "yo": "Koodu kaabo",
        "ig": "Koodu nnabata",
    },
}


@dataclass(frozen=True, slots=True)
class DemoProduct:
    sku: str
    category: str
    name: str
    unit: str
    usd: Decimal


def _p(sku: str, category: str, name: str, unit: str, usd: str) -> DemoProduct:
    return DemoProduct(sku, category, name, unit, Decimal(usd))


PRODUCTS: list[DemoProduct] = [
    _p("NDL-INDO-CHK", "noodles", "Indomie Chicken 40x70g", "carton", "6.20"),
    _p("NDL-INDO-ONP", "noodles", "Indomie Onion 40x70g", "carton", "6.20"),
    _p("NDL-SPAG-500", "noodles", "Spaghetti 20x500g", "carton", "9.40"),
    _p("NDL-MACA-500", "noodles", "Macaroni 20x500g", "carton", "9.10"),
    _p("RCE-LONG-25K", "rice", "Long Grain Rice 25kg", "bag", "24.00"),
    _p("RCE-BASM-10K", "rice", "Basmati Rice 10kg", "bag", "16.50"),
    _p("GRN-MAIZ-10K", "rice", "Maize Flour 10kg", "bag", "7.80"),
    _p("GRN-WHEA-10K", "rice", "Wheat Flour 10kg", "bag", "9.60"),
    _p("OIL-VEG-5L", "oil", "Vegetable Oil 4x5L", "carton", "21.00"),
    _p("OIL-PALM-5L", "oil", "Palm Oil 4x5L", "carton", "19.00"),
    _p("OIL-SUNF-1L", "oil", "Sunflower Oil 12x1L", "carton", "17.40"),
    _p("OIL-GNUT-1L", "oil", "Groundnut Oil 12x1L", "carton", "18.20"),
    _p("DRK-COLA-35", "drinks", "Cola 24x35cl", "crate", "7.20"),
    _p("DRK-ORNG-35", "drinks", "Orange Soda 24x35cl", "crate", "7.20"),
    _p("DRK-WATR-75", "drinks", "Water 12x75cl", "pack", "2.40"),
    _p("DRK-MALT-33", "drinks", "Malt Drink 24x33cl", "crate", "9.80"),
    _p("DRY-MILK-400", "dairy", "Powdered Milk 12x400g", "carton", "28.00"),
    _p("DRY-EVAP-160", "dairy", "Evaporated Milk 48x160g", "carton", "22.50"),
    _p("DRY-YOGH-500", "dairy", "Yoghurt 12x500ml", "carton", "10.80"),
    _p("DRY-TEA-100", "dairy", "Black Tea 12x100 bags", "carton", "13.20"),
    _p("CAR-SOAP-150", "care", "Bath Soap 72x150g", "carton", "25.00"),
    _p("CAR-PAST-100", "care", "Toothpaste 48x100ml", "carton", "30.00"),
    _p("CAR-LOTN-400", "care", "Body Lotion 12x400ml", "carton", "26.40"),
    _p("CAR-SANI-10", "care", "Sanitary Pads 48x10", "carton", "33.60"),
    _p("CLN-DETG-1K", "cleaning", "Detergent 12x1kg", "carton", "19.80"),
    _p("CLN-BLCH-1L", "cleaning", "Bleach 12x1L", "carton", "9.60"),
    _p("CLN-DISH-750", "cleaning", "Dish Soap 12x750ml", "carton", "12.00"),
    _p("CLN-TISS-10", "cleaning", "Toilet Tissue 10x10", "bale", "11.50"),
    _p("SNK-BISC-24", "snacks", "Cream Biscuits 24x100g", "carton", "8.40"),
    _p("SNK-CHIN-24", "snacks", "Chin Chin 24x150g", "carton", "10.20"),
    _p("SNK-PNUT-24", "snacks", "Roasted Peanuts 24x100g", "carton", "7.60"),
    _p("SNK-SWEE-50", "snacks", "Sweets 50 pieces", "pack", "1.80"),
    # Last, so the products above keep their stock figures and bins; named to list after
    # Wheat Flour, so the shelf's first four keep their keys.
    _p("SUG-WHTE-1K", "rice", "White Sugar 24x1kg", "bale", "26.40"),
    _p("SUG-WHTE-50K", "rice", "White Sugar 50kg", "bag", "48.00"),
]

# Other words retailers type for the demo's products (typed orders read them): Swahili as
# written in Nairobi's dukas, French as in a boutique's order book, and English the names do
# not spell. An alias shared by several products ("mchele", "unga", "mafuta", "huile") gets her
# a choice between them.
ALIASES: dict[str, dict[str, tuple[str, ...]]] = {
    "NDL-INDO-CHK": {
        "sw": ("indomie ya kuku", "tambi za kuku"),
        "en": ("chicken noodles",),
        "fr": ("nouilles poulet",),
    },
    "NDL-INDO-ONP": {
        "sw": ("indomie ya kitunguu", "tambi za kitunguu"),
        "en": ("onion noodles",),
        "fr": ("nouilles oignon",),
    },
    "NDL-SPAG-500": {"sw": ("spageti",), "en": ("pasta",), "fr": ("pates", "spaghettis")},
    "NDL-MACA-500": {"sw": ("makaroni",), "en": ("pasta",), "fr": ("pates", "macaronis")},
    "RCE-LONG-25K": {"sw": ("mchele",), "fr": ("riz",)},
    "RCE-BASM-10K": {"sw": ("mchele basmati", "mchele wa basmati"), "fr": ("riz basmati",)},
    "GRN-MAIZ-10K": {
        "sw": ("unga wa mahindi", "unga wa sembe"),
        "en": ("maize meal",),
        "fr": ("farine de mais",),
    },
    "GRN-WHEA-10K": {"sw": ("unga wa ngano",), "en": ("flour",), "fr": ("farine", "farine de blé")},
    "OIL-VEG-5L": {
        "sw": ("mafuta ya kupikia", "mafuta ya mboga"),
        "en": ("cooking oil",),
        "fr": ("huile", "huile végétale"),
    },
    "OIL-PALM-5L": {"sw": ("mafuta ya mawese",), "fr": ("huile de palme", "huile rouge")},
    "OIL-SUNF-1L": {"sw": ("mafuta ya alizeti",), "fr": ("huile de tournesol",)},
    "OIL-GNUT-1L": {
        "sw": ("mafuta ya karanga",),
        "en": ("peanut oil",),
        "fr": ("huile d'arachide",),
    },
    "DRK-COLA-35": {"sw": ("soda ya kola",), "en": ("coke", "soda"), "fr": ("coca",)},
    "DRK-ORNG-35": {"sw": ("soda ya machungwa",), "en": ("fanta",), "fr": ("orange",)},
    "DRK-WATR-75": {"sw": ("maji",), "en": ("bottled water",), "fr": ("eau", "eau minérale")},
    "DRK-MALT-33": {"sw": ("kinywaji cha malt",), "en": ("malta",)},
    "DRY-MILK-400": {"sw": ("maziwa ya poda",), "en": ("milk powder",), "fr": ("lait en poudre",)},
    "DRY-EVAP-160": {"sw": ("maziwa ya kopo",), "en": ("tinned milk",), "fr": ("lait concentré",)},
    "DRY-YOGH-500": {"sw": ("mtindi", "maziwa mgando"), "en": ("yogurt",), "fr": ("yaourt",)},
    "DRY-TEA-100": {"sw": ("majani ya chai", "chai"), "en": ("tea bags",), "fr": ("thé",)},
    "CAR-SOAP-150": {"sw": ("sabuni ya kuogea",), "en": ("soap",), "fr": ("savon",)},
    "CAR-PAST-100": {"sw": ("dawa ya meno",), "fr": ("dentifrice",)},
    "CAR-LOTN-400": {"sw": ("losheni",), "en": ("cream",), "fr": ("crème", "lotion")},
    "CAR-SANI-10": {
        "sw": ("pedi", "sodo"),
        "en": ("sanitary towels",),
        "fr": ("serviettes hygiéniques",),
    },
    "CLN-DETG-1K": {
        "sw": ("sabuni ya kufulia",),
        "en": ("washing powder", "omo"),
        "fr": ("lessive",),
    },
    "CLN-BLCH-1L": {"sw": ("jik",), "en": ("jik",), "fr": ("eau de javel", "javel")},
    "CLN-DISH-750": {
        "sw": ("sabuni ya vyombo",),
        "en": ("dishwashing liquid",),
        "fr": ("liquide vaisselle",),
    },
    "CLN-TISS-10": {
        "sw": ("karatasi ya choo", "tishu"),
        "en": ("toilet paper", "toilet roll"),
        "fr": ("papier toilette", "papier hygiénique"),
    },
    "SNK-BISC-24": {"sw": ("biskuti",), "en": ("biscuit",), "fr": ("biscuits",)},
    "SNK-PNUT-24": {"sw": ("karanga",), "en": ("groundnuts",), "fr": ("arachides", "cacahuètes")},
    "SNK-SWEE-50": {"sw": ("pipi",), "en": ("candy",), "fr": ("bonbons",)},
    # Not "sukari ya kilo" nor "ya gunia": a weight makes a text no order, a unit word is no name.
    "SUG-WHTE-1K": {"sw": ("sukari", "sukari nyeupe"), "en": ("table sugar",), "fr": ("sucre",)},
    "SUG-WHTE-50K": {"sw": ("sukari", "sukari nyeupe"), "en": ("bulk sugar",), "fr": ("sucre",)},
}

# Rough retail conversion and the step prices are rounded to, per currency.
FX: dict[RegionCode, tuple[Decimal, Decimal]] = {
    RegionCode.LAGOS: (Decimal(1500), Decimal(50)),
    RegionCode.NAIROBI: (Decimal(130), Decimal(5)),
    RegionCode.CAPE_TOWN: (Decimal(18), Decimal(1)),
}

CUSTOMERS: dict[RegionCode, list[tuple[str, str]]] = {
    RegionCode.LAGOS: [("+2348030000001", "Ngozi Okafor"), ("+2348030000002", "Bola Adeyemi")],
    RegionCode.NAIROBI: [("+254711000001", "Juma Mwangi"), ("+254711000002", "Wanjiru Kamau")],
    RegionCode.CAPE_TOWN: [("+27821000001", "Thandi Nkosi"), ("+27821000002", "Pieter Botha")],
}


# --- delivery points: where the demo retailers' orders are delivered (routes need a point) -----

DELIVERY_POINTS: dict[str, tuple[str, float, float]] = {
    "+2348030000001": ("14 Balogun Street, Lagos Island", 6.4541, 3.3890),
    "+2348030000002": ("7 Adeniran Ogunsanya Street, Surulere", 6.4926, 3.3566),
    "+254711000001": ("21 Moi Avenue, Nairobi CBD", -1.2833, 36.8250),
    "+254711000002": ("88 Ngong Road, Kilimani", -1.2996, 36.7870),
    "+27821000001": ("12 Washington Street, Langa", -33.9440, 18.5290),
    "+27821000002": ("5 Main Road, Observatory", -33.9380, 18.4720),
}


async def _add_missing_points(session: AsyncSession) -> int:
    """Demo retailers without a delivery point get theirs (also those seeded before customers
    had one): routes need a point."""
    updated = 0
    for phone, (address, lat, lon) in DELIVERY_POINTS.items():
        result = await session.execute(
            customers.update()
            .where(customers.c.phone == phone, customers.c.lat.is_(None))
            .values(address=address, lat=lat, lon=lon)
        )
        updated += int(result.rowcount or 0)  # type: ignore[attr-defined]
    return updated


def local_price(usd: Decimal, code: RegionCode) -> Decimal:
    rate, step = FX[code]
    return ((usd * rate) / step).quantize(Decimal(1), rounding=ROUND_HALF_UP) * step


def tiered(price: Decimal, off: str, code: RegionCode) -> Decimal:
    step = FX[code][1]
    cut = price * (1 - Decimal(off))
    return (cut / step).quantize(Decimal(1), rounding=ROUND_HALF_UP) * step


def rows_for(market: Region, now: datetime) -> dict[Table, list[dict[str, Any]]]:
    code = market.code
    warehouse = f"WH-{code.value.upper()}"
    product_rows, price_rows, stock_rows = [], [], []
    for index, p in enumerate(PRODUCTS):
        unit = local_price(p.usd, code)
        product_rows.append(
            {
                "region": code.value,
                "sku": p.sku,
                "category_id": p.category,
                "name": p.name,
                "unit": p.unit,
            }
        )
        price_rows.append(
            {
                "region": code.value,
                "sku": p.sku,
                "currency": market.currency,
                "unit_price": unit,
                "tax_class": TAX_CLASSES.get((code, p.sku), "standard"),
                "tiers": [
                    {"min_quantity": 10, "unit_price": str(tiered(unit, "0.03", code))},
                    {"min_quantity": 50, "unit_price": str(tiered(unit, "0.06", code))},
                ],
            }
        )
        stock_rows.append(
            {
                "warehouse_id": warehouse,
                "sku": p.sku,
                "on_hand": 200 + 37 * (index % 7),
                "reserved": 0,
            }
        )
    return {
        warehouses: [
            {
                "id": warehouse,
                "region": code.value,
                "name": f"{market.name} DC",
                "lat": DEPOTS[code][0],
                "lon": DEPOTS[code][1],
            }
        ],
        categories: [
            {
                "region": code.value,
                "id": cid,
                "names": {"en": en, "sw": sw, "fr": fr, **CATEGORY_NAMES_NG[cid]},
                "position": i,
            }
            for i, (cid, en, sw, fr) in enumerate(CATEGORIES)
        ],
        products: product_rows,
        product_aliases: [
            {"region": code.value, "sku": sku, "locale": locale, "alias": alias}
            for sku, by_locale in ALIASES.items()
            for locale, aliases in by_locale.items()
            for alias in aliases
        ],
        prices: price_rows,
        stock_levels: stock_rows,
        promotions: [
            {
                "id": f"NOODLE-WEEK-{code.value.upper()}",
                "region": code.value,
                "names": PROMOTION_NAMES["NOODLE-WEEK"],
                "percent_off": Decimal(10),
                "category_id": "noodles",
                "sku": None,
                "min_quantity": 3,
                "starts_at": now - timedelta(days=1),
                "ends_at": now + timedelta(days=365),
                "exclusive": False,  # a promo code may add to it
            },
            *promotion_rows(market, now),
        ],
        customers: [
            {"phone": phone, "region": code.value, "name": name, "locale": None, "created_at": now}
            for phone, name in CUSTOMERS[code]
        ],
        **pricing_rows_for(market, now),
    }


async def load_demo(db: Database, now: datetime) -> int:
    """Insert the demo rows that are missing; returns how many were inserted."""
    inserted = 0
    async with db.transaction() as session:
        for market in REGIONS.values():
            for table, rows in rows_for(market, now).items():
                inserted += await _insert_missing(session, table, rows)
        inserted += await _add_missing_points(session)
    return inserted


async def _insert_missing(session: AsyncSession, table: Table, rows: list[dict[str, Any]]) -> int:
    keys = [c.name for c in table.primary_key.columns]
    existing = {tuple(r) for r in (await session.execute(select(*table.primary_key.columns))).all()}
    missing = [r for r in rows if tuple(r[k] for k in keys) not in existing]
    # Rows may name different columns (promotions of different kinds): one batch per shape.
    shapes: dict[tuple[str, ...], list[dict[str, Any]]] = {}
    for row in missing:
        shapes.setdefault(tuple(sorted(row)), []).append(row)
    for batch in shapes.values():
        await session.execute(table.insert(), batch)
    return len(missing)


# --- distribution: a laid-out warehouse per region and a couple of drivers ----------------------

# Per region: phone, name, vehicle kind, number plate, capacity in cartons.
DRIVERS: dict[RegionCode, list[tuple[str, str, str, str | None, int]]] = {
    RegionCode.LAGOS: [
        ("+2348035550001", "Emeka Okafor", "motorbike", "LAG-214-KJ", 40),
        ("+2348035550002", "Bayo Adeyemi", "van", "LAG-880-XA", 300),
    ],
    RegionCode.NAIROBI: [
        ("+254722555001", "Wanjiku Kamau", "motorbike", "KMDA 123B", 40),
        ("+254722555002", "Otieno Ochieng", "van", "KCB 456C", 300),
    ],
    RegionCode.CAPE_TOWN: [
        ("+27825550001", "Sipho Dlamini", "motorbike", "CA 123-456", 40),
        ("+27825550002", "Lerato Mokoena", "van", "CA 654-321", 300),
    ],
}
DEPOTS: dict[RegionCode, tuple[float, float]] = {
    RegionCode.LAGOS: (6.4550, 3.3841),
    RegionCode.NAIROBI: (-1.2864, 36.8172),
    RegionCode.CAPE_TOWN: (-33.9249, 18.4241),
}
BULK_CATEGORIES = frozenset({"rice", "oil"})  # bags and heavy cartons: the bulk aisles
_DEMO_IDS = uuid.UUID("6f1c2a4e-0d7b-4c1e-9a53-5e1f0b7c2d90")
DEMO_SHIFT = (time(6), time(20))  # the demo drivers' day, in their region's time
DEMO_SHIFT_DAYS = 366  # the days after seeding the demo drivers are put on shift


def distribution_rows(market: Region, now: datetime) -> dict[Table, list[dict[str, Any]]]:
    """Racks (4 dry aisles, 2 bulk aisles, 12 bays, 2 levels) with the catalogue's stock in
    bins, and two drivers at the depot, active (documents seen by an agent), on shift from an
    hour before `now` and then every day (`DEMO_SHIFT`)."""
    code = market.code
    warehouse = f"WH-{code.value.upper()}"
    dry, bulk = f"{warehouse}:dry", f"{warehouse}:bulk"
    bins = [
        *grid(warehouse, dry, aisles=4, bays=12, levels=2, capacity=500),
        *grid(warehouse, bulk, aisles=2, bays=12, levels=2, first_aisle=5, capacity=500),
    ]
    free = {
        dry: [b for b in bins if b.zone_id == dry],
        bulk: [b for b in bins if b.zone_id == bulk],
    }
    stock = []
    for index, p in enumerate(PRODUCTS):
        zone = bulk if p.category in BULK_CATEGORIES else dry
        stock.append(
            {
                "location_id": free[zone].pop(0).id,
                "sku": p.sku,
                "quantity": 200 + 37 * (index % 7),  # the catalogue's on-hand figure
            }
        )
    lat, lon = DEPOTS[code]
    workers, shifts = [], []
    for phone, name, vehicle, plate, capacity in DRIVERS[code]:
        worker_id = uuid.uuid5(_DEMO_IDS, phone)
        workers.append(
            {
                "id": worker_id,
                "phone": phone,
                "name": name,
                "national_id": f"DEMO{phone[-6:]}",
                "region": code.value,
                "locale": None,
                "vehicle_kind": vehicle,
                "vehicle_plate": plate,
                "capacity_units": capacity,
                "status": "active",
                "available": True,
                "lat": lat,
                "lon": lon,
                "rating_total": 0,
                "rating_count": 0,
                "created_at": now,
            }
        )
        # On shift from an hour before seeding (the demo works at any hour), then every day
        # of the year to come 06:00-20:00 in the region's time; a seed on a later day (each
        # `make run`) adds the days after. One row per local day: a day seeded stays as it is.
        start = now - timedelta(hours=1)
        first = local_date(code, start)
        shifts.append(
            {
                "id": uuid.uuid5(_DEMO_IDS, f"{phone}:{first}"),
                "worker_id": worker_id,
                "starts_at": start,
                "ends_at": start + timedelta(hours=13),
            }
        )
        for offset in range(1, DEMO_SHIFT_DAYS + 1):
            day = first + timedelta(days=offset)
            starts_at, ends_at = local_shift(code, day, *DEMO_SHIFT)
            shifts.append(
                {
                    "id": uuid.uuid5(_DEMO_IDS, f"{phone}:{day}"),
                    "worker_id": worker_id,
                    "starts_at": starts_at,
                    "ends_at": ends_at,
                }
            )
    return {
        wms_layouts: [{"warehouse_id": warehouse, "depth": 2.0 + 12 * 1.5 + 2.0, "dock_x": 0.0}],
        wms_zones: [
            {"id": dry, "warehouse_id": warehouse, "name": "Dry goods"},
            {"id": bulk, "warehouse_id": warehouse, "name": "Bulk (bags, oil)"},
        ],
        wms_locations: [
            {
                "id": b.id,
                "warehouse_id": b.warehouse_id,
                "zone_id": b.zone_id,
                "aisle": b.aisle,
                "bay": b.bay,
                "level": b.level,
                "bin": b.bin,
                "x": b.x,
                "y": b.y,
                "capacity": b.capacity,
            }
            for b in bins
        ],
        wms_stock: stock,
        gig_workers: workers,
        gig_shifts: shifts,
    }


async def load_distribution_demo(db: Database, now: datetime) -> int:
    """Insert the missing warehouse and driver rows (after `load_demo`, whose warehouses and
    products they refer to). Kept apart so tests that load the catalogue get no demo drivers
    competing for their routes."""
    inserted = 0
    async with db.transaction() as session:
        for market in REGIONS.values():
            for table, rows in distribution_rows(market, now).items():
                inserted += await _insert_missing(session, table, rows)
    return inserted


# --- pricing and orders (issue 5): customer prices, zones, promotions and a promo code -------

# Basic foods: Nigeria exempts them from VAT, Kenya zero-rates maize flour.
TAX_CLASSES: dict[tuple[RegionCode, str], str] = {
    (RegionCode.LAGOS, "RCE-LONG-25K"): "exempt",
    (RegionCode.LAGOS, "GRN-MAIZ-10K"): "exempt",
    (RegionCode.NAIROBI, "GRN-MAIZ-10K"): "zero",
    (RegionCode.NAIROBI, "GRN-WHEA-10K"): "zero",
}

# The second customer of each region buys wholesale, is delivered to a zone that charges a fee,
# and in Cape Town has a negotiated rice price.
WHOLESALE: dict[RegionCode, str] = {code: phones[1][0] for code, phones in CUSTOMERS.items()}
ZONES: dict[RegionCode, tuple[str, str, Decimal, Decimal]] = {
    RegionCode.LAGOS: ("mainland", "Lagos Mainland", Decimal(1500), Decimal(150_000)),
    RegionCode.NAIROBI: ("westlands", "Westlands", Decimal(200), Decimal(15_000)),
    RegionCode.CAPE_TOWN: ("northern", "Northern Suburbs", Decimal(60), Decimal(2_000)),
}


def promotion_rows(market: Region, now: datetime) -> list[dict[str, Any]]:
    """Buy 10 crates of cola get 1, a breakfast bundle, free delivery over a value, WELCOME."""
    code = market.code
    tag = code.value.upper()
    milk, tea = local_price(Decimal("28.00"), code), local_price(Decimal("13.20"), code)
    base: dict[str, Any] = {
        "region": code.value,
        "percent_off": Decimal(0),
        "sku": None,
        "category_id": None,
        "min_quantity": 1,
        "starts_at": now - timedelta(days=1),
        "ends_at": now + timedelta(days=365),
    }
    return [
        base
        | {
            "id": f"COLA-10-1-{tag}",
            "names": PROMOTION_NAMES["COLA-10-1"],
            "kind": "buy_x_get_y",
            "sku": "DRK-COLA-35",
            "buy_quantity": 10,
            "get_quantity": 1,
        },
        base
        | {
            "id": f"BREAKFAST-{tag}",
            "names": PROMOTION_NAMES["BREAKFAST"],
            "kind": "bundle",
            "bundle": {"DRY-MILK-400": 1, "DRY-TEA-100": 1},
            "bundle_price": tiered(milk + tea, "0.08", code),
        },
        base
        | {
            "id": f"FREE-DELIVERY-{tag}",
            "names": PROMOTION_NAMES["FREE-DELIVERY"],
            "kind": "free_delivery",
            "min_order": ZONES[code][3] / 2,
            "budget": ZONES[code][2] * 100,
        },
        base
        | {
            "id": f"WELCOME-{tag}",
            "names": PROMOTION_NAMES["WELCOME"],
            "percent_off": Decimal(5),
            "category_id": "noodles",
            "code": "WELCOME",
            "exclusive": False,
            "priority": -1,  # after the week's promotion, on what is left
            "per_customer_limit": 1,
        },
    ]


def pricing_rows_for(market: Region, now: datetime) -> dict[Table, list[dict[str, Any]]]:
    code = market.code
    zone_id, zone_name, fee, free_from = ZONES[code]
    customer = WHOLESALE[code]
    drinks = [p for p in PRODUCTS if p.category == "drinks"]
    rows: dict[Table, list[dict[str, Any]]] = {
        segment_prices: [
            {
                "region": code.value,
                "segment": "wholesale",
                "sku": p.sku,
                "currency": market.currency,
                "unit_price": tiered(local_price(p.usd, code), "0.05", code),
                "tiers": [
                    {
                        "min_quantity": 50,
                        "unit_price": str(tiered(local_price(p.usd, code), "0.09", code)),
                    }
                ],
            }
            for p in drinks
        ],
        delivery_zones: [
            {
                "region": code.value,
                "id": zone_id,
                "names": {"en": zone_name},
                "fee": fee,
                "free_from": free_from,
            }
        ],
        customer_terms: [{"customer": customer, "segment": "wholesale", "zone_id": zone_id}],
        contract_prices: [],
    }
    if code is RegionCode.CAPE_TOWN:
        rows[contract_prices].append(
            {
                "id": "CONTRACT-BOTHA-RICE",
                "region": code.value,
                "customer": customer,
                "sku": "RCE-LONG-25K",
                "unit_price": tiered(local_price(Decimal("24.00"), code), "0.12", code),
                "valid_from": now - timedelta(days=30),
                "valid_to": now + timedelta(days=335),
            }
        )
    return rows
