"""Accueil: what the dashboard covers (the perimeter, read from the warehouse) and the chosen territory's key figures."""
from __future__ import annotations

import pandas as pd

from . import DEMO_SUFFIX, Context, Finding
from .. import format as fmt, query
from . import french as fr


def intro(ctx: Context) -> Finding:
    n = len(ctx.per.members)
    titre = ctx.home_name
    # « du Territoire d'industrie Hautes-Alpes » (the name carries no article: the level's noun does)
    whole = f"{fr.of_territory('ti')} {ctx.home.nom}" if ctx.home.niveau == "ti" else f"de {ctx.home_name}"
    members = "de son intercommunalité" if n == 1 else f"de ses {fmt.count(n, 'intercommunalité')}"
    # Only the references with figures are promised; the others wait for a national file.
    refs = ctx.per.references
    with_data = query.territories_with_data(ctx.snap, sorted({t.niveau for t in refs}))
    name = (lambda t: f"{t.nom} ({fr.NIVEAUX[t.niveau].text})" if t.niveau != "france" else "la France")
    shown = [name(t) for t in refs if (t.niveau, t.code) in with_data]
    later = [name(t) for t in refs if (t.niveau, t.code) not in with_data]
    against = [fr.enumerate_fr(shown)] if shown else []
    if later:
        against.append(fr.enumerate_fr(later) + " une fois les fichiers nationaux chargés")
    phrase = (f"Indicateurs économiques {whole} et {members} (EPCI) : chiffre d'affaires par secteur, poids de "
              "l'industrie, filières stratégiques, foncier économique, comparaison des EPCI"
              + (", face aux territoires de référence : " + " ; ".join(against) if against else "") + ".")
    return Finding("accueil", titre, phrase)


# --- a first start on real files: what is loaded, what is still to load, what is still demo ------------------

def to_load(figures: Finding) -> list[str]:
    """One line per file the key figures still wait for (« industrie : part de l'emploi salarié privé : fichier
    URSSAF … à charger »), from the figures with nothing loaded, in the order of the figures."""
    from ..catalog import get as get_indicator
    from .chiffres_cles import ITEMS

    t = figures.table
    if not len(t):
        return []
    labels = {label: name for name, label, _ in ITEMS}
    empty = t[(t.usage == "chiffre") & (t.statut == "absent") & (t.note == "aucune donnée chargée")]
    wanted: dict[str, list[str]] = {}
    for label in empty.indicateur:
        if label in labels:
            wanted.setdefault(get_indicator(labels[label]).source_hint, []).append(fr.lower_first(label))
    return [f"{', '.join(words)} : {hint} à charger" for hint, words in wanted.items()]


def _named(r) -> str:
    """« URSSAF, … (commune x APE) (2006-2022) »: a Sources row by its label (without the demo mark) and years."""
    name = r.Source.replace(DEMO_SUFFIX, "")
    return f"{name} ({r.Années})" if isinstance(r.Années, str) and r.Années else name


def loaded(sources: pd.DataFrame) -> list[str]:
    """The official files loaded (the reference communes aside), from the Sources table."""
    files = sources[(sources["Démonstration"] != "oui") & ~sources.Source.str.startswith("INSEE, populations légales")]
    return [_named(r) for r in files.itertuples()]


def status(figures: Finding, sources: pd.DataFrame) -> str:
    """What Accueil says of the data: the files loaded, then those the key figures still wait for."""
    missing = to_load(figures)
    text = "**Fichiers officiels chargés** : " + (" ; ".join(loaded(sources)) or "aucun") + "."
    if missing:
        text += "\n\n**À charger** : " + " ; ".join(missing) + " (page Importer des données)."
    return fmt.typeset(text)


def demo_left(sources: pd.DataFrame) -> str | None:
    """The banner over demo figures: which sources are still demo and for which years, or None."""
    demo = sources[sources["Démonstration"] == "oui"]
    if not len(demo):
        return None
    return fmt.typeset(
        "Une partie des chiffres provient encore des **données de démonstration** générées par le logiciel "
        "(plausibles mais inventées), pour les communes et les années qu'aucun fichier officiel chargé ne couvre : "
        f"{fr.enumerate_fr([_named(r) for r in demo.itertuples()])}. Les chiffres concernés portent la mention "
        "« Données de démonstration » ; chargez les fichiers officiels correspondants pour les remplacer.")
