"""Foncier économique: the findings of the page (key figures, land available for sale, vacancy, price of land
sold), read from the CNIG inventories of economic zones (indicators/foncier_query.py).

Each EPCI's inventory is dated by the latest update of its sites, and these years differ (one EPCI updated in
2024, another in 2025). A figure is dated to one year only when all its data are of that year: a total over
EPCIs whose inventories have different years says « inventaires 2024 et 2025 », never « en 2025 », and each
EPCI's value carries its own year (in the table, in the chart's category when the years differ, in the
sentence when it is cited). An inventory is a state: a year chosen before it gets no figure of it.
"""
from __future__ import annotations

import pandas as pd

from . import ChartSpec, Claim, Context, Finding, concat, finish, ranked, rows, secret_notes, shown, table_years
from .. import format as fmt
from . import french as fr

KEYS = ["foncier_chiffres", "foncier_disponible", "foncier_vacance", "foncier_prix"]
SHEETS = {"foncier_chiffres": "Foncier chiffres clés", "foncier_disponible": "Foncier économique",
          "foncier_vacance": "Foncier vacance", "foncier_prix": "Foncier prix"}
MAP_STEP = "foncier_carte"        # the map of sites, a page block (presentation step between vacancy and price)
STEPS = (*KEYS[:3], MAP_STEP, KEYS[3])
# The key figures of the page, in order: (indicator, label, kind of number).
FIGURES = [("foncier_sites", "Sites économiques", "count"), ("foncier_surface_brute", "Superficie totale", "ha"),
           ("foncier_surface_disponible", "Disponible à la vente", "ha"), ("foncier_taux_vacance", "Taux de vacance", "part"),
           ("foncier_surface_industrielle", "Superficie à vocation industrielle", "ha"),
           ("foncier_emplois", "Emplois sur les sites", "count")]
AVAILABLE = "disponible à la vente"     # one name for the thing, everywhere (title, sentence, series, key figure)


def available(v) -> str:
    """« 0,5 ha disponible à la vente », « 19,5 ha disponibles à la vente » (plural from 2)."""
    return AVAILABLE if v is None or abs(v) < 2 else "disponibles à la vente"
DEFINITIONS = {
    "foncier_surface_disponible": "Surface disponible à la vente : surface des sites économiques encore à "
                                  "commercialiser selon l'inventaire de chaque EPCI (somme sur les sites qui la renseignent).",
    "foncier_taux_vacance": "Taux de vacance : unités foncières vacantes rapportées aux unités foncières des sites qui "
                            "renseignent les deux nombres (article L318-8-2 du code de l'urbanisme).",
    "foncier_prix_m2_median": "Prix médian au m² des terrains vendus des zones d'activités ; « s » quand il porte sur "
                              "moins de 3 ventes.",
}
NONE_LOADED = ("Chargez l'inventaire des zones d'activités économiques de chaque EPCI (standard CNIG « Sites "
               "économiques ») pour suivre le foncier disponible à la vente.")


# --- years of the inventories -------------------------------------------------------------------------

def inventory_years(df: pd.DataFrame) -> list[int]:
    """The distinct years of the inventories behind rows of foncier_query (absent rows have none)."""
    known = df[(df.statut != "absent") & df.annee.notna()] if len(df) else df
    return sorted({int(a) for a in known.annee}) if len(known) else []


def dated(years: list[int]) -> str:
    """« inventaire 2025 », « inventaires 2024 et 2025 »."""
    if not years:
        return "aucun inventaire"
    return f"inventaire {years[0]}" if len(years) == 1 else f"inventaires {fmt.years_text(years)}"


def _focus_years(ctx: Context, members: pd.DataFrame) -> list[int]:
    """The years of the chosen territory's data: its own inventory for an EPCI, those of its EPCIs for the TI."""
    if ctx.focus.niveau == "epci":
        return inventory_years(members[members.code == ctx.focus.code])
    return inventory_years(members)


def _codes(ctx: Context) -> list[str]:
    members = [t.code for t in ctx.per.members]
    return list(dict.fromkeys(members + ([ctx.focus.code] if ctx.focus.niveau == "epci" else [])))


def _epci(ctx: Context, name: str) -> pd.DataFrame:
    return ctx.get(name, "epci", territoires=_codes(ctx))


def _focus(ctx: Context, name: str) -> pd.DataFrame:
    return ctx.get(name, ctx.focus.niveau, territoires=[ctx.focus.code])


def _focus_rows(ctx: Context, df: pd.DataFrame, label: str, kind: str, years: list[int], usage: str) -> pd.DataFrame:
    """The chosen territory's rows; a total over inventories of several years has no single year (its note says
    which years it holds)."""
    out = rows(ctx, df, label, kind, usage=usage)
    if len(years) > 1:
        note = dated(years)
        out["annee"] = pd.array([pd.NA] * len(out), dtype="Int64")
        out["note"] = [f"{n} ; {note}" if n else note for n in out.note]
    return out


def _source(table: pd.DataFrame, years: list[int]) -> str:
    """« Source : … — inventaires 2024 et 2025 (…) »: the years of every row shown, the chosen territory's included."""
    years = sorted(set(years) | set(table_years(table)))
    sources = sorted({s for s in table.source if s}) if len(table) else []
    text = "Source : " + (" ; ".join(sources) or "aucune donnée chargée")
    if years:
        text += " — " + dated(years)
        if len(years) > 1:
            text += " (chaque EPCI daté par la dernière mise à jour de ses sites)"
    return text + "."


def _value(df: pd.DataFrame):
    """(value, statut) of the first row; (None, 'absent') without one."""
    if not len(df):
        return None, "absent"
    v, s = df.valeur.iat[0], df.statut.iat[0]
    return (None if s in ("secret", "absent") or pd.isna(v) else float(v)), s


# --- the year rule --------------------------------------------------------------------------------------

def after_chosen_year(ctx: Context, years: list[int]) -> Finding | None:
    """A year chosen before an inventory: one finding saying so, no figure of another year."""
    chosen = ctx.sel.annee
    if chosen is None or not years or max(years) <= int(chosen):
        return None
    later = [y for y in years if y > int(chosen)]
    what = dated(years)
    if len(later) == len(years):
        titre = f"Foncier économique : {what}, postérieur{'s' if len(years) > 1 else ''} à {chosen}"
        phrase = (("Les inventaires des zones d'activités chargés décrivent" if len(years) > 1 else
                   "L'inventaire des zones d'activités chargé décrit")
                  + f" l'état des sites en {fmt.years_text(years)} : {'ils ne disent' if len(years) > 1 else 'il ne dit'}"
                  f" rien de {chosen}.")
    else:
        titre = f"Foncier économique : {what}, en partie postérieurs à {chosen}"
        phrase = (f"Les inventaires des zones d'activités chargés décrivent l'état des sites en {fmt.years_text(years)} : "
                  f"un total pour {chosen} mêlerait des inventaires de {fmt.years_text(later)}.")
    # No figure of those years is shown: the finding carries none (the year rule: never a later year).
    return Finding(KEYS[0], titre, phrase, source="Aucun inventaire des zones d'activités pour cette année.")


# --- findings -------------------------------------------------------------------------------------------

def figures(ctx: Context, years: list[int], epci_sites: pd.DataFrame) -> Finding:
    """The key figures of the chosen territory and how its inventories are dated."""
    table = concat([_focus_rows(ctx, _focus(ctx, name), label, kind, years, "chiffre").assign(categorie=label)
                    for name, label, kind in FIGURES])
    n, _ = _value(table[table.indicateur == FIGURES[0][1]])
    b, _ = _value(table[table.indicateur == FIGURES[1][1]])
    count = fmt.count(int(n or 0), "site économique", "sites économiques")
    titre = f"{ctx.name} : {count}, {shown(b, 'ha')} au total ({dated(years)})"
    if ctx.focus.niveau == "epci":
        phrase = (f"Inventaire des zones d'activités économiques de {ctx.focus.nom_court}, daté par la dernière mise à jour "
                  f"de ses sites ({years[0] if years else '–'}).")
    else:
        covered = epci_sites[epci_sites.statut != "absent"]
        by_year = {y: covered[covered.annee == y].nom_court.tolist() for y in years}
        parts = [f"{len(v)} de {y}" + (f" ({fr.enumerate_fr(v)})" if len(v) <= 3 else "") for y, v in by_year.items()]
        phrase = (f"Inventaires des zones d'activités économiques de {fmt.count(len(covered), 'EPCI', 'EPCI')} : "
                  + (fr.enumerate_fr(parts) if len(years) > 1 else f"tous de {years[0]}")
                  + " ; chaque EPCI est daté par la dernière mise à jour de ses sites.")
        missing = epci_sites[(epci_sites.statut == "absent") & epci_sites.code.isin([t.code for t in ctx.per.members])]
        if len(missing):
            phrase += f" Sans inventaire : {fr.enumerate_fr(missing.nom_court.tolist())}."
    f = Finding(KEYS[0], titre, phrase, table, None, source=_source(table, years),
                notes=secret_notes(table, lambda r: r.indicateur), extra={"figures": True}, years=tuple(years),
                definition="Inventaires des zones d'activités économiques au standard national « Sites économiques ».")
    return finish(f)


def _chart_rows(ctx: Context, epci: pd.DataFrame, label: str, kind: str) -> tuple[pd.DataFrame, bool]:
    """The EPCI bars, largest first; when the inventories' years differ each category carries its year."""
    e = rows(ctx, epci, label, kind)
    e = e.assign(_s=e.valeur.fillna(-1.0)).sort_values("_s", ascending=False, kind="stable").drop(columns="_s")
    mixed = len(inventory_years(epci)) > 1
    if mixed:
        e["categorie"] = [f"{t} ({int(a)})" if pd.notna(a) else t for t, a in zip(e.territoire, e.annee)]
    else:
        e["categorie"] = e.territoire
    return e, mixed


def _spec(ctx: Context, table: pd.DataFrame) -> ChartSpec:
    return ChartSpec("bar", cat="categorie", series="indicateur", by_point=True,
                     colours={r.categorie: ctx.colour(r.code, r.niveau) for r in table.itertuples()})


def _cite(r, show, mixed: bool) -> str:
    """« Serre-Ponçon (7,4 ha, inventaire 2024) »: an EPCI's value with its year when the years differ."""
    year = f", inventaire {int(r.annee)}" if mixed and pd.notna(r.annee) else ""
    return f"{r.territoire} ({show(r.valeur)}{year})"


def rank_text(ctx: Context, chart: pd.DataFrame, show, verb: tuple[str, str], most: str, least: str, mixed: bool,
              said: list[Claim]) -> str:
    """Who offers the most and the least among the member EPCIs, and the chosen EPCI's rank; a rank is claimed
    only when no partial or missing value could change it. The extremes named go to `said` (the claim verifier)."""
    codes = tuple(t.code for t in ctx.per.members)
    members = chart[chart.code.isin(codes)]
    n = len(members)
    known, sure = ranked(members)
    if len(known) < 2:
        return ""
    scope = f"Parmi les {n} EPCI" if sure else f"Parmi les {len(known)} EPCI aux valeurs complètes sur {n}"
    top, low = known.iloc[0], known.iloc[-1]
    tops = known[known.valeur == top.valeur]
    who = fr.enumerate_fr([_cite(r, show, mixed) for r in tops.itertuples()])
    text = f"{scope}, {who} {verb[len(tops) > 1]} {most}"
    among = (("code", codes), ("usage", "graphique"))
    said.append(Claim("max", tuple(tops.territoire), "territoire", among, qualifier="" if sure else "diffusable"))
    me = known[known.code == ctx.focus.code] if ctx.focus.niveau == "epci" else known.iloc[0:0]
    if ctx.focus.niveau == "epci":
        if not len(me):
            text += f" ; {ctx.focus.nom_court} : rang non établi (valeur partielle ou absente)"
        elif me.valeur.iat[0] != top.valeur:
            pos = 1 + int((known.valeur > me.valeur.iat[0]).sum())
            ties = int((known.valeur == me.valeur.iat[0]).sum()) > 1
            text += (f" ; {ctx.focus.nom_court} : {fmt.ordinal(pos)}{' ex æquo' if ties else ''}"
                     if sure else f" ; {ctx.focus.nom_court} : {fmt.ordinal(pos)} de ces {len(known)} EPCI")
    elif low.valeur != top.valeur:
        lows = known[known.valeur == low.valeur]
        text += f", {fr.enumerate_fr([_cite(r, show, mixed) for r in lows.itertuples()])} {least}"
        said.append(Claim("min", tuple(lows.territoire), "territoire", among, qualifier="" if sure else "diffusable"))
    return text + "."


def _years_split(chart: pd.DataFrame, total_years: list[int], show) -> str:
    """How much of a total comes from each earlier year's inventories (« 8,1 ha datent des inventaires de 2024
    (Briançonnais, Serre-Ponçon) »), from the chart's rows."""
    if len(total_years) < 2:
        return ""
    parts = []
    for y in total_years[:-1]:
        g = chart[(chart.annee == y) & chart.valeur.notna()]
        if len(g):
            parts.append(f"{show(g.valeur.sum())} datent des inventaires de {y} ({fr.enumerate_fr(g.territoire.tolist())})")
    return (" Ce total réunit des " + dated(total_years) + " : " + " ; ".join(parts) + ".") if parts else ""


def disponible(ctx: Context, years: list[int]) -> Finding:
    name, label, kind = "foncier_surface_disponible", "Surface disponible à la vente", "ha"
    epci = _epci(ctx, name)
    chart, mixed = _chart_rows(ctx, epci, label, kind)
    me = _focus_rows(ctx, _focus(ctx, name), label, kind, years, "phrase")
    brute = _focus_rows(ctx, _focus(ctx, "foncier_surface_brute"), "Superficie totale", kind, years, "phrase")
    sites = _focus_rows(ctx, _focus(ctx, "foncier_sites"), "Sites économiques", "count", years, "phrase")
    table = concat([chart, me, brute, sites])
    v, s = _value(me)
    b, _ = _value(brute)
    n, _ = _value(sites)
    show = lambda x: shown(x, kind)  # noqa: E731
    if v is None:
        titre = f"{ctx.name} : surface {AVAILABLE} non renseignée ({dated(years)})"
        phrase = f"{ctx.name} : les inventaires chargés ne renseignent pas la surface {AVAILABLE}."
    else:
        partial = " (partiel)" if s == "partiel" else ""
        titre = f"{ctx.name} : {show(v)}{partial} {available(v)} dans les zones d'activités ({dated(years)})"
        share = v / b if b else None
        phrase = (f"{ctx.name} : {fmt.count(int(n or 0), 'site économique', 'sites économiques')} ({show(b)} au total), "
                  f"dont {show(v)} {available(v)}" + (f", soit {fmt.percent(share)} de leur superficie" if share else "") + ".")
        if ctx.focus.niveau != "epci":
            phrase += _years_split(chart, years, show)
        if s == "partiel":
            phrase += " Valeur partielle : des sites ou des communes ne sont pas couverts par un inventaire."
    # The figure is dated by every inventory it holds: an EPCI's own rows, or the bars the TI's total sums.
    held = (("code", ctx.focus.code),) if ctx.focus.niveau == "epci" else (("usage", "graphique"),)
    said = [Claim("dated", (label,), "indicateur", held, years=tuple(years))] if v is not None else []
    rank = rank_text(ctx, chart, show, ("offre", "offrent"), f"le plus de foncier {AVAILABLE}", "le moins", mixed, said)
    phrase += (" " + rank) if rank else ""
    notes = secret_notes(table)
    if mixed:
        notes.append("Entre parenthèses après chaque EPCI : l'année de son inventaire.")
    f = Finding(KEYS[1], titre, phrase, table, _spec(ctx, chart), source=_source(table, years), notes=notes,
                definition=DEFINITIONS[name], claims=said)
    return finish(f)


def vacance(ctx: Context, years: list[int]) -> Finding:
    name, label, kind = "foncier_taux_vacance", "Taux de vacance des unités foncières", "part"
    epci = _epci(ctx, name)
    chart, mixed = _chart_rows(ctx, epci, label, kind)
    me = _focus_rows(ctx, _focus(ctx, name), label, kind, years, "phrase")
    vac = _focus_rows(ctx, _focus(ctx, "foncier_unites_vacantes"), "Unités foncières vacantes", "count", years, "phrase")
    uf = _focus_rows(ctx, _focus(ctx, "foncier_unites_foncieres"), "Unités foncières", "count", years, "phrase")
    table = concat([chart, me, vac, uf])
    v, s = _value(me)
    u, _ = _value(vac)
    total, _ = _value(uf)
    show = lambda x: fmt.percent(x)  # noqa: E731
    if v is None:
        titre = f"{ctx.name} : vacance des zones d'activités non renseignée ({dated(years)})"
        phrase = "Les inventaires chargés ne renseignent pas les unités foncières vacantes."
    else:
        partial = " (partiel)" if s == "partiel" else ""
        titre = f"{ctx.name} : {show(v)}{partial} des unités foncières des zones d'activités vacantes ({dated(years)})"
        phrase = (f"{ctx.name} : {fmt.count(int(u or 0), 'unité foncière vacante', 'unités foncières vacantes')} sur "
                  f"{fmt.number(total)}, au sens de l'article L318-8-2 du code de l'urbanisme.")
    said: list[Claim] = []
    rank = rank_text(ctx, chart, show, ("a", "ont"), "le taux le plus élevé", "le plus faible", mixed, said)
    phrase += (" " + rank) if rank else ""
    notes = secret_notes(table)
    if mixed:
        notes.append("Entre parenthèses après chaque EPCI : l'année de son inventaire.")
    f = Finding(KEYS[2], titre, phrase, table, _spec(ctx, chart), source=_source(table, years), notes=notes,
                definition=DEFINITIONS[name], claims=said)
    return finish(f)


def prix(ctx: Context, years: list[int]) -> Finding:
    name, label, kind = "foncier_prix_m2_median", "Prix médian du foncier économique vendu", "eur_m2"
    epci = _epci(ctx, name)
    chart, mixed = _chart_rows(ctx, epci, label, kind)
    me = _focus_rows(ctx, _focus(ctx, name), label, kind, years, "phrase")
    table = concat([chart, me])
    v, s = _value(me)
    show = lambda x: shown(x, kind)  # noqa: E731
    if s == "secret":
        titre = f"{ctx.name} : prix médian du foncier économique vendu « s » ({dated(years)})"
        phrase = f"{ctx.name} : prix médian au m² des terrains vendus dans les zones d'activités « s »."
    elif v is None:
        titre = f"{ctx.name} : aucune vente de foncier économique renseignée ({dated(years)})"
        phrase = "Les inventaires chargés ne renseignent aucun prix de vente de terrain."
    else:
        titre = f"{ctx.name} : le foncier économique s'est vendu {show(v)} en médiane ({dated(years)})"
        phrase = f"{ctx.name} : prix médian au m² des terrains vendus dans les zones d'activités, {show(v)}."
    members = chart[chart.code.isin([t.code for t in ctx.per.members])]
    known, _ = ranked(members)
    if len(known) > 1:
        lo, hi = known.iloc[-1], known.iloc[0]
        def at(r):
            return f"{show(r.valeur)} ({r.territoire}{f', inventaire {int(r.annee)}' if mixed and pd.notna(r.annee) else ''})"
        phrase += f" Selon l'EPCI, il va de {at(lo)} à {at(hi)}."
    n_secret = int((members.statut == "secret").sum())
    if n_secret:
        phrase += f" « s » pour {fmt.count(n_secret, 'EPCI', 'EPCI')}."
    notes = secret_notes(table)
    if mixed:
        notes.append("Entre parenthèses après chaque EPCI : l'année de son inventaire.")
    f = Finding(KEYS[3], titre, phrase, table, _spec(ctx, chart), source=_source(table, years), notes=notes,
                definition=DEFINITIONS[name])
    return finish(f)


def build(ctx: Context) -> list[Finding]:
    sites = _epci(ctx, "foncier_sites")
    years = _focus_years(ctx, sites)
    if not years:
        return [Finding(KEYS[0], "Foncier économique : aucun inventaire des zones d'activités chargé", NONE_LOADED,
                        source="Aucune donnée chargée.")]
    later = after_chosen_year(ctx, inventory_years(sites))
    if later is not None:
        return [later]
    return [figures(ctx, years, sites), disponible(ctx, years), vacance(ctx, years), prix(ctx, years)]


def axe1_text(found: list[Finding]) -> str:
    """The line shown under the plan's axe 1 (« Foncier et attractivité »): the key figures, or why there are none."""
    f = found[0] if found else None
    if f is None or not len(f.table):
        why = f.titre.split(":", 1)[-1].strip() if f else "aucun inventaire"     # « inventaires …, postérieurs à 2021 »
        return f"Repères du foncier économique : {why}."
    t = f.table.set_index("indicateur")
    def one(label, kind):
        return shown(t.valeur.get(label), kind, t.statut.get(label, "absent"))
    years = dated(list(f.years))
    return (f"Repères du foncier économique ({years}) : {one('Sites économiques', 'count')} sites, "
            f"{one('Superficie totale', 'ha')} au total, {one('Disponible à la vente', 'ha')} {available(t.valeur.get('Disponible à la vente'))}.")
