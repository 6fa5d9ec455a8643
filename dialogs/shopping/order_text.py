"""Reading an order a retailer typed instead of choosing from a menu, in English, Swahili,
French or Nigerian Pidgin.

"nataka katoni 5 za Indomie", "5 cartons indomie", "indomie 5", "I want five packs of sugar",
"tano indomie na mbili spaghetti": a quantity (digits, a number word up to twenty, or "a"/"an"
for one), unit words (the one beside the quantity says what is counted: `unit_fits` tells
whether that is the product's selling unit, which the confirmation names) and the words naming
the product. "2 dozen" and "5 kg" are not read at all:
2 or 5 cartons would be wrong, and 24 of what? Deterministic on purpose: the same text always
reads the same, and what it cannot read is left to the menu, or, when the text is a product's
name and nothing else ("indomie"), to that product's quantity screen. These are words people
write, not words they read, so they live here, not in locales/.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

NUMBER_WORDS: dict[str, int] = {
    # English
    "one": 1,
    "two": 2,
    "three": 3,
    "four": 4,
    "five": 5,
    "six": 6,
    "seven": 7,
    "eight": 8,
    "nine": 9,
    "ten": 10,
    "eleven": 11,
    "twelve": 12,
    "thirteen": 13,
    "fourteen": 14,
    "fifteen": 15,
    "sixteen": 16,
    "seventeen": 17,
    "eighteen": 18,
    "nineteen": 19,
    "twenty": 20,
    # Swahili (and the forms the noun class gives them: katoni mbili, vipande viwili)
    "moja": 1,
    "mmoja": 1,
    "mbili": 2,
    "wili": 2,
    "viwili": 2,
    "mawili": 2,
    "tatu": 3,
    "vitatu": 3,
    "matatu": 3,
    "nne": 4,
    "vinne": 4,
    "manne": 4,
    "tano": 5,
    "vitano": 5,
    "matano": 5,
    "sita": 6,
    "saba": 7,
    "nane": 8,
    "vinane": 8,
    "tisa": 9,
    "kumi": 10,
    "ishirini": 20,
    # French ("six" is spelled as in English; 17 to 19 are written with a hyphen, two words)
    "un": 1,
    "une": 1,
    "deux": 2,
    "trois": 3,
    "quatre": 4,
    "cinq": 5,
    "sept": 7,
    "huit": 8,
    "neuf": 9,
    "dix": 10,
    "onze": 11,
    "douze": 12,
    "treize": 13,
    "quatorze": 14,
    "quinze": 15,
    "seize": 16,
    "vingt": 20,
}
SWAHILI_TEENS = re.compile(
    r"\bkumi\s+na\s+(moja|mmoja|mbili|wili|tatu|nne|tano|sita|saba|nane|tisa)\b"
)

# The unit each word counts in. A carton, a box and a crate are one case of the product (a
# "katoni" of cola is its crate); a piece, a packet, a bag or a bottle is not a case: "5 pieces
# indomie" is not five cartons.
UNIT_WORDS: dict[str, str] = {
    **dict.fromkeys(("carton", "cartons", "ctn", "ctns", "katoni"), "case"),
    **dict.fromkeys(("box", "boxes", "boksi", "crate", "crates", "kreti"), "case"),
    **dict.fromkeys(("pack", "packs", "packet", "packets", "pakiti"), "pack"),
    **dict.fromkeys(("bag", "bags", "mfuko", "mifuko", "gunia"), "bag"),
    **dict.fromkeys(("piece", "pieces", "pcs", "pc", "kipande", "vipande"), "piece"),
    **dict.fromkeys(("bottle", "bottles", "chupa"), "bottle"),
    **dict.fromkeys(("bale", "bales", "bando", "robota", "marobota"), "bale"),
    **dict.fromkeys(("tin", "tins"), "tin"),  # not "kopo": "maziwa ya kopo" names tinned milk
    **dict.fromkeys(("tray", "trays", "trei"), "tray"),
    # Hausa, Yoruba and Igbo: the unit words their screens use (locales/*/unit.*, no tone marks)
    **dict.fromkeys(("kwali", "paali", "katon", "kiret", "kireti", "kreeti"), "case"),
    **dict.fromkeys(("fakiti", "pakeeti", "paketi"), "pack"),
    **dict.fromkeys(("buhu", "apo", "akpa"), "bag"),
    **dict.fromkeys(("kwalba", "igo", "karama"), "bottle"),
    **dict.fromkeys(("bandir", "idi", "ngwugwu"), "bale"),
    **dict.fromkeys(("gwangwani", "agolo", "kom"), "tin"),
    **dict.fromkeys(("tire", "ate"), "tray"),
    # French
    **dict.fromkeys(("casier", "casiers"), "case"),
    **dict.fromkeys(("paquet", "paquets"), "pack"),
    **dict.fromkeys(("sac", "sacs"), "bag"),
    **dict.fromkeys(("pièce", "pièces"), "piece"),
    **dict.fromkeys(("bouteille", "bouteilles"), "bottle"),
    **dict.fromkeys(("balle", "balles"), "bale"),
    **dict.fromkeys(("plateau", "plateaux"), "tray"),
}
# The catalogue's selling units (`Product.unit`) as the words above count them.
SELLING_UNITS: dict[str, str] = {"carton": "case", "crate": "case"}
# "a carton of indomie": one, unless a number says otherwise ("a 5 cartons" is five).
ARTICLE_WORDS = frozenset({"a", "an"})
MULTIPLIER_WORDS = frozenset({"dozen", "dozens", "dazeni", "hundred", "thousand", "mia", "elfu"})
# "5 kg rice" is five kilos, not five 25 kg bags: a weight or a volume is no count of the
# catalogue's units, so such a text is not read either.
MEASURE_WORDS = frozenset(
    {
        *("kg", "kgs", "kilo", "kilos", "kilogram", "kilograms", "g", "gram", "grams", "gramu"),
        *("l", "litre", "litres", "liter", "liters", "lita", "ml", "ton", "tons", "tonne", "tani"),
    }
)
FILLER_WORDS = frozenset(
    {
        # English
        "i",
        "we",
        "want",
        "wants",
        "would",
        "like",
        "need",
        "to",
        "order",
        "buy",
        "get",
        "add",
        "send",
        "give",
        "me",
        "us",
        "please",
        "pls",
        "plz",
        "of",
        "the",
        "some",
        "x",
        # Swahili
        "nataka",
        "ninataka",
        "tunataka",
        "naomba",
        "tafadhali",
        "nipe",
        "tupe",
        "niletee",
        "tuletee",
        "nahitaji",
        "ninahitaji",
        "agiza",
        "nunua",
        "ongeza",
        "za",
        "ya",
        "wa",
        "la",
        "cha",
        "vya",
        # French
        *("je", "veux", "voudrais", "aimerais", "commande", "commander", "ajoute", "ajouter"),
        *("envoyez", "envoie", "donnez", "moi", "de", "des", "du", "svp", "stp", "merci"),
        *("bonjour", "bonsoir", "salut", "oui", "ouais"),
        # Nigerian Pidgin ("Abeg, I wan buy 5 carton Indomie", "Oya send 2 cola o")
        *("abeg", "wan", "make", "una", "oya", "o", "ehen", "biko"),
        # Asking for help with it ("help me order 5 indomie", "nisaidie kuagiza katoni 5 …")
        *("help", "nisaidie", "tusaidie", "kuagiza", "kununua"),
        # Greetings and thanks around the order ("Habari, nataka …", "Hello, I need …, thanks")
        *("hi", "hello", "hey", "good", "morning", "afternoon", "evening", "thanks", "thank"),
        *("habari", "jambo", "hujambo", "mambo", "salaam", "salamu", "shikamoo", "asante"),
        *("asubuhi", "mchana", "jioni", "sana"),
        # … and the word that opens a reply ("Sawa, nataka …", "OK, 5 cartons of …")
        *("ok", "okay", "yes", "sawa", "poa", "vipi", "sasa", "niaje", "ndio", "ndiyo"),
        # Hausa (typed without its hooked letters) around a reply: "Toh, don Allah", "Eh, na gode"
        *("sannu", "barka", "nagode", "gode", "na", "don", "allah", "eh", "toh"),
        # … and asking for it: "ina son kwali 5 na indomie", "muna bukatar", "sayi", "kawo", "bani"
        *("ina", "son", "muna", "bukatar", "sayi", "saya", "kawo", "bani"),
        # Yoruba asking for it: "mo fe ra paali 5 indomie" (I want to buy), "fun mi" (give me)
        *("mo", "fe", "ra", "fun", "mi"),
        # Igbo asking for it: "achoro m katon 5 indomie" (I want), "zuta" (buy), "nye m" (give me)
        *("achoro", "choro", "m", "zuta", "nye", "anyi"),
        # Yoruba (typed without tone marks or dots) around a reply: "Beeni, e se", "Bee ni o"
        *("e", "se", "ese", "jowo", "ejowo", "pele", "ekaaro", "ekaasan", "ekurole", "ni", "o"),
        # Igbo (typed without tone marks or dots) around a reply: "Ee, daalu", "Mba, biko"
        *("biko", "daalu", "ndewo", "nnoo", "ee"),
    }
)
# Around a payment option named by its words rather than its number ("pay on credit", "mo fe
# san ni gbese", "zan biya a bashi", "nilipe kwa mkopo"): the verb to pay and its little words.
PAYING_WORDS = frozenset(
    {
        *("pay", "paying", "with", "by", "on", "use", "will", "ll", "go"),  # English, Pidgin
        *("payer", "paie", "paye", "payez", "vais", "avec", "par", "à", "a", "en"),  # French
        *("lipa", "kulipa", "nitalipa", "nilipe", "tulipe", "kwa"),  # Swahili
        "lako",  # "Lipa kwa salio lako" (from your credit): "salio" alone names it
        *("biya", "zan", "za", "in", "so", "da", "ina"),  # Hausa
        *("san", "sanwo", "mo", "fe", "maa", "pelu", "yoo"),  # Yoruba
        *("kwuo", "akwuo", "ga", "n"),  # Igbo ("n'ugwo": on credit)
    }
)
# "My" in Yoruba and Igbo, filler in an order ("fun mi", "nye m"): beside the word for a debt
# it asks what she owes ("gbese mi", "ugwo m"), so it names no way to pay.
MINE_WORDS = frozenset({"mi", "m", "anyi"})
# Items of one message: "5 indomie and 2 spaghetti", "tano indomie na mbili spaghetti", commas.
ITEM_SEPARATORS = re.compile(r"\s*(?:[,;\n+&]|\band\b|\bna\b)\s*")
# Digits glued to letters name the product ("40x70g", "5l", "500ml"), they are no quantity;
# "5x" and "x5" are a quantity written as on an invoice.
LETTERS = re.compile(r"[^\W\d_]+")
# A word that an apostrophe holds together: Hausa's "a'a" (no) and "na'am" (yes), "d'accord".
APOSTROPHE_WORD = re.compile(r"[^\W\d_]+(?:'[^\W\d_]+)*")
TOKEN = re.compile(r"x\d+\b|\d+x\b|\d+[^\W\d_][\w]*|\d+|[^\W\d_]+")


@dataclass(frozen=True, slots=True)
class OrderRequest:
    """One item she asked for: how many, the words naming the product (lower case), and what
    the unit word beside the quantity counts ("case", "piece", …; None when there is none)."""

    quantity: int
    words: str
    unit: str | None = None


def unit_fits(unit: str | None, selling_unit: str) -> bool:
    """Whether a quantity counted in `unit` (a kind from UNIT_WORDS) counts the product's
    selling units: no unit word, or one for that unit ("5 cartons" of a product sold by the
    carton or the crate; "5 pieces" of nothing the catalogue sells)."""
    return unit is None or unit == SELLING_UNITS.get(selling_unit, selling_unit)


def read_order(text: str) -> tuple[OrderRequest, ...]:
    """The items the text asks for; empty when it is not an order this reader understands
    (no quantity, two quantities for one product, no product words)."""
    cleaned = SWAHILI_TEENS.sub(lambda m: str(10 + NUMBER_WORDS[m.group(1)]), text.casefold())
    parts = [p for p in ITEM_SEPARATORS.split(cleaned) if p.strip()]
    if len(parts) > 1:
        items = [_read_item(part) for part in parts]
        if all(item is not None for item in items):
            return tuple(item for item in items if item is not None)
    whole = _read_item(cleaned)
    return (whole,) if whole is not None else ()


def _read_item(text: str) -> OrderRequest | None:
    read = _read_words(text)
    if read is None:
        return None
    quantities, words, unit = read
    if len(quantities) != 1 or not words or quantities[0] < 1:
        return None
    return OrderRequest(quantities[0], " ".join(words), unit)


def read_product_name(text: str) -> str | None:
    """The words of a text that names one product and no quantity ("indomie", "sukari
    tafadhali"): she is asked how many. None for anything with a number, a unit's multiplier,
    several items, or no words left once the filler is gone."""
    cleaned = text.casefold()
    if len([p for p in ITEM_SEPARATORS.split(cleaned) if p.strip()]) != 1:
        return None
    read = _read_words(cleaned)
    if read is None or read[0] or not read[1]:
        return None
    return " ".join(read[1])


def read_quantity(text: str) -> int | None:
    """How many, typed in words at a quantity prompt ("five", "tano", "5 cartons", "katoni
    kumi na mbili"); None when the text holds anything but one count and unit words."""
    count = read_count(text)
    return None if count is None else count.quantity


def read_count(text: str) -> OrderRequest | None:
    """A count typed at a quantity prompt, with the unit it is counted in (no words)."""
    cleaned = SWAHILI_TEENS.sub(lambda m: str(10 + NUMBER_WORDS[m.group(1)]), text.casefold())
    read = _read_words(cleaned, articles=False)  # a slip of "a" adds nothing
    if read is None or len(read[0]) != 1 or read[1]:
        return None
    return OrderRequest(read[0][0], "", read[2])


def said_words(text: str, *, apostrophes: bool = False) -> list[str]:
    """The words of a text, lower case, without its digits and punctuation ("Ndiyo." is
    "ndiyo", "Sawa, tafadhali!" is "sawa", "tafadhali"); with `apostrophes` a word keeps its
    apostrophe, a phone's typographic one too (U+2019): "A'a, na gode" is "a'a", "na", "gode"."""
    if apostrophes:
        return APOSTROPHE_WORD.findall(text.casefold().replace("\u2019", "'"))
    return LETTERS.findall(text.casefold())


def _read_words(
    text: str, *, articles: bool = True
) -> tuple[list[int], list[str], str | None] | None:
    """The quantities, the product words and the unit of one item ("a"/"an" one when no
    number says how many, unless not `articles`); None when a multiplier or a measure makes its
    quantity unreadable. The unit is a unit word's beside a quantity ("katoni 5", "5 pieces",
    "a bag"): one elsewhere is part of a name ("2 tea bags")."""
    quantities: list[int] = []
    words: list[str] = []
    article = False
    counts: list[bool] = []  # per token: a quantity (or a counted article)?
    tokens = TOKEN.findall(text)
    for token in tokens:
        if token in MULTIPLIER_WORDS or token in MEASURE_WORDS:
            return None
        number = _quantity(token)
        counts.append(number is not None or (articles and token in ARTICLE_WORDS))
        if number is not None:
            quantities.append(number)
        elif articles and token in ARTICLE_WORDS:
            article = True
        elif token not in UNIT_WORDS and token not in FILLER_WORDS:
            words.append(token)
    if article and not quantities:
        quantities.append(1)
    unit = next(
        (
            UNIT_WORDS[token]
            for i, token in enumerate(tokens)
            if token in UNIT_WORDS
            and any(counts[j] for j in (i - 1, i + 1) if 0 <= j < len(tokens))
        ),
        None,
    )
    return quantities, words, unit


def _quantity(token: str) -> int | None:
    digits = token.strip("x")
    if digits.isascii() and digits.isdigit():
        # However long: "1000000 indomie" is more than a line holds, and is refused as such.
        return int(digits)
    return NUMBER_WORDS.get(token)


def named_choice(text: str, labels: Mapping[str, str]) -> str | None:
    """The choice (a key of `labels`) a text names by its label's words, with only filler and
    paying words around them: "Gbese" or "mo fe san ni gbese" is "Gbese" (on credit), "pay on
    delivery" is "Pay on delivery". None when it names none, or several; a word of anything
    else ("elo ni mo je gbese": how much do I owe) makes it no choice."""
    said = set(said_words(text))
    around = (FILLER_WORDS - MINE_WORDS) | PAYING_WORDS
    found = []
    for value, label in labels.items():
        words = set(said_words(label))
        names = words - around
        if names and names <= said and said <= words | around:
            found.append(value)
    return found[0] if len(found) == 1 else None


def echoed(words: str, limit: int) -> str:
    """The words she typed, as many whole ones as fit in `limit` characters, to echo in a line
    (No product called "indomie chicken", not "indomie chic"); a first word longer than
    that is cut, as nothing whole fits."""
    kept = ""
    for word in words.split():
        longer = f"{kept} {word}" if kept else word
        if len(longer) > limit:
            break
        kept = longer
    return kept or words.strip()[:limit]
