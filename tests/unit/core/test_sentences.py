"""The built-in matcher reads what retailers type for the menu's entries, and leaves orders,
greetings and answers to the screens that read them."""

from __future__ import annotations

import pytest

from core.sentences import (
    BALANCE,
    CANCEL,
    HELP,
    MENU,
    STATUS,
    read_named_order,
    read_reference,
    read_sentence,
)


@pytest.mark.parametrize(
    ("text", "intent"),
    [
        ("Where is my order?", STATUS),
        ("where's my order", STATUS),
        ("Where is order W62ACJ", STATUS),
        ("When will my order arrive?", STATUS),
        ("has my delivery come", STATUS),
        ("track my order", STATUS),
        ("order status", STATUS),
        ("What is the status of W62ACJ", STATUS),
        ("STATUS W62ACJ", STATUS),
        ("status #w62acj.", STATUS),
        ("How much do I owe?", BALANCE),
        ("what is my balance", BALANCE),
        ("help me", HELP),
        ("I want to talk to a person", HELP),
        ("customer care please", HELP),
        ("Please cancel my last order", CANCEL),
        ("I don't want my order anymore", CANCEL),
        ("show me the menu", MENU),
    ],
)
def test_english_sentences_are_read_as_their_menu_entry(text: str, intent: str) -> None:
    assert read_sentence(text, ["en"]) == intent


@pytest.mark.parametrize(
    ("text", "intent"),
    [
        ("order yangu iko wapi", STATUS),
        ("Oda yangu iko wapi?", STATUS),
        ("mzigo wangu uko wapi", STATUS),
        ("status ya order W62ACJ", STATUS),
        ("hali ya oda yangu", STATUS),
        ("HALI W62ACJ", STATUS),
        ("hali ya W62ACJ", STATUS),
        ("oda yangu itafika lini", STATUS),
        ("deni langu", BALANCE),
        ("Nadaiwa kiasi gani?", BALANCE),
        ("msaada tafadhali", HELP),
        ("nisaidie", HELP),
        ("nataka kuongea na mtu", HELP),
        ("naomba kughairi oda yangu", CANCEL),
        ("sitaki oda yangu tena", CANCEL),
        ("nionyeshe menyu", MENU),
        ("rudi mwanzo", MENU),
    ],
)
def test_swahili_sentences_are_read_as_their_menu_entry(text: str, intent: str) -> None:
    assert read_sentence(text, ["sw"]) == intent


@pytest.mark.parametrize(
    "text",
    [
        "nataka katoni 5 za Indomie",
        "5 cartons indomie",
        "I want to order 5 bags of rice",
        "Please send 5 cartons of Indomie Chicken",
        "where can I order sugar",
        "hello there",
        "Habari",
        "no problem",
        "hakuna shida",
        "ndiyo tafadhali",
        "I don't want this one",
        "3",
        "",
    ],
)
def test_orders_greetings_and_answers_are_no_sentence_it_knows(text: str) -> None:
    assert read_sentence(text, ["sw"]) is None


@pytest.mark.parametrize(
    ("text", "reference"),
    [
        ("status ya order W62ACJ", "W62ACJ"),
        ("where is order w62acj?", "W62ACJ"),
        ("Where is my order 222227?", "222227"),
        ("What is the status of order ACDEFG", "ACDEFG"),
        ("order #W62ACJ.", "W62ACJ"),
        ("please update me on my order", None),  # spelt with a reference's letters
        ("PLEASE UPDATE ME ON MY ORDER", None),
        ("where is my order", None),
        ("order W62ACJX", None),
    ],
)
def test_the_reference_a_sentence_names(text: str, reference: str | None) -> None:
    assert read_reference(text) == reference


@pytest.mark.parametrize(
    ("locale", "text"),
    [
        ("en", "my order 222224"),
        ("en", "Order W62ACJ?"),
        ("sw", "oda yangu 222224"),
        ("fr", "ma commande 222224"),
        ("pcm", "my goods 222224"),
        ("ha", "odata 222224"),
        ("yo", "oda mi 222224"),
        ("ig", "oda m 222224"),
    ],
)
def test_an_order_word_with_a_reference_asks_for_that_order(locale: str, text: str) -> None:
    assert read_sentence(text, [locale]) == STATUS
    assert read_reference(text) is not None


@pytest.mark.parametrize("text", ["order update", "222224", "W62ACJ", "order 5 indomie"])
def test_an_order_word_without_a_reference_or_a_reference_alone_is_no_status(text: str) -> None:
    assert read_sentence(text, ["en"]) is None


@pytest.mark.parametrize(
    ("locale", "text", "named"),
    [
        ("en", "status 1234567", "1234567"),
        ("en", "TRACK #12345.", "12345"),
        ("en", "status pls", None),  # My orders
        # a status word with a please, in each language: My orders
        ("sw", "hali tafadhali", None),
        ("fr", "statut svp", None),
        ("pcm", "status abeg o", None),
        ("ha", "status don Allah", None),
        ("ha", "matsayi don Allah", None),
        ("yo", "ipo jowo", None),
        ("ig", "onodu biko", None),
        ("sw", "hali ya 1234567", "1234567"),
        ("fr", "SUIVI 1234567", "1234567"),
        ("ha", "matsayi W62AC", "W62AC"),
        ("yo", "ipo 1234567", "1234567"),
        ("ig", "onodu 1234567", "1234567"),
        ("en", "STATUS W62ACJ", "W62ACJ"),
    ],
)
def test_a_status_keyword_with_no_reference_after_it_is_still_a_status_question(
    locale: str, text: str, named: str | None
) -> None:
    """It was read as an order: 1,234,567 of a product called "status"."""
    assert read_sentence(text, [locale]) == STATUS
    assert read_named_order(text) == named


@pytest.mark.parametrize("text", ["hali yako", "Habari, hali gani?"])
def test_hali_as_a_greeting_is_no_status_question(text: str) -> None:
    assert read_sentence(text, ["sw"]) is None


@pytest.mark.parametrize(
    ("locale", "text", "intent"),
    [
        ("en", "BAL 500", BALANCE),
        ("pcm", "bal abeg", BALANCE),
        ("fr", "solde 123", BALANCE),
        ("fr", "Solde svp", BALANCE),
        ("ha", "bashi 123", BALANCE),
        ("ha", "Bashi don Allah", BALANCE),
        ("ig", "ugwo 123", BALANCE),
        ("ig", "ugwo biko", BALANCE),
        # a product or its price after the word is left to the order reader
        ("ig", "ugwo indomie", None),
        ("ig", "ugwo indomie 5", None),
        ("ha", "bashi indomie 5", None),
        ("ha", "zan biya a bashi", None),  # paying on credit, at Choose payment
    ],
)
def test_a_balance_keyword_with_a_number_or_a_please_is_her_balance(
    locale: str, text: str, intent: str | None
) -> None:
    """She texted "bal 500" and was told there is no product called "bal"."""
    assert read_sentence(text, [locale]) == intent


@pytest.mark.parametrize(
    ("locale", "text", "named"),
    [
        ("en", "order 1234567", "1234567"),
        ("en", "My order no. 1234567", "1234567"),
        ("sw", "oda yangu 1234567", "1234567"),
        ("fr", "ma commande n° 1234567", "1234567"),
        ("ha", "odata 1234567", "1234567"),
        ("yo", "oda mi 1234567", "1234567"),
        ("ig", "oda m W62AC", "W62AC"),
    ],
)
def test_an_order_word_with_what_is_no_reference_asks_for_that_order(
    locale: str, text: str, named: str
) -> None:
    """She got the typing hint, or No product called "my" for "my order 1234567"."""
    assert read_sentence(text, [locale]) == STATUS
    assert read_named_order(text) == named


@pytest.mark.parametrize("text", ["order 5", "order 12", "order 500ml", "order 5 indomie"])
def test_an_order_word_with_a_small_number_or_a_measure_is_no_status(text: str) -> None:
    assert read_sentence(text, ["en"]) is None
