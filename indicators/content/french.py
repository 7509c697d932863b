"""French grammar of the content layer: nouns with their article, gender, number and elision, enumerations,
and how each indicator is named in a sentence (« le commerce », « l'industrie », « les transports et autres
services », « du BTP », « à l'aéronautique »; superlatives agree).

The grammar of a sector or a filière is reference data: the columns `libelle_phrase`, `genre`, `nombre`,
`elision` beside its label in data/reference/secteurs_candidature.csv and filieres.csv (written by
scripts/build_reference.py). Numbers, units, signs and typography are indicators/format.py's.
"""
from __future__ import annotations

import csv
import os
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

VOWELS = set("aeiouyàâäéèêëîïôöùûüœæ")
# Words starting with a mute h (elided article); an aspirated h (« le hêtre ») is not elided.
MUTE_H = ("hébergement", "hôtel", "habitant", "habitat", "horticulture", "hydro", "hydraulique", "hygiène", "huile")
REFERENCE_DIR = Path(__file__).resolve().parents[2] / "data" / "reference"
# The reference tables whose labels carry their grammar: (file, label column).
GRAMMAR_FILES = (("secteurs_candidature.csv", "secteur_libelle"), ("filieres.csv", "filiere_libelle"))


# --- nouns ----------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Noun:
    """A French noun phrase: « commerce » (m), « industrie » (f), « transports et autres services » (m, pl)."""
    text: str
    gender: str = "m"          # m | f
    plural: bool = False
    proper: bool = False       # a name that keeps its capital (« le Territoire d'industrie »)
    elision: bool | None = None   # from the reference data; None: from the first letter

    @property
    def elided(self) -> bool:
        if self.elision is not None:
            return self.elision
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


_FEMININE_ENDINGS = ("ion", "ie", "ique", "ure", "ité", "ance", "ence", "ade", "ée", "elle", "ette", "aison")


# The levels of territory, as a sentence names a reference: « du département », « de la région ».
NIVEAUX = {"ti": Noun("Territoire d'industrie", "m", proper=True), "epci": Noun("EPCI", "m"),
           "departement": Noun("département", "m"), "region": Noun("région", "f"), "france": Noun("France", "f", proper=True)}


def of_territory(niveau: str, nom: str | None = None) -> str:
    """« du Territoire d'industrie », « du département (X) », « de la France »: names carry no article
    in the reference files, so the level's noun carries it and the name follows in brackets."""
    n = NIVEAUX[niveau]
    return n.de() + (f" ({nom})" if nom and niveau not in ("ti", "france") else "")


def in_territory(niveau: str) -> str:
    """« dans le Territoire d'industrie », « dans le département », « dans la région », « en France »: where a
    figure is compared (« autant que dans le département »), without a pronoun that would lack its noun."""
    return "en France" if niveau == "france" else f"dans {NIVEAUX[niveau].le()}"


@lru_cache(maxsize=4)
def _grammar(directory: str) -> dict[str, Noun]:
    """label (lower case) -> Noun, from the grammar columns of the reference tables."""
    out = {}
    for name, label_col in GRAMMAR_FILES:
        path = Path(directory) / name
        if not path.is_file():
            path = REFERENCE_DIR / name
        with open(path, encoding="utf-8", newline="") as f:
            for r in csv.DictReader(f):
                if r.get("libelle_phrase"):
                    out[r[label_col].lower()] = Noun(r["libelle_phrase"], r["genre"], r["nombre"] == "pluriel",
                                                     elision=r["elision"] == "oui")
    return out


def grammar() -> dict[str, Noun]:
    """The nouns of the reference labels (the reference directory in use: TI_REFERENCE_DIR, else data/reference)."""
    return _grammar(os.environ.get("TI_REFERENCE_DIR") or str(REFERENCE_DIR))


def noun(label: str) -> Noun:
    """The Noun of a category label: its grammar in the reference data, else a guess from its ending."""
    known = grammar().get(label.lower())
    if known is not None:
        return known
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


def enumerate_fr(items: list[str], last: str = "et") -> str:
    """« a », « a et b », « a, b et c »."""
    items = [i for i in items if i]
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + f" {last} " + items[-1]


# --- indicators: the noun each one is, and its superlatives ------------------------------------------

@dataclass(frozen=True)
class Wording:
    noun: Noun                  # « le chiffre d'affaires », « la part de l'industrie dans l'emploi salarié privé »
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
    "part_industrie_effectifs": Wording(Noun("part de l'industrie dans l'emploi salarié privé", "f"),
                                        "la part de l'industrie dans l'emploi salarié privé la plus forte",
                                        "la part de l'industrie dans l'emploi salarié privé la plus faible"),
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
    "taux_creation_etablissements_industrie": Wording(
        Noun("taux de création d'établissements industriels"),
        "le taux de création d'établissements industriels le plus élevé",
        "le taux de création d'établissements industriels le plus faible"),
}


def wording(name: str) -> Wording:
    return WORDINGS[name]
