"""Meta's limits on WhatsApp messages, and the renderer that keeps every reply within them.

The numbers are Meta's (interactive list and reply-button references; the official Node.js SDK's
RowObject and InteractiveObject pages agree). No rendered message may break one, and no label may
lose a word: a property test over arbitrary labels checks both.
"""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from channels.render import whatsapp
from channels.render.whatsapp import (
    ELLIPSIS,
    WhatsAppLimitError,
    check_limits,
    render_template,
    render_whatsapp,
    row_title,
)
from core.messages import Option, Reply

BUTTON = "Choose"


def render(text: str, *labels: str, end: bool = False) -> dict[str, Any]:
    options = tuple(Option(str(n), label) for n, label in enumerate(labels, start=1))
    return render_whatsapp(Reply(text, options, end=end), list_button=BUTTON)


def test_limits_are_metas() -> None:
    assert {
        "text body": whatsapp.TEXT_BODY_MAX,
        "interactive body": whatsapp.INTERACTIVE_BODY_MAX,
        "header text": whatsapp.HEADER_TEXT_MAX,
        "footer text": whatsapp.FOOTER_TEXT_MAX,
        "reply buttons": whatsapp.REPLY_BUTTONS_MAX,
        "button title": whatsapp.BUTTON_TITLE_MAX,
        "button id": whatsapp.BUTTON_ID_MAX,
        "list button": whatsapp.LIST_BUTTON_MAX,
        "sections": whatsapp.LIST_SECTIONS_MAX,
        "rows": whatsapp.LIST_ROWS_MAX,
        "section title": whatsapp.SECTION_TITLE_MAX,
        "row id": whatsapp.ROW_ID_MAX,
        "row title": whatsapp.ROW_TITLE_MAX,
        "row description": whatsapp.ROW_DESCRIPTION_MAX,
    } == {
        "text body": 4096,
        "interactive body": 1024,
        "header text": 60,
        "footer text": 60,
        "reply buttons": 3,
        "button title": 20,
        "button id": 256,
        "list button": 20,
        "sections": 10,
        "rows": 10,
        "section title": 24,
        "row id": 200,
        "row title": 24,
        "row description": 72,
    }


# --- which layout ---------------------------------------------------------------------------


def test_reply_without_options_is_plain_text() -> None:
    assert render("You owe nothing. Thank you!") == {
        "type": "text",
        "text": {"preview_url": False, "body": "You owe nothing. Thank you!"},
    }


def test_end_reply_is_plain_text() -> None:
    message = render("Order W62ACJ placed.", end=True)
    assert message["type"] == "text"


def test_up_to_three_short_choices_are_reply_buttons_keyed_by_option() -> None:
    message = render("Added 3 x Indomie.", "Add more products", "View cart", "Checkout")

    assert message["interactive"]["type"] == "button"
    assert message["interactive"]["action"]["buttons"] == [
        {"type": "reply", "reply": {"id": "1", "title": "Add more products"}},
        {"type": "reply", "reply": {"id": "2", "title": "View cart"}},
        {"type": "reply", "reply": {"id": "3", "title": "Checkout"}},
    ]


def test_four_to_ten_choices_are_one_list_section() -> None:
    message = render("Welcome", *[f"Option {n}" for n in range(1, 11)])

    assert message["interactive"]["type"] == "list"
    assert message["interactive"]["action"]["button"] == BUTTON
    [section] = message["interactive"]["action"]["sections"]
    assert "title" not in section  # one section needs none
    assert [row["id"] for row in section["rows"]] == [str(n) for n in range(1, 11)]


def test_a_choice_too_long_for_a_button_makes_a_list() -> None:
    message = render("Anything else?", "Yes", "Show me the promotions")

    assert message["interactive"]["type"] == "list"


def test_label_too_long_for_a_row_title_is_whole_in_the_description() -> None:
    label = "Indomie Chicken 40x70g NGN 9,300"

    [row, *_] = render("Noodles:", label, "Back", "Other", "More")["interactive"]["action"][
        "sections"
    ][0]["rows"]

    assert row == {"id": "1", "title": "Indomie Chicken 40x70g…", "description": label}


def test_more_than_ten_choices_or_a_label_over_72_are_numbered_text() -> None:
    many = render("Pick one", *[f"Item {n}" for n in range(1, 12)])
    long = render("Pick one", "x" * 10, "word " * 15)

    assert many["type"] == long["type"] == "text"
    assert many["text"]["body"].splitlines()[1] == "1. Item 1"


def test_list_button_words_too_long_for_the_button_make_numbered_text() -> None:
    options = tuple(Option(str(n), f"Option {n}") for n in range(1, 6))

    message = render_whatsapp(Reply("Pick one", options), list_button="Chagua kutoka orodha hii")

    assert message["type"] == "text"


def test_repeated_labels_cannot_be_buttons() -> None:
    assert render("Which?", "Same", "Same")["interactive"]["type"] == "list"


def test_row_title_shortens_at_a_word_and_cuts_only_a_word_that_fits_nowhere() -> None:
    assert row_title("Short") == "Short"
    assert row_title("Spaghetti 20x500g NGN 14,100") == "Spaghetti 20x500g NGN…"
    assert row_title("Supercalifragilisticexpialidocious soap") == (
        "Supercalifragilisticexp" + ELLIPSIS
    )


def test_template_names_language_and_body_parameters() -> None:
    assert render_template("order_update", "sw", ["W62ACJ"]) == {
        "type": "template",
        "template": {
            "name": "order_update",
            "language": {"code": "sw"},
            "components": [{"type": "body", "parameters": [{"type": "text", "text": "W62ACJ"}]}],
        },
    }
    assert "components" not in render_template("welcome", "en", [])["template"]


# --- every limit is enforced ------------------------------------------------------------------


def _list(**overrides: Any) -> dict[str, Any]:
    interactive: dict[str, Any] = {
        "type": "list",
        "body": {"text": "Body"},
        "action": {"button": "Choose", "sections": [{"rows": [{"id": "1", "title": "One"}]}]},
    }
    interactive.update(overrides)
    return {"type": "interactive", "interactive": interactive}


def _rows(*rows: dict[str, str]) -> dict[str, Any]:
    return {"button": "Choose", "sections": [{"rows": list(rows)}]}


def _buttons(*titles: str) -> dict[str, Any]:
    buttons = [{"type": "reply", "reply": {"id": str(n), "title": t}} for n, t in enumerate(titles)]
    interactive = {"type": "button", "body": {"text": "Body"}, "action": {"buttons": buttons}}
    return {"type": "interactive", "interactive": interactive}


@pytest.mark.parametrize(
    ("message", "problem"),
    [
        (
            {"type": "text", "text": {"body": "x" * 4097}},
            "text.body has 4097 characters, over 4096",
        ),
        ({"type": "text", "text": {"body": " "}}, "text.body is empty"),
        (_list(body={"text": "x" * 1025}), "body.text has 1025 characters, over 1024"),
        (_list(header={"type": "text", "text": "x" * 61}), "header.text has 61 characters"),
        (_list(footer={"text": "x" * 61}), "footer.text has 61 characters, over 60"),
        (_list(action={**_rows({"id": "1", "title": "t"}), "button": "x" * 21}), "action.button"),
        (_list(action=_rows(*[{"id": str(n), "title": "t"} for n in range(11)])), "11 rows"),
        (_list(action=_rows({"id": "x" * 201, "title": "t"})), "rows[0].id has 201"),
        (_list(action=_rows({"id": "1", "title": "x" * 25})), "rows[0].title has 25"),
        (
            _list(action=_rows({"id": "1", "title": "t", "description": "x" * 73})),
            "rows[0].description has 73",
        ),
        (_list(action=_rows({"id": "1", "title": "a"}, {"id": "1", "title": "b"})), "row ids"),
        (
            _list(
                action={"button": "Choose", "sections": [{"rows": [{"id": "1", "title": "a"}]}] * 2}
            ),
            "sections[0].title is empty",
        ),
        (_buttons("a", "b", "c", "d"), "4 buttons, over 3"),
        (_buttons("x" * 21), "buttons[0].title has 21 characters, over 20"),
        (_buttons("Same", "Same"), "button titles repeat"),
    ],
)
def test_check_limits_names_each_broken_limit(message: dict[str, Any], problem: str) -> None:
    with pytest.raises(WhatsAppLimitError, match=problem.replace("[", r"\[").replace("]", r"\]")):
        check_limits(message)


def test_over_long_text_is_refused_not_cut() -> None:
    with pytest.raises(WhatsAppLimitError):
        render("x" * 4097)


# --- the property: within every limit, every word kept ------------------------------------------

words = st.text(alphabet=st.characters(blacklist_categories=("Z", "C")), min_size=1, max_size=30)
labels = st.lists(words, min_size=1, max_size=8).map(" ".join)
bodies = st.lists(words, min_size=1, max_size=40).map(" ".join)


def _tokens(message: dict[str, Any]) -> set[str]:
    """Every whitespace-separated token the user can read in `message`."""
    if message["type"] == "text":
        texts = [message["text"]["body"]]
    else:
        interactive = message["interactive"]
        texts = [interactive["body"]["text"]]
        for button in interactive["action"].get("buttons", []):
            texts.append(button["reply"]["title"])
        for section in interactive["action"].get("sections", []):
            for row in section["rows"]:
                texts += [row["title"], row.get("description", "")]
    tokens = [token for text in texts for token in text.split()]
    return {*tokens, *(token.removesuffix(ELLIPSIS) for token in tokens)}


def _keys(message: dict[str, Any]) -> list[str]:
    if message["type"] == "text":
        return []
    action = message["interactive"]["action"]
    if "buttons" in action:
        return [b["reply"]["id"] for b in action["buttons"]]
    return [row["id"] for s in action["sections"] for row in s["rows"]]


@settings(max_examples=300, deadline=None)
@given(text=bodies, choices=st.lists(labels, max_size=12), end=st.booleans())
def test_no_rendered_message_breaks_a_limit_or_loses_a_word(
    text: str, choices: list[str], end: bool
) -> None:
    options = tuple(Option(str(n), label) for n, label in enumerate(choices, start=1))

    message = render_whatsapp(Reply(text, options, end=end), list_button=BUTTON)

    check_limits(message)
    readable = _tokens(message)
    for label in [text, *choices]:
        assert set(label.split()) <= readable, (label, message)
    # A tap sends the option's key: the same input as typing it.
    assert _keys(message) in ([], [o.key for o in options])
