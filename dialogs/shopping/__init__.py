"""The shopping dialog: Ngozi's journey from the main menu to an order reference."""

from __future__ import annotations

from core.conversation import Session
from core.i18n import Translator
from core.intents import OPT_OUT, Intent, IntentKind, IntentMatcher, resolve_intent
from core.messages import ChannelKind, InboundMessage, Reply
from core.region import UnsupportedRegionError, region_for_phone
from core.sentences import (
    BALANCE,
    HELP,
    MENU,
    STATUS,
    is_greeting,
    read_named_order,
    read_reference,
)
from dialogs.machine import Go, Home, Machine, Outcome, Reject, State, Turn
from dialogs.shopping.order_text import FILLER_WORDS, read_order, read_product_name, said_words
from dialogs.shopping.services import ShopServices
from dialogs.shopping.states import (
    CART_MEMO,
    CHECK_MEMO,
    ORDER_VAR,
    TYPED_ORDER_KINDS,
    CartCheck,
    OrderView,
    recheck_cart,
    shopping_states,
)
from engines.orders import Order, UnknownOrderError

__all__ = ["ShopServices", "ShoppingDialog"]

COMMAND_STATES = {
    "order": "categories",
    "status": "orders",
    "help": "help",
    "balance": "balance",
    # No customer cancels an order in a conversation today (apps have cancelOrder): "cancel my
    # order" gets the help screen, with the help line to call.
    "cancel": "help",
}
# What a sentence typed at a screen awaiting one specific answer may still ask for: "cancel the
# order" or "show me the menu" at Confirm is no Yes or No, and leaving the checkout for Help or
# the menu would drop the quote she was about to confirm.
CLEAR_ASKS = frozenset({STATUS, BALANCE, HELP})
# Keywords that ask a question on the way rather than start elsewhere: Back after the answer
# returns to the screen they were asked from (ORDER starts shopping, from the main menu).
ASIDES = frozenset({"status", "balance", "help", "cancel"})
# Where a customer types her words, and so may greet us mid-conversation ("Hi", "Habari").
GREETED_KINDS = frozenset({ChannelKind.SMS, ChannelKind.WHATSAPP, ChannelKind.WEB})


class ShoppingDialog:
    """Implements the pipeline's Dialog port over the shopping state machine."""

    def __init__(
        self, services: ShopServices, translate: Translator, *, nlu: IntentMatcher | None = None
    ) -> None:
        self._svc = services
        self._t = translate
        # Asked what a text means only once the menu, keywords, the built-in matcher and the
        # order reader have not read it.
        self._nlu = nlu
        self.machine = Machine(
            shopping_states(services),
            home="main",
            translate=translate,
            understand=self._understood if nlu is not None else None,
        )

    async def step(
        self, msg: InboundMessage, session: Session | None, intent: Intent
    ) -> tuple[Session, Reply]:
        if msg.opt_out is True:
            # The provider already stopped messaging her, whatever word she used ("CANCEL" on
            # the confirm screen): she is opted out here too, as by our STOP.
            return await self._command(msg, session, "stop")
        if msg.opt_out is False and await self._blocked_by_provider(msg):
            return await self._command(msg, session, "start")
        if msg.reaction is not None:
            return await self._reacted(msg, session, intent)
        if intent.kind is IntentKind.LATE:
            return await self._late(msg, session)
        if session is not None and self._greets(msg, session, intent):
            return await self._greeted(msg, session)
        if session is not None:
            intent = self.machine.reads(session, intent)
            if intent.kind is IntentKind.COMMAND and await self._names_choice(msg, session, intent):
                intent = intent.as_answer()
        if intent.sentence and await self._answers_screen(msg, session, intent):
            intent = intent.as_answer()
        if intent.kind is IntentKind.COMMAND:
            reference = named_reference(intent)
            if reference is not None:
                return await self._order(msg, session, reference)
            return await self._command(msg, session, intent.text)
        if session is None:
            return await self._begin(msg)
        turn = Turn(msg, session, self._t)
        return await self.machine.step(turn, session, intent)

    def _greets(self, msg: InboundMessage, session: Session, intent: Intent) -> bool:
        """Whether a typed message is a greeting alone, mid-conversation; at a prompt that
        takes any text (a promo code) it is that text."""
        state = self.machine.states.get(session.state)
        return (
            msg.kind in GREETED_KINDS
            and msg.transcript is None
            and intent.kind is IntentKind.INPUT
            and not (state is not None and state.free_text)
            and is_greeting(intent.text)
        )

    async def _greeted(self, msg: InboundMessage, session: Session) -> tuple[Session, Reply]:
        """A greeting mid-conversation is answered as a new conversation is (the main menu, or
        her saved cart's offer), not told to choose a number; at a screen awaiting one answer
        (Confirm, Payment, a quantity) that screen again, greeted, so nothing chosen is lost."""
        state = self.machine.states.get(session.state)
        if state is not None and state.awaits_answer:
            turn = Turn(msg, session, self._t)
            return await self.machine.show(turn, session, error=turn.t("notice.greeting"))
        return await self._begin(msg)

    async def _reacted(
        self, msg: InboundMessage, session: Session | None, intent: Intent
    ) -> tuple[Session, Reply]:
        """A 👍 or 👎 on our newest screen: its Yes or No, where that screen asks one. On any
        other screen, arrived late, or with her conversation over, nothing changes and she is
        sent nothing."""
        if session is None:
            locale = await self._locale(msg)
            return Session("main", locale), Reply("", end=True, locale=locale)
        if intent.kind is IntentKind.LATE or msg.reaction is None:
            return session, Reply("", locale=session.locale)
        return await self.machine.react(Turn(msg, session, self._t), session, msg.reaction)

    async def _command(
        self, msg: InboundMessage, session: Session | None, command: str
    ) -> tuple[Session, Reply]:
        """SMS/WhatsApp keywords: jump to a screen, or opt out of / back into notifications."""
        locale = session.locale if session is not None else await self._locale(msg)
        try:
            region_for_phone(msg.phone)
        except UnsupportedRegionError:
            return Session("main", locale), Reply(
                self._t(locale, "error.region"), end=True, locale=locale
            )
        base = Session("main", locale, vars=dict(session.vars) if session else {})
        turn = Turn(msg, base, self._t)
        if command == "stop" and msg.phone_claimed:
            # A web chat that proved no phone: whoever typed it may not be her, so her SMS are
            # not stopped from here; she is told where her STOP works.
            return await self.machine.show(turn, base, error=self._t(locale, "stop.by_sms"))
        if command == "stop":
            # Remembered: only the provider that blocked her has its opt-in ("YES") undo it.
            by = msg.provider if msg.opt_out is True else None
            await self._svc.customers.set_opted_out(msg.phone, opted_out=True, by=by)
            return base, Reply(self._t(locale, "stop.done"), end=True, locale=locale)
        if command == "start" and msg.phone_claimed:
            # Nor are they started again: she may have stopped them, and this may not be her.
            return await self.machine.show(turn, base, error=self._t(locale, "start.by_sms"))
        if command == "start":
            await self._svc.customers.set_opted_out(msg.phone, opted_out=False)
            return await self.machine.show(turn, base, error=self._t(locale, "start.done"))
        target = COMMAND_STATES[command]
        if session is not None and command in ASIDES:
            # Asked on the way (at Confirm, Choose payment, the language list): Back returns
            # to the screen she asked from, her cart and choices as she left them.
            return await self.machine.show(turn, self.machine.going(session, target))
        return await self.machine.show(turn, base.evolve(state=target, stack=("main",)))

    async def _order(
        self, msg: InboundMessage, session: Session | None, reference: str
    ) -> tuple[Session, Reply]:
        """A sentence naming an order ("where is order W62ACJ"): that order's own screen, when
        it is hers; otherwise the screen she was on (the main menu, for a first text) with one
        line saying none was found, word for word for another's order and for no order."""
        locale = session.locale if session is not None else await self._locale(msg)
        try:
            region_for_phone(msg.phone)
        except UnsupportedRegionError:
            return Session("main", locale), Reply(
                self._t(locale, "error.region"), end=True, locale=locale
            )
        order = await self._own_order(msg, reference)
        if order is not None:
            base = Session("main", locale, vars=dict(session.vars) if session else {})
            turn = Turn(msg, base, self._t)
            turn.vars[ORDER_VAR] = order.reference
            if session is not None:  # Back returns to the screen she asked from
                return await self.machine.show(turn, self.machine.going(session, OrderView.name))
            return await self.machine.show(turn, base.evolve(state=OrderView.name, stack=("main",)))
        current = session if session is not None else Session("main", locale)
        turn = Turn(msg, current, self._t)
        return await self.machine.show(
            turn, current, error=turn.t("order.not_found", reference=reference)
        )

    async def _own_order(self, msg: InboundMessage, reference: str) -> Order | None:
        """The order with `reference` when it is hers; None for another's, as for none."""
        try:
            order = await self._svc.orders.get(reference)
        except UnknownOrderError:
            return None
        return order if order.customer == msg.phone else None

    async def _names_choice(self, msg: InboundMessage, session: Session, intent: Intent) -> bool:
        """Whether a keyword or a sentence names one of the screen's choices by its words
        ("Gbese" at Payment: paying on credit, not the balance); opting out always opts out."""
        state = self.machine.states.get(session.state)
        if state is None or intent.typed is None or intent.text == OPT_OUT:
            return False
        return await state.names_choice(Turn(msg, session, self._t), intent.typed)

    async def _answers_screen(
        self, msg: InboundMessage, session: Session | None, intent: Intent
    ) -> bool:
        """Whether a sentence the matcher read is rather what she typed for the screen: an
        order naming a product ("help me order 5 indomie") where orders are read (a first text,
        the menu, a product list, the cart), or, at a screen awaiting one specific answer,
        anything but a clear ask for status, balance or help."""
        state = self.machine.states.get(session.state) if session is not None else None
        if session is None or (state is not None and state.reads_orders):
            items = read_order(intent.as_answer().text)
            if items:
                locale = session.locale if session is not None else await self._locale(msg)
                try:
                    region = region_for_phone(msg.phone).code
                except UnsupportedRegionError:
                    return False
                for item in items:
                    if await self._svc.catalogue.match(region, item.words, locale):
                        return True
        return state is not None and state.awaits_answer and intent.text not in CLEAR_ASKS

    async def _understood(self, turn: Turn, text: str, state: State) -> Outcome | None:
        """The screen NLU says a text the screen did not read asks for, as its keyword's; on a
        screen awaiting one answer, only status, balance or help, as the built-in matcher."""
        assert self._nlu is not None
        if not worth_asking(text):
            return None
        meant = await self._nlu.match(text, turn.locale, message_id=turn.msg.idempotency_key)
        if state.awaits_answer and meant not in CLEAR_ASKS:
            return None
        reference = read_reference(text) if meant == STATUS else None
        if reference is not None:
            order = await self._own_order(turn.msg, reference)
            if order is None:
                return Reject("order.not_found", {"reference": reference})
            turn.vars[ORDER_VAR] = order.reference
            return Go(OrderView.name)
        if meant == MENU:
            return Home()
        if meant in COMMAND_STATES:
            return Go(COMMAND_STATES[meant])
        return None

    async def _blocked_by_provider(self, msg: InboundMessage) -> bool:
        """Whether she is opted out here through this provider's own opt-out keyword. Only
        then does its opt-in ("YES", which is also an answer at Yes/No) replace her turn with
        START's welcome back: after our ACHA, which it never saw, her YES is an answer, and a
        START word of ours (ANZA, START) opts her back in."""
        customer = await self._svc.customers.get(msg.phone)
        return customer is not None and customer.opted_out and customer.opted_out_by == msg.provider

    async def _late(self, msg: InboundMessage, session: Session | None) -> tuple[Session, Reply]:
        """A message that arrived after a newer one (or a day late): the main menu as it is
        now, with one line saying so; the message itself is not applied."""
        locale = session.locale if session is not None else await self._locale(msg)
        try:
            region_for_phone(msg.phone)
        except UnsupportedRegionError:
            return Session("main", locale), Reply(
                self._t(locale, "error.region"), end=True, locale=locale
            )
        home = (
            session.evolve(state=self.machine.home, stack=(), page=0)
            if session is not None
            else Session(self.machine.home, locale)
        )
        turn = Turn(msg, home, self._t)
        return await self.machine.show(turn, home, error=self._t(locale, "notice.late"))

    async def _begin(self, msg: InboundMessage) -> tuple[Session, Reply]:
        locale = await self._locale(msg)
        try:
            market = region_for_phone(msg.phone)
        except UnsupportedRegionError:
            return Session("main", locale), Reply(
                self._t(locale, "error.region"), end=True, locale=locale
            )
        check = await recheck_cart(self._svc, await self._svc.orders.cart(msg.phone, market.code))
        cart = check.cart
        if msg.transcript and "*" not in msg.transcript:
            # One input on a session's first request: a shortcut dial (*384*123*3# arrives as
            # text=3), or a session lost after its first step. It is a key on the main menu,
            # which only navigates, so it is applied there; it wins over the cart's resume
            # offer (the cart stays, "Cart (n)" on the menu), which is shown for any other key.
            home = Session("main", locale)
            turn = Turn(msg, home, self._t)
            turn.memo[CART_MEMO] = cart
            turn.memo[CHECK_MEMO] = check
            intent = resolve_intent(msg.transcript, locale, self._t)
            if (cart.is_empty and not check.changed) or await self._on_main_menu(
                turn, home, intent
            ):
                return await self.machine.step(turn, home, intent)
            # Any other key gets the cart's offer (the main menu when the check emptied the
            # cart), with what the check changed.
            offer = home if cart.is_empty else Session("resume", locale)
            error = lines(check.notice(turn), self._t(locale, "error.choice"))
            turn.memo[CHECK_MEMO] = CartCheck(cart)  # checked, and said here
            return await self.machine.show(turn, offer, error=error)
        typed = msg.transcript is None and msg.kind in TYPED_ORDER_KINDS
        if typed and await self._is_order(msg, locale):
            # A first text that is an order ("5 cartons indomie", or a product's name): read as
            # if typed at the menu.
            home = Session("main", locale)
            turn = Turn(msg, home, self._t)
            turn.memo[CART_MEMO] = cart
            turn.memo[CHECK_MEMO] = check
            return await self.machine.step(turn, home, Intent(IntentKind.INPUT, msg.text.strip()))
        if typed and self._nlu is not None and worth_asking(msg.text):
            # A first text nothing built in reads: NLU may know it ("nimeagiza lini?").
            meant = await self._nlu.match(msg.text.strip(), locale, message_id=msg.idempotency_key)
            reference = read_reference(msg.text) if meant == STATUS else None
            if reference is not None:
                return await self._order(msg, None, reference)
            if meant in COMMAND_STATES:
                return await self._command(msg, None, meant)
        session = Session("resume" if not cart.is_empty else "main", locale)
        turn = Turn(msg, session, self._t)
        turn.memo[CART_MEMO] = cart
        turn.memo[CHECK_MEMO] = CartCheck(cart)  # checked, and said here
        # Several inputs and no session: the store lost it (expiry or restart). Replaying them
        # could add to the cart twice, so the retailer starts again from the top.
        lost = self._t(locale, "notice.lost") if msg.transcript else None
        # A tap on a list of a conversation that has ended (an order placed, or left longer
        # than a chat is kept): nothing of that list applies here, and she is told so.
        stale = self._t(locale, "error.stale_choice") if msg.screen else None
        notices = lines(check.notice(turn), lost, stale)
        return await self.machine.show(turn, session, error=notices)

    async def _is_order(self, msg: InboundMessage, locale: str) -> bool:
        """Items with quantities, or words naming a product of her region ("indomie"); not a
        greeting, which gets the menu."""
        if read_order(msg.text):
            return True
        words = read_product_name(msg.text)
        if not words:
            return False
        region = region_for_phone(msg.phone).code
        return bool(await self._svc.catalogue.match(region, words, locale))

    async def _on_main_menu(self, turn: Turn, home: Session, intent: Intent) -> bool:
        """Whether `intent` picks one of the main menu's choices."""
        if intent.kind is not IntentKind.INPUT:
            return False
        choices = (await self.machine.states[home.state].screen(turn)).choices
        return (
            intent.text.isascii()
            and intent.text.isdigit()
            and 1 <= int(intent.text) <= len(choices)
        )

    async def _locale(self, msg: InboundMessage) -> str:
        """The language chosen on any channel (Language, for good), else the channel's hint (an
        app's own language setting) when we speak it, else the phone's market's; on a line
        that cannot say it (a voice line without its voice), one it can."""
        return msg.capabilities.in_language(await self._wanted_locale(msg))

    async def _wanted_locale(self, msg: InboundMessage) -> str:
        customer = await self._svc.customers.get(msg.phone)
        if customer is not None and customer.locale and self._t.supports(customer.locale):
            return customer.locale
        if msg.locale_hint and self._t.supports(msg.locale_hint):
            return msg.locale_hint
        try:
            return region_for_phone(msg.phone).default_locale
        except UnsupportedRegionError:
            return "en"


def named_reference(intent: Intent) -> str | None:
    """The order a status sentence names ("status ya order W62ACJ", "STATUS 1234567")."""
    if intent.text != STATUS or not intent.sentence or intent.typed is None:
        return None
    return read_named_order(intent.typed)


def worth_asking(text: str) -> bool:
    """Whether NLU is asked about a text: words beyond a greeting ("Hi", "Habari, sawa"),
    which the menu answers."""
    return any(word not in FILLER_WORDS for word in said_words(text))


def lines(*notices: str | None) -> str | None:
    """The notices shown above a screen, one per line (None when there are none)."""
    shown = [notice for notice in notices if notice]
    return "\n".join(shown) if shown else None
