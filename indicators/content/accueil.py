"""Accueil: what the dashboard covers (the perimeter, read from the warehouse) and the chosen territory's key figures."""
from __future__ import annotations

from . import Context, Finding
from .. import format as fmt
from . import french as fr


def intro(ctx: Context) -> Finding:
    n = len(ctx.per.members)
    titre = ctx.home_name
    # « du Territoire d'industrie Hautes-Alpes » (the name carries no article: the level's noun does)
    whole = f"{fr.of_territory('ti')} {ctx.home.nom}" if ctx.home.niveau == "ti" else f"de {ctx.home_name}"
    members = "de son intercommunalité" if n == 1 else f"de ses {fmt.count(n, 'intercommunalité')}"
    refs = [f"{t.nom} ({fr.NIVEAUX[t.niveau].text})" if t.niveau != "france" else "la France" for t in ctx.per.references]
    phrase = (f"Indicateurs économiques {whole} et {members} (EPCI) : chiffre d'affaires par secteur, poids de "
              "l'industrie, filières stratégiques, comparaison des EPCI, face aux territoires de référence : "
              + fr.enumerate_fr(refs) + ".")
    return Finding("accueil", titre, phrase)
