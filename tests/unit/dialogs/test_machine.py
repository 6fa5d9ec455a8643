"""The dialog framework: choices move state, 0 goes back, 00 goes home, lists page, errors re-show.

A tiny shop of three screens is built here from the framework's own State, Screen and outcomes,
with the real message catalogues, and driven the way the pipeline drives it: each typed input
is resolved to an intent by core.intents first.
"""

from __future__ import annotations

from dataclasses import replace

import pytest

from channels.render.whatsapp import render_whatsapp
from core.conversation import Session
from core.i18n import Translator
from core.intents import Intent, IntentKind, resolve_intent
from core.messages import (
    USSD_CAPABILITIES,
    WHATSAPP_INTERACTIVE_CAPABILITIES,
    ChannelKind,
    InboundMessage,
    Option,
    Reply,
)
from core.phone import Phone
from dialogs.machine import (
    SHOWN_VAR,
    Choice,
    Finish,
    Go,
    Home,
    Machine,
    Outcome,
    Reject,
    Screen,
    State,
    Turn,
    shows_taps,
)

FRUITS = [f"Fruit number {n:02d} NGN 8,500" for n in range(1, 15)]
MAX_AMOUNT = 50


class Menu(State):
    name = "home"

    async def screen(self, turn: Turn) -> Screen:
        return Screen(
            "Home",
            (Choice("Fruits", "list"), Choice("Amount", "amount"), Choice("Help", "help")),
            back=False,
        )

    async def choose(self, turn: Turn, value: str) -> Outcome:
        return Go(value)


def fruit_id(label: str) -> str:
    """A fruit's value names it ("Fruit number 07 …" is f07), not its place in the list."""
    return f"f{label.split()[2]}"


class Fruits(State):
    name = "list"

    async def screen(self, turn: Turn) -> Screen:
        return Screen("Fruits:", tuple(Choice(label, fruit_id(label)) for label in FRUITS))

    async def choose(self, turn: Turn, value: str) -> Outcome:
        turn.vars["picked"] = value
        return Go("amount")


class Amount(State):
    name = "amount"

    def __init__(self) -> None:
        self.entered: list[str] = []

    async def screen(self, turn: Turn) -> Screen:
        return Screen("How many?", prompt=True)

    async def enter(self, turn: Turn, text: str) -> Outcome:
        self.entered.append(text)
        if not text.isdigit():
            return Reject("error.quantity.number")
        if int(text) > MAX_AMOUNT:
            return Reject("error.quantity.max", {"max": MAX_AMOUNT})
        turn.vars["amount"] = int(text)
        return Go("confirm")


class Confirm(State):
    name = "confirm"

    async def screen(self, turn: Turn) -> Screen:
        return Screen(
            f"Buy {turn.vars.get('amount')} of {turn.vars.get('picked')}?",
            (
                Choice("Yes", "yes"),
                Choice("Choose again", "again"),
                Choice("Cancel", "cancel"),
                Choice("Start over", "home"),
            ),
        )

    async def choose(self, turn: Turn, value: str) -> Outcome:
        if value == "yes":
            return Finish(f"Bought {turn.vars['amount']} of {turn.vars['picked']}.")
        if value == "again":
            return Go("list", notice=turn.t("cart.updated"))
        if value == "cancel":
            return Home(notice=turn.t("confirm.cancelled"))
        return Go(value)


class Help(State):
    name = "help"

    async def screen(self, turn: Turn) -> Screen:
        return Screen("Call 0800 123 456.")


def message(text: str, screen: str | None = None, *, whatsapp: bool = False) -> InboundMessage:
    return InboundMessage(
        kind=ChannelKind.WHATSAPP if whatsapp else ChannelKind.USSD,
        provider="meta" if whatsapp else "africastalking",
        phone=Phone.parse("+2348030000001"),
        session_key="whatsapp:+2348030000001" if whatsapp else "at-ussd:ATUid_1",
        text=text,
        capabilities=WHATSAPP_INTERACTIVE_CAPABILITIES if whatsapp else USSD_CAPABILITIES,
        idempotency_key=f"k:{text}",
        screen=screen,
    )


class Handset:
    """Drives the machine one typed input at a time, as the pipeline and ShoppingDialog do."""

    def __init__(
        self, translator: Translator, locale: str = "en", *, whatsapp: bool = False
    ) -> None:
        self.t = translator
        self.whatsapp = whatsapp
        self.amount = Amount()
        self.machine = Machine(
            [Menu(), Fruits(), self.amount, Confirm(), Help()], "home", translator
        )
        self.session = Session("home", locale)
        self.reply = Reply("")

    async def dial(self) -> Reply:
        turn = Turn(message("", whatsapp=self.whatsapp), self.session, self.t)
        self.session, self.reply = await self.machine.show(turn, self.session)
        return self.reply

    async def press(self, text: str) -> Reply:
        return await self.send(text, resolve_intent(text, self.session.locale, self.t))

    async def tap(self, text: str, on: Reply) -> Reply:
        """A choice tapped on the screen `on` (a WhatsApp list), which may be an older one."""
        return await self.send(text, resolve_intent(text, self.session.locale, self.t), on.screen)

    async def send(self, text: str, intent: Intent, screen: str | None = None) -> Reply:
        turn = Turn(message(text, screen, whatsapp=self.whatsapp), self.session, self.t)
        self.session, self.reply = await self.machine.step(turn, self.session, intent)
        return self.reply

    def key_for(self, label: str) -> str:
        return next(o.key for o in self.reply.options if o.label == label)

    @property
    def labels(self) -> list[str]:
        return [o.label for o in self.reply.options]


@pytest.fixture
async def phone(translator: Translator) -> Handset:
    phone = Handset(translator)
    await phone.dial()
    return phone


def test_home_must_be_one_of_the_states(translator: Translator) -> None:
    with pytest.raises(ValueError, match="home"):
        Machine([Menu()], "nowhere", translator)


async def test_first_screen_lists_the_home_choices_without_back(phone: Handset) -> None:
    assert replace(phone.reply, screen=None) == Reply(
        "Home", (Option("1", "Fruits"), Option("2", "Amount"), Option("3", "Help"))
    )
    assert phone.session.state == "home"


async def test_choosing_an_option_moves_to_its_state_and_remembers_the_way_back(
    phone: Handset,
) -> None:
    reply = await phone.press("3")

    assert phone.session.state == "help"
    assert phone.session.stack == ("home",)
    assert reply.text == "Call 0800 123 456."
    assert reply.options == (Option("0", "Back"),)
    assert not reply.end


async def test_zero_goes_back_along_the_stack(phone: Handset) -> None:
    await phone.press("1")
    await phone.press("1")  # a fruit: on to the amount prompt
    await phone.press("3")  # on to confirm

    assert list(phone.session.stack) == ["home", "list", "amount"]
    await phone.press("0")
    assert phone.session.state == "amount"
    await phone.press("back")  # the typed keyword works as well as the key
    assert phone.session.state == "list"
    await phone.press("0")
    assert phone.session.state == "home"
    assert phone.session.stack == ()


async def test_back_on_the_home_screen_stays_home(phone: Handset) -> None:
    reply = await phone.send("back", Intent(IntentKind.BACK, "back"))

    assert phone.session.state == "home"
    assert reply.text == "Home"


@pytest.mark.parametrize("typed", ["00", "menu", "Home"])
async def test_double_zero_or_home_word_goes_home_from_anywhere(phone: Handset, typed: str) -> None:
    await phone.press("1")
    await phone.press("98")
    await phone.press("1")
    await phone.press("3")
    assert phone.session.state == "confirm"

    reply = await phone.press(typed)

    assert phone.session.state == "home"
    assert phone.session.stack == ()
    assert phone.session.page == 0
    assert reply.text == "Home"


@pytest.mark.parametrize("typed", ["7", "4", "0", "abc", "", "1.5", "-1", "٣", "98"])
async def test_invalid_choice_reshows_the_same_screen_with_one_line_why(
    phone: Handset, translator: Translator, typed: str
) -> None:
    before = phone.reply

    reply = await phone.press(typed)

    assert phone.session.state == "home"
    assert reply.text == f"{translator('en', 'error.choice')}\n{before.text}"
    assert reply.options == before.options


async def test_invalid_choice_is_explained_in_the_users_language(translator: Translator) -> None:
    phone = Handset(translator, locale="sw")
    await phone.dial()

    reply = await phone.press("9")

    assert reply.text.splitlines()[0] == translator("sw", "error.choice")
    assert reply.text.splitlines()[0] != translator("en", "error.choice")


async def test_a_long_list_pages_with_98_and_numbers_restart(phone: Handset) -> None:
    first = await phone.press("1")
    numbered = [o for o in first.options if o.key not in {"98", "0"}]
    assert [o.key for o in numbered] == [str(n) for n in range(1, len(numbered) + 1)]
    assert [o.label for o in numbered] == FRUITS[: len(numbered)]
    assert first.options[-2:] == (Option("98", "More"), Option("0", "Back"))

    second = await phone.press("98")

    assert phone.session.state == "list"
    assert phone.session.page == 1
    assert second.options[0] == Option("1", FRUITS[len(numbered)])
    assert second.options[-2:] == (Option("98", "More"), Option("0", "Back"))


async def test_choosing_on_a_later_page_picks_the_label_shown_there(phone: Handset) -> None:
    await phone.press("1")
    await phone.press("98")
    label = phone.reply.options[1].label

    await phone.press("2")

    assert phone.session.state == "amount"
    assert phone.session.vars["picked"] == fruit_id(label)


async def test_every_label_of_a_long_list_is_reachable_by_paging(phone: Handset) -> None:
    await phone.press("1")
    seen = list(phone.labels)
    while "More" in phone.labels:
        await phone.press("98")
        seen.extend(phone.labels)

    assert [label for label in seen if label.startswith("Fruit")] == FRUITS


async def test_zero_on_a_later_page_goes_to_the_previous_page_not_the_previous_screen(
    phone: Handset,
) -> None:
    first = await phone.press("1")
    await phone.press("98")

    reply = await phone.press("0")

    assert phone.session.state == "list"
    assert phone.session.page == 0
    assert reply == first


async def test_prompt_passes_free_text_to_the_state(phone: Handset) -> None:
    await phone.press("2")
    assert phone.reply.text == "How many?"

    await phone.press("3*4")

    assert phone.amount.entered == ["3*4"]


async def test_prompt_screen_offers_00_as_back(phone: Handset) -> None:
    reply = await phone.press("2")

    assert reply.options == (Option("00", "Back"),)


async def test_00_on_a_prompt_goes_back_as_its_screen_says(phone: Handset) -> None:
    await phone.press("1")
    await phone.press("1")
    assert phone.session.state == "amount"

    await phone.press("00")

    assert phone.session.state == "list"
    assert phone.session.stack == ("home",)


async def test_00_sent_as_plain_input_on_a_prompt_goes_back(phone: Handset) -> None:
    """The machine's own contract for an input that reaches it unresolved (no keyword step)."""
    await phone.press("1")
    await phone.press("1")

    await phone.send("00", Intent(IntentKind.INPUT, "00"))

    assert phone.session.state == "list"
    assert phone.amount.entered == []


async def test_reject_stays_on_the_prompt_with_the_reason_on_top(
    phone: Handset, translator: Translator
) -> None:
    await phone.press("2")

    reply = await phone.press("lots")

    assert phone.session.state == "amount"
    assert reply.text == f"{translator('en', 'error.quantity.number')}\nHow many?"
    assert reply.options == (Option("00", "Back"),)


async def test_reject_fills_in_its_values(phone: Handset) -> None:
    await phone.press("2")

    reply = await phone.press("51")

    assert reply.text.splitlines()[0] == f"Enter at most {MAX_AMOUNT}."


async def test_going_to_a_state_already_on_the_stack_unwinds_to_it(phone: Handset) -> None:
    await phone.press("1")
    await phone.press("1")
    await phone.press("3")
    assert list(phone.session.stack) == ["home", "list", "amount"]

    reply = await phone.press(phone.key_for("Start over"))

    assert phone.session.state == "home"
    assert phone.session.stack == ()
    assert reply.text == "Home"


async def test_going_back_to_the_list_with_a_notice_unwinds_and_shows_it(
    phone: Handset, translator: Translator
) -> None:
    await phone.press("1")
    await phone.press("1")
    await phone.press("3")

    reply = await phone.press(phone.key_for("Choose again"))

    assert phone.session.state == "list"
    assert phone.session.stack == ("home",)
    assert reply.text.splitlines()[:2] == [translator("en", "cart.updated"), "Fruits:"]


async def test_home_outcome_clears_the_stack_and_shows_its_notice(
    phone: Handset, translator: Translator
) -> None:
    await phone.press("1")
    await phone.press("1")
    await phone.press("3")

    reply = await phone.press(phone.key_for("Cancel"))

    assert phone.session.state == "home"
    assert phone.session.stack == ()
    assert reply.text == f"{translator('en', 'confirm.cancelled')}\nHome"


async def test_finish_ends_the_conversation_with_its_text(phone: Handset) -> None:
    await phone.press("1")
    await phone.press("1")
    await phone.press("3")

    reply = await phone.press(phone.key_for("Yes"))

    assert reply == Reply("Bought 3 of f01.", end=True)
    assert user_vars(phone.session.vars) == {"picked": "f01", "amount": 3}


async def test_variables_set_by_a_state_are_kept_in_the_session(phone: Handset) -> None:
    await phone.press("1")
    await phone.press("2")

    assert user_vars(phone.session.vars) == {"picked": "f02"}


async def test_after_an_invalid_choice_on_a_later_page_a_number_picks_the_label_shown(
    phone: Handset,
) -> None:
    await phone.press("1")
    await phone.press("98")
    await phone.press("9")  # not on this page
    shown = phone.reply.options[0].label

    await phone.press("1")

    assert phone.session.vars["picked"] == fruit_id(shown)


async def test_after_a_notice_98_continues_with_the_next_label(phone: Handset) -> None:
    await phone.press("1")
    await phone.press("1")
    await phone.press("3")
    await phone.press(phone.key_for("Choose again"))  # the list again, under a notice
    last_shown = [o.label for o in phone.reply.options if o.label.startswith("Fruit")][-1]

    await phone.press("98")

    assert phone.reply.options[0].label == FRUITS[FRUITS.index(last_shown) + 1]


CATEGORY_NAMES = [
    "Noodles & Pasta",
    "Rice & Grains",
    "Cooking Oil",
    "Drinks",
    "Milk & Dairy",
    "Personal Care",
    "Household Cleaning",
    "Snacks & Biscuits",
]


class Categories(State):
    """The demo's category screen: eight names fit one page, but not under an error line."""

    name = "categories"

    async def screen(self, turn: Turn) -> Screen:
        return Screen(
            turn.t("categories.title"), tuple(Choice(n, n) for n in CATEGORY_NAMES), back=False
        )

    async def choose(self, turn: Turn, value: str) -> Outcome:
        return Finish(value)


async def test_more_offered_under_an_error_line_shows_the_rest_of_the_list(
    translator: Translator,
) -> None:
    machine = Machine([Categories()], "categories", translator)
    session = Session("categories", "en")
    replies = []
    for typed in ("9", "98"):
        turn = Turn(message(typed), session, translator)
        intent = resolve_intent(typed, "en", translator)
        session, reply = await machine.step(turn, session, intent)
        replies.append(reply)

    shown = [o.label for o in replies[0].options if o.key != "98"]
    assert replies[0].options[-1] == Option("98", "More")
    assert replies[1].options[0] == Option("1", CATEGORY_NAMES[len(shown)])


def user_vars(variables: dict[str, object]) -> dict[str, object]:
    """The dialog's own variables; names starting with '_' are the framework's (paging)."""
    return {k: v for k, v in variables.items() if not k.startswith("_")}


async def test_a_key_picks_what_was_shown_even_when_the_list_changed_since(
    phone: Handset,
) -> None:
    await phone.press("1")
    shown_first = phone.reply.options[0].label
    FRUITS.insert(0, "Fruit number 00 NGN 9,000")  # the catalogue changes between two hops
    try:
        await phone.press("1")
    finally:
        FRUITS.pop(0)

    assert phone.session.vars["picked"] == fruit_id(shown_first)


@pytest.mark.parametrize("key", ["2", "98", "0"])
async def test_a_session_saved_without_the_shown_page_reads_keys_against_the_page_rebuilt(
    translator: Translator, key: str
) -> None:
    recorded, rebuilt = Handset(translator), Handset(translator)
    for handset in (recorded, rebuilt):
        await handset.dial()
        await handset.press("1")
        await handset.press("98")
    vars_ = {k: v for k, v in rebuilt.session.vars.items() if k != SHOWN_VAR}
    rebuilt.session = rebuilt.session.evolve(vars=vars_)

    assert await rebuilt.press(key) == await recorded.press(key)
    assert (rebuilt.session.state, rebuilt.session.page) == (
        recorded.session.state,
        recorded.session.page,
    )
    assert rebuilt.session.vars.get("picked") == recorded.session.vars.get("picked")


async def test_a_tap_on_an_older_screen_shows_the_current_one_and_changes_nothing(
    phone: Handset,
) -> None:
    home = phone.reply
    fruits = await phone.press(phone.key_for("Fruits"))

    again = await phone.tap("2", on=home)  # "Amount" on the home screen, a fruit here

    assert again.text == f"{phone.t('en', 'error.stale_choice')}\n{fruits.text}"
    # the fruits list again, from its first fruit (fewer per page under the notice)
    assert again.options[0] == fruits.options[0]
    assert again.options[-1].label == "Back"
    assert phone.session.state == "list"
    assert "picked" not in phone.session.vars


async def test_a_tap_on_the_current_screen_or_an_identical_one_is_its_choice(
    phone: Handset,
) -> None:
    home = phone.reply
    await phone.press(phone.key_for("Help"))
    await phone.press("0")  # back home: the same choices as the first home screen

    assert phone.reply.screen == home.screen
    await phone.tap(phone.key_for("Fruits"), on=home)
    assert phone.session.state == "list"
    assert phone.reply.screen != home.screen


async def test_typing_the_words_of_a_whatsapp_button_or_row_is_tapping_it(
    translator: Translator,
) -> None:
    """WhatsApp shows choices as buttons and rows without numbers: a customer who types what
    one says ("Fruits", "fruits ") chose it, as a tap would; a keypad's screen reads keys."""
    chat = Handset(translator, whatsapp=True)
    await chat.dial()

    fruits = await chat.press("fruits ")
    assert chat.session.state == "list"
    await chat.press("Fruit number 03 NGN 8,500")
    assert (chat.session.state, chat.session.vars["picked"]) == ("amount", "f03")
    assert fruits.text == "Fruits:"

    ussd = Handset(translator)
    await ussd.dial()
    again = await ussd.press("Fruits")
    assert again.text.startswith(translator("en", "error.choice"))
    assert ussd.session.state == "home"


async def test_a_whatsapp_list_or_buttons_ask_her_to_tap_not_to_choose_a_number(
    translator: Translator,
) -> None:
    """Under rows and buttons that show no numbers she was told 'Please choose a number from
    the list'; a keypad's screen still asks for a number."""
    chat = Handset(translator, whatsapp=True)
    await chat.dial()

    buttons = await chat.press("bananas")
    await chat.press("Fruits")
    rows = await chat.press("bananas")

    assert buttons.text == "Please tap a button.\nHome"
    assert render_whatsapp(buttons, list_button="Choose")["interactive"]["type"] == "button"
    assert rows.text == "Please tap a choice in the list.\nFruits:"
    assert render_whatsapp(rows, list_button="Choose")["interactive"]["type"] == "list"
    swahili = Handset(translator, locale="sw", whatsapp=True)
    await swahili.dial()
    assert (await swahili.press("ndizi")).text.startswith(translator("sw", "error.tap_button"))


# A payment option naming two amounts: longer than a WhatsApp list row takes (72 characters).
PAY_BY_BANK = "GTBank USSD code (*737#): NGN 26,993.25 after your credit of NGN 2,522.00"


class Payment(State):
    name = "pay"

    async def screen(self, turn: Turn) -> Screen:
        choices = (Choice("Pay on delivery", "cod"), Choice("Bank transfer", "bank"))
        return Screen("How will you pay?", (*choices, Choice(PAY_BY_BANK, "ussd")), back=False)

    async def read(self, turn: Turn, text: str) -> Outcome | None:
        """As the shop's screens that read typed orders: a product word that names none."""
        if text != "indomie":
            return None
        return Reject("typed.hint_tap" if shows_taps(turn) else "typed.hint", unclear=True)


async def test_a_whatsapp_screen_sent_as_numbered_text_asks_for_the_number(
    translator: Translator,
) -> None:
    """A label too long for a list row makes the screen numbered text, under which she was
    told 'Please tap a choice in the list.' (or 'Tap a choice, or type an order')."""
    chat = Handset(translator, whatsapp=True)
    chat.machine = Machine([Payment()], "pay", translator)
    chat.session = Session("pay", "en")
    await chat.dial()

    unclear = await chat.press("bananas")
    hint = await chat.press("indomie")

    assert render_whatsapp(unclear, list_button="Choose")["type"] == "text"
    assert unclear.text == "Reply with the number of your choice.\nHow will you pay?"
    assert hint.text.startswith(translator("en", "typed.hint") + "\n")
