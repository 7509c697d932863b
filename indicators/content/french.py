"""French phrase toolkit: every title, sentence, slide, annex sheet and CSV header is written with it.

Nouns carry gender, number and elision, so articles and contractions come out right (« le commerce »,
« l'industrie », « les transports et autres services », « du BTP », « à l'aéronautique »); superlatives
agree; numbers follow the INSEE typography: U+202F as thousands separator and before « : ; ? ! % »,
U+2212 for the minus sign, signed changes, « Md€ », « M€ », « k€ », « 1ᵉʳ », plural agreement.
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

NNBSP = "\u202f"     # narrow no-break space
MINUS = "\u2212"
ARROW = "→"
SECRET = "s"
ABSENT = "–"
VOWELS = set("aeiouyàâäéèêëîïôöùûüœæ")
# Words starting with a mute h (elided article); an aspirated h (« le hêtre ») is not elided.
MUTE_H = ("hébergement", "hôtel", "habitant", "habitat", "horticulture", "hydro", "hydraulique", "hygiène", "huile")


def _missing(v) -> bool:
    if v is None:
        return True
    try:
        return bool(v != v) or str(v) == "<NA>"
    except TypeError:      # pandas.NA
        return True


# --- nouns ----------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Noun:
    """A French noun phrase: « commerce » (m), « industrie » (f), « transports et autres services » (m, pl)."""
    text: str
    gender: str = "m"          # m | f
    plural: bool = False
    proper: bool = False       # a name that keeps its capital (« le Territoire d'industrie »)

    @property
    def elided(self) -> bool:
        w = self.text.lower()
        if is_acronym(self.text.split(" ", 1)[0]):
            return False
        return bool(w) and (w[0] in VOWELS or w.startswith(MUTE_H))

    @property
    def bare(self) -> str:
        return self.text if self.proper else lower_first(self.text)

    def le(self) -> str:
        """« le commerce », « la construction », « l'industrie », « les transports et autres services »."""
        if self.plural:
            return f"les {self.bare}"
        if self.elided:
            return f"l'{self.bare}"
        return f"{'la' if self.gender == 'f' else 'le'} {self.bare}"

    def de(self) -> str:
        """« du commerce », « de la construction », « de l'industrie », « des transports… »."""
        if self.plural:
            return f"des {self.bare}"
        if self.elided:
            return f"de l'{self.bare}"
        return f"{'de la' if self.gender == 'f' else 'du'} {self.bare}"

    def a(self) -> str:
        """« au commerce », « à la construction », « à l'industrie », « aux transports… »."""
        if self.plural:
            return f"aux {self.bare}"
        if self.elided:
            return f"à l'{self.bare}"
        return f"{'à la' if self.gender == 'f' else 'au'} {self.bare}"

    def adjective(self, masc: str, fem: str | None = None) -> str:
        """An adjective agreeing with the noun: ('premier', 'première') -> « premiers » for a plural."""
        word = (fem or masc + "e") if self.gender == "f" else masc
        return word + ("s" if self.plural and not word.endswith(("s", "x")) else "")


# Category labels of the reference tables (sectors, filières, grand secteurs): gender and number,
# and the wording used in sentences. Anything else gets its gender guessed from its ending.
LEXICON: dict[str, Noun] = {k.lower(): v for k, v in {
    "Industrie": Noun("industrie", "f"),
    "Construction": Noun("construction", "f"),
    "Commerce": Noun("commerce", "m"),
    "Hébergement-restauration": Noun("hébergement-restauration", "m"),
    "Transport et autres services": Noun("transports et autres services", "m", True),
    "Agroalimentaire": Noun("agroalimentaire", "m"),
    "Plantes à parfum, aromatiques et médicinales": Noun("plantes à parfum, aromatiques et médicinales", "f", True),
    "Aéronautique": Noun("aéronautique", "f"),
    "Énergies renouvelables": Noun("énergies renouvelables", "f", True),
    "BTP": Noun("BTP", "m"),
    "Agriculture, sylviculture et pêche": Noun("agriculture, sylviculture et pêche", "f"),
    "Commerce, transports et services divers": Noun("commerce, transports et services divers", "m"),
    "Administration publique, enseignement, santé, action sociale":
        Noun("administration publique, enseignement, santé, action sociale", "f"),
}.items()}
_FEMININE_ENDINGS = ("ion", "ie", "ique", "ure", "ité", "ance", "ence", "ade", "ée", "elle", "ette", "aison")


# The levels of territory, as a sentence names a reference: « du département », « de la région ».
NIVEAUX = {"ti": Noun("Territoire d'industrie", "m", proper=True), "epci": Noun("EPCI", "m"),
           "departement": Noun("département", "m"), "region": Noun("région", "f"), "france": Noun("France", "f", proper=True)}


def of_territory(niveau: str, nom: str | None = None) -> str:
    """« du Territoire d'industrie », « du département (X) », « de la France »: names carry no article
    in the reference files, so the level's noun carries it and the name follows in brackets."""
    n = NIVEAUX[niveau]
    return n.de() + (f" ({nom})" if nom and niveau not in ("ti", "france") else "")


def noun(label: str) -> Noun:
    """The Noun of a category label (lexicon first, then a guess from the ending)."""
    if label.lower() in LEXICON:
        return LEXICON[label.lower()]
    first = label.split(" ", 1)[0].lower().rstrip(",")
    plural = first.endswith(("s", "x")) and not is_acronym(label.split(" ", 1)[0])
    stem = first[:-1] if plural else first
    return Noun(label, "f" if stem.endswith(_FEMININE_ENDINGS) else "m", plural)


def is_acronym(word: str) -> bool:
    letters = [c for c in word if c.isalpha()]
    return len(letters) > 1 and all(c.isupper() for c in letters)


def lower_first(label: str) -> str:
    """« Hébergement-restauration » -> « hébergement-restauration »; « BTP », « TPE et PME » keep their case."""
    if not label:
        return label
    first = label.split(" ", 1)[0]
    return label if is_acronym(first) else label[:1].lower() + label[1:]


def upper_first(text: str) -> str:
    return text[:1].upper() + text[1:] if text else text


# --- numbers ----------------------------------------------------------------------------------------

def number(value, decimals: int = 0) -> str:
    """14 866 ; 5,7 ; −3 (U+202F thousands separator, decimal comma, U+2212 minus)."""
    if _missing(value):
        return ABSENT
    v = round(float(value), decimals)
    if v == 0:
        v = 0.0          # no « −0 »
    text = f"{abs(v):,.{decimals}f}".replace(",", NNBSP).replace(".", ",")
    return (MINUS if v < 0 else "") + text


def signed(text_of_abs: str, value) -> str:
    return ("+" if value > 0 else MINUS if value < 0 else "") + text_of_abs


def percent(fraction, decimals: int = 1, sign: bool = False) -> str:
    """12,3 % ; +12 % ; −2,1 % (U+202F before %)."""
    if _missing(fraction):
        return ABSENT
    text = number(abs(fraction) * 100, decimals)
    if round(abs(fraction) * 100, decimals) == 0:
        return f"{text}{NNBSP}%"
    if sign:
        return signed(text, fraction) + f"{NNBSP}%"
    return (MINUS if fraction < 0 else "") + f"{text}{NNBSP}%"


def points(diff, decimals: int = 1) -> str:
    """A difference of two shares: « 2,1 points », « 0,5 point »."""
    if _missing(diff):
        return ABSENT
    v = round(abs(diff) * 100, decimals)
    return f"{number(v, decimals)} point{'s' if v >= 2 else ''}"


EURO_SCALES = (("Md€", 1e9), ("M€", 1e6), ("k€", 1e3), ("€", 1.0))


def euros(value, sign: bool = False, scale: str | None = None, decimals: int | None = None) -> str:
    """4 772 M€, 12,5 Md€, 191 M€, 13,5 M€, 850 k€; +191 M€ / −13,5 M€ when signed. Md€ from 10 000 M€."""
    if _missing(value):
        return ABSENT
    a = abs(float(value))
    if scale is None:
        scale = "Md€" if a >= 1e10 else "M€" if a >= 1e6 else "k€" if a >= 1e3 else "€"
    div = dict(EURO_SCALES)[scale]
    if decimals is None:
        # one decimal under 100 (13,5 M€, not 14 M€ from 13,46), none for whole numbers and from 100 up
        decimals = 1 if ((a / div) < 100 or scale == "Md€") and scale != "€" and round(a / div, 1) != round(a / div) else 0
    text = number(a / div, decimals) + f"{NNBSP}{scale}"
    if sign:
        return signed(text, value if round(a / div, decimals) else 0)
    return (MINUS if value < 0 and round(a / div, decimals) else "") + text


def count(n, singular: str, plural_form: str | None = None) -> str:
    """« 1 année », « 2 années », « 14 866 établissements » (French: 0 and 1 take the singular)."""
    n_ = int(round(n))
    word = singular if abs(n_) < 2 else (plural_form or _plural(singular))
    return f"{number(n_)} {word}"


def _plural(word: str) -> str:
    parts = word.split(" ", 1)
    head = parts[0]
    if head.endswith(("s", "x", "z")):
        p = head
    elif head.endswith(("au", "eu")):
        p = head + "x"
    elif head.endswith("al"):
        p = head[:-2] + "aux"
    else:
        p = head + "s"
    return p + (" " + parts[1] if len(parts) > 1 else "")


def ordinal(n: int, gender: str = "m") -> str:
    """1ᵉʳ, 1ʳᵉ, 2ᵉ, 9ᵉ."""
    if n == 1:
        return "1ᵉʳ" if gender == "m" else "1ʳᵉ"
    return f"{n}ᵉ"


SMALL_COUNT = 20


def change(before, after, unit: str = "", noun_singular: str | None = None) -> str:
    """A change between two values: a percentage, or « 8 → 9 établissements » on small counts (< 20)."""
    if _missing(before) or _missing(after):
        return ABSENT
    if noun_singular is not None and min(abs(before), abs(after)) < SMALL_COUNT:
        return f"{number(before)} {ARROW} {count(after, noun_singular)}"
    if not before:
        return ABSENT
    return percent(after / before - 1, 0, sign=True)


def years_text(years) -> str:
    """« 2022 », « 2021 et 2022 », « 2018 à 2022 »; sorted distinct years."""
    ys = sorted({int(y) for y in years if not _missing(y)})
    if not ys:
        return ""
    if len(ys) == 1:
        return str(ys[0])
    if len(ys) == 2:
        return f"{ys[0]} et {ys[1]}"
    return f"{ys[0]} à {ys[-1]}"


def enumerate_fr(items: list[str], last: str = "et") -> str:
    items = [i for i in items if i]
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + f" {last} " + items[-1]


# --- typography --------------------------------------------------------------------------------------

_BEFORE = re.compile(r"[ \u00a0\u202f]*([:;?!%])")


def typeset(text: str) -> str:
    """One narrow no-break space before « : ; ? ! % » (none after a digit-less URL or time 12:30)."""
    if not text:
        return text

    def fix(m: re.Match) -> str:
        start = m.start()
        prev = text[start - 1] if start else ""
        mark = m.group(1)
        if mark == ":" and prev.isdigit() and m.end() < len(text) and text[m.end()].isdigit():
            return m.group(0)          # 12:30
        if mark == ":" and text[m.end():m.end() + 2] == "//":
            return m.group(0)          # https://
        if not prev or prev in "( «\n":
            return m.group(0)
        return NNBSP + mark
    return unicodedata.normalize("NFC", _BEFORE.sub(fix, text))


def header(label: str) -> str:
    """A table or CSV column header: first letter up, French typography."""
    return typeset(upper_first(label))


# --- indicators: the noun each one is, and its superlatives ------------------------------------------

@dataclass(frozen=True)
class Wording:
    noun: Noun                  # « le chiffre d'affaires », « la part de l'industrie dans l'emploi salarié »
    most: str                   # « le chiffre d'affaires le plus élevé »
    least: str                  # « le chiffre d'affaires le plus faible »
    count_noun: str | None = None   # a count's unit noun (singular), for « 8 → 9 établissements »

    @property
    def short_least(self) -> str:
        """« la plus faible » after a first clause that named the noun (« X a la part … la plus forte, Y la plus faible »)."""
        head = self.noun.le()
        return self.least[len(head):].strip() if self.least.startswith(head + " ") else self.least


WORDINGS: dict[str, Wording] = {
    "population": Wording(Noun("population", "f"), "la population la plus nombreuse", "la population la moins nombreuse",
                          "habitant"),
    "superficie": Wording(Noun("superficie", "f"), "la superficie la plus grande", "la superficie la plus petite"),
    "ca_total": Wording(Noun("chiffre d'affaires"), "le chiffre d'affaires le plus élevé",
                        "le chiffre d'affaires le plus faible"),
    "ca_secteur": Wording(Noun("chiffre d'affaires"), "le chiffre d'affaires le plus élevé",
                          "le chiffre d'affaires le plus faible"),
    "taux_croissance_ca": Wording(Noun("évolution du chiffre d'affaires", "f"),
                                  "l'évolution du chiffre d'affaires la plus favorable",
                                  "l'évolution du chiffre d'affaires la moins favorable"),
    "entreprises_tpe_pme": Wording(Noun("nombre de TPE et PME"), "le plus grand nombre de TPE et PME",
                                   "le plus petit nombre de TPE et PME", "entreprise"),
    "entreprises_tpe_pme_industrie": Wording(Noun("nombre de TPE et PME industrielles"),
                                             "le plus grand nombre de TPE et PME industrielles",
                                             "le plus petit nombre de TPE et PME industrielles", "entreprise"),
    "part_industrie_etablissements": Wording(Noun("part de l'industrie dans les établissements", "f"),
                                             "la part de l'industrie dans les établissements la plus forte",
                                             "la part de l'industrie dans les établissements la plus faible"),
    "part_industrie_effectifs": Wording(Noun("part de l'industrie dans l'emploi salarié", "f"),
                                        "la part de l'industrie dans l'emploi salarié la plus forte",
                                        "la part de l'industrie dans l'emploi salarié la plus faible"),
    "part_industrie_etablissements_employeurs": Wording(
        Noun("part de l'industrie dans les établissements employeurs", "f"),
        "la part de l'industrie dans les établissements employeurs la plus forte",
        "la part de l'industrie dans les établissements employeurs la plus faible"),
    "part_industrie_tpe_pme": Wording(Noun("part de l'industrie dans les TPE et PME", "f"),
                                      "la part de l'industrie dans les TPE et PME la plus forte",
                                      "la part de l'industrie dans les TPE et PME la plus faible"),
    "etablissements_filiere": Wording(Noun("nombre d'établissements employeurs"),
                                      "le plus grand nombre d'établissements employeurs",
                                      "le plus petit nombre d'établissements employeurs", "établissement"),
    "effectifs_filiere": Wording(Noun("effectifs salariés", "m", True), "les effectifs salariés les plus nombreux",
                                 "les effectifs salariés les moins nombreux", "salarié"),
    "ca_filiere": Wording(Noun("chiffre d'affaires"), "le chiffre d'affaires le plus élevé",
                          "le chiffre d'affaires le plus faible"),
}


def wording(name: str) -> Wording:
    return WORDINGS[name]
