"""Accueil: what the dashboard covers (the perimeter, read from the warehouse) and the chosen territory's key figures."""
from __future__ import annotations

from . import Context, Finding
from . import french as fr
from . import pages


def intro(ctx: Context) -> Finding:
    n = len(ctx.per.members)
    titre = ctx.home_name
    phrase = (f"Indicateurs économiques de {ctx.home_name} et de ses {fr.count(n, 'intercommunalité')} "
              "(EPCI) : chiffre d'affaires par secteur, poids de l'industrie, filières stratégiques, comparaison "
              "des EPCI, face aux territoires de référence ("
              + fr.enumerate_fr([t.nom_court for t in ctx.per.references]) + ").")
    return Finding("accueil", titre, phrase)


def build(ctx: Context) -> list:
    return [intro(ctx), pages.build(ctx, "chiffres_cles")[0]]
