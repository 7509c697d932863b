"""Comparer les EPCI: the main indicators side by side (values and ranks) and one small ranking per indicator."""
from __future__ import annotations

import pandas as pd

from .. import query
from . import ChartSpec, Claim, Context, Finding, concat, finish, rows, secret_notes, shown
from .. import format as fmt
from . import french as fr
from .industrie import Item, rank_sentence

PAGE = "comparer"
COMPARE = [("population", "Population", "count"),
           ("ca_total", "Chiffre d'affaires", "eur"),
           ("taux_croissance_ca", "Évolution du CA", "evolution"),
           ("entreprises_tpe_pme", "TPE et PME", "count"),
           ("part_industrie_etablissements", "Part de l'industrie (établissements)", "part"),
           ("part_industrie_effectifs", "Part de l'industrie (emploi salarié privé)", "part"),
           ("taux_creation_etablissements_industrie", "Taux de création d'établissements industriels", "part")]
SHORT = {"Part de l'industrie (établissements)": "Industrie : établiss.",
         "Part de l'industrie (emploi salarié privé)": "Industrie : emploi",
         "Taux de création d'établissements industriels": "Industrie : créations"}


def _parts(ctx: Context) -> dict[str, str]:
    """EPCI SIREN -> the code of its part inside the reference départements (EPCI crossing départements)."""
    if not ctx.sel.parties:
        return {}
    held = query.territories(ctx.snap, "epci_partie")
    return {code.split(":")[0]: code for code in held.code if code.split(":")[0] in ctx.chosen}


def _indicator_rows(ctx: Context, name: str, label: str, kind: str, year: int) -> pd.DataFrame:
    parts = _parts(ctx)
    whole = [c for c in ctx.chosen if c not in parts]
    e = rows(ctx, ctx.get(name, "epci", annee=year, territoires=whole), label, kind)
    if parts:   # the part inside the département stands in the EPCI's place, under its own name
        e = concat([e, rows(ctx, ctx.get(name, "epci_partie", annee=year, territoires=list(parts.values())), label, kind)])
    ok = e.statut == "ok"
    sure = bool(ok.all())
    e["rang"] = (e.valeur.rank(ascending=False, method="min").astype("Int64") if sure
                 else pd.array([pd.NA] * len(e), dtype="Int64"))
    refs = concat([rows(ctx, ctx.get(name, t.niveau, annee=year, territoires=[t.code]), label, kind)
                   for t in ctx.compare_references()])
    refs["rang"] = pd.array([pd.NA] * len(refs), dtype="Int64")
    return concat([e, refs])


def table(ctx: Context) -> Finding:
    frames, years = [], {}
    for name, label, kind in COMPARE:
        year, ys = ctx.year(name, "epci")
        if year is None:
            continue
        years[label] = year
        frames.append(_indicator_rows(ctx, name, label, kind, year))
    t = concat(frames)
    if "rang" not in t:
        t["rang"] = pd.array([pd.NA] * len(t), dtype="Int64")
    t["categorie"] = t.indicateur
    n = len(ctx.chosen)
    ys = sorted(set(years.values()))
    mixed = len(ys) > 1
    titre = (f"Comparer les EPCI : {fmt.count(n, 'EPCI', 'EPCI')}, "
             + (f"années {fmt.years_text(ys)} selon l'indicateur" if mixed else f"année {ys[0]}" if ys else "aucune donnée"))
    focus = ("" if ctx.is_home or ctx.focus.code not in ctx.chosen else
             f" {ctx.focus.nom_court}, le territoire choisi, est mis en évidence.")
    refs = ", ".join(ctx.home_name if t == ctx.home else
                     (f"{t.nom_court} ({fr.NIVEAUX[t.niveau].bare})" if t.niveau not in ("france", "ti") else t.nom_court)
                     for t in ctx.compare_references())
    phrase = ("Valeur et rang de chaque EPCI parmi ceux choisis (1ᵉʳ = valeur la plus forte)"
              + (f" ; références : {refs}" if refs else "") + " ; le rang n'est pas donné quand une valeur en secret ou partielle pourrait le changer."
              + focus + (" Les colonnes ne portent pas toutes sur la même année : chacune dit la sienne." if mixed else ""))
    display = {}
    for label, year in years.items():
        sub = t[t.indicateur == label]
        bases = sorted({int(b) for b in sub.annee_base.dropna()}) if "annee_base" in sub else []
        col = f"{label} ({bases[0]} → {year})" if len(bases) == 1 else f"{label} ({year})"   # a change: both years
        display[col] = {r.territoire: shown(r.valeur, r.kind, r.statut)
                        + (" (partiel)" if r.statut == "partiel" else "")
                        + (f" ({fmt.ordinal(int(r.rang))})" if pd.notna(r.rang) else "") for r in sub.itertuples()}
    disp = pd.DataFrame(display)
    disp.index.name = "Territoire"
    f = Finding("comparer", titre, phrase, t, None, notes=secret_notes(t, lambda r: f"{r.territoire} – {r.indicateur}"),
                sheet_name="Comparer les EPCI", extra={"display": disp, "years": years,
                                                       "highlight": ctx.focus.nom_court},
                definition="Indicateurs de la page Comparer les EPCI, chacun pour l'année choisie ou la dernière avant elle.")
    return finish(f)


def small(ctx: Context, name: str, label: str, kind: str) -> Finding | None:
    year, ys = ctx.year(name, "epci")
    if year is None:
        return None
    t = _indicator_rows(ctx, name, label, kind, year)
    if kind in ("count", "eur"):      # a stock of the whole territory would dwarf the EPCIs' bars
        t.loc[t.niveau != "epci", "usage"] = "référence"
    e = t[t.niveau == "epci"]
    items = [Item(r.territoire, r.valeur, r.statut) for r in e.itertuples()]
    claims: list[Claim] = []
    phrase = rank_sentence(items, None, fr.wording(name), lambda v: shown(v, kind), claims=claims,
                           where=(("niveau", "epci"),))
    titre = _small_title(ctx, t, name, label, kind, year, claims)
    colours = {r.territoire: ctx.colour(r.code, r.niveau) for r in t.itertuples()}
    spec = ChartSpec("bar", cat="territoire", series="indicateur", colours=colours, by_point=True,
                     references=t[t.niveau != "epci"].territoire.tolist())
    f = Finding(f"comparer_{name}", titre, phrase, t.sort_values("valeur", ascending=False, na_position="last"),
                spec, notes=secret_notes(t), sheet_name=f"Comparer {SHORT.get(label, label)}"[:31].replace(":", ""),
                claims=claims)
    return finish(f, name)


def _small_title(ctx: Context, t: pd.DataFrame, name: str, label: str, kind: str, year: int, claims: list) -> str:
    """What the small chart shows, as a finding: a stock by the first EPCI's share of the territory
    (« Gap-Tallard-Durance : 39 % de la population du Territoire d'industrie en 2023 »), a rate or a share by
    its range (« Part de l'industrie (emploi salarié privé) : de 3,7 % (A) à 18,4 % (B) en 2024 »)."""
    e = t[t.niveau == "epci"]
    known = e[(e.statut == "ok") & e.valeur.notna()].sort_values("valeur", ascending=False, kind="stable")
    sure = len(known) == len(e)
    when = f" en {year}" if kind != "evolution" else ""
    if kind == "evolution" and "annee_base" in e and e.annee_base.notna().any():
        when = f" de {int(e.annee_base.dropna().iat[0])} à {year}"
    if len(known) < 2:
        return f"{label}, {year}"
    top, low = known.iloc[0], known.iloc[-1]
    home = t[(t.code == ctx.home.code) & (t.niveau == ctx.home.niveau)]
    if kind in ("count", "eur") and sure and len(home) and home.statut.iat[0] == "ok" and home.valeur.iat[0]:
        share = fmt.percent(top.valeur / home.valeur.iat[0], 0)
        claims.append(Claim("share", (top.territoire,), "territoire", (("niveau", "epci"),), text=share,
                            of=(("code", ctx.home.code), ("niveau", ctx.home.niveau), ("usage", home.usage.iat[0]))))
        what = fr.wording(name).noun.de() if name in fr.WORDINGS else f"de {fr.lower_first(label)}"
        return f"{top.territoire} : {share} {what} {ctx.of(ctx.home)}{when}"
    scope = "" if sure else " parmi les EPCI diffusables"
    return (f"{label} : de {shown(low.valeur, kind)} ({low.territoire}) à {shown(top.valeur, kind)} "
            f"({top.territoire}){scope}{when}")


def build(ctx: Context) -> list[Finding]:
    out = [table(ctx)]
    for name, label, kind in COMPARE:
        f = small(ctx, name, label, kind)
        if f is not None:
            out.append(f)
    return out
