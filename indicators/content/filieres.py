"""Filières stratégiques: the five filières of the chosen territory, by EPCI, and their change over time."""
from __future__ import annotations

import pandas as pd

from . import (FILIERE_COLOURS, FILIERE_MEASURES, UNIT_KIND, ChartSpec, Claim, Context, Finding, absent, concat,
               finish, rows, secret_notes, shown)
from .. import format as fmt
from . import french as fr
from ..catalog import get as get_indicator

PAGE = "filieres"
KEYS = ["filieres", "filieres_evolution"]


def lead_title(name: str, year: int, parts: list[tuple[str, float | None, str]], measure_label: str, show,
               claims: list | None = None, where: tuple = ()) -> str:
    """« X : l'agroalimentaire, première filière en établissements employeurs en 2024 (123) »; « … première filière
    diffusable … » when a secret or partial value could change it."""
    known = [p for p in parts if p[1] is not None and not pd.isna(p[1]) and p[2] == "ok"]
    if not known:
        return f"{name} : filières stratégiques, {measure_label}, {year}"
    top = max(known, key=lambda p: p[1])
    n = fr.noun(top[0])
    sure = len(known) == len(parts)
    ties = [p for p in known if p[1] == top[1]]
    if claims is not None:
        claims.append(Claim("max", tuple(p[0] for p in ties), where=where, qualifier="" if sure else "diffusable"))
    if len(ties) > 1:
        return (f"{name} : {fr.enumerate_fr([fr.noun(p[0]).le() for p in ties])} à égalité en tête des filières"
                f"{'' if sure else ' diffusables'} en {measure_label} en {year} ({show(top[1])})")
    others = [p for p in known if p is not top]
    if sure and len(others) > 1 and top[1] > sum(p[1] for p in others):
        # The first filière by far (« le BTP, première filière » says nothing): how far, against the others together.
        return (f"{name} : {n.le()} pèse plus que {len(others)} autres filières réunies en "
                f"{measure_label} en {year} ({show(top[1])} contre {show(sum(p[1] for p in others))})")
    return (f"{name} : {n.le()}, première filière{'' if sure else ' diffusable'} en {measure_label} en {year} "
            f"({show(top[1])})")


def change_items(series: pd.DataFrame, first: int, last: int, count_noun: str | None) -> tuple[list[str], list[str]]:
    """(« l'agroalimentaire 8 → 9 établissements », « le BTP +12 % »: absolute changes on small counts;
    the filières whose change cannot be computed, a value of either year being secret, partial or absent)."""
    out, unknown = [], []
    for cat, g in series.groupby("categorie", sort=False):
        a, b = g[g.annee == first], g[g.annee == last]
        if not len(a) or not len(b) or a.statut.iat[0] != "ok" or b.statut.iat[0] != "ok":
            unknown.append(fr.noun(cat).le())
            continue
        out.append(f"{fr.noun(cat).le()} {fmt.change(a.valeur.iat[0], b.valeur.iat[0], noun_singular=count_noun)}")
    return out, unknown


def _evolution_title(name: str, table: pd.DataFrame, first: int, last: int, label: str) -> tuple[str, list[Claim]]:
    """« X : 4 filières sur 5 en hausse en établissements employeurs de 2015 à 2024 » (the finding, not the
    chart's name), with the direction claimed for each filière counted."""
    claims, up, down, unknown = [], 0, 0, 0
    for cat, g in table.groupby("categorie", sort=False):
        a, b = g[g.annee == first], g[g.annee == last]
        if not len(a) or not len(b) or a.statut.iat[0] != "ok" or b.statut.iat[0] != "ok":
            unknown += 1
            continue
        va, vb = a.valeur.iat[0], b.valeur.iat[0]
        direction = "stable" if va == vb else ("hausse" if vb > va else "baisse")
        up, down = up + (direction == "hausse"), down + (direction == "baisse")
        claims.append(Claim("direction", (str(cat),), where=(), direction=direction, years=(first, last)))
    n = up + down + unknown + sum(1 for c in claims if c.direction == "stable")
    if not claims:
        return f"{name} : évolution des filières en {label} de {first} à {last} non calculable", claims
    most, word = (up, "en hausse") if up >= down else (down, "en baisse")
    who = f"les {n} filières" if most == n and n > 1 else f"{most} filière{'s' if most > 1 else ''} sur {n}"
    text = f"{name} : {who} {word} en {label} de {first} à {last}"
    if unknown:
        text += f" ({unknown} non calculable{'s' if unknown > 1 else ''})"
    return text, claims


def stack(ctx: Context) -> Finding:
    name, definition = ctx.sel.filiere_mesure, ctx.sel.definition
    label = FILIERE_MEASURES[name]
    ind = get_indicator(name)
    kind = UNIT_KIND.get(ind.unite, "count")
    year, ys = ctx.year(name, "epci", definition)
    if year is None:
        f = absent("filieres", ctx, name, ys)
        f.sheet_name = "Filières"
        return f
    members = [t.code for t in ctx.per.members]
    codes = list(dict.fromkeys(members + ([ctx.focus.code] if ctx.focus.niveau == "epci" else [])))
    epci = ctx.get(name, "epci", annee=year, territoires=codes, definition=definition)
    focus_df = ctx.get(name, ctx.focus.niveau, annee=year, territoires=[ctx.focus.code], definition=definition)
    table = concat([rows(ctx, epci, ind.titre, kind, categorie_col="filiere"),
                    rows(ctx, focus_df, ind.titre, kind, categorie_col="filiere", usage="phrase")
                    if ctx.focus.niveau != "epci" else pd.DataFrame()])
    mine = table[(table.code == ctx.focus.code) & (table.niveau == ctx.focus.niveau)]
    mine = mine.drop_duplicates("categorie")
    show = (lambda v: shown(v, kind))
    parts = [(r.categorie, r.valeur, r.statut) for r in mine.itertuples()]
    claims: list[Claim] = []
    where = (("code", ctx.focus.code), ("niveau", ctx.focus.niveau),
             ("usage", "graphique" if ctx.focus.niveau == "epci" else "phrase"))
    titre = lead_title(ctx.name, year, parts, label, show, claims, where)
    items = [f"{fr.noun(r.categorie).le()} {shown(r.valeur, kind, r.statut)}{' (partiel)' if r.statut == 'partiel' else ''}"
             for r in mine.itertuples() if r.statut != "secret"]
    hidden = [fr.noun(r.categorie).le() for r in mine.itertuples() if r.statut == "secret"]
    # « les plantes à parfum… s » reads as a typo in a sentence: the secret filières are named together.
    said = ([fr.enumerate_fr(items)] if items else []) + (
        [f"secret statistique pour {fr.enumerate_fr(hidden)}"] if hidden else [])
    phrase = f"{ctx.name}, {year} : " + " ; ".join(said) + "."
    drawn = table[table.usage == "graphique"]
    n_secret = int((drawn.statut == "secret").sum())
    if n_secret:
        phrase += f" {fmt.count(n_secret, 'croisement')} EPCI × filière en secret statistique (« s »)."
    colours = {r.filiere: FILIERE_COLOURS.get(r.filiere_code, "#4477AA") for r in epci.itertuples()}
    spec = ChartSpec("bar_stacked", cat="territoire", series="categorie", colours=colours,
                     references=[ctx.focus.nom_court] if ctx.focus.niveau == "epci" else [])
    defn = "cœur de filière" if definition == "coeur" else "filière élargie"
    f = Finding("filieres", titre, phrase, table, spec, notes=secret_notes(drawn, lambda r: f"{r.territoire} – {r.categorie}"),
                sheet_name="Filières", extra={"highlight": ctx.focus.nom_court if ctx.focus.niveau == "epci" else None},
                claims=claims)
    f = finish(f, name)
    f.definition = fmt.typeset(f"{f.definition} Périmètre : {defn}.")
    return f


def evolution(ctx: Context) -> Finding:
    name, definition = ctx.sel.filiere_mesure, ctx.sel.definition
    label = FILIERE_MEASURES[name]
    ind = get_indicator(name)
    kind = UNIT_KIND.get(ind.unite, "count")
    niveau = ctx.focus.niveau
    end, ys = ctx.year(name, niveau, definition)
    if end is None:
        f = absent("filieres_evolution", ctx, name, ys)
        f.sheet_name = "Filières évolution"
        return f
    shown_years = [y for y in ys if y <= end]
    if len(shown_years) < 2:
        return Finding("filieres_evolution", f"{ctx.name} : filières, {label}, {end}",
                       f"Une seule année jusqu'en {end} : pas d'évolution à montrer.", years=(end,),
                       sheet_name="Filières évolution")
    series = ctx.get(name, niveau, annees=shown_years, territoires=[ctx.focus.code], definition=definition)
    table = rows(ctx, series, ind.titre, kind, categorie_col="filiere")
    first = shown_years[0]
    noun = fr.wording(name).count_noun if kind == "count" else None
    items, unknown = change_items(table, first, end, noun)
    titre, claims = _evolution_title(ctx.name, table, first, end, label)
    said = ([fr.enumerate_fr(items)] if items else []) + (
        [f"évolution non calculable (secret statistique, valeur partielle ou absente) pour {fr.enumerate_fr(unknown)}"]
        if unknown else [])
    phrase = f"{ctx.name}, de {first} à {end} : " + " ; ".join(said) + "."
    if noun:
        phrase += f" Sous {fmt.SMALL_COUNT} {fmt.plural(noun)}, l'évolution est donnée en nombre, non en pourcentage."
    colours = {r.filiere: FILIERE_COLOURS.get(r.filiere_code, "#4477AA") for r in series.itertuples()}
    spec = ChartSpec("line", cat="annee", series="categorie", colours=colours)
    f = Finding("filieres_evolution", titre, phrase, table, spec, sheet_name="Filières évolution", claims=claims,
                notes=secret_notes(table, lambda r: f"{r.categorie} {r.annee}"))
    return finish(f, name)


def build(ctx: Context) -> list[Finding]:
    return [stack(ctx), evolution(ctx)]
