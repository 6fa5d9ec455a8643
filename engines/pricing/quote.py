"""The quote: one pure function, so every channel and every test gets the same total.

Rounding rule per currency (stated once, tested in tests/unit/engines/test_quote*.py):

* Every amount is a whole number of the currency's minor unit as ISO 4217 defines it through
  Babel (NGN, KES, ZAR: 2 decimals, "0.01"; UGX or JPY: 0 decimals; KWD: 3), rounded half away
  from zero (`core.money.round_half_up`), never banker's rounding.
* Unit prices are stored in minor units, so a line total (unit x quantity) is exact.
* Each promotion's discount is rounded per line: a percentage of what is left of the line, then
  rounded; a bundle's discount is shared over its lines in proportion to their value, each share
  rounded and the rounding remainder given to the bundle's first line, so the shares add up to
  the bundle's discount exactly.
* VAT is charged once per quote on the sum of standard-rated lines after discounts plus the
  delivery fee after any free delivery, and rounded once; zero-rated and exempt lines carry none.
* total = subtotal - discount + delivery fee - delivery discount + VAT, exactly; the lines'
  amounts add up to the quote's.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import NamedTuple

from core.money import Money, minor_unit
from engines.pricing.model import (
    CustomerTerms,
    EmptyCartError,
    InvalidQuantityError,
    InvalidVoucherError,
    NoPriceError,
    PriceEntry,
    PriceSource,
    PriceTier,
    Promotion,
    PromotionKind,
    PromotionUsage,
    QuoteItem,
    TaxClass,
    VoucherProblem,
    normalise_code,
)

_ZERO = Decimal(0)
_NO_USAGE = PromotionUsage()
_NO_TERMS = CustomerTerms()
_PERCENT = PromotionKind.PERCENT
_tuple_new = tuple.__new__


def _money(amount: Decimal, currency: str) -> Money:
    """Money from an amount already rounded to the minor unit, without re-validating it.

    The quote builds a few hundred amounts per call; Money's checks (ISO code lookup, quantize)
    would cost more than the arithmetic. Every amount passed here went through `_round`.
    """
    money = object.__new__(Money)
    object.__setattr__(money, "amount", amount)
    object.__setattr__(money, "currency", currency)
    return money


class AppliedPromotion(NamedTuple):
    """One promotion on one line (or on the delivery fee): what it took off, and its rules.

    A named tuple, like QuoteLine: a quote makes dozens of them, and a tuple is built at a
    fraction of a frozen dataclass's cost; amounts are kept as Decimals and read as Money.
    """

    id: str
    kind: PromotionKind
    names: Mapping[str, str]
    discount_amount: Decimal
    currency: str
    priority: int
    exclusive: bool
    code: str | None = None
    free_units: int = 0  # buy X get Y: how many units were free

    @property
    def discount(self) -> Money:
        return _money(self.discount_amount, self.currency)

    def name(self, locale: str) -> str:
        return self.names.get(locale) or self.names["en"]


class QuoteLine(NamedTuple):
    """A priced line that says why: its price source, tier and promotions."""

    sku: str
    name: str
    quantity: int
    currency: str
    list_unit_amount: Decimal
    unit_amount: Decimal
    tier: PriceTier | None
    total_amount: Decimal  # unit x quantity, before discounts
    discount_amount: Decimal
    promotions: tuple[AppliedPromotion, ...] = ()
    price_source: PriceSource = PriceSource.LIST
    contract_id: str | None = None
    tax_class: TaxClass = TaxClass.STANDARD

    @property
    def list_unit_price(self) -> Money:
        return _money(self.list_unit_amount, self.currency)

    @property
    def unit_price(self) -> Money:
        return _money(self.unit_amount, self.currency)

    @property
    def line_total(self) -> Money:
        return _money(self.total_amount, self.currency)

    @property
    def discount(self) -> Money:
        return _money(self.discount_amount, self.currency)

    @property
    def promotion(self) -> AppliedPromotion | None:
        """The first promotion applied (the one with the highest priority), if any."""
        return self.promotions[0] if self.promotions else None

    @property
    def net(self) -> Money:
        return _money(self.total_amount - self.discount_amount, self.currency)


@dataclass(frozen=True, slots=True)
class Quote:
    currency: str
    lines: tuple[QuoteLine, ...]
    subtotal: Money
    discount: Money
    vat_rate: Decimal
    tax: Money
    total: Money
    delivery_fee: Money | None = None
    delivery_discount: Money | None = None
    delivery_promotion: AppliedPromotion | None = None
    zone_id: str | None = None
    voucher: str | None = None
    customer: str | None = None
    segment: str | None = None
    standard_base: Money | None = None  # what VAT was charged on
    zero_rated_base: Money | None = None
    exempt_base: Money | None = None

    @property
    def item_count(self) -> int:
        return sum(line.quantity for line in self.lines)

    @property
    def delivery(self) -> Money:
        """The delivery fee the customer pays (after free delivery), before VAT."""
        fee = self.delivery_fee or Money.zero(self.currency)
        return fee - (self.delivery_discount or Money.zero(self.currency))

    def spend(self) -> dict[str, Decimal]:
        """Discount given per promotion id: what placing this quote takes from budgets."""
        spent: dict[str, Decimal] = {}
        for line in self.lines:
            for applied in line.promotions:
                spent[applied.id] = spent.get(applied.id, _ZERO) + applied.discount_amount
        if self.delivery_promotion is not None:
            d = self.delivery_promotion
            spent[d.id] = spent.get(d.id, _ZERO) + d.discount_amount
        return spent


# A cart line with its prices resolved: item, list unit price, tax class, unit price, tier,
# price source, contract id (unit prices already rounded to the minor unit).
_Resolved = tuple[QuoteItem, Decimal, TaxClass, Decimal, PriceTier | None, PriceSource, str | None]


def quote(
    items: Sequence[QuoteItem],
    prices: Mapping[str, PriceEntry],
    promotions: Sequence[Promotion],
    *,
    currency: str,
    vat_rate: Decimal,
    now: datetime,
    segment_prices: Mapping[str, PriceEntry] | None = None,
    terms: CustomerTerms | None = None,
    voucher: str | None = None,
) -> Quote:
    """Price `items` for one customer at `now`; raises a PricingError for what cannot be quoted."""
    if not items:
        raise EmptyCartError
    terms = terms or _NO_TERMS
    quantum = minor_unit(currency)
    resolved = [
        _resolve(item, prices, segment_prices, terms, currency=currency, quantum=quantum, now=now)
        for item in items
    ]
    code = normalise_code(voucher) if voucher else None
    pricer = _Pricer(currency, _eligible(promotions, terms, now, code), terms)
    pricer.share_bundles(resolved)

    lines = [pricer.line(r) for r in resolved]
    # Zero in the currency's minor unit ("0.00", not "0"): every amount is shown as it is.
    zero = pricer.zero
    subtotal = discount = zero
    bases = {TaxClass.STANDARD: zero, TaxClass.ZERO: zero, TaxClass.EXEMPT: zero}
    for ln in lines:
        subtotal += ln.total_amount
        discount += ln.discount_amount
        bases[ln.tax_class] += ln.total_amount - ln.discount_amount
    goods = subtotal - discount
    fee, delivery_promotion = pricer.delivery(goods)
    delivery_off = delivery_promotion.discount_amount if delivery_promotion else zero

    if code is not None and code not in pricer.codes_used:
        raise InvalidVoucherError(code, VoucherProblem.NOT_APPLICABLE)

    # VAT once, on the standard-rated goods and the delivery fee actually charged.
    standard_base = bases[TaxClass.STANDARD] + fee - delivery_off
    tax = pricer.rnd(standard_base * vat_rate)
    total = goods + fee - delivery_off + tax
    return Quote(
        currency=currency,
        lines=tuple(lines),
        subtotal=_money(subtotal, currency),
        discount=_money(discount, currency),
        vat_rate=vat_rate,
        tax=_money(tax, currency),
        total=_money(total, currency),
        delivery_fee=_money(fee, currency),
        delivery_discount=_money(delivery_off, currency),
        delivery_promotion=delivery_promotion,
        zone_id=terms.zone.id if terms.zone is not None else None,
        voucher=code,
        customer=terms.customer,
        segment=terms.segment,
        standard_base=_money(standard_base, currency),
        zero_rated_base=_money(bases[TaxClass.ZERO], currency),
        exempt_base=_money(bases[TaxClass.EXEMPT], currency),
    )


def _resolve(
    item: QuoteItem,
    /,
    prices: Mapping[str, PriceEntry],
    segment_prices: Mapping[str, PriceEntry] | None,
    terms: CustomerTerms,
    *,
    currency: str,
    quantum: Decimal,
    now: datetime,
) -> _Resolved:
    """The line's unit price from the most specific source: contract, segment, list."""
    if item.quantity <= 0:
        raise InvalidQuantityError(item.sku, item.quantity)
    entry = prices.get(item.sku)
    if entry is None or entry.currency != currency:
        raise NoPriceError(item.sku)
    listed = entry.unit_price  # price entries are in minor units already
    tax = entry.tax_class
    contract = terms.contracts.get(item.sku)
    if contract is not None and contract.valid_at(now):
        unit = contract.unit_price.quantize(quantum, rounding=ROUND_HALF_UP)
        return item, listed, tax, unit, None, PriceSource.CONTRACT, contract.id
    special = segment_prices.get(item.sku) if segment_prices else None
    if special is not None and special.currency == currency:
        unit, tier = special.price_for(item.quantity)
        return item, listed, tax, unit, tier, PriceSource.SEGMENT, None
    unit, tier = entry.price_for(item.quantity)
    return item, listed, tax, unit, tier, PriceSource.LIST, None


def _eligible(
    promotions: Sequence[Promotion], terms: CustomerTerms, now: datetime, code: str | None
) -> list[Promotion]:
    """The promotions this customer may have now; a voucher's only with its code."""
    eligible: list[Promotion] = []
    voucher_problem = VoucherProblem.UNKNOWN if code else None
    for promo in promotions:
        if promo.code is not None and promo.code != code:
            continue
        problem = _problem(promo, now, terms.segment, terms.usage.get(promo.id, _NO_USAGE))
        if problem is None:
            eligible.append(promo)
        if promo.code is not None and voucher_problem is not None:
            # Several promotions may share a code: it is good if any of them is.
            voucher_problem = problem
    if code is not None and voucher_problem is not None:
        raise InvalidVoucherError(code, voucher_problem)
    return eligible


def _problem(
    promo: Promotion, now: datetime, segment: str | None, used: PromotionUsage
) -> VoucherProblem | None:
    """Why this customer cannot have the promotion now (None: they can)."""
    if now < promo.starts_at:
        return VoucherProblem.NOT_STARTED
    if now >= promo.ends_at:
        return VoucherProblem.EXPIRED
    if promo.segments and segment not in promo.segments:
        return VoucherProblem.NOT_ELIGIBLE
    if promo.per_customer_limit is not None and used.customer_uses >= promo.per_customer_limit:
        return VoucherProblem.USED_UP
    if promo.budget is not None and used.budget_spent >= promo.budget:
        return VoucherProblem.USED_UP
    return None


class _Pricer:
    """The state of one quote's promotions: indexes, bundle shares and what budgets have left."""

    def __init__(self, currency: str, eligible: list[Promotion], terms: CustomerTerms) -> None:
        self.currency = currency
        self.quantum = minor_unit(currency)
        self.zero = _ZERO.quantize(self.quantum)
        self.terms = terms
        self.codes_used: set[str] = set()
        self.budget_left = {
            p.id: self.rnd(p.budget - terms.usage.get(p.id, _NO_USAGE).budget_spent)
            for p in eligible
            if p.budget is not None
        }
        self.by_sku: dict[str, list[Promotion]] = {}
        self.by_category: dict[str, list[Promotion]] = {}
        self.shipping: list[Promotion] = []
        self.bundles: list[Promotion] = []
        self.shares: dict[tuple[str, str], Decimal] = {}
        for promo in eligible:
            if promo.kind is PromotionKind.FREE_DELIVERY:
                self.shipping.append(promo)
            elif promo.kind is PromotionKind.BUNDLE:
                self.bundles.append(promo)
            elif promo.sku is not None:
                self.by_sku.setdefault(promo.sku, []).append(promo)
            elif promo.category_id is not None:
                self.by_category.setdefault(promo.category_id, []).append(promo)

    def rnd(self, amount: Decimal) -> Decimal:
        return amount.quantize(self.quantum, rounding=ROUND_HALF_UP)

    def share_bundles(self, resolved: Sequence[_Resolved]) -> None:
        """How many whole sets the cart holds, and each line's share of their discount."""
        if not self.bundles:
            return
        needed = {sku for promo in self.bundles for sku in promo.bundle}
        units: dict[str, Decimal] = {}
        quantities: dict[str, int] = {}
        for r in resolved:
            sku = r[0].sku
            if sku in needed:
                units[sku] = r[3]
                quantities[sku] = quantities.get(sku, 0) + r[0].quantity
        for promo in self.bundles:
            if any(sku not in units for sku in promo.bundle):
                continue
            sets = min(quantities[sku] // need for sku, need in promo.bundle.items())
            value = sum((units[sku] * need for sku, need in promo.bundle.items()), _ZERO)
            saving = (value - promo.bundle_price) * sets
            if sets < 1 or saving <= 0:
                continue
            skus = list(promo.bundle)
            given = _ZERO
            for sku in skus[1:]:
                share = self.rnd(saving * units[sku] * promo.bundle[sku] / value)
                self.shares[promo.id, sku] = share
                given += share
            self.shares[promo.id, skus[0]] = self.rnd(saving) - given
            for sku in skus:
                self.by_sku.setdefault(sku, []).append(promo)

    def offer(self, promo: Promotion, item: QuoteItem, unit: Decimal, base: Decimal) -> Decimal:
        """What `promo` takes off a line whose remaining value is `base`."""
        kind = promo.kind
        if kind is PromotionKind.PERCENT:
            return self.rnd(base * promo.fraction)
        if kind is PromotionKind.FIXED:
            return min(self.rnd(promo.amount_off), base)
        if kind is PromotionKind.BUY_X_GET_Y:
            return min(unit * _free_units(promo, item.quantity), base)
        if kind is PromotionKind.BUNDLE:
            return min(self.shares.get((promo.id, item.sku), _ZERO), base)
        return _ZERO

    def offers(
        self, candidates: list[Promotion], item: QuoteItem, unit: Decimal, line_total: Decimal
    ) -> list[tuple[int, Decimal, str, Promotion, Decimal]]:
        """The promotions that would take something off the line alone, in stacking order."""
        quantum = self.quantum
        offers = []
        for promo in candidates:
            if item.quantity >= promo.min_quantity:
                if promo.kind is _PERCENT:
                    alone = (line_total * promo.fraction).quantize(quantum, ROUND_HALF_UP)
                else:
                    alone = self.offer(promo, item, unit, line_total)
                if alone > 0:
                    offers.append((-promo.priority, -alone, promo.id, promo, alone))
        if len(offers) > 1:
            offers.sort(key=_offer_order)
        return offers

    def line(self, resolved: _Resolved) -> QuoteLine:
        """Promotions by priority, then saving, then id; exclusive ones stand alone.

        The hot path of the benchmark (bench/quote.py): percentages are worked out inline.
        """
        item, listed, tax_class, unit, tier, source, contract_id = resolved
        quantity = item.quantity
        line_total = unit * quantity
        candidates = self.by_sku.get(item.sku)
        by_category = self.by_category.get(item.category_id)
        if by_category:
            candidates = candidates + by_category if candidates else by_category
        applied: list[AppliedPromotion] = []
        line_discount = self.zero
        if candidates:
            quantum = self.quantum
            for _p, _a, _i, promo, alone in self.offers(candidates, item, unit, line_total):
                if promo.exclusive and applied:
                    continue
                if not line_discount:
                    off = alone
                elif promo.kind is _PERCENT:
                    off = ((line_total - line_discount) * promo.fraction).quantize(
                        quantum, ROUND_HALF_UP
                    )
                else:
                    off = self.offer(promo, item, unit, line_total - line_discount)
                if promo.budget is not None:
                    off = self.take(promo, off)
                if off <= 0:
                    continue
                line_discount += off
                applied.append(self.applied(promo, off, quantity))
                if promo.exclusive:
                    break
        # tuple.__new__ skips the named tuple's Python-level constructor: same object, faster.
        return _tuple_new(
            QuoteLine,
            (
                item.sku,
                item.name,
                quantity,
                self.currency,
                listed,
                unit,
                tier,
                line_total,
                line_discount,
                tuple(applied),
                source,
                contract_id,
                tax_class,
            ),
        )

    def take(self, promo: Promotion, wanted: Decimal) -> Decimal:
        """As much of `wanted` as the promotion's budget still allows, and spend it."""
        left = self.budget_left.get(promo.id)
        if left is None:
            return wanted
        off = min(wanted, left)
        if off > 0:
            self.budget_left[promo.id] = left - off
        return off

    def applied(self, promo: Promotion, off: Decimal, quantity: int) -> AppliedPromotion:
        code = promo.code
        if code is not None:
            self.codes_used.add(code)
        kind = promo.kind
        free = _free_units(promo, quantity) if kind is PromotionKind.BUY_X_GET_Y else 0
        return _tuple_new(
            AppliedPromotion,
            (
                promo.id,
                kind,
                promo.names,
                off,
                self.currency,
                promo.priority,
                promo.exclusive,
                code,
                free,
            ),
        )

    def delivery(self, goods: Decimal) -> tuple[Decimal, AppliedPromotion | None]:
        """The zone's fee, waived from its threshold or by the first free-delivery promotion."""
        zone = self.terms.zone
        if zone is None or (zone.free_from is not None and goods >= zone.free_from):
            return self.zero, None
        fee = self.rnd(zone.fee)
        if fee <= 0:
            return self.zero, None
        for promo in sorted(self.shipping, key=lambda p: (-p.priority, p.id)):
            if goods >= promo.min_order:
                off = self.take(promo, fee)
                if off > 0:
                    return fee, self.applied(promo, off, 0)
        return fee, None


def _offer_order(offer: tuple[int, Decimal, str, Promotion, Decimal]) -> tuple[int, Decimal, str]:
    return offer[0], offer[1], offer[2]


def _free_units(promo: Promotion, quantity: int) -> int:
    return quantity // (promo.buy_quantity + promo.get_quantity) * promo.get_quantity
