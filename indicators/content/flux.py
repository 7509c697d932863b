"""Creations and closures of establishments (Sirene): the flows behind the stocks, for Industrie and Filières.

« TI X : 23 établissements industriels créés en 2024, 11 fermés : solde +12, le plus haut depuis 2016 » with the
two flows and the balance by year; the rates of the chosen territory against its references; the balance of
each filière. Every figure of a title or sentence is a row of the finding's table (the chart's rows).
"""
from __future__ import annotations

import pandas as pd

from . import ChartSpec, Claim, Context, Finding, absent, concat, finish, rows, secret_notes
from .. import format as fmt
from . import french as fr
from ..palettes import DOWN, TOTAL, UP

KEYS_INDUSTRIE = ["industrie_flux", "industrie_flux_taux"]
KEYS_FILIERES = ["filieres_flux"]
SHEETS_INDUSTRIE = {"industrie_flux": "Industrie créations fermetures", "industrie_flux_taux": "Industrie taux de création"}
SHEETS_FILIERES = {"filieres_flux": "Filières créations fermetures"}
SHEETS = {**SHEETS_INDUSTRIE, **SHEETS_FILIERES}
FLOWS = (("creations_etablissements", "Créations"), ("fermetures_etablissements", "Fermetures"),
         ("solde_etablissements", "Solde"))
COLOURS = {"Créations": UP, "Fermetures": DOWN, "Solde": TOTAL}


def _ok(r) -> bool:
    return r is not None and r.statut == "ok" and not pd.isna(r.valeur)


def record(values: dict[int, float], year: int) -> tuple[str, Claim | None]:
    """« le plus haut depuis 2016 » (2016 was as high, every year between lower), « le plus bas depuis … », « le
    plus haut de la série (depuis 2010) », and its claim (the year is the extreme of the years it names, rows
    `indicateur` Solde); '' when the year before was as high and as low (nothing to say)."""
    before = sorted(y for y in values if y < year)
    if not before:
        return "", None
    v = values[year]
    for word, at_least, kind in (("haut", lambda a: a >= v, "max"), ("bas", lambda a: a <= v, "min")):
        hit = [y for y in before if at_least(values[y])]
        if (not hit and len(before) >= 3) or (hit and hit[-1] < year - 1):
            span = tuple(y for y in (before + [year]) if not hit or y > hit[-1])
            claim = Claim(kind, (str(year),), "annee", (("indicateur", "Solde"), ("annee", span)))
            return (f"le plus {word} de la série (depuis {before[0]})" if not hit
                    else f"le plus {word} depuis {hit[-1]}"), claim
    return "", None


def _series(ctx: Context, suffix: str, niveau: str, code: str, years: list[int]) -> pd.DataFrame:
    return concat([rows(ctx, ctx.get(name + suffix, niveau, annees=years, territoires=[code]), label, "count",
                        categorie_col=None) for name, label in FLOWS])


def industrie(ctx: Context) -> Finding:
    """Industrial establishments created and closed by year in the chosen territory, and their balance."""
    key, suffix = "industrie_flux", "_industrie"
    niveau = ctx.focus.niveau
    end, ys = ctx.year("creations_etablissements" + suffix, niveau)
    if end is None:
        f = absent(key, ctx, "creations_etablissements" + suffix, ys)
        f.sheet_name = SHEETS[key]
        return f
    shown_years = [y for y in ys if y <= end]
    table = _series(ctx, suffix, niveau, ctx.focus.code, shown_years)
    table["categorie"] = table.indicateur
    at = {(r.indicateur, int(r.annee)): r for r in table.itertuples()}
    c, f_, s = (at.get((label, end)) for _, label in FLOWS)
    what = fr.noun("Industrie")
    claims = [Claim("dated", ("titre",), where=(("annee", end),), years=(end,))]
    if not _ok(c):
        titre = f"{ctx.name} : créations d'établissements industriels non disponibles en {end}"
        phrase = f"{ctx.name} : pas de créations d'établissements connues en {end}."
    elif not _ok(f_):
        titre = f"{ctx.name} : {fmt.count(c.valeur, 'établissement industriel créé', 'établissements industriels créés')} en {end}"
        phrase = (f"{ctx.name} : {fmt.count(c.valeur, 'établissement industriel créé', 'établissements industriels créés')} "
                  f"en {end} ; fermetures non disponibles (le stock Sirene chargé ne contient que les établissements actifs).")
    else:
        balance = {int(r.annee): r.valeur for r in table.itertuples() if r.indicateur == "Solde" and _ok(r)}
        complete = all(_ok(at.get(("Solde", y))) for y in shown_years)
        rec, claim = record(balance, end) if complete else ("", None)
        claims += [claim] if claim else []
        titre = (f"{ctx.name} : {fmt.count(c.valeur, 'établissement industriel créé', 'établissements industriels créés')} "
                 f"en {end}, {fmt.number(f_.valeur)} fermé{'s' if f_.valeur >= 2 else ''} : solde "
                 f"{fmt.signed(fmt.number(abs(s.valeur)), s.valeur)}" + (f", {rec}" if rec else ""))
        before = at.get(("Solde", end - 1))
        phrase = (f"{ctx.name}, {end} : {fmt.number(c.valeur)} création{'s' if c.valeur >= 2 else ''} et "
                  f"{fmt.number(f_.valeur)} fermeture{'s' if f_.valeur >= 2 else ''} d'établissements dans {what.le()}")
        if _ok(before):
            phrase += f", après un solde de {fmt.signed(fmt.number(abs(before.valeur)), before.valeur)} en {end - 1}"
        up = sum(1 for v in balance.values() if v > 0)
        phrase += f". Solde positif {fmt.count(up, 'année')} sur {len(balance)} depuis {min(balance)}."
    spec = ChartSpec("line", cat="annee", series="indicateur", colours=COLOURS)
    f = Finding(key, titre, phrase, table, spec, notes=secret_notes(table, lambda r: f"{r.indicateur} {r.annee}"),
                sheet_name=SHEETS[key], claims=claims)
    return finish(f, "solde_etablissements" + suffix)


def industrie_taux(ctx: Context) -> Finding:
    """Creation and closure rates of industrial establishments: the chosen territory against its references."""
    key = "industrie_flux_taux"
    name, other = "taux_creation_etablissements_industrie", "taux_fermeture_etablissements_industrie"
    niveau = ctx.focus.niveau
    end, ys = ctx.year(name, niveau)
    if end is None:
        f = absent(key, ctx, name, ys)
        f.sheet_name = SHEETS[key]
        return f
    shown_years = [y for y in ys if y <= end]
    terrs = [ctx.focus] + ctx.references(("ti", "departement", "region", "france"))
    got = {t: (ctx.get(name, t.niveau, annees=shown_years, territoires=[t.code]),
               ctx.get(other, t.niveau, annees=shown_years, territoires=[t.code])) for t in terrs}
    # A reference the file does not cover whole (région, France from a local stock) is left out and named.
    kept = [t for t in terrs if t == ctx.focus or (got[t][0].statut == "ok").all()]
    left = [t for t in terrs if t not in kept]
    table = concat([concat([rows(ctx, got[t][0], "Taux de création", "part"),
                            rows(ctx, got[t][1], "Taux de fermeture", "part", usage="tableau")]) for t in kept])
    def at(t, ind):
        r = table[(table.code == t.code) & (table.niveau == t.niveau) & (table.indicateur == ind) & (table.annee == end)]
        return r.iloc[0] if len(r) and r.statut.iat[0] == "ok" else None
    me_c, me_f = at(ctx.focus, "Taux de création"), at(ctx.focus, "Taux de fermeture")
    refs = [t for t in kept if t != ctx.focus]
    if me_c is None:
        titre = f"{ctx.name} : taux de création d'établissements industriels non disponible en {end}"
        phrase = f"{ctx.name} : taux non calculable en {end}."
    else:
        ref = refs[0] if refs else None
        rc = at(ref, "Taux de création") if ref else None
        titre = (f"{ctx.name} : taux de création d'établissements industriels de {fmt.percent(me_c.valeur)} en {end}"
                 + (f" ({ref.nom_court} : {fmt.percent(rc.valeur)})" if rc is not None else ""))
        parts = []
        for t in [ctx.focus] + refs:
            c, f_ = at(t, "Taux de création"), at(t, "Taux de fermeture")
            if c is not None:
                parts.append(f"{t.nom_court} {fmt.percent(c.valeur)} de créations"
                             + (f" et {fmt.percent(f_.valeur)} de fermetures" if f_ is not None else ""))
        phrase = f"Pour 100 établissements industriels actifs au 1ᵉʳ janvier {end} : " + " ; ".join(parts) + "."
    notes = secret_notes(table)
    if left:
        notes.append("Références non calculées (le stock Sirene chargé ne couvre pas toutes leurs communes) : "
                     + ", ".join(t.nom_court for t in left) + ".")
    colours = {r.territoire: ctx.colour(r.code, r.niveau) for r in table.itertuples()}
    spec = ChartSpec("line", cat="annee", series="territoire", colours=colours)
    f = Finding(key, titre, phrase, table, spec, notes=notes, sheet_name=SHEETS[key],
                claims=[Claim("dated", ("titre",), where=(("annee", end),), years=(end,))])
    return finish(f, name)


def filieres(ctx: Context) -> Finding:
    """Creations, closures and balance of each strategic filière in the chosen territory, in the year."""
    key, definition = "filieres_flux", ctx.sel.definition
    niveau = ctx.focus.niveau
    end, ys = ctx.year("creations_etablissements_filiere", niveau, definition)
    if end is None:
        f = absent(key, ctx, "creations_etablissements_filiere", ys)
        f.sheet_name = SHEETS[key]
        return f
    table = concat([rows(ctx, ctx.get(name + "_filiere", niveau, annee=end, territoires=[ctx.focus.code],
                                      definition=definition), label, "count", categorie_col="filiere",
                         usage="graphique" if name != "solde_etablissements" else "tableau")
                    for name, label in FLOWS])
    bal = table[(table.indicateur == "Solde")]
    known = bal[bal.statut == "ok"]
    if not len(known):
        titre = f"{ctx.name} : créations et fermetures d'établissements des filières stratégiques, {end}"
        phrase = f"{ctx.name}, {end} : fermetures non disponibles, solde non calculable."
    else:
        up = int((known.valeur > 0).sum())
        titre = (f"{ctx.name} : solde des créations et fermetures d'établissements positif pour {up} filière"
                 f"{'s' if up > 1 else ''} stratégique{'s' if up > 1 else ''} sur {len(bal)} en {end}")
        items = [f"{fr.noun(r.categorie).le()} {fmt.signed(fmt.number(abs(r.valeur)), r.valeur)}" for r in known.itertuples()]
        phrase = f"{ctx.name}, {end}, solde des créations et des fermetures : " + fr.enumerate_fr(items) + "."
    colours = {"Créations": UP, "Fermetures": DOWN}
    spec = ChartSpec("bar", cat="categorie", series="indicateur", colours=colours)
    f = Finding(key, titre, phrase, table, spec, notes=secret_notes(table, lambda r: f"{r.categorie} {r.indicateur}"),
                sheet_name=SHEETS[key], claims=[Claim("dated", ("titre",), years=(end,))])
    f = finish(f, "solde_etablissements_filiere")
    f.definition = fmt.typeset(f"{f.definition} Périmètre : {'cœur de filière' if definition == 'coeur' else 'filière élargie'}.")
    return f
