"""Chiffre d'affaires: the change between two years attributed by sector (in euros first, the rate
second), the rates by sector against the reference, the level by sector over the years, the split."""
from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from . import (SECRET_SUM_NOTE, ChartSpec, Claim, Context, Finding, SECTOR_COLOURS, TOTAL, UP, DOWN, absent, concat,
               euro_decimals, finish, rows, secret_notes)
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
    à l'hébergement-restauration (+191 M€, 37 % de la hausse), puis au commerce (+149 M€). » The secret sectors'
    sum (the change minus the diffusable sectors', public) takes its place in that order: when it weighs most,
    the change comes first from it (« la baisse vient d'abord des secteurs en secret statistique … ; parmi les
    autres, … »). Amounts equal as displayed are named together (« chacun »). `claims` receives what it asserts."""
    if total_statut in ("secret", "absent") or start_v is None or end_v is None or pd.isna(start_v) or pd.isna(end_v):
        return f"{name} : évolution du chiffre d'affaires entre {base} et {end} non diffusable (« s ») ou absente."
    delta = end_v - start_v
    rate = end_v / start_v - 1 if start_v else None
    partial = " (valeur partielle : une partie des communes manque)" if total_statut == "partiel" else ""
    # Over several years, the compound annual rate too (« soit +2,9 % par an en moyenne »): a 4-year change
    # is not read as a yearly one.
    per_year = (f", soit {fmt.percent((end_v / start_v) ** (1 / (end - base)) - 1, 1, sign=True)} par an en moyenne"
                if end - base > 1 and start_v > 0 and end_v > 0 else "")
    head = (f"{name} : le chiffre d'affaires{partial} passe de {fmt.euros(start_v)} en {base} à {fmt.euros(end_v)} "
            f"en {end} ({fmt.euros(delta, sign=True)}, {fmt.percent(rate, 1, sign=True)}{per_year})")
    if fmt.round_half_up(delta / 1e6) == 0:
        return head + " : il est stable."
    up = delta > 0
    said = [] if claims is None else claims
    g = (("usage", "graphique"),)
    totals = (("categorie", (f"Total {base}", f"Total {end}")), ("usage", "phrase"))
    known = [p for p in parts if p.value is not None and not pd.isna(p.value) and p.statut != "secret"]
    hidden = [p for p in parts if p not in known]
    uncertain = bool(hidden) or any(p.statut == "partiel" for p in known)
    # The secret sectors together: one more amount of the chart, ranked with the others.
    rest = fmt.round_half_up((delta - sum(p.value for p in known)) / 1e6, 1) * 1e6 if hidden else None
    pool = known + ([Part(SECRET_SECTORS, rest)] if hidden else [])
    dec = euro_decimals([p.value / 1e6 for p in pool])
    what = "de la hausse" if up else "de la baisse"

    def amount(p: Part) -> str:
        return fmt.euros(p.value, sign=True, scale="M€", decimals=dec) + (", partiel" if p.statut == "partiel" else "")

    def moving(same: bool) -> list[list[Part]]:
        """The amounts moving with (same) or against the change, heaviest first, equal amounts grouped."""
        ps = sorted([p for p in pool if (p.value > 0) == (up if same else not up) and fmt.round_half_up(abs(p.value) / 1e6, dec) != 0], key=lambda p: -abs(p.value))
        groups: list[list[Part]] = []
        for p in ps:
            if groups and amount(groups[-1][0]) == amount(p):
                groups[-1].append(p)
            else:
                groups.append([p])
        return groups

    def names(group: list[Part], rising: bool) -> str:
        return fr.enumerate_fr([fr.noun(p.label).a() if rising else fr.noun(p.label).de() for p in group])

    def amounts(group: list[Part]) -> str:
        return amount(group[0]) + (" chacun" if len(group) > 1 else "")

    drivers, against = moving(True), moving(False)
    text = head
    named: list[str] = []
    secret_said = False
    if drivers and drivers[0][0].label == SECRET_SECTORS:
        # The secret part weighs most: said first, then the others in their order.
        first = drivers[0][0]
        share = fmt.percent(first.value / delta, 0)
        text += (f" : la {'hausse' if up else 'baisse'} vient d'abord des secteurs en secret statistique "
                 f"({fmt.count(len(hidden), 'secteur')}, {amount(first)} ensemble, {share} {what})")
        said.append(Claim("share", (SECRET_SECTORS,), where=g, text=share, of=totals, years=(base, end)))
        named.append(SECRET_SECTORS)
        secret_said = True
        others = drivers[1:]
        if others:
            lead = others[0]
            text += (f" ; parmi les autres, d'abord grâce {names(lead, True)}" if up
                     else f" ; parmi les autres, surtout du fait du recul {names(lead, False)}")
            text += f" ({amounts(lead)})"
            named += [p.label for p in lead]
            if len(others) > 1:
                text += (f", puis {names(others[1], up)} ({amounts(others[1])})")
                named += [p.label for p in others[1]]
    elif drivers:
        lead = drivers[0]
        share = fmt.percent(lead[0].value / delta, 0)
        prefix = " ; parmi les secteurs diffusables," if uncertain else ","
        text += (f"{prefix} d'abord grâce {names(lead, True)}" if up
                 else f"{prefix} surtout du fait du recul {names(lead, False)}")
        text += (f" ({amounts(lead)}, {share} {what}{' chacun' if len(lead) > 1 else ''})")
        said.append(Claim("share", (lead[0].label,), where=g, text=share, of=totals, years=(base, end)))
        named += [p.label for p in lead]
        if len(drivers) > 1:
            second = drivers[1]
            if second[0].label == SECRET_SECTORS:
                text += f", puis des secteurs en secret statistique ({amount(second[0])} ensemble)"
                secret_said = True
            else:
                text += f", puis {names(second, up)} ({amounts(second)})"
            named += [p.label for p in second]
    shown_groups = drivers[:3] if drivers and drivers[0][0].label == SECRET_SECTORS else drivers[:2]
    for group in shown_groups:
        if len(group) > 1:
            said.append(Claim("equal", tuple(p.label for p in group), where=g))
    if named:
        said.append(Claim("attribution", tuple(named), where=g, direction="hausse" if up else "baisse"))
    if against:
        a = against[0]
        if a[0].label == SECRET_SECTORS:
            text += (f", malgré le recul des secteurs en secret statistique ({amount(a[0])} ensemble)" if up
                     else f", malgré la hausse des secteurs en secret statistique ({amount(a[0])} ensemble)")
            secret_said = True
        else:
            text += (f", malgré le recul {names(a, False)} ({amounts(a)})" if up
                     else f", malgré la hausse {names(a, False)} ({amounts(a)})")
            if len(a) > 1:
                said.append(Claim("equal", tuple(p.label for p in a), where=g))
        said.append(Claim("attribution", tuple(p.label for p in a), where=g, direction="baisse" if up else "hausse"))
    if hidden and not secret_said:
        text += (f" ; {fmt.count(len(hidden), 'secteur')} en secret (« s »), ensemble "
                 f"{fmt.euros(rest, sign=True, scale='M€', decimals=dec)}")
    if hidden:
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
    dec = euro_decimals([p.value / 1e6 for p in known] + ([hidden_sum / 1e6] if hidden_sum is not None else []))

    def amount(v) -> str:
        return fmt.euros(v, scale="M€", decimals=dec)
    ties = [p for p in order if amount(p.value) == amount(lead.value)]
    lead_names = fr.enumerate_fr([fr.noun(p.label).le() for p in ties])
    first = "premier" if len(ties) == 1 else "premiers"       # agrees with « secteur »
    if hidden_sum is not None and hidden_sum > lead.value:
        # One of the secret sectors may weigh more than the first diffusable one: no rank is claimed.
        titre = (f"{name} : {fmt.count(len(hidden), 'secteur')} en secret statistique "
                 f"pèse{'nt' if len(hidden) > 1 else ''} {amount(hidden_sum)} du chiffre d'affaires en {year}, "
                 f"{lead_names} {amount(lead.value)}{' chacun' if len(ties) > 1 else ''}")
    else:
        said.append(Claim("max", tuple(p.label for p in ties), where=(("annee", year),),
                          qualifier="" if sure else "diffusable"))
        what = "secteurs" if len(ties) > 1 else "secteur"
        titre = (f"{name} : {lead_names}, {first} {what}{'' if sure else ' diffusable' + ('s' if len(ties) > 1 else '')} "
                 f"du chiffre d'affaires en {year} ({amount(lead.value)}{' chacun' if len(ties) > 1 else ''})")
        if len(ties) > 1:
            said.append(Claim("equal", tuple(p.label for p in ties), where=(("annee", year),)))
    items = [f"{fr.noun(p.label).le()} {amount(p.value)}{' (partiel)' if p.statut == 'partiel' else ''}" for p in order]
    phrase = f"{name}, {year} : " + fr.enumerate_fr(items)
    if hidden:
        phrase += f" ; {fmt.count(len(hidden), 'secteur')} en secret (« s »)"
        if hidden_sum is not None:
            phrase += f" : ensemble {amount(hidden_sum)}"
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
        change = end_v - start_v
        verb = ("est stable" if fmt.round_half_up(change / 1e6) == 0 else
                f"{'progresse' if change > 0 else 'recule'} de {fmt.euros(abs(change))}")
        titre = (f"{ctx.name} : le chiffre d'affaires {verb} ({fmt.percent(end_v / start_v - 1, 1, sign=True)}) "
                 f"entre {base} et {end}")
        claims.append(Claim("direction", ("Chiffre d'affaires",), "indicateur", (("usage", "phrase"),),
                            direction="stable" if verb == "est stable" else ("hausse" if change > 0 else "baisse"),
                            years=(base, end)))
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
        phrase += (". Un taux dit le rythme, pas le poids : le poids de chaque secteur est sa contribution en M€ "
                   "à l'évolution du chiffre d'affaires." if len(known) > 1 else ".")
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
    table = rows(ctx, levels, "Chiffre d'affaires", "eur", categorie_col="secteur")
    mine = table[table.annee == end]
    if ts == "ok" and tv is not None and (mine.statut == "secret").any():
        # The secret sectors' sum (the total minus the diffusable sectors) is public: the sentence gives it.
        table = concat([table, mine.iloc[[0]].assign(
            categorie=SECRET_SECTORS, valeur=fmt.round_half_up(tv / 1e6 - mine.valeur.sum(), 1), statut="ok",
            usage="phrase", note=SECRET_SUM_NOTE)])
    colours = {r.secteur: SECTOR_COLOURS.get(r.secteur_code, "#4477AA") for r in levels.itertuples()}
    spec = ChartSpec("line", cat="annee", series="categorie", colours=colours)
    notes = ([f"Courbes de {fmt.years_text(shown_years)} ; le titre et la phrase portent sur {end}."]
             if len(shown_years) > 1 else []) + secret_notes(table[table.usage == "graphique"],
                                                             lambda r: f"{r.categorie} {r.annee}")
    f = Finding("ca_secteurs", titre, phrase, table, spec, sheet_name=SHEETS["ca_secteurs"], claims=claims,
                notes=notes)
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
