"""Industrie: the industry's share of the chosen territory against the EPCIs and the references, over time."""
from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from . import ChartSpec, Claim, Context, Finding, absent, concat, finish, rows, secret_notes
from .. import format as fmt
from . import french as fr

PAGE = "industrie"
MEASURES = {
    "part_industrie_effectifs": ("de l'emploi salarié privé", "Industrie"),
    "part_industrie_etablissements": ("des établissements", "Industrie établissements"),
    "part_industrie_etablissements_employeurs": ("des établissements employeurs", "Industrie employeurs"),
}
KEYS = ["industrie", "industrie_etablissements", "industrie_employeurs", "industrie_evolution"]
KEY_OF = dict(zip(MEASURES, KEYS))


@dataclass(frozen=True)
class Item:
    name: str
    value: float | None       # None: secret or absent
    statut: str = "ok"


def rank_sentence(items: list[Item], focus: str | None, wording: fr.Wording, show, what_plural: str = "EPCI",
                  claims: list | None = None, where: tuple = ()) -> str:
    """Where the focus ranks among the items (only when no secret or partial value could change the rank),
    else the highest and lowest among the diffusable values, named as such. `claims` receives what it asserts
    about the table rows `where` selects (named in their `territoire` column)."""
    said = [] if claims is None else claims
    known = [i for i in items if i.value is not None and not pd.isna(i.value) and i.statut == "ok"]
    doubtful = [i for i in items if i not in known]
    n = len(items)
    if not known:
        return f"Aucune valeur diffusable parmi les {n} {what_plural}."
    order = sorted(known, key=lambda i: -i.value)
    if focus is not None:
        me = next((i for i in items if i.name == focus), None)
        if me is None or me not in known:
            return (f"{focus} : rang non établi ({'valeur partielle' if me is not None and me.statut == 'partiel' else 'valeur en secret ou absente'}).")
        if doubtful:
            above = sum(1 for i in known if i.value > me.value)
            return (f"Rang non établi parmi les {n} {what_plural} : {fmt.count(len(doubtful), 'valeur')} en secret ou "
                    f"partielle{'s' if len(doubtful) > 1 else ''} ; {focus} est "
                    + (f"derrière {fmt.count(above, what_plural, what_plural)} diffusable{'s' if above > 1 else ''}."
                       if above else "devant tous les EPCI diffusables."))
        pos = 1 + sum(1 for i in known if i.value > me.value)
        ties = sum(1 for i in known if i.value == me.value) > 1
        if pos == 1 and not ties:
            said.append(Claim("max", (focus,), "territoire", where))
            return f"{focus} a {wording.most} des {n} {what_plural} ({show(me.value)})."
        if pos == n:
            said.append(Claim("min", (focus,), "territoire", where))
            return f"{focus} a {wording.least} des {n} {what_plural} ({show(me.value)})."
        said.append(Claim("rank", (focus,), "territoire", where, value=pos))
        return f"{focus} : {fmt.ordinal(pos)} des {n} {what_plural}{' (ex æquo)' if ties else ''}."
    top, low = order[0], order[-1]
    top_ties = [i.name for i in order if i.value == top.value]
    low_ties = [i.name for i in order if i.value == low.value]
    scope = f"parmi les {n} {what_plural}" if not doubtful else f"parmi les {len(known)} {what_plural} diffusables sur {n}"
    def who(names):
        return fr.enumerate_fr(names) + (" ont" if len(names) > 1 else " a")
    text = f"{fr.upper_first(scope)}, {who(top_ties)} {wording.most} ({show(top.value)})"
    q = "diffusable" if doubtful else ""
    said.append(Claim("max", tuple(top_ties), "territoire", where, qualifier=q))
    if len(order) > 1 and low.value != top.value:
        text += f", {fr.enumerate_fr(low_ties)} {wording.short_least} ({show(low.value)})"
        said.append(Claim("min", tuple(low_ties), "territoire", where, qualifier=q))
    if doubtful:
        text += f" ; {fmt.count(len(doubtful), 'valeur')} en secret ou partielle{'s' if len(doubtful) > 1 else ''}"
    return text + "."


def compare_sentence(name: str, value, ref_of: str, ref_value, what: str, ref_name: str | None = None) -> str:
    """« X : 9,4 % de l'emploi salarié privé dans l'industrie, soit 2,1 points de plus que dans le département (7,3 %). »
    `ref_of`: the reference with its preposition and article (« dans le Territoire d'industrie », « en France »)."""
    if value is None or pd.isna(value):
        return f"{name} : part {what} dans l'industrie non diffusable (« s ») ou absente."
    text = f"{name} : {fmt.percent(value)} {what} dans l'industrie"
    if ref_value is None or pd.isna(ref_value):
        return text + "."
    diff = value - ref_value
    shown_ref = f"({ref_name} : {fmt.percent(ref_value)})" if ref_name else f"({fmt.percent(ref_value)})"
    if fmt.round_half_up(abs(diff) * 100, 1) == 0:
        return text + f", autant que {ref_of} {shown_ref}."
    more = "de plus" if diff > 0 else "de moins"
    return text + f", soit {fmt.points(abs(diff))} {more} que {ref_of} {shown_ref}."


def share(ctx: Context, name: str) -> Finding:
    what, sheet = MEASURES[name]
    key = KEY_OF[name]
    ind_label = {"part_industrie_effectifs": "Part de l'industrie dans l'emploi salarié privé",
                 "part_industrie_etablissements": "Part de l'industrie dans les établissements",
                 "part_industrie_etablissements_employeurs": "Part de l'industrie dans les établissements employeurs"}[name]
    year, ys = ctx.year(name, "epci")
    if year is None:
        f = absent(key, ctx, name, ys)
        f.sheet_name = sheet
        return f
    members = [t.code for t in ctx.per.members]
    codes = list(dict.fromkeys(members + ([ctx.focus.code] if ctx.focus.niveau == "epci" else [])))
    epci = rows(ctx, ctx.get(name, "epci", annee=year, territoires=codes), ind_label, "part")
    refs = concat([rows(ctx, ctx.get(name, t.niveau, annee=year, territoires=[t.code]), ind_label, "part")
                   for t in [ctx.home] + ctx.per.references])
    refs.loc[refs.statut == "absent", "usage"] = "référence absente"
    epci = epci.assign(_s=epci.valeur.fillna(-1.0)).sort_values("_s", ascending=False, kind="stable").drop(columns="_s")
    table = concat([epci, refs])
    me = table[(table.code == ctx.focus.code) & (table.niveau == ctx.focus.niveau)]
    v = me.valeur.iat[0] if len(me) and me.statut.iat[0] not in ("secret", "absent") else None
    partial = len(me) and me.statut.iat[0] == "partiel"
    if v is not None:
        titre = f"{ctx.name} : {fmt.percent(v)}{' (partiel)' if partial else ''} {what} dans l'industrie en {year}"
    else:
        titre = f"{ctx.name} : part de l'industrie {what} non diffusable en {year}"
    ref = (ctx.home if not ctx.is_home else next((t for t in ctx.per.references), None))
    ref_row = table[(table.code == ref.code) & (table.niveau == ref.niveau)] if ref else table.iloc[0:0]
    ref_v = ref_row.valeur.iat[0] if len(ref_row) and ref_row.statut.iat[0] not in ("secret", "absent") else None
    phrase = compare_sentence(ctx.name, v, fr.in_territory(ref.niveau) if ref else "", ref_v, what,
                              ref.nom_court if ref and ref.niveau not in ("ti", "france") else None)
    if partial:
        phrase = phrase[:-1] + " ; valeur partielle, calculée sur une partie des communes."
    mem = epci[epci.code.isin(members)]
    items = [Item(r.territoire, r.valeur, r.statut) for r in mem.itertuples()]
    claims: list[Claim] = []
    phrase += " " + rank_sentence(items, ctx.focus.nom_court if not ctx.is_home else None, fr.wording(name),
                                  lambda x: fmt.percent(x), claims=claims,
                                  where=(("niveau", "epci"), ("code", tuple(members))))
    absent_refs = refs[refs.statut == "absent"]
    notes = secret_notes(table)
    for why, g in absent_refs.groupby(absent_refs.note.fillna(""), sort=False):   # one reason, said once
        names = fr.enumerate_fr(g.territoire.tolist())
        if why.startswith("Non calculable "):
            notes.append(f"{names} : références non calculables {why.removeprefix('Non calculable ')}.")
        else:
            notes.append(f"{names} : {fr.lower_first(why) or 'non calculé'}.")
    colours = {r.territoire: ctx.colour(r.code, r.niveau) for r in table.itertuples()}
    spec = ChartSpec("bar", cat="territoire", series="indicateur", colours=colours, by_point=True,
                     references=refs.territoire.tolist())
    f = Finding(key, titre, phrase, table, spec, notes=notes, sheet_name=sheet, claims=claims)
    return finish(f, name)


def evolution(ctx: Context) -> Finding:
    name = "part_industrie_effectifs"
    what = "dans l'emploi salarié privé"
    label = "Part de l'industrie dans l'emploi salarié privé"
    niveau = ctx.focus.niveau
    end, ys = ctx.year(name, niveau)
    if end is None:
        f = absent("industrie_evolution", ctx, name, ys)
        f.sheet_name = "Industrie évolution"
        return f
    shown_years = [y for y in ys if y <= end]
    if len(shown_years) < 2:
        return Finding("industrie_evolution", f"{ctx.name} : part de l'industrie {what}, {end}",
                       f"Une seule année jusqu'en {end} : pas d'évolution à montrer.", years=(end,),
                       sheet_name="Industrie évolution")
    terrs = [ctx.focus] + ctx.references(("ti", "departement", "region"))[:2 if not ctx.is_home else 1]
    table = concat([rows(ctx, ctx.get(name, t.niveau, annees=shown_years, territoires=[t.code]), label, "part")
                    for t in terrs])
    me = table[(table.code == ctx.focus.code) & (table.niveau == ctx.focus.niveau)].sort_values("annee")
    a, b = me[me.annee == shown_years[0]], me[me.annee == end]
    va = a.valeur.iat[0] if len(a) and a.statut.iat[0] == "ok" else None
    vb = b.valeur.iat[0] if len(b) and b.statut.iat[0] == "ok" else None
    span = f"de {shown_years[0]} à {end}"
    claims: list[Claim] = []
    if va is None or vb is None or pd.isna(va) or pd.isna(vb):
        titre = f"{ctx.name} : part de l'industrie {what} {span}"
        phrase = f"{ctx.name} : évolution non établie (une année au moins en secret, partielle ou absente)."
    else:
        diff = vb - va
        trend = "stable" if fmt.round_half_up(abs(diff) * 100, 1) == 0 else ("en hausse" if diff > 0 else "en baisse")
        claims.append(Claim("direction", (ctx.focus.nom_court,), "territoire",
                            (("code", ctx.focus.code), ("niveau", ctx.focus.niveau)),
                            direction={"en hausse": "hausse", "en baisse": "baisse"}.get(trend, trend),
                            years=(shown_years[0], end)))
        titre = f"{ctx.name} : part de l'industrie {what} {trend} {span}"
        phrase = (f"{ctx.name} : {fmt.percent(va)} en {shown_years[0]}, {fmt.percent(vb)} en {end}"
                  + ("." if trend == "stable" else f" ({fmt.points(diff)} {'de plus' if diff > 0 else 'de moins'})."))
    colours = {r.territoire: ctx.colour(r.code, r.niveau) for r in table.itertuples()}
    spec = ChartSpec("line", cat="annee", series="territoire", colours=colours)
    f = Finding("industrie_evolution", titre, phrase, table, spec, notes=secret_notes(table, lambda r: f"{r.territoire} {r.annee}"),
                sheet_name="Industrie évolution", claims=claims)
    return finish(f, name)


def build(ctx: Context) -> list[Finding]:
    return [share(ctx, n) for n in MEASURES] + [evolution(ctx)]
