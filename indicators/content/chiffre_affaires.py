"""Chiffre d'affaires: the change between two years attributed by sector (in euros first, the rate
second), the rates by sector against the reference, the level by sector over the years, the split."""
from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from . import (SECRET_SUM_NOTE, ChartSpec, Claim, Context, Finding, SECTOR_COLOURS, TOTAL, UP, DOWN, absent, concat,
               finish, rows, secret_notes)
from .. import format as fmt
from . import french as fr

PAGE = "chiffre_affaires"
KEYS = ["ca_croissance", "ca_taux", "ca_secteurs", "ca_repartition"]
SHEETS = {"ca_croissance": "CA évolution", "ca_taux": "CA taux par secteur", "ca_secteurs": "CA par secteur",
          "ca_repartition": "CA répartition"}
SECRET_SECTORS = "Secteurs en secret (ensemble)"    # the chart's bar of the secret sectors' sum


@dataclass(frozen=True)
class Part:
    """One sector's value in a sentence: label, value in euros (None: secret), statut."""
    label: str
    value: float | None
    statut: str = "ok"


# --- pure sentence builders (table-driven tests in tests/test_findings.py) -----------------------------

def growth_sentence(name: str, base: int, end: int, start_v, end_v, parts: list[Part], total_statut: str = "ok",
                    claims: list | None = None) -> str:
    """« X : le chiffre d'affaires passe de 4 260 M€ en 2021 à 4 772 M€ en 2022 (+512 M€, +12,0 %), d'abord grâce
    à l'hébergement-restauration (+191 M€, 37 % de la hausse), puis au commerce (+149 M€). »"""
    if total_statut in ("secret", "absent") or start_v is None or end_v is None or pd.isna(start_v) or pd.isna(end_v):
        return f"{name} : évolution du chiffre d'affaires entre {base} et {end} non diffusable (« s ») ou absente."
    delta = end_v - start_v
    rate = end_v / start_v - 1 if start_v else None
    partial = " (valeur partielle : une partie des communes manque)" if total_statut == "partiel" else ""
    head = (f"{name} : le chiffre d'affaires{partial} passe de {fmt.euros(start_v)} en {base} à {fmt.euros(end_v)} "
            f"en {end} ({fmt.euros(delta, sign=True)}, {fmt.percent(rate, 1, sign=True)})")
    if fmt.round_half_up(delta / 1e6) == 0:
        return head + " : il est stable."
    up = delta > 0
    known = [p for p in parts if p.value is not None and not pd.isna(p.value) and p.statut != "secret"]
    hidden = [p for p in parts if p not in known]
    uncertain = bool(hidden) or any(p.statut == "partiel" for p in known)
    drivers = sorted([p for p in known if (p.value > 0) == up and fmt.round_half_up(p.value / 1e6) != 0],
                     key=lambda p: -abs(p.value))
    against = sorted([p for p in known if (p.value > 0) != up and fmt.round_half_up(p.value / 1e6) != 0],
                     key=lambda p: -abs(p.value))
    what = "de la hausse" if up else "de la baisse"
    said = [] if claims is None else claims
    direction = "hausse" if up else "baisse"
    g = (("usage", "graphique"),)
    totals = (("categorie", (f"Total {base}", f"Total {end}")), ("usage", "phrase"))

    def amount(p: Part) -> str:
        return fmt.euros(p.value, sign=True) + (", partiel" if p.statut == "partiel" else "")

    text = head
    if drivers:
        lead = drivers[0]
        ties = [p for p in drivers if fmt.euros(p.value) == fmt.euros(lead.value)]   # equal as shown
        prefix = "parmi les secteurs diffusables, " if uncertain else ""
        if uncertain:
            text += " ;"
        if len(ties) > 1:
            nouns = fr.enumerate_fr([(fr.noun(p.label).a() if up else fr.noun(p.label).de()) for p in ties])
            share = fmt.percent(lead.value / delta, 0)
            text += (f"{',' if not uncertain else ''} {prefix}d'abord grâce {nouns}" if up
                     else f"{',' if not uncertain else ''} {prefix}surtout du fait du recul {nouns}")
            text += f" ({fmt.euros(lead.value, sign=True)} chacun, {share} {what} chacun)"
            rest = drivers[len(ties):]
            said.append(Claim("equal", tuple(p.label for p in ties), where=g))
            said.append(Claim("share", (lead.label,), where=g, text=share, of=totals, years=(base, end)))
        else:
            n = fr.noun(lead.label)
            share = fmt.percent(lead.value / delta, 0)
            sep = "" if uncertain else ","
            text += (f"{sep} {prefix}d'abord grâce {n.a()}" if up else f"{sep} {prefix}surtout du fait du recul {n.de()}")
            text += f" ({amount(lead)}, {share} {what})"
            rest = drivers[1:]
            said.append(Claim("share", (lead.label,), where=g, text=share, of=totals, years=(base, end)))
        if rest:
            second = rest[0]
            text += (f", puis {fr.noun(second.label).a()}" if up else f", puis {fr.noun(second.label).de()}")
            text += f" ({amount(second)})"
        named = [p.label for p in (ties if len(ties) > 1 else [lead])] + ([rest[0].label] if rest else [])
        said.append(Claim("attribution", tuple(named), where=g, direction=direction, years=(base, end)))
    if against:
        a = against[0]
        text += (f", malgré le recul {fr.noun(a.label).de()} ({amount(a)})" if up
                 else f", malgré la hausse {fr.noun(a.label).de()} ({amount(a)})")
        said.append(Claim("attribution", (a.label,), where=g, direction="baisse" if up else "hausse"))
    if hidden:
        rest = delta - sum(p.value for p in known)
        text += (f" ; {fmt.count(len(hidden), 'secteur')} en secret (« s »), ensemble "
                 f"{fmt.euros(rest, sign=True)}")
        said.append(Claim("dated", (SECRET_SECTORS,), where=(("categorie", SECRET_SECTORS),), years=(base, end)))
    return text + "."


def level_sentence(name: str, year: int, total, parts: list[Part], total_statut: str = "ok",
                   claims: list | None = None) -> tuple[str, str]:
    """(title, sentence) of the turnover by sector in a year: the first *diffusable* sector when a secret or
    partial value could change the rank, and how much is in secret."""
    known = [p for p in parts if p.value is not None and not pd.isna(p.value) and p.statut != "secret"]
    hidden = [p for p in parts if p not in known]
    partial = [p for p in known if p.statut == "partiel"]
    if not known:
        return (f"{name} : chiffre d'affaires par secteur en {year}",
                f"{name}, {year} : aucun secteur diffusable (« s ») ou aucune donnée.")
    order = sorted(known, key=lambda p: -p.value)
    lead = order[0]
    n = fr.noun(lead.label)
    hidden_sum = None
    if hidden and total is not None and not pd.isna(total) and total_statut == "ok":
        hidden_sum = total - sum(p.value for p in known)
    sure = not hidden and not partial or (hidden_sum is not None and hidden_sum < lead.value and not partial)
    said = [] if claims is None else claims
    said.append(Claim("max", (lead.label,), where=(("annee", year),), qualifier="" if sure else "diffusable"))
    if sure:
        titre = f"{name} : {n.le()}, premier secteur du chiffre d'affaires en {year}"
    else:
        titre = (f"{name} : {n.le()}, premier secteur diffusable du chiffre d'affaires "
                 f"en {year}")
    items = [f"{fr.noun(p.label).le()} {fmt.euros(p.value)}{' (partiel)' if p.statut == 'partiel' else ''}" for p in order]
    phrase = f"{name}, {year} : " + fr.enumerate_fr(items)
    if hidden:
        phrase += f" ; {fmt.count(len(hidden), 'secteur')} en secret (« s »)"
        if hidden_sum is not None:
            phrase += f" : ensemble {fmt.euros(hidden_sum)}"
            said.append(Claim("dated", (SECRET_SECTORS,), where=(("categorie", SECRET_SECTORS),), years=(year,)))
    return titre, phrase + "."


# --- findings -------------------------------------------------------------------------------------------

def span(ctx: Context) -> tuple[int | None, int | None, list[int]]:
    """The change's (end, base, years) as the Context resolves them (one year rule for page, slide, annex)."""
    return ctx.span("ca_total", ctx.focus.niveau)


def _parts(df: pd.DataFrame) -> list[Part]:
    """Sector values for a sentence, rounded as the chart and the table show them (0.1 M€)."""
    return [Part(r.secteur, None if r.statut == "secret" or pd.isna(r.valeur) else fmt.round_half_up(float(r.valeur) / 1e6, 1) * 1e6,
                 r.statut) for r in df.itertuples()]


def _m(v):
    return None if v is None or pd.isna(v) else fmt.round_half_up(float(v) / 1e6, 1) * 1e6


def croissance(ctx: Context) -> Finding:
    end, base, ys = span(ctx)
    if end is None:
        return absent("ca_croissance", ctx, "ca_total", ys)
    if base is None:
        return Finding("ca_croissance", f"{ctx.name} : évolution du chiffre d'affaires, {end}",
                       f"{ctx.name} : une seule année de chiffre d'affaires jusqu'en {end} ; pas d'évolution à montrer "
                       f"(années disponibles : {fmt.years_text(ys)}).", source="", years=(end,), sheet_name=SHEETS["ca_croissance"])
    niveau, code = ctx.focus.niveau, ctx.focus.code
    contrib = ctx.get("croissance_ca_secteur", niveau, annee=end, annee_base=base, territoires=[code])
    tot = ctx.get("ca_total", niveau, annees=[base, end], territoires=[code])
    start = tot[tot.annee == base]
    stop = tot[tot.annee == end]
    start_v = start.valeur.iat[0] if len(start) else None
    end_v = stop.valeur.iat[0] if len(stop) else None
    statuts = set(tot.statut)
    total_statut = "secret" if "secret" in statuts else "absent" if "absent" in statuts else (
        "partiel" if "partiel" in statuts else "ok")
    start_v, end_v = _m(start_v), _m(end_v)
    claims: list[Claim] = []
    phrase = growth_sentence(ctx.name, base, end, start_v, end_v, _parts(contrib), total_statut, claims)
    if total_statut in ("secret", "absent") or start_v is None or end_v is None:
        titre = f"{ctx.name} : évolution du chiffre d'affaires entre {base} et {end} non diffusable"
    else:
        titre = (f"{ctx.name} : chiffre d'affaires {fmt.euros(end_v - start_v, sign=True)} "
                 f"({fmt.percent(end_v / start_v - 1, 1, sign=True)}) entre {base} et {end}")
    table = rows(ctx, contrib, "Contribution à l'évolution du chiffre d'affaires", "eur", categorie_col="secteur")
    totals = rows(ctx, tot, "Chiffre d'affaires", "eur", usage="phrase")
    totals["categorie"] = [f"Total {a}" for a in totals.annee]
    table = concat([table, totals])
    colours = {}
    spec = None
    if total_statut not in ("secret", "absent") and start_v is not None and end_v is not None:
        # Secret sectors are drawn together: their sum is the total change minus the published ones, public.
        known = table[(table.usage == "graphique") & table.valeur.notna()]
        hidden = table[(table.usage == "graphique") & table.valeur.isna()]
        if len(hidden):
            rest = fmt.round_half_up((end_v - start_v) / 1e6 - known.valeur.sum(), 1)
            extra = pd.DataFrame([{**hidden.iloc[0].to_dict(), "categorie": SECRET_SECTORS,
                                   "valeur": rest, "statut": "ok", "usage": "graphique", "note": SECRET_SUM_NOTE}])
            table = pd.concat([table, extra], ignore_index=True)
        colours = {c: (UP if v >= 0 else DOWN) for c, v in zip(table.categorie, table.valeur.fillna(0))}
        colours.update({f"Total {base}": TOTAL, f"Total {end}": TOTAL})
        spec = ChartSpec("waterfall", cat="categorie", series="indicateur", colours=colours, by_point=True)
    f = Finding("ca_croissance", titre, phrase, table, spec,
                notes=secret_notes(table, lambda r: r.categorie), sheet_name=SHEETS["ca_croissance"],
                extra={"start": start_v, "end": end_v, "base": base, "annee": end}, claims=claims)
    return finish(f, "croissance_ca_secteur")


def taux(ctx: Context) -> Finding:
    end, base, ys = span(ctx)
    if end is None:
        return absent("ca_taux", ctx, "taux_croissance_ca_secteur", ys)
    if base is None:
        return Finding("ca_taux", f"{ctx.name} : taux d'évolution par secteur, {end}",
                       f"Pas d'année de comparaison avant {end} (années disponibles : {fmt.years_text(ys)}).",
                       years=(end,), sheet_name=SHEETS["ca_taux"])
    niveau, code = ctx.focus.niveau, ctx.focus.code
    label = "Taux d'évolution du chiffre d'affaires"
    mine = rows(ctx, ctx.get("taux_croissance_ca_secteur", niveau, annee=end, annee_base=base, territoires=[code]),
                label, "evolution", categorie_col="secteur")
    frames = [mine]
    if not ctx.is_home:
        home = ctx.home
        frames.append(rows(ctx, ctx.get("taux_croissance_ca_secteur", home.niveau, annee=end, annee_base=base,
                                        territoires=[home.code]), label, "evolution", categorie_col="secteur"))
    table = concat(frames)
    known = mine[mine.valeur.notna() & (mine.statut == "ok")].sort_values("valeur", ascending=False)
    hidden = mine[mine.valeur.isna()]
    if len(known):
        top = known.iloc[0]
        n = fr.noun(top.categorie)
        sure = len(known) == len(mine)
        best = "plus forte hausse" if top.valeur > 0 else "plus faible recul" if top.valeur < 0 else "évolution la plus favorable"
        claims = [Claim("max", (top.categorie,), where=(("code", code), ("niveau", niveau)),
                        qualifier="" if sure else "diffusable")]
        titre = (f"{ctx.name} : {n.le()}, {best}{'' if sure else ' parmi les secteurs diffusables'} "
                 f"entre {base} et {end} ({fmt.percent(top.valeur, 1, sign=True)})")
        items = [f"{fr.noun(r.categorie).le()} {fmt.percent(r.valeur, 1, sign=True)}" for r in known.itertuples()]
        phrase = f"{ctx.name}, de {base} à {end} : " + fr.enumerate_fr(items)
        if len(hidden):
            phrase += f" ; {fmt.count(len(hidden), 'secteur')} en secret (« s »)"
        phrase += (". Un taux dit le rythme, pas le poids : voir les contributions en euros ci-dessus."
                   if len(known) > 1 else ".")
    else:
        claims = []
        titre = f"{ctx.name} : taux d'évolution par secteur entre {base} et {end}"
        phrase = f"{ctx.name} : aucun taux diffusable entre {base} et {end} (« s »)."
    series_colours = {ctx.focus.nom_court: "#332288"}
    if not ctx.is_home:
        series_colours[ctx.home_short] = "#9a9a9a"
    spec = ChartSpec("bar", cat="categorie", series="territoire", colours=series_colours)
    f = Finding("ca_taux", titre, phrase, table, spec, sheet_name=SHEETS["ca_taux"], claims=claims,
                notes=secret_notes(table, lambda r: f"{r.territoire} – {r.categorie}"))
    return finish(f, "taux_croissance_ca_secteur")


def secteurs(ctx: Context) -> Finding:
    niveau, code = ctx.focus.niveau, ctx.focus.code
    end, ys = ctx.year("ca_secteur", niveau)
    if end is None:
        return absent("ca_secteurs", ctx, "ca_secteur", ys)
    shown_years = [y for y in ys if y <= end]
    levels = ctx.get("ca_secteur", niveau, annees=shown_years, territoires=[code])
    total = ctx.get("ca_total", niveau, annee=end, territoires=[code])
    last = levels[levels.annee == end]
    tv = _m(total.valeur.iat[0]) if len(total) else None
    ts = total.statut.iat[0] if len(total) else "absent"
    claims: list[Claim] = []
    titre, phrase = level_sentence(ctx.name, end, tv, _parts(last), ts, claims)
    titre = titre.replace(f" en {end}", f" en {end} (courbes {fmt.years_text(shown_years)})") if len(shown_years) > 1 else titre
    table = rows(ctx, levels, "Chiffre d'affaires", "eur", categorie_col="secteur")
    mine = table[table.annee == end]
    if ts == "ok" and tv is not None and (mine.statut == "secret").any():
        # The secret sectors' sum (the total minus the diffusable sectors) is public: the sentence gives it.
        table = concat([table, mine.iloc[[0]].assign(
            categorie=SECRET_SECTORS, valeur=fmt.round_half_up(tv / 1e6 - mine.valeur.sum(), 1), statut="ok",
            usage="phrase", note=SECRET_SUM_NOTE)])
    colours = {r.secteur: SECTOR_COLOURS.get(r.secteur_code, "#4477AA") for r in levels.itertuples()}
    spec = ChartSpec("line", cat="annee", series="categorie", colours=colours)
    f = Finding("ca_secteurs", titre, phrase, table, spec, sheet_name=SHEETS["ca_secteurs"], claims=claims,
                notes=secret_notes(table, lambda r: f"{r.categorie} {r.annee}"))
    return finish(f, "ca_secteur")


def repartition(ctx: Context) -> Finding:
    niveau, code = ctx.focus.niveau, ctx.focus.code
    end, ys = ctx.year("ca_secteur", niveau)
    if end is None:
        return absent("ca_repartition", ctx, "ca_secteur", ys)
    df = ctx.get("ca_secteur", niveau, annee=end, territoires=[code])
    table = rows(ctx, df, "Chiffre d'affaires", "eur", categorie_col="secteur")
    known = table[table.valeur.notna() & (table.statut == "ok")]
    complete = len(known) == len(table) and known.valeur.sum() > 0
    colours = {r.secteur: SECTOR_COLOURS.get(r.secteur_code, "#4477AA") for r in df.itertuples()}
    if complete:
        total = known.valeur.sum()
        top = known.sort_values("valeur", ascending=False)
        n = fr.noun(top.categorie.iat[0])
        claims = [Claim("share", (top.categorie.iat[0],), text=fmt.percent(top.valeur.iat[0] / total, 0))]
        titre = f"{ctx.name} : {n.le()}, {fmt.percent(top.valeur.iat[0] / total, 0)} du chiffre d'affaires en {end}"
        phrase = (f"{ctx.name}, {end} : " + fr.enumerate_fr(
            [f"{fr.noun(r.categorie).le()} {fmt.percent(r.valeur / total, 0)}" for r in top.itertuples()])
            + f" d'un chiffre d'affaires de {fmt.euros(total * 1e6)}.")
        spec = ChartSpec("pie", cat="categorie", series="indicateur", colours=colours, by_point=True)
    else:
        claims = []
        titre = f"{ctx.name} : chiffre d'affaires par secteur en {end}, parts non calculées"
        phrase = ("Un secteur au moins est en secret statistique (« s »), partiel ou absent : les parts ne sont pas "
                  "calculées (barres à la place du graphique en secteurs).")
        spec = ChartSpec("bar", cat="categorie", series="indicateur", colours=colours, by_point=True)
    f = Finding("ca_repartition", titre, phrase, table, spec, sheet_name=SHEETS["ca_repartition"], claims=claims,
                notes=secret_notes(table, lambda r: r.categorie))
    return finish(f, "ca_secteur")


BUILDERS = {"ca_croissance": croissance, "ca_taux": taux, "ca_secteurs": secteurs, "ca_repartition": repartition}


def build(ctx: Context) -> list[Finding]:
    return [BUILDERS[k](ctx) for k in KEYS]
