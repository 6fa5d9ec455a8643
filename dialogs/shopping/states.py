"""The shopping dialog's states: menu, categories, products, quantity, cart, checkout, orders."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, replace
from decimal import Decimal

from core.gsm7 import is_gsm7
from core.intents import keyword_of, yes_no_locales
from core.layout import layout, measure
from core.messages import ChannelKind, Option
from core.money import Money
from core.phone import Phone
from core.region import Region, RegionCode, region_for_phone
from core.sentences import read_reference
from dialogs.machine import (
    Choice,
    Finish,
    Go,
    Home,
    Outcome,
    Reject,
    Screen,
    State,
    Turn,
    shows_taps,
)
from dialogs.paging import BACK_KEY, MORE_KEY
from dialogs.shopping.order_text import (
    FILLER_WORDS,
    echoed,
    named_choice,
    read_count,
    read_order,
    read_product_name,
    said_words,
    unit_fits,
)
from dialogs.shopping.services import ShopServices
from engines.catalogue import CatalogueService, OutOfStockError, Product, UnknownProductError
from engines.credit import (
    CreditOrder,
    CreditRefusedError,
    CreditStatus,
    late_fee_owed,
    repayment_order,
)
from engines.ledger import TransferRefusedError
from engines.orders import (
    MAX_LINE_QUANTITY,
    RAILS_BY_COUNTRY,
    Cart,
    Order,
    OrderService,
    OrderStatus,
    PaymentMethod,
    PlaceOrder,
    UnknownOrderError,
)
from engines.payments import (
    GAVE_UP,
    PAYABLE,
    CreatePayment,
    IntentStatus,
    Method,
    MoneyBack,
    PaymentError,
    PaymentService,
    again_key,
    payable_again,
    repayment_key,
    sent_in_parts,
)
from engines.payments import money_back as back_of
from engines.pricing import (
    InvalidVoucherError,
    NoPriceError,
    PriceLockError,
    PricingService,
    PromotionExhaustedError,
    Quote,
)

CART_MEMO = "cart"  # Turn.memo key of the cart read this turn
CHECK_MEMO = "cart_check"  # Turn.memo key of this turn's re-check of the cart (a CartCheck)
CHECKED_VAR = "checked"  # session var: the lines of the cart as the session last checked it
DROPPED_CODE_MEMO = "dropped_code"  # Turn.memo key of why this turn took the promo code off
LOCK_VAR = "lock"
ADDED_SKU_VAR = "added_sku"  # the product the Added screen names (not the cart line opened since)
CREDIT_PART_MEMO = "credit_part"  # Turn.memo key: her account credit paying part of this order


class ShopState(State):
    def __init__(self, services: ShopServices) -> None:
        self.svc = services

    @staticmethod
    def phone(turn: Turn) -> Phone:
        return turn.msg.phone

    async def account_credit(self, turn: Turn) -> Money:
        """Her money kept as credit on her account, in her region's currency."""
        currency = self.region(turn).currency
        if self.svc.books is None:
            return Money.zero(currency)
        return await self.svc.books.account_credit(self.phone(turn), currency)

    @staticmethod
    def region(turn: Turn) -> Region:
        return region_for_phone(turn.msg.phone)

    async def available(self, turn: Turn, sku: str) -> int:
        """Stock for the region, read fresh once per turn (the screen and the input both ask)."""
        key = ("available", sku)
        if key not in turn.memo:
            turn.memo[key] = await self.svc.catalogue.available(self.region(turn).code, sku)
        return int(turn.memo[key])

    async def cart(self, turn: Turn) -> Cart:
        """The customer's cart, read once per turn (most screens, and their choices, ask)."""
        found = turn.memo.get(CART_MEMO)
        if not isinstance(found, Cart):
            found = await self.svc.orders.cart(self.phone(turn), self.region(turn).code)
            turn.memo[CART_MEMO] = found
        return found

    async def sold(self, turn: Turn, sku: str) -> bool:
        """Whether the product is still sold in the region (on its shelf, with a price): a
        list or a prompt shown before it was withdrawn may still name it."""
        region = self.region(turn).code
        if sku not in (await self.svc.catalogue.shelf(region)).products:
            return False
        return sku in await self.svc.pricing.list_prices(region, [sku], customer=self.phone(turn))

    async def checked_cart(self, turn: Turn) -> CartCheck:
        """The cart re-checked, once per turn, before a screen shows or prices it: a product
        withdrawn or sold out during the session is taken out, a line above the stock left is
        cut to it (the check's notice says so), so no quote of it fails."""
        check = turn.memo.get(CHECK_MEMO)
        if not isinstance(check, CartCheck):
            check = await recheck_cart(self.svc, await self.cart(turn))
            turn.memo[CHECK_MEMO] = check
            turn.memo[CART_MEMO] = check.cart
        turn.vars[CHECKED_VAR] = cart_lines(check.cart)
        return check

    async def save_cart(self, turn: Turn, cart: Cart) -> None:
        turn.memo.pop(CART_MEMO, None)  # read again after the write, as the service keeps it
        await self.svc.orders.save_cart(cart)

    async def put_in_cart(
        self, turn: Turn, sku: str, quantity: int, *, editing: bool = False
    ) -> Reject | None:
        """Add `quantity` to the cart (or set the line to it when `editing`), or say why not:
        the same stock and quantity limits however the quantity was asked for."""
        refused = await self.cart_refusal(turn, sku, quantity, editing=editing)
        if refused is not None:
            return refused
        cart = await self.cart(turn)
        wanted = quantity if editing else cart.quantity_of(sku) + quantity
        await self.save_cart(turn, cart.with_quantity(sku, wanted))
        return None

    async def cart_refusal(
        self, turn: Turn, sku: str, quantity: int, *, editing: bool = False
    ) -> Reject | None:
        """Why `quantity` cannot go in the cart (more than the stock left, or than a line may
        hold), or None when it can."""
        cart = await self.cart(turn)
        wanted = quantity if editing else cart.quantity_of(sku) + quantity
        available = await self.available(turn, sku)
        if wanted > available:
            in_cart = cart.quantity_of(sku) if not editing else 0
            return Reject("error.quantity.stock", {"available": max(0, available - in_cart)})
        if wanted > MAX_LINE_QUANTITY:
            return Reject("error.quantity.max", {"max": MAX_LINE_QUANTITY - cart.quantity_of(sku)})
        return None

    async def quote(self, turn: Turn, cart: Cart, *, voucher: str | None = None) -> Quote:
        """The customer's quote: their prices, zone and limits, the same on every channel."""
        lines = [(line.sku, line.quantity) for line in cart.lines]
        return await self.svc.pricing.quote(
            self.region(turn).code, lines, customer=self.phone(turn), voucher=voucher
        )

    async def checkout_quote(self, turn: Turn, cart: Cart) -> tuple[Quote, str | None]:
        """The quote with the promo code entered at checkout (kept with the cart, so it
        outlives a dropped session); a code gone bad is dropped, and the line says why.

        The line is kept for the turn: a screen drawn again without the machine's notice
        (it did not fit under it) must still say why the code went."""
        if cart.voucher:
            try:
                return await self.quote(turn, cart, voucher=cart.voucher), None
            except InvalidVoucherError as exc:
                await self.save_cart(turn, cart.with_voucher(None))
                notice = turn.t(
                    f"error.voucher.{exc.problem.value}", code=shown_code(turn, exc.code)
                )
                turn.memo[DROPPED_CODE_MEMO] = notice
                return await self.quote(turn, cart), notice
        return await self.quote(turn, cart), turn.memo.get(DROPPED_CODE_MEMO)

    async def cart_quote(self, turn: Turn, cart: Cart) -> Quote:
        """The cart's quote with its promo code while the code holds; the quote screen is
        where a code gone bad is dropped and explained."""
        if cart.voucher:
            try:
                return await self.quote(turn, cart, voucher=cart.voucher)
            except InvalidVoucherError:
                pass
        return await self.quote(turn, cart)


def shown_code(turn: Turn, code: str) -> str:
    """A promo code as typed, fit to echo: on a GSM-7 screen (USSD, SMS) a character the
    handset cannot show (a curly quote, an emoji, the À of an upper-cased à) becomes '?'."""
    if turn.capabilities.charset != "gsm7":
        return code
    return "".join(ch if is_gsm7(ch) else "?" for ch in code)


class MainMenu(ShopState):
    name = "main"
    reads_orders = True

    async def screen(self, turn: Turn) -> Screen:
        # "Cart (n)" counts the cart the cart screen will show: one changed since the session
        # last checked it, or holding a product withdrawn since (read from the shelf and price
        # book kept in memory), is checked here as there, saying what went. A cart checked as
        # it is reads no stock: a line sold down meanwhile is cut by the cart screen.
        cart = await self.cart(turn)
        title = turn.t("main.title")
        check = turn.memo.get(CHECK_MEMO)
        checked = isinstance(check, CartCheck) and check.cart == cart  # this turn
        if checked or (
            not cart.is_empty
            and (turn.vars.get(CHECKED_VAR) != cart_lines(cart) or await self.withdrawn(turn, cart))
        ):
            if not checked:
                turn.memo.pop(CHECK_MEMO, None)  # one of an earlier cart this turn
            check = await self.checked_cart(turn)
            cart, title = check.cart, check.above(turn, title)
        return Screen(
            title,
            (
                Choice(turn.t("menu.shop"), "categories"),
                Choice(turn.t("menu.cart", count=cart.item_count), "cart"),
                Choice(turn.t("menu.orders"), "orders"),
                Choice(turn.t("menu.language"), "language"),
                Choice(turn.t("menu.help"), "help"),
            ),
            back=False,
        )

    async def withdrawn(self, turn: Turn, cart: Cart) -> bool:
        """Whether a line's product left the region's shelf or lost its price (no query)."""
        region = self.region(turn).code
        shelf = (await self.svc.catalogue.shelf(region)).products
        skus = [line.sku for line in cart.lines]
        priced = await self.svc.pricing.list_prices(region, skus)  # the book's: no customer
        return any(sku not in shelf or sku not in priced for sku in skus)

    async def choose(self, turn: Turn, value: str) -> Outcome:
        # A shortcut dial (*384*123*3#) picks a key here on the first request, which checks
        # the saved cart: what that changed is said above the screen the key opens (the
        # cart's own screen says it itself).
        check = turn.memo.get(CHECK_MEMO)
        if isinstance(check, CartCheck) and value != CartView.name:
            return Go(value, notice=check.notice(turn))
        return Go(value)

    async def read(self, turn: Turn, text: str) -> Outcome | None:
        return await read_typed_order(self, turn, text)


class Resume(ShopState):
    """Offered when a customer dials again with a cart left from a dropped session."""

    name = "resume"

    async def screen(self, turn: Turn) -> Screen:
        # Checked by the dial that offers it, which says what changed; checked again when the
        # offer is drawn once more, so a product withdrawn since is taken out, saying so.
        check = await self.checked_cart(turn)
        cart = check.cart
        total = (await self.cart_quote(turn, cart)).total if not cart.is_empty else None
        text = check.above(
            turn,
            turn.t("resume.body", count=cart.item_count, total=total.format() if total else ""),
        )
        return Screen(
            text,
            (Choice(turn.t("resume.continue"), "cart"), Choice(turn.t("resume.fresh"), "fresh")),
            back=False,
        )

    async def choose(self, turn: Turn, value: str) -> Outcome:
        if value == "fresh":
            await self.save_cart(turn, (await self.cart(turn)).cleared())
            return Home()
        return Go("cart", remember=False)


@dataclass(frozen=True, slots=True)
class CartCheck:
    """A saved cart checked again before it is offered: what changed since it was left."""

    cart: Cart
    removed: int = 0  # lines no longer sold (no product or no price in the region) or sold out
    reduced: int = 0  # lines cut to the stock left
    # The one line changed, when only one was and the shelf still names it: the product's name
    # and what is left of it in the cart (0: taken out).
    named: tuple[str, int] | None = None

    @property
    def changed(self) -> bool:
        return bool(self.removed or self.reduced)

    def checkout_notice(self, turn: Turn) -> str | None:
        """At checkout, whose screens list no lines, the line is named when only one changed."""
        if self.named is None:
            return self.notice(turn)
        name, left = self.named
        if left:
            return turn.t("checkout.reduced", name=name, available=left)
        return turn.t("checkout.removed", name=name)

    def notice(self, turn: Turn) -> str | None:
        if self.removed and self.reduced:
            return turn.t("resume.removed_reduced", removed=self.removed, reduced=self.reduced)
        if self.removed:
            return turn.t("resume.removed", count=self.removed)
        if self.reduced:
            return turn.t("resume.reduced", count=self.reduced)
        return None

    def above(self, turn: Turn, text: str, *, checkout: bool = False) -> str:
        """`text` with the notice on a line above it, when the check changed the cart."""
        notice = self.checkout_notice(turn) if checkout else self.notice(turn)
        return f"{notice}\n{text}" if notice else text


def cart_lines(cart: Cart) -> str:
    """The cart's lines in a few characters ("SKU:3,SKU:5"), to tell whether it changed."""
    return ",".join(sorted(f"{line.sku}:{line.quantity}" for line in cart.lines))


async def recheck_cart(services: ShopServices, cart: Cart) -> CartCheck:
    """The cart as it can still be bought: a product withdrawn since it was saved (gone from
    the region's shelf, or without a price there) or sold out is dropped, a quantity above the
    stock left is cut to it; the cart is saved again when anything changed."""
    if cart.is_empty:
        return CartCheck(cart)
    skus = [line.sku for line in cart.lines]
    shelf = (await services.catalogue.shelf(cart.region)).products
    priced = await services.pricing.list_prices(cart.region, skus, customer=cart.customer)
    checked, removed, reduced = cart, 0, 0
    changed: list[tuple[str, int]] = []
    for line in cart.lines:
        available = 0
        if line.sku in shelf and line.sku in priced:
            available = await services.catalogue.available(cart.region, line.sku)
        if available <= 0:
            checked, removed = checked.with_quantity(line.sku, 0), removed + 1
            changed.append((line.sku, 0))
        elif available < line.quantity:
            checked, reduced = checked.with_quantity(line.sku, available), reduced + 1
            changed.append((line.sku, available))
    if checked == cart:
        return CartCheck(cart)
    if checked.is_empty:
        checked = checked.cleared()  # the promo code goes with the cart
    await services.orders.save_cart(checked)
    named = None
    if len(changed) == 1 and changed[0][0] in shelf:
        sku, left = changed[0]
        named = (shelf[sku].name, left)
    return CartCheck(checked, removed, reduced, named)


class Categories(ShopState):
    name = "categories"

    async def screen(self, turn: Turn) -> Screen:
        categories = await self.svc.catalogue.categories(self.region(turn).code)
        return Screen(
            turn.t("categories.title"),
            tuple(Choice(c.name(turn.locale), c.id) for c in categories),
        )

    async def choose(self, turn: Turn, value: str) -> Outcome:
        turn.vars["cat"] = value
        return Go("products")


class Products(ShopState):
    name = "products"
    reads_orders = True

    async def screen(self, turn: Turn) -> Screen:
        return await products_screen(
            turn,
            self.svc.catalogue,
            self.svc.pricing,
            region=self.region(turn).code,
            category_id=str(turn.vars.get("cat", "")),
            customer=self.phone(turn),
        )

    async def choose(self, turn: Turn, value: str) -> Outcome:
        if not await self.sold(turn, value):
            return Reject("error.product_gone")  # the list, drawn again, no longer has it
        turn.vars["sku"] = value
        turn.vars.pop("edit", None)
        return Go("quantity")

    async def read(self, turn: Turn, text: str) -> Outcome | None:
        return await read_typed_order(self, turn, text)


class Quantity(ShopState):
    """Free input: how many units. Adds to the cart, or sets the line when changing it."""

    name = "quantity"
    awaits_answer = True

    async def screen(self, turn: Turn) -> Screen:
        region = self.region(turn)
        sku = str(turn.vars["sku"])
        if not await self.sold(turn, sku):  # withdrawn while this screen was read
            return Screen(turn.t("error.product_gone"), (Choice(turn.t("line.remove"), "remove"),))
        product = await self.svc.catalogue.product(region.code, sku)
        price = (await self.svc.pricing.list_prices(region.code, [sku], customer=self.phone(turn)))[
            sku
        ]
        available = await self.available(turn, sku)
        msgid = "quantity.change" if turn.vars.get("edit") else "quantity.prompt"
        text = turn.t(
            msgid,
            name=product.name,
            price=price.short(),
            unit=turn.t(f"unit.{product.unit}"),
            available=available,
            current=(await self.cart(turn)).quantity_of(sku),
        )
        return Screen(text, prompt=True)

    async def enter(self, turn: Turn, text: str) -> Outcome:
        sku = str(turn.vars["sku"])
        if not await self.sold(turn, sku):
            # Withdrawn while the prompt was read: nothing is added; the cart, checked again,
            # takes out a line being changed.
            if turn.vars.pop("edit", None):
                return Go("cart", remember=False)
            return Go("products", remember=False, notice=turn.t("error.product_gone"))
        cleaned = text.strip().replace(",", "")
        if reads_typed_orders(turn) and not (cleaned.isascii() and cleaned.isdigit()):
            # In a text, "5 cartons" or "tano" answers "how many" as well as 5 does; "5 pieces"
            # of a product sold by the carton does not.
            spoken = read_count(cleaned)
            if spoken is not None and spoken.unit is not None:
                product = await self.svc.catalogue.product(self.region(turn).code, sku)
                if not unit_fits(spoken.unit, product.unit):
                    return Reject("typed.sold_by", {"unit": turn.t(f"unit.{product.unit}")})
            cleaned = cleaned if spoken is None else str(spoken.quantity)
        if cleaned.startswith("-") and cleaned[1:].isdigit():
            return Reject("error.quantity.min")
        if not cleaned.isdigit() or not cleaned.isascii():
            return Reject("error.quantity.number")
        if len(cleaned) > 6 or int(cleaned) > MAX_LINE_QUANTITY:
            return Reject("error.quantity.max", {"max": MAX_LINE_QUANTITY})
        quantity = int(cleaned)
        if quantity < 1:
            return Reject("error.quantity.min")
        editing = bool(turn.vars.get("edit"))
        refused = await self.put_in_cart(turn, sku, quantity, editing=editing)
        if refused is not None:
            return refused
        turn.vars["added"] = quantity
        turn.vars[ADDED_SKU_VAR] = sku
        if editing:
            turn.vars.pop("edit", None)
            return Go("cart", notice=turn.t("cart.updated"))
        return Go("added", remember=False)


class Added(ShopState):
    name = "added"
    reads_orders = True

    async def screen(self, turn: Turn) -> Screen:
        region = self.region(turn)
        # What was added, not the cart line looked at since (Back from the cart comes here).
        sku = str(turn.vars.get(ADDED_SKU_VAR, turn.vars["sku"]))
        product = await self.svc.catalogue.product(region.code, sku)
        cart = await self.cart(turn)
        text = turn.t(
            "added.body",
            quantity=turn.vars.get("added", 0),
            name=product.name,
            count=cart.item_count,
        )
        return Screen(
            text,
            (
                Choice(turn.t("added.more"), "products"),
                Choice(turn.t("added.cart"), "cart"),
                Choice(turn.t("added.checkout"), "quote"),
            ),
            back=False,
        )

    async def choose(self, turn: Turn, value: str) -> Outcome:
        return Go(value, remember=value != "products")

    async def read(self, turn: Turn, text: str) -> Outcome | None:
        """The next item typed right after one was added ("2 cola"): read as at the menu."""
        return await read_typed_order(self, turn, text)


class CartView(ShopState):
    name = "cart"
    reads_orders = True

    async def screen(self, turn: Turn) -> Screen:
        check = await self.checked_cart(turn)
        cart = await self.cart(turn)
        if cart.is_empty:
            text = check.above(turn, turn.t("cart.empty"))
            return Screen(text, (Choice(turn.t("menu.shop"), "!shop"),))
        quote = await self.cart_quote(turn, cart)
        text = check.above(
            turn, turn.t("cart.body", count=cart.item_count, total=quote.total.format())
        )
        choices = [
            Choice(turn.t("cart.line", quantity=line.quantity, name=line.name), line.sku)
            for line in quote.lines
        ]
        choices.insert(0, Choice(turn.t("cart.checkout"), "!checkout"))
        return Screen(text, tuple(choices))

    async def choose(self, turn: Turn, value: str) -> Outcome:
        if value == "!shop":
            return Go("categories", remember=False)
        if value == "!checkout":
            return Go("quote")
        if not (await self.checked_cart(turn)).cart.quantity_of(value):
            return Go(self.name, remember=False)  # withdrawn since the list was shown: it says so
        turn.vars["sku"] = value
        return Go("cart_line")

    async def read(self, turn: Turn, text: str) -> Outcome | None:
        """An item typed at the cart ("2 cola") is added from here, after Yes, as from the
        menu; not on the quote, payment or confirm screens, where a slip would cost more."""
        return await read_typed_order(self, turn, text)


class CartLineView(ShopState):
    name = "cart_line"
    awaits_answer = True

    async def screen(self, turn: Turn) -> Screen:
        region = self.region(turn)
        sku = str(turn.vars["sku"])
        if not await self.sold(turn, sku):  # withdrawn while this screen was read
            return Screen(turn.t("error.product_gone"), (Choice(turn.t("line.remove"), "remove"),))
        product = await self.svc.catalogue.product(region.code, sku)
        price = (await self.svc.pricing.list_prices(region.code, [sku], customer=self.phone(turn)))[
            sku
        ]
        quantity = (await self.cart(turn)).quantity_of(sku)
        return Screen(
            turn.t("line.body", quantity=quantity, name=product.name, price=price.format()),
            (Choice(turn.t("line.change"), "change"), Choice(turn.t("line.remove"), "remove")),
        )

    async def choose(self, turn: Turn, value: str) -> Outcome:
        if value == "change":
            if not await self.sold(turn, str(turn.vars["sku"])):
                return Go("cart", remember=False)  # checked again, it takes the line out
            turn.vars["edit"] = 1
            return Go("quantity")
        cart = await self.cart(turn)
        await self.save_cart(turn, cart.with_quantity(str(turn.vars["sku"]), 0))
        return Go("cart", notice=turn.t("cart.removed"))


class QuoteView(ShopState):
    name = "quote"

    async def screen(self, turn: Turn) -> Screen:
        check = await self.checked_cart(turn)
        cart = await self.cart(turn)
        if cart.is_empty:
            text = check.above(turn, turn.t("cart.empty"), checkout=True)
            return Screen(text, (Choice(turn.t("menu.shop"), "!shop"),))
        quote, dropped = await self.checkout_quote(turn, cart)
        named = "\n".join(n for n in (check.checkout_notice(turn), dropped) if n) or None
        counted = "\n".join(n for n in (check.notice(turn), dropped) if n) or None
        choices: tuple[Choice, ...] = (Choice(turn.t("quote.pay"), "payment"),)
        if turn.msg.kind is not ChannelKind.VOICE:  # a keypad in a call cannot spell a code
            choices += (Choice(turn.t("quote.promo_code"), "voucher"),)
        return Screen(quote_text(turn, quote, choices, named, shorter=counted), choices)

    async def choose(self, turn: Turn, value: str) -> Outcome:
        if value == "!shop":
            return Go("categories", remember=False)
        if value == "voucher":
            return Go("voucher")
        if (await self.checked_cart(turn)).changed:
            # A product withdrawn or sold down since this quote was shown: the new quote says
            # which, and its total is the one locked.
            return Go("quote", remember=False)
        # The turn that opened checkout names the order: a retried confirm places it once.
        turn.vars["checkout"] = turn.msg.idempotency_key
        # The price shown is the price charged: it is locked while the customer pays.
        cart = await self.cart(turn)
        if not cart.is_empty:
            try:
                lock = await self.svc.pricing.lock(
                    self.region(turn).code,
                    [(line.sku, line.quantity) for line in cart.lines],
                    customer=self.phone(turn),
                    voucher=cart.voucher,
                )
            except InvalidVoucherError:
                # The code ran out or ended on this screen: the quote drops it and says why.
                return Go("quote", remember=False)
            except (NoPriceError, UnknownProductError):
                # Withdrawn this very moment: the quote, checked again, takes it out.
                turn.memo.pop(CHECK_MEMO, None)
                return Go("quote", remember=False)
            turn.vars[LOCK_VAR] = str(lock.id)
        return Go("payment")


def quote_text(
    turn: Turn,
    quote: Quote,
    choices: tuple[Choice, ...] = (),
    notice: str | None = None,
    *,
    shorter: str | None = None,
) -> str:
    """Subtotal, promotions, the promo code's saving, delivery, VAT and total, one per line.

    On a small screen (a 160-character SMS) the subtotal gives way first, then the promotion
    and the code's saving become one discount line, then that line; the total and VAT always
    show. The line the machine shows above the screen (turn.notice) is counted too.
    """
    rate = (quote.vat_rate * 100).normalize()
    cur = quote.currency
    by_code = sum(
        (a.discount.amount for line in quote.lines for a in line.promotions if a.code),
        Decimal(0),
    )
    promotions = quote.discount.amount - by_code
    delivery: list[str] = []
    if quote.delivery_fee is not None and quote.delivery_fee.amount:
        if quote.delivery.amount:
            delivery.append(turn.t("quote.delivery", amount=quote.delivery.format()))
        else:
            delivery.append(turn.t("quote.free_delivery"))
    tail = [
        *delivery,
        turn.t("quote.vat", rate=f"{rate:f}", amount=quote.tax.format()),
        turn.t("quote.total", amount=quote.total.format()),
    ]
    discounts = []
    if promotions:
        discounts.append(turn.t("quote.discount", amount=Money(promotions, cur).format()))
    if by_code and quote.voucher:
        discounts.append(
            turn.t("quote.voucher", code=quote.voucher, amount=Money(by_code, cur).format())
        )
    subtotal = [turn.t("quote.subtotal", amount=quote.subtotal.format())]
    merged = [turn.t("quote.discount", amount=quote.discount.format())] if discounts else []
    options = [Option(str(n), c.label) for n, c in enumerate(choices, 1)]
    options.append(Option(BACK_KEY, turn.t("nav.back")))
    text = ""
    head = [notice] if notice else []
    above = [turn.notice] if turn.notice else []
    for parts in (subtotal + discounts, discounts, merged, []):
        text = "\n".join([*head, *parts, *tail])
        shown = layout("\n".join([*above, text]), options)
        if measure(shown, turn.capabilities) <= turn.capabilities.screen_chars:
            return text
    if (
        notice
        and measure(layout(text, options), turn.capabilities) > turn.capabilities.screen_chars
    ):
        # A line above that leaves no room for the total (a long product name in one SMS)
        # gives way to its shorter form (the count, not the name), then to none: not the screen.
        return quote_text(turn, quote, choices, None if shorter == notice else shorter)
    return text


class Voucher(ShopState):
    """Free input at checkout: a promo code, checked against the cart at once; 0 for none."""

    name = "voucher"
    free_text = True

    async def screen(self, turn: Turn) -> Screen:
        return Screen(turn.t("voucher.prompt"), prompt=True)

    async def enter(self, turn: Turn, text: str) -> Outcome:
        code = text.strip()
        cart = await self.cart(turn)
        if code in ("", "0"):
            if cart.voucher:
                await self.save_cart(turn, cart.with_voucher(None))
            return Go("quote", notice=turn.t("voucher.removed"))
        cart = (await self.checked_cart(turn)).cart  # the quote screen says what the check did
        if cart.is_empty:
            return Go("quote")
        try:
            quote = await self.quote(turn, cart, voucher=code[:40])
        except InvalidVoucherError as exc:
            return Reject(
                f"error.voucher.{exc.problem.value}", {"code": shown_code(turn, exc.code)}
            )
        await self.save_cart(turn, cart.with_voucher(quote.voucher))
        # The quote screen shows the code's saving on a line of its own; no notice needed.
        return Go("quote")


class Payment(ShopState):
    name = "payment"
    awaits_answer = True

    async def methods(self, turn: Turn) -> list[PaymentMethod]:
        offered = [
            method
            for method in RAILS_BY_COUNTRY.get(self.region(turn).country, ())
            if self.svc.payments is not None and self.svc.payments.offers(Method(method.value))
        ]
        if await self.kept_covers(turn) is not None:
            offered.append(PaymentMethod.ACCOUNT_CREDIT)
        if await self.credit_left(turn) is not None:
            offered.append(PaymentMethod.CREDIT)
        return [*offered, PaymentMethod.ON_DELIVERY]

    async def kept_covers(self, turn: Turn) -> Money | None:
        """The credit kept on her account, when it pays this whole checkout (a part payment
        from it is not offered)."""
        cart = (await self.checked_cart(turn)).cart
        if cart.is_empty:
            return None
        kept = await self.account_credit(turn)
        total = (await self.checkout_quote(turn, cart))[0].total
        if kept.amount <= 0 or kept.currency != total.currency or kept.amount < total.amount:
            return None
        return kept

    async def kept_pays_part(self, turn: Turn) -> tuple[Money, Money] | None:
        """The credit kept on her account and what is left to pay, when it pays part of this
        checkout: a rail asks only for the rest."""
        cart = (await self.checked_cart(turn)).cart
        if cart.is_empty:
            return None
        kept = await self.account_credit(turn)
        total = (await self.checkout_quote(turn, cart))[0].total
        if kept.amount <= 0 or kept.currency != total.currency or kept.amount >= total.amount:
            return None
        return kept, total - kept

    async def credit_left(self, turn: Turn) -> Money | None:
        """What is left of the customer's credit line, when it covers this checkout."""
        if self.svc.credit is None:
            return None
        cart = (await self.checked_cart(turn)).cart
        if cart.is_empty:
            return None
        left = await self.svc.credit.available(self.phone(turn))
        total = (await self.checkout_quote(turn, cart))[0].total
        if left.currency != total.currency or left.amount < total.amount:
            return None
        return left

    async def screen(self, turn: Turn) -> Screen:
        choices = []
        rails = RAILS_BY_COUNTRY.get(self.region(turn).country, ())
        part = await self.kept_pays_part(turn)
        for m in await self.methods(turn):
            label = method_label(self.svc, turn, m)
            if m in rails and part is not None:
                label = turn.t(
                    "payment.after_credit",
                    method=label,
                    rest=part[1].format(),
                    credit=part[0].format(),
                )
            if m is PaymentMethod.CREDIT:
                left = await self.credit_left(turn)
                assert left is not None
                label = turn.t("payment.CREDIT_left", left=left.format())
            if m is PaymentMethod.ACCOUNT_CREDIT:
                kept = await self.kept_covers(turn)
                assert kept is not None
                label = turn.t("payment.ACCOUNT_CREDIT_left", credit=kept.format())
            choices.append(Choice(label, m.value))
        return Screen(turn.t("payment.title"), tuple(choices))

    async def read(self, turn: Turn, text: str) -> Outcome | None:
        value = await self.named(turn, text)
        return None if value is None else await self.choose(turn, value)

    async def names_choice(self, turn: Turn, text: str) -> bool:
        return await self.named(turn, text) is not None

    async def named(self, turn: Turn, text: str) -> str | None:
        """The option a text names by its words: "Gbese" or "Mo fe san ni gbese" is paying on
        credit (whose Yoruba is also the balance keyword), "Pay on delivery" paying on delivery."""
        labels = {m.value: method_label(self.svc, turn, m) for m in await self.methods(turn)}
        return named_choice(text, labels)

    async def choose(self, turn: Turn, value: str) -> Outcome:
        if (await self.checked_cart(turn)).changed:
            # The locked quote holds a line no longer sold as it was: a new quote says which.
            turn.vars.pop(LOCK_VAR, None)
            return Go("quote", remember=False)
        turn.vars["pay"] = value
        return Go("confirm")


class Confirm(ShopState):
    name = "confirm"
    awaits_answer = True

    async def locked_total(self, turn: Turn) -> Money | None:
        """The total of the price lock taken at checkout, while it holds."""
        lock_id = turn.vars.get(LOCK_VAR)
        if not lock_id:
            return None
        try:
            lock = await self.svc.pricing.locked(str(lock_id))
        except PriceLockError:
            return None
        return lock.quote.total

    async def screen(self, turn: Turn) -> Screen:
        check = await self.checked_cart(turn)
        cart = await self.cart(turn)
        if cart.is_empty:
            text = check.above(turn, turn.t("cart.empty"), checkout=True)
            return Screen(text, (Choice(turn.t("menu.shop"), "!shop"),))
        if check.changed:
            # The held quote has a line no longer sold as it was: the total shown (and then
            # charged) is a fresh quote of the cart as it is.
            turn.vars.pop(LOCK_VAR, None)
        total = await self.locked_total(turn)
        if total is None:
            total = (await self.checkout_quote(turn, cart))[0].total
        pay = PaymentMethod(str(turn.vars.get("pay", PaymentMethod.ON_DELIVERY.value)))
        text = check.above(turn, confirm_text(turn, total, pay), checkout=True)
        return Screen(
            text, (Choice(turn.t("confirm.yes"), "yes"), Choice(turn.t("confirm.no"), "no"))
        )

    async def choose(self, turn: Turn, value: str) -> Outcome:
        if value == "!shop":
            return Go("categories", remember=False)
        if value == "no":
            return Home(notice=turn.t("confirm.cancelled"))
        if (await self.checked_cart(turn)).changed:
            # Withdrawn or sold down since the quote: nothing is placed; the new quote says
            # which line went and shows the new total, to be confirmed again.
            turn.vars.pop(LOCK_VAR, None)
            return Go("quote", remember=False)
        cart = await self.cart(turn)
        method = PaymentMethod(str(turn.vars.get("pay", PaymentMethod.ON_DELIVERY.value)))
        key = f"{turn.msg.session_key}:{turn.vars.get('checkout', turn.msg.idempotency_key)}"
        if method is PaymentMethod.ACCOUNT_CREDIT and await self.kept_short(turn, cart, key):
            # spent meanwhile (another order): nothing placed, nothing texted; she pays another way
            left = await self.account_credit(turn)
            return Go("payment", notice=turn.t("error.account_credit_short", left=left.format()))
        if method in RAILS_BY_COUNTRY.get(self.region(turn).country, ()):
            await self.remember_credit_part(turn, cart, key)
        turn.memo.pop(CART_MEMO, None)  # placing the order empties the cart
        try:
            order = await self.svc.orders.place(
                PlaceOrder(
                    customer=self.phone(turn),
                    region=self.region(turn).code,
                    lines=cart.lines,
                    payment_method=method,
                    idempotency_key=key,
                    voucher=cart.voucher,
                    price_lock_id=turn.vars.get(LOCK_VAR),
                    # Over SMS and WhatsApp, the text this turn answers with is the order's
                    # confirmation: it names the order, its total and how it is paid.
                    customer_texted=turn.msg.kind in (ChannelKind.SMS, ChannelKind.WHATSAPP),
                )
            )
        except (PriceLockError, PromotionExhaustedError, InvalidVoucherError):
            # The lock ran out, the cart changed, or the promotion was used up meanwhile: a
            # fresh quote, with a line only when what the customer pays changed. The quote
            # screen re-checks the promo code and says so if it no longer holds.
            held = await self.locked_total(turn)
            turn.vars.pop(LOCK_VAR, None)
            changed = held is None or (await self.cart_quote(turn, cart)).total != held
            notice = turn.t("error.prices_changed") if changed else None
            return Go("quote", remember=False, notice=notice)
        except (NoPriceError, UnknownProductError, OutOfStockError) as exc:
            # Withdrawn, or bought by someone else, after the check above: checked again, the
            # quote names the line taken out or cut to what is left, with the new total.
            turn.memo.pop(CHECK_MEMO, None)
            if (await self.checked_cart(turn)).changed or not isinstance(exc, OutOfStockError):
                turn.vars.pop(LOCK_VAR, None)
                return Go("quote", remember=False)
            product = await self.svc.catalogue.product(self.region(turn).code, exc.sku)
            notice = turn.t("error.stock_changed", name=product.name, available=exc.available)
            return Go("cart", remember=False, notice=notice)
        turn.vars.pop("checkout", None)
        turn.vars.pop(LOCK_VAR, None)
        outcome = await self.placed(turn, order, cart)
        if isinstance(outcome, Finish) and turn.msg.kind is ChannelKind.SMS:
            return Finish(self.with_status_hint(turn, outcome.text))
        return outcome

    async def remember_credit_part(self, turn: Turn, cart: Cart, key: str) -> None:
        """The credit kept on her account that pays part of this order, read before it is
        placed (its hold then takes it); a retried confirm of a placed order asks its rail
        again under the same key, which answers as the first time."""
        if self.svc.books is None or await self.svc.orders.placed_with(key) is not None:
            return
        total = await self.locked_total(turn)
        if total is None:
            total = (await self.checkout_quote(turn, cart))[0].total
        kept = await self.account_credit(turn)
        if 0 < kept.amount < total.amount and kept.currency == total.currency:
            turn.memo[CREDIT_PART_MEMO] = kept

    async def kept_short(self, turn: Turn, cart: Cart, key: str) -> bool:
        """Whether the credit on her account no longer pays this checkout (a retried confirm of
        an order it paid is not short: that order answers)."""
        if await self.svc.orders.placed_with(key) is not None:
            return False
        total = await self.locked_total(turn)
        if total is None:
            total = (await self.checkout_quote(turn, cart))[0].total
        kept = await self.account_credit(turn)
        return kept.currency != total.currency or kept.amount < total.amount

    @staticmethod
    def with_status_hint(turn: Turn, text: str) -> str:
        """Over SMS the closing text is the order's only confirmation, so it says what the
        confirmation SMS would have (reply STATUS), when that still fits one SMS."""
        hinted = f"{text} {turn.t('done.status_hint')}"
        return (
            hinted if measure(hinted, turn.capabilities) <= turn.capabilities.screen_chars else text
        )

    async def placed(self, turn: Turn, order: Order, cart: Cart) -> Outcome:
        """What the customer is told once the order is placed (from `cart`), by its payment
        method."""
        if order.payment_method is PaymentMethod.CREDIT:
            return await self.on_credit(turn, order, cart)
        if order.payment_method is PaymentMethod.ACCOUNT_CREDIT:
            return await self.from_kept_credit(turn, order, cart)
        if order.payment_method is PaymentMethod.ON_DELIVERY or self.svc.payments is None:
            return Finish(placed_text(turn, order))
        part = turn.memo.get(CREDIT_PART_MEMO)
        if isinstance(part, Money):
            assert self.svc.books is not None
            try:
                await self.svc.books.order_part_paid_from_credit(
                    order.reference, order.customer, order.total, part
                )
            except TransferRefusedError:
                return await self.kept_credit_short(turn, order, cart)
            return Finish(await self.pay(turn, order, order.total - part))
        return Finish(await self.pay(turn, order))

    async def on_credit(self, turn: Turn, order: Order, cart: Cart) -> Outcome:
        """Hold the total on the credit line; refused, the order is cancelled (stock back) and
        the cart it emptied is put back, so the customer can pay another way as told."""
        values = {"reference": order.reference, "total": order.total.format()}
        if self.svc.credit is None:
            return await self.credit_refused(turn, order, cart)
        try:
            credit = await self.svc.credit.authorise(order.reference, order.customer, order.total)
        except CreditRefusedError:
            return await self.credit_refused(turn, order, cart)
        # not delivered yet: the term runs from delivery
        return Finish(turn.t("done.credit", days=credit.term_days, **values))

    async def from_kept_credit(self, turn: Turn, order: Order, cart: Cart) -> Outcome:
        """Pay it at once from the credit kept on her account. Another order that spent it
        meanwhile leaves too little: the order is cancelled (stock back) and the cart put back,
        so she can pay another way. A retried confirm finds the same order and pays it once."""
        values = {"reference": order.reference, "total": order.total.format()}
        if self.svc.books is None:
            return await self.kept_credit_short(turn, order, cart)
        try:
            await self.svc.books.order_paid_from_credit(
                order.reference, order.customer, order.total
            )
        except TransferRefusedError:
            return await self.kept_credit_short(turn, order, cart)
        await self.svc.orders.paid_from_credit(order.reference)
        left = await self.account_credit(turn)
        return Finish(turn.t("done.account_credit", left=left.format(), **values))

    async def kept_credit_short(self, turn: Turn, order: Order, cart: Cart) -> Outcome:
        await self.svc.orders.advance(
            order.reference, OrderStatus.CANCELLED, reason="account_credit"
        )
        await self.save_cart(turn, cart)
        left = await self.account_credit(turn)
        return Home(notice=turn.t("error.account_credit_short", left=left.format()))

    async def credit_refused(self, turn: Turn, order: Order, cart: Cart) -> Outcome:
        await self.svc.orders.advance(order.reference, OrderStatus.CANCELLED, reason="credit")
        await self.save_cart(turn, cart)
        values = {"reference": order.reference, "total": order.total.format()}
        return Home(notice=turn.t("error.credit_refused", **values))

    async def pay(self, turn: Turn, order: Order, amount: Money | None = None) -> str:
        """Ask the rail for the money (`amount`: the rest her credit left to pay); the order's
        reference keys it, so a retry pays once."""
        return await start_payment(
            self.svc, turn, order, f"order:{order.reference}", "done", amount=amount
        )


async def start_payment(
    svc: ShopServices,
    turn: Turn,
    order: Order,
    key: str,
    prefix: str,
    *,
    amount: Money | None = None,
) -> str:
    """Ask the order's rail for its total (or `amount`, what is left after her credit) under
    `key`; the text says what the customer does next (`prefix` "done" at checkout, "again"
    for Pay again) and how much the rail asks."""
    assert svc.payments is not None
    if amount is None:
        # a retried confirm asks what the first asked (the rest, when her credit paid a part)
        first = await svc.payments.by_key(key)
        amount = order.total if first is None else first.amount
    asked = amount
    values = {"reference": order.reference, "total": asked.format()}
    try:
        intent = await svc.payments.pay(
            CreatePayment(
                idempotency_key=key,
                method=Method(order.payment_method.value),
                amount=asked,
                customer=order.customer,
                order_reference=order.reference,
                description=f"Order {order.reference}",
            )
        )
    except PaymentError:
        return turn.t(f"{prefix}.payment_failed", **values)
    if intent.status in GAVE_UP:
        return turn.t(f"{prefix}.payment_failed", **values)
    if intent.method is Method.BANK_TRANSFER and "account_number" in intent.details:
        return turn.t(
            later(turn, f"{prefix}.bank_transfer"),
            bank=intent.details.get("bank", ""),
            account=intent.details["account_number"],
            **values,
        )
    if intent.method is Method.PAYSTACK and "ussd_code" in intent.details:
        return turn.t(later(turn, f"{prefix}.paystack"), code=intent.details["ussd_code"], **values)
    if intent.method is Method.MOMO:
        return turn.t(f"{prefix}.momo", **values)
    if intent.method is Method.MPESA:
        # Her PIN prompt asks whole shillings: a total with cents is named as it will ask it.
        asks = "" if intent.asked == asked else turn.t("mpesa.asks", amount=intent.asked.short())
        return turn.t(later(turn, f"{prefix}.mpesa"), asks=asks, **values)
    return turn.t(f"{prefix}.payment_failed", **values)


def confirm_text(turn: Turn, total: Money, method: PaymentMethod) -> str:
    """The question before placing: on delivery with cents nobody hands over, it names the
    cash she will pay at the door, as the closing text and the driver's prompt do."""
    cash = total.in_cash()
    if method is PaymentMethod.ON_DELIVERY and cash != total:
        return turn.t("confirm.on_delivery_cash", total=total.format(), cash=cash.format())
    return turn.t("confirm.body", total=total.format(), method=turn.t(f"method.{method.value}"))


def placed_text(turn: Turn, order: Order) -> str:
    """The closing text of an order placed with nothing to pay now: its total and how it is
    paid; on delivery with cents nobody hands over, the cash she pays at the door (the total
    rounded to the cash unit, what the driver is told to collect)."""
    values = {"reference": order.reference, "total": order.total.format()}
    cash = order.total.in_cash()
    if order.payment_method is PaymentMethod.ON_DELIVERY and cash != order.total:
        return turn.t("done.on_delivery_cash", cash=cash.format(), **values)
    return turn.t("done.body", method=turn.t(f"method.{order.payment_method.value}"), **values)


# Brought to her door, or never to be: no cash is to be handed over any more.
_PAST_THE_DOOR = frozenset({OrderStatus.DELIVERED, OrderStatus.CANCELLED, OrderStatus.RETURNED})


def status_text(turn: Turn, order: Order, status: str) -> str:
    """The one-order screen: where it is, its total and how it is paid; on delivery with cents
    nobody hands over, while it is still to come, the cash she pays at the door, as the closing
    text and the driver's prompt name it."""
    values = {"reference": order.reference, "status": status, "total": order.total.format()}
    cash = order.total.in_cash()
    if (
        order.payment_method is PaymentMethod.ON_DELIVERY
        and cash != order.total
        and order.status not in _PAST_THE_DOOR
    ):
        return turn.t("order.status_on_delivery_cash", cash=cash.format(), **values)
    return turn.t("order.status", method=turn.t(f"method.{order.payment_method.value}"), **values)


def method_label(svc: ShopServices, turn: Turn, method: PaymentMethod) -> str:
    """A payment method as offered; a bank USSD code names the bank whose customers can dial
    it (a GTBank code is no use to a First Bank customer)."""
    if method is PaymentMethod.PAYSTACK and svc.payments is not None:
        found = svc.payments.ussd_bank()
        if found is not None:
            bank, code = found
            return turn.t("payment.PAYSTACK", bank=bank or turn.t("payment.a_bank"), code=code)
    return turn.t(f"payment.{method.value}")


def later(turn: Turn, msgid: str) -> str:
    """The closing text promising a message later (a receipt, a transfer arrived): over WhatsApp
    it comes in the conversation while her 24-hour window is open, by SMS once it has closed, so
    the text there names both."""
    return f"{msgid}.whatsapp" if turn.msg.kind is ChannelKind.WHATSAPP else msgid


WORKFLOW_FAILED = "failed"  # the stage an order's workflow answers once its run failed


class Orders(ShopState):
    name = "orders"

    async def screen(self, turn: Turn) -> Screen:
        orders = await self.svc.orders.recent(self.phone(turn), limit=5)
        if not orders:
            return Screen(turn.t("orders.none"))
        title = turn.t("orders.title", currency=orders[0].total.currency)
        stages = await self.stages([o.reference for o in orders])
        parts = await paid_in_parts(self.svc.payments, orders)
        back = await money_back(self.svc.payments, orders, self.svc.orders)
        lines = [
            order_line(turn, o, stage, parts.get(o.reference), back.get(o.reference))
            for o, stage in zip(orders, stages, strict=True)
        ]
        again = await self.payable_again(orders)
        choices = tuple(
            Choice(turn.t("orders.pay_again", reference=o.reference), o.reference) for o in again
        )
        # Newest first; on a small screen the oldest of the five give way.
        options = (
            *(Option(str(n), c.label) for n, c in enumerate(choices, 1)),
            Option(BACK_KEY, turn.t("nav.back")),
        )
        above = [turn.notice] if turn.notice else []
        while len(lines) > 1 and (
            measure(layout("\n".join([*above, title, *lines]), options), turn.capabilities)
            > turn.capabilities.screen_chars
        ):
            lines.pop()
        return Screen("\n".join([title, *lines]), choices)

    async def payable_again(self, orders: list[Order]) -> list[Order]:
        payments = self.svc.payments
        if payments is None:
            return []
        candidates = [
            o
            for o in orders
            if o.paid_at is None
            and o.status in PAYABLE
            and o.payment_method.value in Method.__members__
            and payments.offers(Method(o.payment_method.value))
        ]
        if not candidates:
            return []
        intents = await payments.for_orders([o.reference for o in candidates])
        return [o for o in candidates if payable_again(o, intents.get(o.reference, []))]

    async def choose(self, turn: Turn, value: str) -> Outcome:
        orders = await self.svc.orders.recent(self.phone(turn), limit=5)
        return await self.pay_again(turn, next((o for o in orders if o.reference == value), None))

    async def pay_again(self, turn: Turn, order: Order | None) -> Outcome:
        """Pay again: a new payment on the same rail, keyed by how many came before, so a
        repeated request asks once and an open payment is never doubled."""
        if order is None or self.svc.payments is None:
            return Reject("error.choice")
        intents = (await self.svc.payments.for_orders([order.reference])).get(order.reference, [])
        if not payable_again(order, intents):
            return Home(notice=turn.t("orders.not_payable", reference=order.reference))
        key = again_key(order, intents)
        books = self.svc.books
        if books is None:
            # what the checkout asked: the rest, when her account credit paid a part
            first = next(
                (i for i in intents if i.idempotency_key == f"order:{order.reference}"), None
            )
            amount = None if first is None else first.amount
            return Finish(await start_payment(self.svc, turn, order, key, "again", amount=amount))
        # as checkout: her account credit pays what it covers (the order's hold keeps it for
        # the order), the rail is asked only for the rest
        kept = await books.pay_again_from_credit(order.reference, order.customer, order.total)
        if kept >= order.total:
            await self.svc.orders.paid_from_credit(order.reference)
            left = await self.account_credit(turn)
            values = {"reference": order.reference, "total": order.total.format()}
            return Finish(turn.t("done.account_credit", left=left.format(), **values))
        amount = order.total - kept
        return Finish(await start_payment(self.svc, turn, order, key, "again", amount=amount))

    async def read(self, turn: Turn, text: str) -> Outcome | None:
        """An order's reference typed here ("W62ACJ", or all digits as some are: "222227",
        which is no choice and no quantity here): that order's own screen when it is hers."""
        reference = read_reference(text.strip())
        if reference is None:
            return None
        try:
            order = await self.svc.orders.get(reference)
        except UnknownOrderError:
            order = None
        if order is None or order.customer != self.phone(turn):
            return Reject("order.not_found", {"reference": reference})
        turn.vars[ORDER_VAR] = order.reference
        return Go(OrderView.name)

    async def stages(self, references: list[str]) -> list[str | None]:
        stage_of = self.svc.stage_of
        if stage_of is None:
            return [None] * len(references)
        stages = await asyncio.gather(*(stage_of(ref) for ref in references))
        # A workflow that failed carries its order no more: the stored status says where it is.
        return [None if stage == WORKFLOW_FAILED else stage for stage in stages]


async def paid_in_parts(payments: PaymentService | None, orders: list[Order]) -> dict[str, Money]:
    """What transfers short of each open, unpaid order brought towards it so far."""
    waiting = [o.reference for o in orders if o.paid_at is None and o.status in PAYABLE]
    if payments is None or not waiting:
        return {}
    intents = await payments.for_orders(waiting)
    found = {ref: sent_in_parts(intents.get(ref, [])) for ref in waiting}
    return {ref: part for ref, part in found.items() if part is not None}


ENDED = (OrderStatus.CANCELLED, OrderStatus.RETURNED)
# What a paid order cancelled or returned says of its money (engines.payments.money_back).
BACK_WORDS = {
    MoneyBack.ON_ITS_WAY: "orders.refunding",  # asked of its rail, not confirmed yet
    MoneyBack.DELAYED: "orders.refund_delayed",  # the rail waits on someone: she should call
    MoneyBack.REFUNDED: "orders.refunded",  # the money went back on the rail it was paid on
    MoneyBack.KEPT: "orders.kept",  # the money is back on her account, as credit
}


async def money_back(
    payments: PaymentService | None, orders: list[Order], history: OrderService
) -> dict[str, str]:
    """Where the money of each order that was cancelled or returned is, as GraphQL's
    `payment { refund }` says: on her account, on its way back on its rail (or held there until
    someone acts), or given back by it (one read of the payments for all of them)."""
    ended = [o for o in orders if o.status in ENDED]
    # a back-order born paid: its money is its first order's payment's
    paid_as = {
        o.reference: (await history.lineage(o))[0].reference if o.paid_by_original else o.reference
        for o in ended
    }
    on_rail = [paid_as[o.reference] for o in ended if o.payment_method.value in Method.__members__]
    intents = await payments.for_orders(on_rail) if payments is not None and on_rail else {}
    found = {o.reference: back_of(o, intents.get(paid_as[o.reference], [])) for o in ended}
    return {ref: BACK_WORDS[back] for ref, back in found.items() if back is not None}


def order_line(
    turn: Turn,
    order: Order,
    stage: str | None,
    received: Money | None,
    back: str | None = None,
) -> str:
    """An order's line on an orders screen: where it is and its total, and, when part of it
    came by transfer (her bank's daily limit), how much of how much."""
    values = {"reference": order.reference, "total": _amount(order.total)}
    if received is None:
        return turn.t("orders.line", status=where_is(turn, order, stage, back), **values)
    # The workflow knows more than the stored status (awaiting payment, routed, the driver at
    # the door); without an answer from it, the stored status stands.
    where = turn.t(f"stage.{stage}") if stage else turn.t(f"status.{order.status.value}")
    return turn.t("orders.line_part_paid", status=where, received=_amount(received), **values)


def where_is(turn: Turn, order: Order, stage: str | None, back: str | None = None) -> str:
    """Where an order is, in words: the workflow knows more than the stored status (awaiting
    payment, routed, the driver at the door); without an answer from it, the status stands.
    `back`: where the money of a paid order cancelled or returned went (`money_back`)."""
    where = turn.t(f"stage.{stage}") if stage else turn.t(f"status.{order.status.value}")
    if back is not None:
        return turn.t(back, status=where)
    return turn.t("orders.paid", status=where) if order.paid_at is not None else where


ORDER_VAR = "order_ref"  # the reference of the order a sentence asked about


class OrderView(Orders):
    """One order, asked for by its reference ("where is order W62ACJ"), however far back it
    is: where it is, its total and how it is paid, and Pay again when its payment failed or
    timed out, as on My orders. Only the customer's own is shown."""

    name = "order"

    async def screen(self, turn: Turn) -> Screen:
        order = await self.svc.orders.get(str(turn.vars[ORDER_VAR]))
        [stage] = await self.stages([order.reference])
        back = await money_back(self.svc.payments, [order], self.svc.orders)
        again = await self.payable_again([order])
        return Screen(
            status_text(turn, order, where_is(turn, order, stage, back.get(order.reference))),
            tuple(
                Choice(turn.t("orders.pay_again", reference=o.reference), o.reference)
                for o in again
            ),
        )

    async def choose(self, turn: Turn, value: str) -> Outcome:
        """Pay again, for the order shown (which may be older than My orders' five)."""
        order = await self.svc.orders.get(str(turn.vars[ORDER_VAR]))
        return await self.pay_again(turn, order if order.reference == value else None)


def _amount(money: Money) -> str:
    """An amount on the orders screen, whose title names the currency: cents only when any."""
    return f"{money.amount:,.2f}" if money.amount % 1 else f"{money.amount:,.0f}"


DETAILS = "details"


DAY = "%d/%m/%Y"  # a day on the balance screens
THIS_WEEK = "%d/%m"  # a day of the past week: no year


def _pages(turn: Turn, screen: Screen) -> bool:
    """Whether a screen's text leaves room on every page for one of its choices, More and
    Back: the pager can lay it out on her device."""
    above = [turn.notice] if turn.notice else []
    widest = max(
        (c.label for c in screen.choices),
        key=lambda label: measure(label, turn.capabilities),
        default=None,
    )
    options = [
        *([] if widest is None else [Option("1", widest), Option(MORE_KEY, turn.t("nav.more"))]),
        Option(BACK_KEY, turn.t("nav.back")),
    ]
    text = "\n".join([*above, screen.text])
    return measure(layout(text, options), turn.capabilities) <= turn.capabilities.screen_chars


def due_words(turn: Turn, credit: CreditOrder) -> str:
    """When a credit falls due: its date once delivered, else its term after delivery."""
    if credit.due_on is None:
        return turn.t("credit.due_after_delivery", days=credit.term_days)
    return credit.due_on.strftime(DAY)


def credit_line(turn: Turn, credit: CreditOrder) -> str:
    """One open credit: what is owed on it, with the late fee where one was charged."""
    values = {"total": credit.outstanding.format(), "due": due_words(turn, credit)}
    fee = late_fee_owed(credit)
    if fee.amount > 0:  # owed with the rest, and paid first
        return turn.t("balance.credit_late_fee", fee=fee.format(), **values)
    return turn.t("balance.credit", **values)


class Balance(ShopState):
    """BAL: what the customer still owes on orders they pay on delivery, and on credit."""

    name = "balance"

    async def screen(self, turn: Turn) -> Screen:
        count, total = await self.svc.orders.outstanding(self.phone(turn))
        owed = await self.credits_owed(turn)
        lines = []
        if total is not None:
            lines.append(turn.t("balance.owed", total=total.format(), count=count))
        kept = await self.account_credit(turn)
        if kept.amount > 0:
            lines.append(turn.t("balance.account_credit", total=kept.format()))
        paid = await self.paid_from_credit(turn)
        if not lines and not owed:
            return Screen("\n".join([turn.t("balance.none"), *paid]))
        choices: tuple[Choice, ...] = ()
        if owed:
            choices = tuple(
                Choice(turn.t("balance.repay", method=method_label(self.svc, turn, m)), m.value)
                for m in self.repay_methods(turn)
            )
        # under what she owes, what her credit paid of it this week, where there is room
        screen = self._owed_screen(turn, lines, owed, choices, paid)
        if paid and not _pages(turn, screen):
            screen = self._owed_screen(turn, lines, owed, choices, [])  # its text told her
        return screen

    def _owed_screen(
        self,
        turn: Turn,
        lines: list[str],
        owed: list[CreditOrder],
        choices: tuple[Choice, ...],
        paid: list[str],
    ) -> Screen:
        # every credit still open, oldest first (the one a repayment pays first): all is owed
        every = [*lines, *(credit_line(turn, c) for c in owed), *paid]
        options = [
            *(Option(str(n), c.label) for n, c in enumerate(choices, 1)),
            Option(BACK_KEY, turn.t("nav.back")),
        ]
        above = [turn.notice] if turn.notice else []
        if len(owed) < 2 or (
            measure(layout("\n".join([*above, *every]), options), turn.capabilities)
            <= turn.capabilities.screen_chars
        ):
            return Screen("\n".join(every), choices)
        # too long for one screen: what is owed in all and when the oldest is due, each credit
        # on the pages behind "See each credit"
        owed_total = sum((c.outstanding for c in owed[1:]), owed[0].outstanding)
        summary = turn.t(
            "balance.credit_summary",
            total=owed_total.format(),
            count=len(owed),
            due=due_words(turn, owed[0]),
        )
        details = Choice(turn.t("balance.details"), DETAILS)
        return Screen("\n".join([*lines, summary, *paid]), (details, *choices))

    async def paid_from_credit(self, turn: Turn) -> list[str]:
        """What her account credit paid of her credit debt this past week (the latest), as
        its text said: BAL shows credit and debt apart, so a drop in her debt is explained."""
        if self.svc.credit is None:
            return []
        paid = await self.svc.credit.last_paid_from_account_credit(self.phone(turn))
        if paid is None:
            return []
        amount, on = paid
        return [
            turn.t("balance.credit_paid_debt", amount=amount.format(), date=on.strftime(THIS_WEEK))
        ]

    async def credits_owed(self, turn: Turn) -> list[CreditOrder]:
        """The credits still open, oldest first: repayments pay the oldest first."""
        if self.svc.credit is None:
            return []
        open_ = [
            c
            for c in await self.svc.credit.credits(self.phone(turn))
            if c.status is CreditStatus.OPEN and c.outstanding.amount > 0
        ]
        return sorted(open_, key=repayment_order)

    async def credit_owed(self, turn: Turn) -> CreditOrder | None:
        """The oldest credit still open: the one a repayment pays."""
        owed = await self.credits_owed(turn)
        return owed[0] if owed else None

    def repay_methods(self, turn: Turn) -> list[PaymentMethod]:
        return [
            m
            for m in RAILS_BY_COUNTRY.get(self.region(turn).country, ())
            if self.svc.payments is not None and self.svc.payments.offers(Method(m.value))
        ]

    async def choose(self, turn: Turn, value: str) -> Outcome:
        if value == DETAILS:
            return Go(BalanceCredits.name)
        owed = await self.credit_owed(turn)
        if owed is None or self.svc.payments is None:
            return Home(notice=turn.t("balance.none"))
        values = {"reference": owed.order_reference, "total": owed.outstanding.format()}
        try:
            intent = await self.svc.payments.pay(
                CreatePayment(
                    idempotency_key=await self.repayment_key(owed),
                    method=Method(value),
                    amount=owed.outstanding,
                    customer=self.phone(turn),
                    order_reference=owed.order_reference,
                    description=f"Credit repayment {owed.order_reference}",
                )
            )
        except PaymentError:
            return Finish(turn.t("done.repay_failed", **values))
        if intent.status in (IntentStatus.FAILED, IntentStatus.CANCELLED):
            return Finish(turn.t("done.repay_failed", **values))
        # no prompt comes for a transfer or a bank USSD code: say where to send it, or what to dial
        if intent.method is Method.BANK_TRANSFER and "account_number" in intent.details:
            return Finish(
                turn.t(
                    later(turn, "done.repay_bank_transfer"),
                    bank=intent.details.get("bank", ""),
                    account=intent.details["account_number"],
                    **values,
                )
            )
        if intent.method is Method.PAYSTACK and "ussd_code" in intent.details:
            return Finish(
                turn.t(
                    later(turn, "done.repay_paystack"), code=intent.details["ussd_code"], **values
                )
            )
        return Finish(turn.t(later(turn, "done.repay"), method=turn.t(f"method.{value}"), **values))

    async def repayment_key(self, owed: CreditOrder) -> str:
        assert self.svc.payments is not None
        intents = (await self.svc.payments.for_orders([owed.order_reference])).get(
            owed.order_reference.upper(), []
        )
        return repayment_key(owed.order_reference, owed.outstanding, intents)


class BalanceCredits(Balance):
    """Each open credit, oldest first, a line per credit on as many pages as it takes: the
    balance screen says only the total when they do not all fit on it."""

    name = "balance_credits"

    async def screen(self, turn: Turn) -> Screen:
        owed = await self.credits_owed(turn)
        if not owed:
            return Screen(turn.t("balance.none"))
        return Screen(
            turn.t("balance.details_title"),
            tuple(Choice(credit_line(turn, c), c.order_reference) for c in owed),
        )

    async def choose(self, turn: Turn, value: str) -> Outcome:
        return Go(Balance.name)  # repaid from the balance screen, oldest first


class Language(ShopState):
    name = "language"

    async def screen(self, turn: Turn) -> Screen:
        return Screen(
            turn.t("language.title"), tuple(Choice(name, code) for code, name in turn.languages)
        )

    async def choose(self, turn: Turn, value: str) -> Outcome:
        turn.locale = turn.capabilities.in_language(value)  # kept for the other channels
        await self.svc.customers.set_locale(self.phone(turn), value)
        return Home(notice=turn.t("language.set"))


class Help(ShopState):
    name = "help"

    async def screen(self, turn: Turn) -> Screen:
        return Screen(turn.t("help.body"))


TYPED_ORDER_KINDS = frozenset({ChannelKind.SMS, ChannelKind.WHATSAPP})
TYPED_VAR = "typed"  # the items of a typed order still to confirm: [[quantity, words, unit], ...]
TYPED_FROM_VAR = "typed_from"  # the screen she typed it on, where No and the end return
TYPED_SKU_VAR = "typed_sku"  # the product the first item is taken to mean
TYPED_CHOICES_VAR = "typed_skus"  # the products it may mean, when it is not clear which
TYPED_VARS = (TYPED_VAR, TYPED_FROM_VAR, TYPED_SKU_VAR, TYPED_CHOICES_VAR)
SHOWN_WORDS = 20  # characters of what she typed echoed in "No product called …", whole words


def reads_typed_orders(turn: Turn) -> bool:
    """SMS and WhatsApp users type sentences; a keypad (USSD, voice) cannot, and apps have
    their own search."""
    return turn.msg.kind in TYPED_ORDER_KINDS


async def read_typed_order(
    state: ShopState, turn: Turn, text: str, *, origin: str | None = None
) -> Outcome | None:
    """An order typed instead of a choice ("5 cartons indomie"): its first item to confirm,
    or the screen again with a line saying what she can type. Nothing changes until Yes.
    No and the order's end return to `origin` (this screen unless given)."""
    if not reads_typed_orders(turn) or not text.strip():
        return None  # a photo without a caption is no attempt at an order
    items = read_order(text)
    if not items:
        return await read_typed_product(state, turn, text, origin=origin)
    turn.vars[TYPED_FROM_VAR] = origin or state.name
    turn.vars[TYPED_VAR] = [[item.quantity, item.words, item.unit] for item in items]
    first = await next_typed_item(state, turn, remember=True)
    if first is None:
        words = items[0].words
        return Reject("typed.not_found", {"words": shown_code(turn, echoed(words, SHOWN_WORDS))})
    return first


async def read_typed_product(
    state: ShopState, turn: Turn, text: str, *, origin: str | None = None
) -> Outcome:
    """A product named without a quantity ("indomie"): its quantity screen, as if picked from
    its list (a choice first when the name fits several); the typing hint when it names none."""
    words = read_product_name(text)
    found = await typed_products(state, turn, words) if words else []
    if not found:
        return Reject("typed.hint_tap" if shows_taps(turn) else "typed.hint", unclear=True)
    if len(found) == 1:
        return go_to_quantity(turn, found[0], remember=True)
    turn.vars[TYPED_FROM_VAR] = origin or state.name
    turn.vars[TYPED_VAR] = [[None, words]]
    turn.vars[TYPED_CHOICES_VAR] = [p.sku for p in found]
    return Go(TypedPick.name)


def go_to_quantity(
    turn: Turn, product: Product, *, remember: bool, notice: str | None = None
) -> Outcome:
    end_typed_order(turn)
    turn.vars["cat"] = product.category_id  # "Add more products" opens its shelf
    turn.vars["sku"] = product.sku
    turn.vars.pop("edit", None)
    return Go(Quantity.name, remember=remember, notice=notice)


async def confirm_typed_item(
    state: ShopState, turn: Turn, product: Product, *, remember: bool, notice: str | None
) -> Outcome:
    """Yes/No for the typed order's next item, unless more is asked than can go in the cart, or
    it is counted in a unit the product is not sold by ("5 pieces" of cartons): then the line
    the quantity screen gives ("Only 4 left in stock.", "Sold by the carton: …") above that
    product's quantity screen, nothing asked, and the rest of the order dropped (as a refused
    Yes)."""
    item = turn.vars[TYPED_VAR][0]
    quantity = int(item[0])
    if not unit_fits(item[2] if len(item) > 2 else None, product.unit):
        # "5 pieces" of what is sold by the carton: not 5 cartons; she is asked in cartons.
        refused: Reject | None = Reject("typed.sold_by", {"unit": turn.t(f"unit.{product.unit}")})
    else:
        refused = await state.cart_refusal(turn, product.sku, quantity)
    if refused is not None:
        line = turn.t(refused.msgid, **refused.values)
        said = line if notice is None else f"{notice}\n{line}"
        return go_to_quantity(turn, product, remember=remember, notice=said)
    turn.vars[TYPED_SKU_VAR] = product.sku
    return Go(TypedConfirm.name, remember=remember, notice=notice)


async def typed_products(state: ShopState, turn: Turn, words: str) -> list[Product]:
    """The priced products of her region the words may mean, best first."""
    region = state.region(turn).code
    found = await state.svc.catalogue.match(region, words, turn.locale)
    prices = await state.svc.pricing.list_prices(
        region, [p.sku for p in found], customer=state.phone(turn)
    )
    return [p for p in found if p.sku in prices]


async def next_typed_item(
    state: ShopState, turn: Turn, *, remember: bool = False, notice: str | None = None
) -> Outcome | None:
    """The screen for the typed order's next item: Yes/No when it names one product, a list
    when several. An item naming none is skipped, with a line saying so (above the next item,
    or the screen she typed on). None when no item names a product and there is no screen to
    go back to (`remember`: still on the screen she typed on)."""
    queue = list(turn.vars.get(TYPED_VAR, []))
    missing: list[str] = []
    found: list[Product] = []
    while queue:
        found = await typed_products(state, turn, str(queue[0][1]))
        if found:
            break
        missing.append(str(queue.pop(0)[1]))
    if missing:
        skipped = turn.t("typed.skipped", words=shown_code(turn, echoed(missing[0], SHOWN_WORDS)))
        notice = skipped if notice is None else f"{notice}\n{skipped}"
    if not queue:
        back = str(turn.vars.get(TYPED_FROM_VAR, "main"))
        end_typed_order(turn)
        return None if remember else Go(back, notice=notice)
    turn.vars[TYPED_VAR] = queue
    if len(found) == 1:
        return await confirm_typed_item(state, turn, found[0], remember=remember, notice=notice)
    turn.vars[TYPED_CHOICES_VAR] = [p.sku for p in found]
    return Go(TypedPick.name, remember=remember, notice=notice)


def end_typed_order(turn: Turn) -> None:
    for name in TYPED_VARS:
        turn.vars.pop(name, None)


class TypedPick(ShopState):
    """The products a typed item may mean, when it is not clear which: she picks one."""

    name = "typed_pick"
    awaits_answer = True
    reads_orders = True

    async def screen(self, turn: Turn) -> Screen:
        region = self.region(turn).code
        skus = [str(s) for s in turn.vars.get(TYPED_CHOICES_VAR, [])]
        prices = await self.svc.pricing.list_prices(region, skus, customer=self.phone(turn))
        products = [await self.svc.catalogue.product(region, sku) for sku in skus]
        quantity, words = turn.vars.get(TYPED_VAR, [[0, ""]])[0][:2]
        shown = shown_code(turn, echoed(str(words), SHOWN_WORDS))
        title = (
            turn.t("typed.pick_named", words=shown)
            if quantity is None
            else turn.t("typed.pick", quantity=quantity, words=shown)
        )
        return Screen(
            title,
            tuple(
                Choice(f"{p.name} {prices[p.sku].short()}", p.sku)
                for p in products
                if p.sku in prices
            ),
        )

    async def choose(self, turn: Turn, value: str) -> Outcome:
        if (turn.vars.get(TYPED_VAR) or [[0]])[0][0] is None:  # no quantity typed: asked next
            product = await self.svc.catalogue.product(self.region(turn).code, value)
            return go_to_quantity(turn, product, remember=False)
        turn.vars.pop(TYPED_CHOICES_VAR, None)
        product = await self.svc.catalogue.product(self.region(turn).code, value)
        return await confirm_typed_item(self, turn, product, remember=False, notice=None)

    async def read(self, turn: Turn, text: str) -> Outcome | None:
        """One of the listed products named alone ("kuku", "onion") picks it, as a tap does.
        Another order typed instead of a choice ("2 spaghetti"): read as on the screen the
        first was typed on, and in its place; this list again, with the line saying why, when
        the text names nothing."""
        named = await self.named(turn, text)
        if named is not None:
            return await self.choose(turn, named)
        pending = {name: turn.vars[name] for name in TYPED_VARS if name in turn.vars}
        origin = str(turn.vars.get(TYPED_FROM_VAR, MainMenu.name))
        outcome = await read_typed_order(self, turn, text, origin=origin)
        if isinstance(outcome, Reject):
            turn.vars.update(pending)
        if isinstance(outcome, Go):
            return replace(outcome, remember=False)  # Back leads where it led from this list
        return outcome

    async def named(self, turn: Turn, text: str) -> str | None:
        """The listed product that words without a quantity name, when they name one of them
        only (the quantity already typed stands)."""
        words = read_product_name(text)
        if words is None:
            return None
        listed = {str(sku) for sku in turn.vars.get(TYPED_CHOICES_VAR, [])}
        found = [p.sku for p in await typed_products(self, turn, words) if p.sku in listed]
        return found[0] if len(found) == 1 else None


class TypedConfirm(ShopState):
    """Add 5 x Indomie Chicken 40x70g (NGN 46,500.00)? 1. Yes 2. No. The cart changes on Yes
    only, through the same checks as a quantity typed on the menu journey."""

    name = "typed_confirm"
    awaits_answer = True

    async def screen(self, turn: Turn) -> Screen:
        region = self.region(turn).code
        sku = str(turn.vars[TYPED_SKU_VAR])
        quantity = int(turn.vars[TYPED_VAR][0][0])
        product = await self.svc.catalogue.product(region, sku)
        # The pricing engine's amount for that many (its tier), not a sum made here.
        [line] = (
            await self.svc.pricing.quote(region, [(sku, quantity)], customer=self.phone(turn))
        ).lines
        total = Money(line.total_amount, line.currency)
        return Screen(
            turn.t("typed.confirm", quantity=quantity, name=product.name, total=total.format()),
            (Choice(turn.t("typed.yes"), "yes"), Choice(turn.t("typed.no"), "no")),
            back=False,
        )

    async def choose(self, turn: Turn, value: str) -> Outcome:
        queue = list(turn.vars.get(TYPED_VAR, []))
        if not queue or TYPED_SKU_VAR not in turn.vars:
            end_typed_order(turn)
            return Home()
        quantity = int(queue[0][0])
        sku = str(turn.vars.pop(TYPED_SKU_VAR))
        turn.vars[TYPED_VAR] = queue[1:]
        if value != "yes":
            return await self.after(turn, notice=None)
        product = await self.svc.catalogue.product(self.region(turn).code, sku)
        turn.vars["cat"] = product.category_id  # "Add more products" opens its shelf
        turn.vars["sku"] = sku
        turn.vars.pop("edit", None)
        refused = await self.put_in_cart(turn, sku, quantity)
        if refused is not None:
            # The quantity screen says how many there are; the rest of the order is dropped.
            end_typed_order(turn)
            return Go(Quantity.name, remember=False, notice=turn.t(refused.msgid, **refused.values))
        turn.vars["added"] = quantity
        turn.vars[ADDED_SKU_VAR] = sku
        if not turn.vars[TYPED_VAR]:
            end_typed_order(turn)
            return Go(Added.name, remember=False)
        added = turn.t("typed.added", quantity=quantity, name=product.name)
        return await self.after(turn, notice=added)

    async def read(self, turn: Turn, text: str) -> Outcome | None:
        """Yes or No typed as a word ("yes", "ndio") rather than its number, as people write
        it: "Ndiyo.", "Sawa!", "ndio tafadhali", "no thanks", "A'a!" (whose apostrophe
        `said_words` would split at). Read in her language, then English, then her market's
        (a Lagos retailer on English types Pidgin's "Oya" or "No o")."""
        answer = yes_or_no(turn, text, self.region(turn).country)
        return None if answer is None else await self.choose(turn, answer)

    async def after(self, turn: Turn, notice: str | None) -> Outcome:
        following = await next_typed_item(self, turn, notice=notice)
        assert following is not None  # not `remember`: the screen she typed on, at the end
        return following


def yes_or_no(turn: Turn, text: str, country: str) -> str | None:
    """Yes ("yes") or No ("no") as her reply says it, read in her language, English and her
    market's; None when it says neither, or both ("yes no", "oui non"): she is asked again."""
    word = keyword_of(text.replace("\u2019", "'"))  # a phone's typographic apostrophe
    said = said_words(text, apostrophes=True)
    answers: set[str] = set()
    for locale in yes_no_locales(turn.locale, country):
        phrases = {value: yes_no_words(turn, locale, value) for value in ("yes", "no")}
        whole = {value for value, words in phrases.items() if word in words}
        answers |= whole or read_yes_no(said, phrases)
    return answers.pop() if len(answers) == 1 else None


def yes_no_words(turn: Turn, locale: str, value: str) -> set[str]:
    """Yes (or No) as she may type it in `locale`: its button's label, the word itself and the
    language's keywords ("oui", "pas de problème"), lower case."""
    words = {turn.t_in(locale, f"typed.{value}").casefold(), value}
    keywords = turn.t_in(locale, f"keyword.{value}").split(",")
    return words | {w.strip().casefold() for w in keywords if w.strip()}


def read_yes_no(said: list[str], phrases: dict[str, set[str]]) -> set[str]:
    """The answers (`phrases`' keys) a reply's words give, read phrase by phrase, the longest
    first, with polite filler around them: "Oui, pas de problème" and "Eh, no wahala" are a
    Yes, "Mba, daalu" a No. Empty when a word is neither an answer nor filler ("yes, but only
    two"); both when it says both ("yes no"), which is no answer either."""
    spelt = sorted(
        ((tuple(phrase.split()), value) for value, words in phrases.items() for phrase in words),
        key=lambda pair: -len(pair[0]),
    )
    found: set[str] = set()
    at = 0
    while at < len(said):
        match = next(
            (
                (len(words), value)
                for words, value in spelt
                if tuple(said[at : at + len(words)]) == words
            ),
            None,
        )
        if match is not None:
            at += match[0]
            found.add(match[1])
        elif said[at] in FILLER_WORDS:
            at += 1
        else:
            return set()
    return found


def shopping_states(services: ShopServices) -> list[State]:
    kinds: list[type[ShopState]] = [
        MainMenu,
        Resume,
        Categories,
        Products,
        Quantity,
        Added,
        CartView,
        CartLineView,
        QuoteView,
        Voucher,
        Payment,
        Confirm,
        Orders,
        OrderView,
        Balance,
        BalanceCredits,
        Language,
        Help,
        TypedPick,
        TypedConfirm,
    ]
    return [kind(services) for kind in kinds]


__all__ = ["Finish", "shopping_states"]


async def products_screen(
    turn: Turn,
    catalogue: CatalogueService,
    pricing: PricingService,
    *,
    region: RegionCode,
    category_id: str,
    customer: Phone,
) -> Screen:
    """A category's products with her price, as the shop and operators' services list them."""
    categories = {c.id: c for c in await catalogue.categories(region)}
    products = await catalogue.products(region, category_id)
    prices = await pricing.list_prices(region, [p.sku for p in products], customer=customer)
    category = categories.get(category_id)
    title = category.name(turn.locale) if category else ""
    return Screen(
        turn.t("products.title", category=title),
        tuple(
            Choice(f"{p.name} {prices[p.sku].short()}", p.sku) for p in products if p.sku in prices
        ),
    )
