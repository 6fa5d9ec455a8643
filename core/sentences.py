"""The built-in matcher: sentences retailers type for what the menu offers, in seven languages.

"where is my order", "order yangu iko wapi", "où est ma commande", "wetin happen to my order",
"how much do I owe", "deni langu", "help me", "nataka kuongea na mtu", "cancel my last order",
"show me the menu". Each is read as the intent its menu entry or keyword answers (`status`,
`balance`, `help`, `cancel`, `menu`), by cue words that neither a Yes or No in words ("pas de
problème", "no wahala") nor an order needs ("where", "owe", "deni", "msaada"), so a typed order
("nataka katoni 5 za Indomie") is left to the order reader. Deterministic on purpose: the same
text always reads the same, and a sentence it does not know keeps today's answer (or goes to
Rasa, when one is configured). These are words people write, not words they read, so they live
here, not in locales/, one table per language.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from core.ids import REFERENCE_ALPHABET, REFERENCE_LENGTH

# What the matchers (built-in and Rasa) answer: an intent the dialogs know.
STATUS = "status"
BALANCE = "balance"
HELP = "help"
CANCEL = "cancel"
MENU = "menu"
SENTENCE_INTENTS = (STATUS, BALANCE, HELP, CANCEL, MENU)

# Where a sentence names one of the customer's order references ("my order 222224"), the patterns
# see this word in its place: a reference is told from a word spelt with its letters ("update")
# by its case and digits, which the patterns, reading the sentence in lower case, cannot see.
REFERENCE_WORD = "<ref>"
_REF = REFERENCE_WORD
# What she typed after a status keyword for the order's reference, but that has no reference's
# shape ("STATUS 1234567", "HALI W62AC"): a word of Latin letters and digits with a digit.
_CODE = r"[a-z0-9]*[0-9][a-z0-9]*"
# The same after an order word ("order 1234567", "oda yangu W62AC"): there a short number ("order
# 5") or a measure ("order 500ml") is an order without its product, so four digits or more, or
# a code that starts with a letter.
_ORDER_CODE = r"(?:[0-9]{4,}|[a-z][a-z0-9]*[0-9][a-z0-9]*)"
_NUMBERED = r"(?:no|number|num|nr|namba|numero|n)"

# What may follow a balance or status keyword and leave it that question ("BAL 500", "solde svp",
# "bashi don allah", "ugwo biko", "hali tafadhali", "status don Allah"): numbers (an amount, an
# account) and words asking politely. A product's or price's word after it ("ugwo indomie")
# leaves it to the order reader.
_POLITELY = (
    r"(?:\d+|please|pls|plz|kindly|now|abeg|o|svp|stp|merci|tafadhali|don|allah|jowo|ejowo|biko)"
)


def _asked_politely(keywords: str) -> str:
    return rf"^(?:{keywords})(?:\s+{_POLITELY})+$"


_EN_ORDER = r"(?:orders?|deliver(?:y|ies)|goods|stock|parcel|package|items)"
_SW_ORDER = r"(?:oda|order|orders|agizo|maagizo|mzigo|mizigo|bidhaa|vitu)"
# Only an order is cancelled: "I don't want this product" at Yes/No is her No.
_EN_CANCELLED = r"(?:orders?)"
_SW_CANCELLED = r"(?:oda|order|agizo)"

# Checked in this order: "cancel my order" is no question about where it is, and "help me, where
# is my order" is best answered with where it is.
_EN: tuple[tuple[str, str], ...] = (
    (CANCEL, rf"\bcancel\w*\b.*\b{_EN_CANCELLED}\b"),
    (CANCEL, r"\b(?:do\s*n[o']?t|no\s+longer)\s+(?:want|need)\s+(?:my|the|that)\s+order\b"),
    (BALANCE, r"\b(?:owe|owing|debts?|balance|arrears)\b"),
    (BALANCE, _asked_politely("bal")),
    (BALANCE, r"\bhow\s+much\b.*\b(?:credit|to\s+pay|must\s+i\s+pay|should\s+i\s+pay)\b"),
    (BALANCE, r"\b(?:my|our)\s+(?:credit|loan|account)\b"),
    (STATUS, rf"\b(?:where|track\w*|status)\b.*\b(?:my|our|the|this|that)\s+{_EN_ORDER}\b"),
    (STATUS, rf"\bwhere\s*(?:'s|is|are)\b.*\b{_EN_ORDER}\b"),
    (STATUS, rf"\b{_EN_ORDER}\s+status\b|\bstatus\s+of\b|\bstatus\b.*\b{_EN_ORDER}\b"),
    # An order or status word with her reference: "my order 222224", "order W62ACJ?"
    (STATUS, rf"\b(?:{_EN_ORDER}|status|track\w*)\b.*{_REF}|{_REF}.*\b(?:{_EN_ORDER}|status)\b"),
    # The keyword with a reference, as the confirmation's "Reply STATUS" is answered (STATUS
    # W62ACJ), or with any one word: "status 1234567" or "status pls" is no product "status".
    (STATUS, r"^(?:status|track)\s+\w+$"),
    (STATUS, _asked_politely("status|track")),
    (STATUS, rf"^(?:(?:my|our|the)\s+)?orders?\s+(?:{_NUMBERED}\s+)?{_ORDER_CODE}$"),
    (
        STATUS,
        rf"\b(?:my|our)\s+{_EN_ORDER}\b.*\b(?:arriv\w*|come|coming|came|delivered|reach\w*)\b",
    ),
    (STATUS, r"\bwhen\b.*\b(?:arriv\w*|deliver\w*|coming|come|reach)\b"),
    (STATUS, rf"\b(?:check|show|see|view|list)\b.*\b(?:my|our)\s+{_EN_ORDER}\b"),
    (HELP, r"\b(?:help|assist\w*|support|complain\w*|complaint)\b|\b(?:a|my)\s+problem\b"),
    (HELP, r"\b(?:talk|speak|chat)\b.*\b(?:person|human|agent|someone|somebody|staff|people)\b"),
    (HELP, r"\b(?:customer\s+(?:care|service)|human|agent)\b"),
    (MENU, r"\b(?:menu|start\s+(?:over|again)|main\s+page)\b"),
)
_SW: tuple[tuple[str, str], ...] = (
    (
        CANCEL,
        rf"\b(?:ghairi|kughairi|sitisha|kusitisha|futa|kufuta|batilisha)\w*\b.*\b{_SW_CANCELLED}\b",
    ),
    (CANCEL, rf"\b(?:cancel\w*|sitaki)\b.*\b{_SW_CANCELLED}\b"),
    (BALANCE, r"\b(?:deni|madeni|salio|mkopo|mikopo|\w*daiwa)\b"),
    (STATUS, r"\b(?:iko|uko|ziko|liko|yako|yuko|ipo|upo|zipo|lipo)\s+wapi\b"),
    (STATUS, rf"\bwapi\b.*\b{_SW_ORDER}\b|\b{_SW_ORDER}\b.*\bwapi\b"),
    (STATUS, rf"\b(?:hali|status)\b.*\b{_SW_ORDER}\b"),
    (STATUS, rf"\b(?:{_SW_ORDER}|hali|status|fuatilia)\b.*{_REF}|{_REF}.*\b{_SW_ORDER}\b"),
    (STATUS, rf"^(?:hali|status)\s+(?:ya\s+)?(?:\w{{6}}|{_CODE})$"),
    (STATUS, _asked_politely("hali")),
    (
        STATUS,
        rf"^(?:oda|orders?|agizo)\s+(?:(?:yangu|yetu|ya)\s+)?(?:{_NUMBERED}\s+)?"
        rf"{_ORDER_CODE}$",
    ),
    (STATUS, r"\b(?:i|u|zi|li|ha|haiku|hauku|haziku|haliku)\w*fika\b|\bfuatilia\b"),
    (STATUS, rf"\b(?:ona|kuona|angalia|kuangalia|nionyeshe|onyesha)\b.*\b{_SW_ORDER}\b"),
    (HELP, r"\b(?:msaada|usaidizi|nisaidie|tusaidie|saidia|nisaidia|malalamiko)\b"),
    (HELP, r"\b(?:nina|tuna|kuna)\s+(?:shida|tatizo)\b"),
    (HELP, r"\b(?:ongea|kuongea|zungumza|kuzungumza|piga\s+simu)\b.*\b(?:mtu|binadamu|wakala)\b"),
    (HELP, r"\bhuduma\s+kwa\s+wateja\b|\bwakala\b"),
    (MENU, r"\b(?:menyu|menu)\b|\brudi\s+mwanzo\b"),
)
_FR_ORDER = r"(?:commandes?|livraisons?|colis|marchandises?)"
_FR: tuple[tuple[str, str], ...] = (
    (CANCEL, r"\bannul\w*\b.*\bcommandes?\b"),
    (BALANCE, r"\bcombien\b.*\b(?:dois|doit|devons)\b|\b(?:dois|doit|devons)\s+combien\b"),
    (BALANCE, r"\bdettes?\b|\b(?:mon|ma|notre)\s+(?:solde|crédit|credit)\b"),
    (BALANCE, _asked_politely("solde")),
    # "où est ma commande", typed "ou est" without its accent ("ou" alone is "or")
    (STATUS, rf"\bo[uù]\s+(?:est|sont|en\s+est)\b.*\b{_FR_ORDER}\b"),
    (STATUS, rf"\b(?:suivi|statut|état|etat)\b.*\b{_FR_ORDER}\b"),
    (STATUS, rf"\b(?:{_FR_ORDER}|suivi|statut)\b.*{_REF}|{_REF}.*\b{_FR_ORDER}\b"),
    (STATUS, r"^(?:suivi|statut)\s+\w+$"),
    (STATUS, _asked_politely("suivi|statut")),
    (STATUS, rf"^(?:(?:ma|la)\s+)?commande\s+(?:{_NUMBERED}\s+)?{_ORDER_CODE}$"),
    (STATUS, rf"\b{_FR_ORDER}\b.*\b(?:arriv\w*|livr\w*|vient|viendra)\b"),
    (STATUS, r"\bquand\b.*\b(?:arriv\w*|livr\w*|viendra)\b"),
    (STATUS, rf"\b(?:voir|montre\w*|affiche\w*)\b.*\b(?:mes|ma)\s+{_FR_ORDER}\b"),
    (HELP, r"\b(?:aide|aidez|aider|assistance|réclamation|plainte)\b|\b(?:un|mon)\s+probl[eè]me\b"),
    (
        HELP,
        r"\b(?:parler|joindre|appeler)\b.*\b(?:quelqu'un|personne|humain|agent|conseiller)\b",
    ),
    (HELP, r"\bservice\s+client\w*\b"),
    (MENU, r"\bmenu\b|\brecommencer\b|\bpage\s+d'accueil\b"),
)
# Nigerian Pidgin: English words read too ("where my order dey", "how much I owe", "abeg help
# me"); these are the Pidgin ones. "no wahala" is a Yes: a problem is "I get wahala".
_PCM: tuple[tuple[str, str], ...] = (
    (STATUS, rf"\bwetin\s+(?:dey\s+)?happen\b.*\b{_EN_ORDER}\b"),
    (STATUS, rf"\bhow\s+far\b.*\b{_EN_ORDER}\b"),
    (STATUS, rf"\b{_EN_ORDER}\b.*\b(?:never|neva|don|go|still)\s+(?:land|reach|come|arrive)\b"),
    (STATUS, rf"\bwhere\b.*\b{_EN_ORDER}\b.*\bdey\b"),
    (STATUS, rf"\b(?:{_EN_ORDER}|status)\b.*{_REF}|{_REF}.*\b{_EN_ORDER}\b"),
    (BALANCE, r"\bhow\s+much\b.*\b(?:i|we)\s+(?:never|neva)\s+pay\b"),
    (BALANCE, r"\b(?:my|our)\s+gbese\b"),
    (HELP, r"\b(?:i|we)\s+(?:get|dey\s+get)\s+wahala\b"),
    (HELP, r"\b(?:i|we)\s+wan\s+(?:talk|yarn|see)\b.*\b(?:person|somebody|una\s+people)\b"),
    (HELP, r"\bmake\s+(?:person|somebody|una)\b.*\b(?:call|help)\s+(?:me|us)\b"),
)
# Hausa, Yoruba and Igbo as people text them, without hooked letters, tone marks or dots. "ina"
# is also "I am" ("ina son kwali 5": I want five cartons): it asks where only before "my order".
# "babu matsala", "ko si isoro", "o nweghi nsogbu" ("no problem") are a Yes, so a problem is
# only "I have a problem".
_HA_ORDER = r"(?:oda\w*|kaya\w*)"
_HA_MINE = r"(?:odata|odana|odarmu|odar\s+(?:ta|na|mu)|kayana|kayata|kayanmu|kayan\s+(?:na|mu))"
_HA: tuple[tuple[str, str], ...] = (
    (CANCEL, rf"\b(?:soke|soka|fasa)\b.*\b{_HA_ORDER}\b"),
    (BALANCE, r"\bnawa\b.*\b(?:bi|bina|bashi\w*)\b|\bbashi(?:na|ta|nmu|n\s+da\s+ake)\b"),
    (BALANCE, _asked_politely("bashi")),
    (STATUS, rf"\bina\s+{_HA_MINE}\b|\b{_HA_MINE}\s+(?:tana\s+)?ina\b"),
    (STATUS, rf"\b(?:hali|matsayi)\b.*\b{_HA_ORDER}\b"),
    (STATUS, rf"\b(?:{_HA_ORDER}|hali|matsayi)\b.*{_REF}|{_REF}.*\b{_HA_ORDER}\b"),
    (STATUS, rf"^(?:hali|matsayi)\s+(?:\w{{6}}|{_CODE})$"),
    (STATUS, _asked_politely("hali|matsayi")),
    (STATUS, rf"^(?:{_HA_MINE}|oda)\s+(?:{_NUMBERED}\s+)?{_ORDER_CODE}$"),
    (STATUS, r"\byaushe\b.*\b(?:zo|iso|isa|kawo)\b"),
    (HELP, r"\b(?:taimak\w*|agaza)\b|\bina\s+da\s+matsala\b"),
    (HELP, r"\bmagana\b.*\b(?:mutum|wani|ma'aikaci|wakili)\b"),
    (MENU, r"\bmenu\b"),
)
_YO_ORDER = r"(?:oda|eru|oja|ijawe)"
_YO: tuple[tuple[str, str], ...] = (
    (CANCEL, rf"\bfagile\b.*\b{_YO_ORDER}\b"),
    # "elo ni mo je" is what I owe; "elo ni o je" is a price
    (BALANCE, r"\belo\b.*\b(?:mo|a|n)\s+je\b|\bgbese\b"),
    (STATUS, rf"\bnibo\b.*\b{_YO_ORDER}\b|\b{_YO_ORDER}\b.*\bnibo\b"),
    (STATUS, rf"\bipo\b.*\b{_YO_ORDER}\b"),
    (STATUS, rf"\b(?:{_YO_ORDER}|ipo)\b.*{_REF}|{_REF}.*\b{_YO_ORDER}\b"),
    (STATUS, rf"^ipo\s+(?:\w{{6}}|{_CODE})$"),
    (STATUS, _asked_politely("ipo")),
    (STATUS, rf"^oda\s+(?:mi\s+)?(?:{_NUMBERED}\s+)?{_ORDER_CODE}$"),
    (STATUS, r"\bigba\s+wo\b.*\bde\b"),
    (HELP, r"\bran\s+(?:mi|wa)\s+(?:l'?owo)\b|\biranlowo\b|\bmo\s+ni\s+isoro\b"),
    (HELP, r"\bsoro\b.*\b(?:eniyan|enikan|osise)\b|\b(?:eniyan|enikan|osise)\b.*\bsoro\b"),
    (MENU, r"\bmenu\b"),
)
_IG_ORDER = r"(?:oda|ngwa|ngwongwo|ngwaahia)"
_IG: tuple[tuple[str, str], ...] = (
    (CANCEL, rf"\bkagbuo\b.*\b{_IG_ORDER}\b"),
    # "ego ole ka m ji" is what I owe; "ego ole" alone is a price
    (BALANCE, r"\bego\s+ole\b.*\b(?:m|anyi)\s+ji\b|\bugwo\s+(?:m|anyi)\b"),
    (BALANCE, _asked_politely("ugwo")),
    (STATUS, rf"\bebee\b.*\b{_IG_ORDER}\b|\b{_IG_ORDER}\b.*\bebee\b"),
    (STATUS, rf"\bonodu\b.*\b{_IG_ORDER}\b"),
    (STATUS, rf"\b(?:{_IG_ORDER}|onodu)\b.*{_REF}|{_REF}.*\b{_IG_ORDER}\b"),
    (STATUS, rf"^onodu\s+(?:\w{{6}}|{_CODE})$"),
    (STATUS, _asked_politely("onodu")),
    (STATUS, rf"^oda\s+(?:m\s+)?(?:{_NUMBERED}\s+)?{_ORDER_CODE}$"),
    (STATUS, r"\bole\s+mgbe\b.*\b(?:abia|eru)\b"),
    (HELP, r"\bnyere\s+(?:m|anyi)\s+aka\b|\benyemaka\b|\benwere\s+m\s+nsogbu\b"),
    (HELP, r"\b(?:kwuo|kwurita|gwa\w*)\b.*\b(?:mmadu|onye)\b"),
    (MENU, r"\bmenu\b"),
)
SENTENCES: dict[str, tuple[tuple[str, re.Pattern[str]], ...]] = {
    language: tuple((intent, re.compile(pattern)) for intent, pattern in table)
    for language, table in (
        ("en", _EN),
        ("sw", _SW),
        ("fr", _FR),
        ("pcm", _PCM),
        ("ha", _HA),
        ("yo", _YO),
        ("ig", _IG),
    )
}
# Letters and apostrophes only: "Where's my order??" reads as "where's my order".
_NOISE = re.compile(r"[^\w']+")
# An order's reference as people type it ("W62ACJ", "w62acj", "222227"): a word of the
# references' letters and digits. One without a digit must be in capitals, as it was printed,
# in a text not all in capitals: "update" and "ACCEPT" are spelt with those letters too.
_REFERENCE = re.compile(
    rf"(?<!\w)[{REFERENCE_ALPHABET}]{{{REFERENCE_LENGTH}}}(?!\w)", re.IGNORECASE
)


def read_sentence(text: str, locales: Iterable[str]) -> str | None:
    """The intent a sentence asks for, read in each of `locales` in turn (English always
    last); None for what these tables do not know, or a number."""
    words = _NOISE.sub(" ", text.casefold().replace("\u2019", "'")).split()
    if not any(w.isalpha() for w in words):
        return None
    reference = read_reference(text)
    if reference is not None:
        words = [REFERENCE_WORD if w == reference.casefold() else w for w in words]
    sentence = " ".join(words)
    for language in dict.fromkeys([*locales, "en"]):
        for intent, pattern in SENTENCES.get(language, ()):
            if pattern.search(sentence):
                return intent
    return None


# A status keyword of any language and what she typed for a reference (the tables above read
# the keyword in her languages only; this says what it named).
_TYPED_FOR_REFERENCE = re.compile(
    rf"^(?:status|track|hali|matsayi|suivi|statut|ipo|onodu)\s+(?:ya\s+)?({_CODE})$"
    rf"|^(?:(?:my|our|the|ma|la)\s+)?(?:orders?|oda|agizo|commande|{_HA_MINE})"
    rf"(?:\s+(?:yangu|yetu|ya|mi|m))?(?:\s+{_NUMBERED})?\s+({_ORDER_CODE})$"
)


def read_reference(text: str) -> str | None:
    """The order reference a sentence names ("status ya order W62ACJ"), in capitals; None when
    it names none."""
    shouted = text.isupper()
    for found in _REFERENCE.finditer(text):
        word = found.group()
        if any(ch.isdigit() for ch in word) or (word.isupper() and not shouted):
            return word.upper()
    return None


def read_named_order(text: str) -> str | None:
    """The order a status question names, in capitals: its reference ("status ya order
    W62ACJ"), or what was typed for one after the keyword though no reference has its shape
    ("STATUS 1234567", told "No order 1234567 found."); None when it names none."""
    reference = read_reference(text)
    if reference is not None:
        return reference
    typed = _TYPED_FOR_REFERENCE.match(" ".join(_NOISE.sub(" ", text.casefold()).split()))
    return next(code for code in typed.groups() if code).upper() if typed else None


# Greetings, as a conversation is opened in each language ("Hi", "Habari", "Bonjour", "How far",
# "Sannu", "Bawo", "Ndewo"), typed without tone marks or hooked letters: alone, mid-conversation
# too, they are answered as a new conversation is, with the main menu, never "choose a number".
GREETINGS: dict[str, tuple[str, ...]] = {
    "en": (
        *("hi", "hello", "hallo", "helo", "hey", "hiya", "morning", "evening"),
        *("good morning", "good afternoon", "good evening", "good day"),
    ),
    "sw": (
        *("habari", "jambo", "hujambo", "mambo", "salaam", "salamu", "shikamoo", "niaje"),
        *("habari za asubuhi", "habari za mchana", "habari za jioni", "habari yako"),
    ),
    "fr": ("bonjour", "bonsoir", "salut", "coucou", "bjr"),
    "pcm": ("how far", "how body", "how you dey", "wetin dey"),
    "ha": ("sannu", "barka", "barka da safiya", "barka da rana", "barka da yamma", "ina kwana"),
    "yo": ("bawo", "bawo ni", "ekaaro", "e kaaro", "ekaasan", "e kaasan", "ekurole", "e kurole"),
    "ig": ("ndewo", "nnoo", "kedu", "ututu oma", "ehihie oma", "mgbede oma"),
}
# Words said around a greeting without making it anything else: "Hi there", "Hello o", "Sannu
# kuma", "Habari tena", "Bonjour madame", "Ndewo nu".
_AROUND_GREETINGS = frozenset(
    {"there", "all", "again", "sir", "ma", "madam", "dear", "o", "oo", "ooo", "omniroute"}
    | {"tena", "sana", "kuma", "nu", "madame", "monsieur", "tout", "le", "monde", "oh"}
)
_GREETING_PHRASES = sorted(
    {tuple(phrase.split()) for phrases in GREETINGS.values() for phrase in phrases},
    key=len,
    reverse=True,
)


def is_greeting(text: str) -> bool:
    """Whether a text is a greeting and nothing else, in any of the seven languages."""
    if any(ch.isdigit() for ch in text):
        return False
    words = re.findall(r"[^\W\d_]+", text.casefold().replace("\u2019", "'"))
    greeted, at = False, 0
    while at < len(words):
        phrase = next((p for p in _GREETING_PHRASES if tuple(words[at : at + len(p)]) == p), None)
        if phrase is not None:
            greeted, at = True, at + len(phrase)
        elif words[at] in _AROUND_GREETINGS:
            at += 1
        else:
            return False
    return greeted
