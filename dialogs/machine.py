"""A small, explicit state-machine framework for menu dialogs.

States declare a screen (text, choices, or a free input) and how they handle a choice or an
input; the machine does navigation (Back, Home, paging) and rendering to a Reply. Screens and
transitions are data, so service creation can later compile definitions into the same states.
"""

from __future__ import annotations

import hashlib
from collections.abc import Awaitable, Callable, Hashable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from core.conversation import Session
from core.i18n import Translator
from core.intents import OPT_OUT, Intent, IntentKind
from core.messages import Capabilities, ChannelKind, InboundMessage, Option, Reply
from dialogs.paging import BACK_KEY, MORE_KEY, ScreenTooLongError, page_from

INPUT_BACK_KEY = "00"
MENU_KEY_ENDS = ".)"
MESSAGE_KINDS = frozenset({ChannelKind.SMS, ChannelKind.WHATSAPP})
PAGE_STARTS_VAR = "_pg"
PAGE_END_VAR = "_pe"
SHOWN_VAR = "_sh"  # what `show` put on the screen: kind flags, then the page's choice values
# On a screen whose choices are buttons and list rows (WhatsApp), which show no numbers: each
# choice's words, as typed, and its key.
LABELS_VAR = "_lb"
# The values of the choices of a screen that asks Yes or No (Confirm, "Add 5 x …?"): a 👍 or 👎
# on it answers it.
YES_NO = frozenset({"yes", "no"})


@dataclass(frozen=True, slots=True)
class Choice:
    label: str
    value: str


@dataclass(frozen=True, slots=True)
class Screen:
    """What a state shows. `prompt` screens take free input (a quantity) instead of a choice."""

    text: str
    choices: tuple[Choice, ...] = ()
    prompt: bool = False
    back: bool = True
    length: int | None = None  # a prompt whose answer always has this many characters


@dataclass(frozen=True, slots=True)
class Go:
    """Move to `state`; Back returns here unless `remember` is False.

    Going to a state already on the Back stack returns to it (the stack unwinds), so Back
    never leads to a screen the user has finished with. `notice` is shown above the screen.
    """

    state: str
    remember: bool = True
    notice: str | None = None


@dataclass(frozen=True, slots=True)
class Reject:
    """Stay on the same screen with one line saying why. `unclear`: the text meant nothing to
    the screen (no choice, no order), so free-text understanding may still read it."""

    msgid: str
    values: Mapping[str, Any] = field(default_factory=dict)
    unclear: bool = False


@dataclass(frozen=True, slots=True)
class Home:
    notice: str | None = None


@dataclass(frozen=True, slots=True)
class Finish:
    """End the conversation with a closing text (USSD `END`)."""

    text: str


Outcome = Go | Reject | Home | Finish
# Free-text understanding behind a screen's own reading: the outcome a text the screen (the
# state) could not read asks for (the orders screen for "nimeagiza lini?"), or None to answer as
# without it.
Understand = Callable[["Turn", str, "State"], Awaitable["Outcome | None"]]


@dataclass(frozen=True, slots=True)
class Shown:
    """The screen last shown, kept in the session: the next key is read against it without
    building the screen again (a product list prices every product on it)."""

    prompt: bool
    back: bool
    more: bool = False
    values: tuple[str, ...] = ()

    def encode(self) -> list[str]:
        flags = (
            ("p" if self.prompt else "c") + ("b" if self.back else "") + ("m" if self.more else "")
        )
        return [flags, *self.values]

    @classmethod
    def decode(cls, recorded: Sequence[str]) -> Shown:
        flags = recorded[0]
        return cls(
            prompt=flags.startswith("p"),
            back="b" in flags,
            more="m" in flags,
            values=tuple(str(v) for v in recorded[1:]),
        )


class Turn:
    """One step's context: the message, the user's locale and the dialog's variables."""

    def __init__(self, msg: InboundMessage, session: Session, translate: Translator) -> None:
        self.msg = msg
        # The user's language, unless the channel cannot say it (Twilio has no Swahili voice).
        self.locale = msg.capabilities.in_language(session.locale)
        self.vars: dict[str, Any] = dict(session.vars)
        # Reads a state makes more than once in one turn (the machine shows the current screen
        # to read the input, then the state handles it): asked once per turn, kept here.
        self.memo: dict[Hashable, Any] = {}
        # The line the machine shows above this turn's screen (an error, a notice): screens that
        # fit their own text to the handset (a quote, the orders list) leave room for it.
        self.notice: str | None = None
        self._t = translate

    def t(self, msgid: str, /, **values: object) -> str:
        return self._t(self.locale, msgid, **values)

    def t_in(self, locale: str, msgid: str, /, **values: object) -> str:
        """A message in another language than hers (words she may type in it)."""
        return self._t(locale, msgid, **values)

    @property
    def capabilities(self) -> Capabilities:
        return self.msg.capabilities

    @property
    def languages(self) -> tuple[tuple[str, str], ...]:
        """The languages we speak, each in its own name (Translator.languages)."""
        return self._t.languages


class State:
    """Base of a dialog state. Subclasses set `name` and override what they need."""

    name: str = ""
    # A prompt whose answer is any text (a promo code): words that are keywords elsewhere
    # (MENU, HELP, START) are the answer here; only opting out (STOP) keeps its meaning.
    free_text: bool = False
    # A screen awaiting one specific answer (Yes/No at Confirm, a quantity): a sentence typed
    # there is read as a request only when it clearly asks for status, balance or help.
    awaits_answer: bool = False
    # A screen that reads an order typed in a message ("5 cartons indomie"): a sentence that is
    # also an order ("help me order 5 indomie") is the order there.
    reads_orders: bool = False

    async def screen(self, turn: Turn) -> Screen:
        raise NotImplementedError

    async def choose(self, turn: Turn, value: str) -> Outcome:
        raise NotImplementedError(f"{self.name} has no choices")

    async def enter(self, turn: Turn, text: str) -> Outcome:
        raise NotImplementedError(f"{self.name} takes no input")

    async def read(self, turn: Turn, text: str) -> Outcome | None:
        """Typed text that is none of the screen's choices: an outcome when the state makes
        sense of it (an order typed in an SMS), None for "choose a number from the list"."""
        return None

    async def names_choice(self, turn: Turn, text: str) -> bool:
        """Whether a text that is a keyword or a sentence elsewhere names one of this screen's
        choices by its words, and so is the answer here (`read` reads it): "Gbese", Yoruba's
        balance keyword, is paying on credit at Payment."""
        return False


class Machine:
    def __init__(
        self,
        states: Sequence[State],
        home: str,
        translate: Translator,
        *,
        understand: Understand | None = None,
    ) -> None:
        self.states = {s.name: s for s in states}
        if home not in self.states:
            raise ValueError(f"unknown home state {home!r}")
        self.home = home
        self._t = translate
        self._understand = understand

    def reads(self, session: Session, intent: Intent) -> Intent:
        """`intent` as the session's state reads it: at a free-text prompt a keyword is the
        answer, except opting out."""
        state = self.states.get(session.state)
        if state is None or not state.free_text:
            return intent
        if intent.kind is IntentKind.BACK or (
            intent.kind is IntentKind.HOME and intent.text != INPUT_BACK_KEY
        ):
            return intent.as_answer()
        if intent.kind is IntentKind.COMMAND and intent.text != OPT_OUT:
            return intent.as_answer()
        return intent

    async def step(self, turn: Turn, session: Session, intent: Intent) -> tuple[Session, Reply]:
        if (unread := _not_an_answer(turn, session)) is not None:
            return await self.show(turn, session, error=unread)
        state = self.states[session.state]
        if intent.kind is IntentKind.BACK:
            return await self._back(turn, session)
        shown = await self._shown(turn, session, state)
        raw = intent.text
        if intent.kind is IntentKind.HOME:
            if shown.prompt and shown.back and raw == INPUT_BACK_KEY:
                return await self._back(turn, session)  # prompts say "00. Back"
            return await self.show(turn, session.evolve(state=self.home, stack=(), page=0))
        if shown.prompt:
            if raw == INPUT_BACK_KEY and shown.back:
                return await self._back(turn, session)
            return await self._apply(turn, session, await state.enter(turn, raw))
        # In a message people number a choice as a list is numbered ("1."); a keypad sends keys.
        key = menu_key(raw) if turn.msg.kind in MESSAGE_KINDS else raw
        key = _labelled(session.vars, raw) or key
        starts = _page_starts(session.vars, session.page)
        if key == MORE_KEY and shown.more:
            turn.vars[PAGE_STARTS_VAR] = [*starts, int(session.vars[PAGE_END_VAR])]
            return await self.show(turn, session.evolve(page=session.page + 1))
        if key == BACK_KEY and session.page > 0:
            turn.vars[PAGE_STARTS_VAR] = starts[:-1]
            return await self.show(turn, session.evolve(page=session.page - 1))
        if key == BACK_KEY and shown.back:
            return await self._back(turn, session)
        index = _choice_index(key, len(shown.values))
        if index is None:
            understood = await state.read(turn, raw)
            if understood is None or (isinstance(understood, Reject) and understood.unclear):
                # Neither a choice nor anything the screen reads: NLU may know what it asks.
                guessed = await self._guess(turn, raw, state)
                understood = guessed or understood
            if understood is not None:
                return await self._apply(turn, session, understood)
            return await self.show(turn, session, error=turn.t("error.choice"))
        return await self._apply(turn, session, await state.choose(turn, shown.values[index]))

    async def react(self, turn: Turn, session: Session, answer: str) -> tuple[Session, Reply]:
        """A reaction meaning `answer` ("yes" or "no") to the screen `turn.msg.screen`: that
        choice when it is the screen shown now and asks Yes or No (its choices' values);
        otherwise the session as it was and a reply that says nothing."""
        recorded = session.vars.get(SHOWN_VAR)
        shown = Shown.decode(recorded) if isinstance(recorded, list) and recorded else None
        if (
            shown is None
            or shown.prompt
            or not YES_NO.issubset(shown.values)
            or answer not in YES_NO
            or turn.msg.screen != screen_name(session.state, session.vars)
        ):
            return session, Reply("", locale=session.locale)
        state = self.states[session.state]
        return await self._apply(turn, session, await state.choose(turn, answer))

    async def _guess(self, turn: Turn, raw: str, state: State) -> Outcome | None:
        """What free-text understanding makes of a typed text (words, not keys)."""
        if self._understand is None or turn.msg.kind not in MESSAGE_KINDS:
            return None
        if not any(ch.isalpha() for ch in raw):
            return None
        return await self._understand(turn, raw.strip(), state)

    async def _shown(self, turn: Turn, session: Session, state: State) -> Shown:
        """What the user was shown, as `show` recorded it: keys are read against that page.

        A session saved before the record existed is read against the screen built again.
        """
        recorded = session.vars.get(SHOWN_VAR)
        if isinstance(recorded, list) and recorded and isinstance(recorded[0], str):
            return Shown.decode(recorded)
        screen = await state.screen(turn)
        if screen.prompt:
            return Shown(prompt=True, back=screen.back)
        starts = _page_starts(session.vars, session.page)
        total = len(screen.choices)
        end = min(int(session.vars.get(PAGE_END_VAR, total)), total)
        values = tuple(c.value for c in screen.choices[min(starts[-1], end) : end])
        return Shown(prompt=False, back=screen.back, more=end < total, values=values)

    async def show(
        self, turn: Turn, session: Session, error: str | None = None
    ) -> tuple[Session, Reply]:
        turn.notice = error
        screen = await self.states[session.state].screen(turn)
        text = screen.text if error is None else f"{error}\n{screen.text}"
        if screen.prompt:
            options = (Option(INPUT_BACK_KEY, turn.t("nav.back")),) if screen.back else ()
            turn.vars[SHOWN_VAR] = Shown(prompt=True, back=screen.back).encode()
            turn.vars.pop(LABELS_VAR, None)
            kept = session.evolve(vars=dict(turn.vars), locale=turn.locale)
            return kept, Reply(
                text,
                options,
                locale=turn.locale,
                expects_input=True,
                input_length=screen.length,
                screen=screen_name(session.state, turn.vars),
            )
        starts = _page_starts(turn.vars, session.page)
        labels = [c.label for c in screen.choices]
        try:
            page = page_from(
                text,
                labels,
                min(starts[-1], max(0, len(labels) - 1)),
                turn.capabilities,
                back_label=turn.t("nav.back"),
                more_label=turn.t("nav.more"),
                offer_back=screen.back,
            )
        except ScreenTooLongError:
            if error is None:
                raise
            # The line above leaves no room for a choice under a full screen (a balance with
            # two debts): the screen again without it, not no screen at all.
            return await self.show(turn, session)
        turn.vars[PAGE_STARTS_VAR] = starts
        turn.vars[PAGE_END_VAR] = page.items.stop
        shown = Shown(
            prompt=False,
            back=screen.back,
            more=page.has_more,
            values=tuple(screen.choices[i].value for i in page.items),
        )
        turn.vars[SHOWN_VAR] = shown.encode()
        if turn.capabilities.interactive and turn.msg.kind in MESSAGE_KINDS:
            turn.vars[LABELS_VAR] = {_words(o.label): o.key for o in page.options}
        else:
            turn.vars.pop(LABELS_VAR, None)
        if error is not None:
            text = text.replace(turn.t("error.choice"), _tap_nudge(turn, page.options), 1)
            if shows_taps(turn) and _laid_out(turn.capabilities, page.options) == NUMBERED:
                text = text.replace(turn.t("typed.hint_tap"), turn.t("typed.hint"), 1)
        kept = session.evolve(vars=dict(turn.vars), locale=turn.locale)
        return kept, Reply(
            text, page.options, locale=turn.locale, screen=screen_name(session.state, turn.vars)
        )

    async def _apply(self, turn: Turn, session: Session, outcome: Outcome) -> tuple[Session, Reply]:
        match outcome:
            case Go(state=target, remember=remember, notice=notice):
                moved = self.going(session, target, remember=remember)
                return await self.show(turn, moved, error=notice)
            case Reject(msgid=msgid, values=values):
                return await self.show(turn, session, error=turn.t(msgid, **values))
            case Home(notice=notice):
                home = session.evolve(state=self.home, stack=(), page=0)
                return await self.show(turn, home, error=notice)
            case Finish(text=text):
                return session.evolve(vars=dict(turn.vars)), Reply(
                    text, end=True, locale=turn.locale
                )
        raise AssertionError(outcome)

    def going(self, session: Session, target: str, *, remember: bool = True) -> Session:
        """`session` moved to `target`, as `Go` moves it: Back returns to the screen left
        (unless not `remember`ed), or, when `target` is already on the Back stack, unwinds it."""
        if target in session.stack:
            stack = session.stack[: session.stack.index(target)]
        elif remember and target != session.state and session.state in self.states:
            stack = (*session.stack, session.state)
        else:
            stack = session.stack
        return session.evolve(state=target, stack=stack, page=0)

    async def _back(self, turn: Turn, session: Session) -> tuple[Session, Reply]:
        if not session.stack:
            return await self.show(turn, session.evolve(state=self.home, page=0))
        *rest, previous = session.stack
        return await self.show(turn, session.evolve(state=previous, stack=tuple(rest), page=0))


def _not_an_answer(turn: Turn, session: Session) -> str | None:
    """Why this turn is not read against the screen (which is shown again, saying so): a voice
    prompt that heard no key, or a tap on a list scrolled back to (its "3" meant an option of
    that list). None: it is an answer."""
    if turn.msg.silent:
        return turn.t("voice.no_key")
    tapped_on, current = turn.msg.screen, screen_name(session.state, session.vars)
    if tapped_on is not None and current is not None and tapped_on != current:
        return turn.t("error.stale_choice")
    return None


def screen_name(state: str, variables: Mapping[str, Any]) -> str | None:
    """A short name for the screen last shown: its state and the choices on its page. Two
    screens with the same choices share it, so a tap is refused only when it would mean
    something else now. None for a session saved before screens were recorded."""
    recorded = variables.get(SHOWN_VAR)
    if not isinstance(recorded, list):
        return None
    seen = "\x1f".join([state, *(str(v) for v in recorded)])
    return hashlib.blake2s(seen.encode(), digest_size=4).hexdigest()


def _page_starts(variables: Mapping[str, Any], page: int) -> list[int]:
    """Where each page up to the current one begins; page 0 always begins at 0."""
    starts = [int(s) for s in variables.get(PAGE_STARTS_VAR, [0])]
    if page == 0 or len(starts) <= page:
        return [0]
    return starts[: page + 1]


def menu_key(raw: str) -> str:
    """A key typed as people number a list in a message ("1.", "1)", " 2 "), as the key."""
    key = raw.strip()
    if key[-1:] in MENU_KEY_ENDS and key[:-1].strip().isdigit():
        return key[:-1].strip()
    return key


def _labelled(variables: Mapping[str, Any], raw: str) -> str | None:
    """The key of the button or row whose words were typed ("Checkout" for tapping it), on a
    screen that showed its choices without numbers; None for anything else."""
    labels = variables.get(LABELS_VAR)
    if not isinstance(labels, dict):
        return None
    key = labels.get(_words(raw))
    return key if isinstance(key, str) else None


def _words(text: str) -> str:
    return " ".join(text.split()).casefold()


def _choice_index(raw: str, count: int) -> int | None:
    """The index on the shown page of the key typed, or None when it is not one of them."""
    if not raw.isdigit() or not raw.isascii():
        return None
    number = int(raw)
    if not 1 <= number <= count:
        return None
    return number - 1


def shows_taps(turn: Turn) -> bool:
    """Whether her choices are shown as WhatsApp's list rows and buttons, which show no
    numbers: she is asked to tap one, not to choose a number."""
    return turn.capabilities.interactive and turn.msg.kind == ChannelKind.WHATSAPP


# How WhatsApp's renderer lays a screen's choices out (`_laid_out`).
BUTTONS, ROWS, NUMBERED = "buttons", "rows", "numbered"


def _tap_nudge(turn: Turn, options: Sequence[Option]) -> str:
    """What she is asked to do with what she could not be read against: WhatsApp shows a list's
    rows and its buttons without numbers, so there she taps one; choices its list cannot take
    come as numbered text, whose number she replies with; elsewhere she chooses a number."""
    if not (options and shows_taps(turn)):
        return turn.t("error.choice")
    laid_out = _laid_out(turn.capabilities, options)
    if laid_out == NUMBERED:
        return turn.t("error.reply_number")
    return turn.t("error.tap_button" if laid_out == BUTTONS else "error.tap_list")


def _laid_out(caps: Capabilities, options: Sequence[Option]) -> str:
    """How WhatsApp's renderer lays the choices out: reply buttons (three at most, short
    titles, none twice), a list's rows, or, where a label is too long for a row (a payment
    option naming two amounts), numbered text."""
    labels = [o.label for o in options]
    if (
        len(labels) <= caps.max_buttons
        and len(set(labels)) == len(labels)
        and all(len(label) <= caps.button_chars for label in labels)
    ):
        return BUTTONS
    if len(labels) > caps.max_options or any(
        caps.row_chars and len(label) > caps.row_chars for label in labels
    ):
        return NUMBERED
    return ROWS
