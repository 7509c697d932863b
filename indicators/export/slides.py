"""The content of each committee slide, built once and shared by the deck, the annex and the UI buttons.

One small function per slide returns a `Slide`: a finding-style title, the generated sentence,
the source line with its vintage, the secret notes and `table`, the numbers behind the slide
already rounded as they are shown (one row per value, secret/absent as NaN with their statut).
The deck draws its native chart from `table`, the annex writes `table` as it is: both show the
same numbers by construction. Every number is read through indicators/query.py.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import date

import pandas as pd

from .. import charts, format as fmt, perimeter, query
from ..catalog import get as get_indicator
from ..db import Snapshot

NBSP = fmt.NBSP
DEMO_LABEL = "Données de démonstration"
REFERENCE_NIVEAUX = ("ti", "departement", "region", "france")

# kind of number -> (unit shown, divisor, decimals kept, Excel/PowerPoint number format)
KINDS = {
    "eur": ("M€", 1e6, 1, '#,##0.0" M€"'),
    "part": ("%", 1.0, 3, "0.0%"),
    "evolution": ("%", 1.0, 3, "+0.0%;-0.0%;0.0%"),
    "count": ("", 1.0, 0, "#,##0"),
    "km2": ("km²", 1.0, 0, '#,##0" km²"'),
}
UNIT_KIND = {"€": "eur", "part": "part", "km²": "km2"}
STATUT_MARKS = {"ok": "", "partiel": "partiel", "secret": "s (secret statistique)", "absent": "– (absent)"}

# The Comparer page's indicators (label, kind).
COMPARE = [("population", "Population", "count"),
           ("ca_total", "Chiffre d'affaires", "eur"),
           ("taux_croissance_ca", "Évolution du CA sur un an", "evolution"),
           ("entreprises_tpe_pme", "TPE et PME", "count"),
           ("part_industrie_etablissements", "Part de l'industrie (établissements)", "part"),
           ("part_industrie_effectifs", "Part de l'industrie (emploi salarié)", "part")]
COMPARE_SHORT = {"Évolution du CA sur un an": "Évolution du CA", "Part de l'industrie (établissements)": "Industrie : établiss.",
                 "Part de l'industrie (emploi salarié)": "Industrie : emploi"}
FILIERE_MEASURES = {"etablissements_filiere": "établissements employeurs", "effectifs_filiere": "effectifs salariés",
                    "ca_filiere": "chiffre d'affaires"}

ORDER = ["titre", "chiffres_cles", "ca_croissance", "ca_secteurs", "ca_repartition", "industrie", "filieres",
         "comparer", "carte", "sources"]
# Slides of each dashboard page (the page's download button builds these).
PAGE_SLIDES = {"accueil": ORDER, "chiffres_cles": ["chiffres_cles"],
               "chiffre_affaires": ["ca_croissance", "ca_secteurs", "ca_repartition"], "industrie": ["industrie"],
               "filieres": ["filieres"], "comparer": ["comparer"], "sources": ["sources"], "carte": ["carte"]}
SHEET_NAMES = {"chiffres_cles": "Chiffres clés", "ca_croissance": "CA évolution", "ca_secteurs": "CA par secteur",
               "ca_repartition": "CA répartition", "industrie": "Industrie", "filieres": "Filières",
               "comparer": "Comparer les EPCI", "carte": "Carte", "sources": "Sources"}


class SelectionError(ValueError):
    pass


@dataclass(frozen=True)
class Selection:
    """What a deck shows: the chosen EPCIs (SIRENs; None = all), a year, the focus territory."""
    epcis: tuple[str, ...] | None = None
    annee: int | None = None           # each indicator at this year, or its latest year before it
    focus: str | None = None           # the TI's code or an EPCI SIREN; default: the one chosen EPCI, else the TI
    annee_base: int | None = None      # turnover growth base year (default: the year before)
    filiere_mesure: str = "etablissements_filiere"
    definition: str = "coeur"


@dataclass
class Slide:
    key: str
    titre: str
    phrase: str = ""
    table: pd.DataFrame = field(default_factory=pd.DataFrame)
    chart: str | None = None           # bar, bar_stacked, line, pie; None: figures, table, text or picture
    source: str = ""
    notes: list[str] = field(default_factory=list)
    definition: str = ""
    demo: bool = False
    extra: dict = field(default_factory=dict)

    @property
    def sheet(self) -> str:
        return SHEET_NAMES.get(self.key, self.key)[:31]

    def chart_rows(self) -> pd.DataFrame:
        """The rows drawn in the chart (the rest of the table backs the sentence)."""
        t = self.table
        return t[t["usage"] == "graphique"] if "usage" in t else t


# --- numbers as shown ----------------------------------------------------------------------------

def rounded(value, kind: str):
    """The value as shown on slides and in the annex (M€ with 1 decimal, shares to 0.1 point...)."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    _, div, dec, _ = KINDS[kind]
    v = round(float(value) / div, dec)
    return int(v) if dec == 0 else v


def shown(value, kind: str, statut: str = "ok") -> str:
    """French text of a rounded value: 4 772,3 M€, 12,3 %, +5,0 %, 14 866; 's' secret, '–' absent."""
    if statut == "secret":
        return fmt.SECRET
    if statut == "absent" or value is None or (isinstance(value, float) and math.isnan(value)):
        return fmt.ABSENT
    if kind == "eur":
        return f"{fmt.number(value, 1)}{NBSP}M€"
    if kind == "part":
        return fmt.percent(value, 1)
    if kind == "evolution":
        return fmt.percent(value, 1, signed=True)
    if kind == "km2":
        return f"{fmt.number(value, 0)}{NBSP}km²"
    return fmt.number(value, 0)


def _rows(df: pd.DataFrame, indicateur: str, kind: str, categorie_col: str | None = None,
          usage: str = "graphique") -> pd.DataFrame:
    """Tidy query rows -> the slide's table rows (rounded values, statut, note, source)."""
    out = pd.DataFrame({
        "territoire": df["nom_court"].astype(str).to_numpy(),
        "code": df["code"].to_numpy(),
        "categorie": df[categorie_col].astype(str).to_numpy() if categorie_col else "",
        "annee": df["annee"].astype(int).to_numpy(),
        "annee_base": df["annee_base"].astype("Int64").to_numpy() if "annee_base" in df else pd.array([pd.NA] * len(df), dtype="Int64"),
        "indicateur": indicateur,
        "valeur": [rounded(v, kind) if s not in ("secret", "absent") else None for v, s in zip(df.valeur, df.statut)],
        "kind": kind,
        "statut": df["statut"].to_numpy(),
        "note": df["note"].fillna("").to_numpy(),
        "source": df["source"].fillna("").to_numpy(),
        "demo": df["demo"].astype(bool).to_numpy(),
        "usage": usage,
    })
    out["valeur"] = out["valeur"].astype(float)
    return out


def _concat(frames: list[pd.DataFrame]) -> pd.DataFrame:
    frames = [f for f in frames if len(f)]
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=["territoire", "code", "categorie", "annee", "annee_base", "indicateur", "valeur", "kind", "statut", "note", "source", "demo", "usage"])


def source_line(table: pd.DataFrame) -> str:
    sources = sorted({s for s in table.source if s}) if len(table) else []
    ys = sorted({int(a) for a in table.annee.dropna()}) if len(table) else []
    text = "Source : " + (" ; ".join(sources) or "aucune donnée chargée")
    if ys:
        text += " — " + (f"année {ys[0]}" if len(ys) == 1 else f"années {ys[0]} à {ys[-1]}")
    return text + "."


def secret_notes(table: pd.DataFrame, label=lambda r: r.territoire) -> list[str]:
    """One generic line for secret cells (never why a cell is secret); partial aggregates; absences."""
    notes = []
    if not len(table):
        return notes
    if table.statut.eq("secret").any():
        notes.append("« s » : secret statistique.")
    part = table[table.statut == "partiel"]
    for note, g in part.groupby("note", sort=False):
        notes.append(f"{note} : {', '.join(dict.fromkeys(label(r) for r in g.itertuples()))}.")
    return notes


def _finish(slide: Slide, name: str | None = None) -> Slide:
    t = slide.table
    slide.demo = bool(len(t) and t.demo.any())
    if not slide.source:
        slide.source = source_line(t)
    if name and not slide.definition:
        slide.definition = get_indicator(name).definition
    return slide


# --- selection ------------------------------------------------------------------------------------

@dataclass
class Context:
    snap: Snapshot
    sel: Selection
    epci: pd.DataFrame             # every EPCI of the warehouse, reference order (column perimetre)
    chosen: list[str]
    focus: str
    focus_niveau: str
    focus_name: str
    colours: dict[str, str]
    per: perimeter.Perimeter
    _memo: dict = field(default_factory=dict)

    @property
    def ti(self) -> str:
        return self.per.ti.code

    def get(self, name: str, niveau: str, annee: int | None = None, annees: list[int] | None = None,
            territoires: list[str] | None = None, definition: str = "coeur", annee_base: int | None = None) -> pd.DataFrame:
        """query.get, memoised for the deck (slides share figures); callers must not modify the result.
        Without `territoires`: the territory's perimeter at that level (its references at their levels)."""
        if territoires is None:
            territoires = query.perimeter(self.snap, niveau)
        key = ("get", name, niveau, annee, tuple(annees) if annees else None,
               tuple(territoires) if territoires is not None else None, definition, annee_base)
        if key not in self._memo:
            self._memo[key] = query.get(self.snap, name, niveau, annee=annee, annees=annees, territoires=territoires,
                                        definition=definition, annee_base=annee_base)
        return self._memo[key]

    def years(self, name: str, niveau: str, definition: str = "coeur") -> list[int]:
        key = ("years", name, niveau, definition)
        if key not in self._memo:
            self._memo[key] = query.years(self.snap, name, niveau, definition)
        return self._memo[key]


def context(snap: Snapshot, sel: Selection) -> Context:
    epci = query.territories(snap, "epci")
    known = epci.code.tolist()
    own = epci[epci.perimetre].code.tolist()   # default: the territory's EPCIs; any other EPCI may be chosen
    chosen = list(dict.fromkeys(sel.epcis)) if sel.epcis else own
    unknown = [c for c in chosen if c not in set(known)]
    if unknown:
        hint = "SIREN attendus" if len(own) == len(known) else "SIREN du territoire, ou de tout autre EPCI de l'entrepôt"
        raise SelectionError(f"EPCI inconnu(s) : {', '.join(unknown)} ({hint} : {', '.join(own)})")
    chosen = [c for c in known if c in chosen]
    per = perimeter.load(snap)
    ti = per.ti.code
    focus = sel.focus or (chosen[0] if len(chosen) == 1 else ti)
    if focus != ti and focus not in known:
        raise SelectionError(f"territoire inconnu : {focus} ({ti} ou un SIREN d'EPCI)")
    if sel.filiere_mesure not in FILIERE_MEASURES:
        raise SelectionError(f"mesure de filière inconnue : {sel.filiere_mesure} ({', '.join(FILIERE_MEASURES)})")
    names = dict(zip(epci.code, epci.nom_court))
    colours = charts.epci_colours(own)
    for t in per.references:
        colours.setdefault(t.code, charts.REFERENCE_COLOURS[t.niveau])
    colours[ti] = charts.REFERENCE_COLOURS["ti"]
    return Context(snap, sel, epci, chosen, focus, "ti" if focus == ti else "epci",
                   per.name if focus == ti else names.get(focus, focus), colours, per)


def year_for(ctx: Context, name: str, niveau: str = "departement", definition: str = "coeur") -> int | None:
    """The selection's year if the indicator has it, else its latest year before it (or its latest)."""
    ys = ctx.years(name, niveau, definition) or ctx.years(name, "departement", definition)
    if not ys:
        return None
    if ctx.sel.annee:
        before = [y for y in ys if y <= int(ctx.sel.annee)]
        return before[-1] if before else ys[0]
    return ys[-1]


def selection_label(ctx: Context) -> str:
    own = ctx.epci[ctx.epci.perimetre].code.tolist()
    if ctx.chosen == own:
        return f"{ctx.per.name} et ses {len(own)} intercommunalités" if len(own) > 1 else ctx.per.name
    names = dict(zip(ctx.epci.code, ctx.epci.nom_court))
    return "EPCI : " + ", ".join(names[c] for c in ctx.chosen)


# --- slides --------------------------------------------------------------------------------------

def slide_titre(ctx: Context) -> Slide:
    src = query.reference_table(ctx.snap, "sources")
    vintages = [f"{r['Source']} : millésime {r['Millésime']}, années {r['Années']}" for _, r in src.iterrows()]
    demo = bool((src["Démonstration"] == "oui").any())
    return Slide("titre", ctx.per.name, selection_label(ctx),
                 extra={"date": fmt.french_date(date.today()), "vintages": vintages,
                        "focus": ctx.focus_name}, demo=demo,
                 source="Indicateurs économiques recalculés à partir des fichiers chargés dans l'entrepôt.")


def slide_chiffres_cles(ctx: Context) -> Slide:
    niveau, code = ctx.focus_niveau, ctx.focus
    items = [("population", "Population", "count"), ("superficie", "Superficie", "km2"),
             ("ca_total", "Chiffre d'affaires", "eur"), ("taux_croissance_ca", "Évolution du CA sur un an", "evolution"),
             ("entreprises_tpe_pme", "TPE et PME marchandes", "count"),
             ("entreprises_tpe_pme_industrie", "dont industrielles", "count"),
             ("part_industrie_tpe_pme", "Part de l'industrie dans les TPE et PME", "part"),
             ("part_industrie_effectifs", "Part de l'industrie dans l'emploi salarié", "part")]
    frames = []
    for name, label, kind in items:
        df = ctx.get(name, niveau, annee=year_for(ctx, name, niveau), territoires=[code])
        frames.append(_rows(df, label, kind, usage="chiffre").assign(categorie=label))
    table = _concat(frames)
    ca = table[table.indicateur == "Chiffre d'affaires"]
    if len(ca) and ca.statut.iat[0] not in ("secret", "absent"):
        titre = f"{ctx.focus_name} : {shown(ca.valeur.iat[0], 'eur')} de chiffre d'affaires en {int(ca.annee.iat[0])}"
    else:
        titre = f"{ctx.focus_name} en chiffres clés"
    ok = table[~table.statut.isin(["absent"])]
    parts = [f"{charts.lower_first(r.indicateur)} {shown(r.valeur, r.kind, r.statut)} ({r.annee})"
             for r in ok.itertuples() if r.indicateur in ("Population", "Chiffre d'affaires", "TPE et PME marchandes",
                                                           "Part de l'industrie dans l'emploi salarié")]
    phrase = (f"{ctx.focus_name} : " + " ; ".join(parts) + ".") if parts else "Aucune donnée chargée."
    return _finish(Slide("chiffres_cles", titre, phrase, table,
                         notes=secret_notes(table, lambda r: r.indicateur),
                         definition="Le panneau de la candidature Territoire d'industrie recalculé à partir des fichiers chargés."))


def _growth_years(ctx: Context) -> tuple[int | None, int | None]:
    end = year_for(ctx, "ca_total")
    if end is None:
        return None, None
    ys = ctx.years("ca_total", "departement")
    base = ctx.sel.annee_base if ctx.sel.annee_base is not None else max([y for y in ys if y < end], default=end)
    return end, base


def slide_ca_croissance(ctx: Context) -> Slide:
    end, base = _growth_years(ctx)
    if end is None:
        return _absent("ca_croissance", "taux_croissance_ca_secteur")
    niveau, code = ctx.focus_niveau, ctx.focus
    what = "Taux d'évolution du chiffre d'affaires"
    rates = ctx.get("taux_croissance_ca_secteur", niveau, annee=end, annee_base=base, territoires=[code])
    total = ctx.get("taux_croissance_ca", niveau, annee=end, annee_base=base, territoires=[code])
    frames = [_rows(rates, what, "evolution", categorie_col="secteur")]
    if code != ctx.ti:
        dep = ctx.get("taux_croissance_ca_secteur", "ti", annee=end, annee_base=base, territoires=[ctx.ti])
        frames.append(_rows(dep, what, "evolution", categorie_col="secteur"))
    frames.append(_rows(total, what, "evolution", usage="phrase").assign(categorie="Ensemble des secteurs"))
    table = _concat(frames)
    tr = table[table.usage == "phrase"]
    total_rate = tr.valeur.iat[0] if len(tr) and tr.statut.iat[0] not in ("secret", "absent") else None
    mine = table[(table.code == code) & (table.usage == "graphique") & table.valeur.notna()].sort_values("valeur", ascending=False)
    if total_rate is None:
        titre = f"{ctx.focus_name} : évolution du chiffre d'affaires entre {base} et {end}"
        phrase = f"{ctx.focus_name} : évolution du chiffre d'affaires entre {base} et {end} non diffusable."
    else:
        titre = f"{ctx.focus_name} : chiffre d'affaires {shown(total_rate, 'evolution')} entre {base} et {end}"
        phrase = f"{ctx.focus_name} : chiffre d'affaires {shown(total_rate, 'evolution')} entre {base} et {end}"
        if len(mine):
            phrase += f", porté par {charts.lower_first(mine.categorie.iat[0])} ({shown(mine.valeur.iat[0], 'evolution')})"
            if len(mine) > 1:
                phrase += f" ; {charts.lower_first(mine.categorie.iat[-1])} : {shown(mine.valeur.iat[-1], 'evolution')}"
        phrase += "."
    if code == ctx.ti:
        colours = {r.secteur: charts.SECTOR_COLOURS.get(r.secteur_code, "#4477AA") for r in rates.itertuples()}
        layout = {"cat": "categorie", "series": "indicateur", "by_point": True}
    else:
        colours = {ctx.focus_name: ctx.colours.get(code, "#332288"), ctx.per.ti.nom: charts.REFERENCE_COLOURS["ti"]}
        layout = {"cat": "categorie", "series": "territoire", "by_point": False}
    slide = Slide("ca_croissance", titre, phrase, table, chart="bar",
                  notes=secret_notes(table, lambda r: f"{r.territoire} – {r.categorie}"),
                  extra={"colours": colours, **layout})
    return _finish(slide, "taux_croissance_ca_secteur")


def slide_ca_secteurs(ctx: Context) -> Slide:
    niveau, code = ctx.focus_niveau, ctx.focus
    ys = ctx.years("ca_secteur", niveau) or ctx.years("ca_secteur", "departement")
    end = year_for(ctx, "ca_secteur", niveau)
    if end is None:
        return _absent("ca_secteurs", "ca_secteur")
    ys = [y for y in ys if y <= end]
    levels = ctx.get("ca_secteur", niveau, annees=ys, territoires=[code])
    table = _rows(levels, "Chiffre d'affaires", "eur", categorie_col="secteur")
    last = table[(table.annee == end) & table.valeur.notna()].sort_values("valeur", ascending=False)
    lead = charts.lower_first(last.categorie.iat[0]) if len(last) else None
    titre = (f"{ctx.focus_name} : {lead} en tête du chiffre d'affaires en {end}" if lead
             else f"{ctx.focus_name} : chiffre d'affaires par secteur")
    phrase = (f"Chiffre d'affaires par secteur de {ys[0]} à {ys[-1]} ; en {end}, "
              + ", ".join(f"{charts.lower_first(r.categorie)} {shown(r.valeur, 'eur', r.statut)}"
                          for r in table[table.annee == end].itertuples()) + ".")
    colours = {r.secteur: charts.SECTOR_COLOURS.get(r.secteur_code, "#4477AA") for r in levels.itertuples()}
    slide = Slide("ca_secteurs", titre, phrase, table, chart="line",
                  notes=secret_notes(table, lambda r: f"{r.categorie} {r.annee}"),
                  extra={"colours": colours, "cat": "annee", "series": "categorie"})
    return _finish(slide, "ca_secteur")


def slide_ca_repartition(ctx: Context) -> Slide:
    niveau, code = ctx.focus_niveau, ctx.focus
    end = year_for(ctx, "ca_secteur", niveau)
    if end is None:
        return _absent("ca_repartition", "ca_secteur")
    ys = [y for y in (ctx.years("ca_secteur", niveau) or ctx.years("ca_secteur", "departement")) if y <= end]
    levels = ctx.get("ca_secteur", niveau, annees=ys, territoires=[code])   # shared with the line chart slide
    df = levels[levels.annee == end]
    table = _rows(df, "Chiffre d'affaires", "eur", categorie_col="secteur")
    known = table[table.valeur.notna()]
    total = known.valeur.sum()
    complete = len(known) == len(table) and total > 0
    top = known.sort_values("valeur", ascending=False)
    if complete and len(top):
        share = top.valeur.iat[0] / total
        titre = (f"{ctx.focus_name} : {charts.lower_first(top.categorie.iat[0])}, {fmt.percent(share, 0)} "
                 f"du chiffre d'affaires en {end}")
        phrase = (f"{ctx.focus_name}, {end} : " + ", ".join(
            f"{charts.lower_first(r.categorie)} {fmt.percent(r.valeur / total, 0)}" for r in top.itertuples())
            + f" d'un chiffre d'affaires de {shown(round(total, 1), 'eur')}.")
    else:
        titre = f"{ctx.focus_name} : chiffre d'affaires par secteur en {end}"
        phrase = ("Un secteur au moins est en secret statistique ou absent : les parts ne sont pas calculées "
                  "(barres à la place du graphique en secteurs).")
    colours = {r.secteur: charts.SECTOR_COLOURS.get(r.secteur_code, "#4477AA") for r in df.itertuples()}
    slide = Slide("ca_repartition", titre, phrase, table, chart="pie" if complete else "bar",
                  notes=secret_notes(table, lambda r: r.categorie),
                  extra={"colours": colours, "cat": "categorie", "series": "indicateur", "by_point": True})
    return _finish(slide, "ca_secteur")


def slide_industrie(ctx: Context) -> Slide:
    name, what = "part_industrie_effectifs", "de l'emploi salarié"
    label = "Part de l'industrie dans l'emploi salarié"
    year = year_for(ctx, name, "epci")
    if year is None:
        return _absent("industrie", name)
    epci = ctx.get(name, "epci", annee=year, territoires=ctx.chosen)
    refs = pd.concat([ctx.get(name, n, annee=year) for n in REFERENCE_NIVEAUX], ignore_index=True)
    e = _rows(epci, label, "part")
    e = e.assign(_s=e.valeur.fillna(-1.0)).sort_values("_s", ascending=False, kind="stable").drop(columns="_s")
    r = _rows(refs, label, "part")
    r.loc[r.statut == "absent", "usage"] = "référence absente"
    table = _concat([e, r])
    top = e[e.valeur.notna()]
    titre = (f"{top.territoire.iat[0]} : l'EPCI le plus industriel ({shown(top.valeur.iat[0], 'part')} {what})"
             if len(top) else f"Part de l'industrie {what}")
    dep = r[(r.code == ctx.per.reference_code("departement")) & r.valeur.notna()]
    dep_v = dep.valeur.iat[0] if len(dep) else None
    f = e[e.code == ctx.focus] if ctx.focus != ctx.ti else r[r.code == ctx.ti]
    f = f if len(f) else e.head(1)
    phrase = charts.sentence_share_vs_reference(f.territoire.iat[0], f.valeur.iat[0], "le département", dep_v,
                                                f"{what} dans l'industrie") if len(f) else ""
    absent = r[r.statut == "absent"].territoire.tolist()
    notes = secret_notes(table)
    if absent:
        notes.append(f"Références absentes (aucun fichier chargé ne les fournit) : {', '.join(absent)}.")
    slide = Slide("industrie", titre, phrase, table, chart="bar", notes=notes,
                  extra={"colours": {row.territoire: ctx.colours.get(row.code, "#4477AA") for row in table.itertuples()},
                         "cat": "territoire", "series": "indicateur", "by_point": True})
    return _finish(slide, name)


def slide_filieres(ctx: Context) -> Slide:
    name, definition = ctx.sel.filiere_mesure, ctx.sel.definition
    label = FILIERE_MEASURES[name]
    ind = get_indicator(name)
    kind = UNIT_KIND.get(ind.unite, "count")
    year = year_for(ctx, name, "epci", definition)
    if year is None:
        return _absent("filieres", name)
    epci = ctx.get(name, "epci", annee=year, territoires=ctx.chosen, definition=definition)
    dep = ctx.get(name, "ti", annee=year, definition=definition)
    table = _concat([_rows(epci, ind.titre, kind, categorie_col="filiere"),
                     _rows(dep, ind.titre, kind, categorie_col="filiere", usage="phrase")])
    d = table[table.usage == "phrase"]
    top = d[d.valeur.notna()].sort_values("valeur", ascending=False)
    titre = (f"{top.categorie.iat[0]} : première filière du {ctx.per.name} en {label} ({shown(top.valeur.iat[0], kind)})"
             if len(top) else f"Filières stratégiques : {label}")
    phrase = (f"{ctx.per.name}, {year} : " + ", ".join(f"{charts.lower_first(r.categorie)} {shown(r.valeur, kind, r.statut)}"
                                                     for r in d.itertuples()) + ".")
    drawn = table[table.usage == "graphique"]
    n_secret = int((drawn.statut == "secret").sum())
    if n_secret:
        phrase += (f" {n_secret} croisement(s) EPCI × filière en secret statistique (« s ») ; "
                   "le total départemental reste disponible.")
    defn = "cœur de filière" if definition == "coeur" else "filière élargie"
    slide = Slide("filieres", titre, phrase, table, chart="bar_stacked",
                  notes=secret_notes(drawn, lambda r: f"{r.territoire} – {r.categorie}"),
                  extra={"colours": {r.filiere: charts.FILIERE_COLOURS.get(r.filiere_code, "#4477AA") for r in dep.itertuples()},
                         "cat": "territoire", "series": "categorie", "by_point": False})
    slide = _finish(slide, name)
    slide.definition += f" Périmètre : {defn}."
    return slide


def slide_comparer(ctx: Context) -> Slide:
    frames = []
    for name, label, kind in COMPARE:
        year = year_for(ctx, name, "epci")
        if year is None:
            continue
        e = _rows(ctx.get(name, "epci", annee=year, territoires=ctx.chosen), label, kind)
        e["rang"] = e.valeur.rank(ascending=False, method="min").astype("Int64")
        ref = _rows(ctx.get(name, "ti", annee=year), label, kind)
        ref["rang"] = pd.array([pd.NA] * len(ref), dtype="Int64")
        frames += [e, ref]
    table = _concat(frames)
    if "rang" not in table:
        table["rang"] = pd.array([pd.NA] * len(table), dtype="Int64")
    table["categorie"] = table.indicateur
    ind = table[table.indicateur == "Part de l'industrie (emploi salarié)"]
    best = ind[(ind.rang == 1) & (ind.code != ctx.ti)]
    titre = (f"Comparer les EPCI : {best.territoire.iat[0]} en tête pour la part de l'industrie dans l'emploi"
             if len(best) else "Comparer les EPCI")
    phrase = ("Valeur et rang de chaque EPCI parmi ceux choisis (1 = valeur la plus forte), et le Territoire d'industrie ; "
              "« s » : secret statistique ; « – » : donnée absente.")
    slide = Slide("comparer", titre, phrase, table, notes=secret_notes(table, lambda r: f"{r.territoire} – {r.indicateur}"),
                  definition="Indicateurs de la page Comparer les EPCI, chacun pour sa dernière année disponible.")
    return _finish(slide)


def slide_sources(ctx: Context) -> Slide:
    from ..secret import Rules

    src = query.reference_table(ctx.snap, "sources")
    rules = Rules.from_env()
    table = src[["Source", "Producteur", "Millésime", "Années", "Licence", "Démonstration"]].copy()
    methods = [
        "Industrie : sections B à E de la NAF rév. 2 ; secteurs de la candidature et filières stratégiques "
        "définis par des listes de codes NAF (page Sources et méthodes du tableau de bord).",
        f"Secret statistique : un agrégat de chiffre d'affaires est « s » quand moins de {rules.min_firms} entreprises "
        f"y contribuent ou qu'une seule en représente au moins {round(rules.dominance * 100)}\u202f% ; d'autres cellules "
        f"sont masquées pour que chaque valeur secrète reste inconnue à {round(rules.interval * 100)}\u202f% près au moins ; "
        "les cellules en secret des producteurs (INSEE, URSSAF) restent en secret. Jamais 0 à la place.",
        "Aucune donnée individuelle d'entreprise n'est montrée : seulement des agrégats.",
        "Statuts : partiel = agrégat calculé sur une partie des communes ; – = aucune donnée chargée.",
    ]
    demo = bool((src["Démonstration"] == "oui").any())
    return Slide("sources", "Sources et méthodes", "", table, source="", notes=methods, demo=demo,
                 definition="Provenance des chiffres, définitions et règles de secret statistique.")


def _absent(key: str, name: str) -> Slide:
    ind = get_indicator(name)
    return Slide(key, f"{ind.titre} : aucune donnée chargée", f"Chargez {ind.source_hint} (commande « python -m etl load FICHIER »).",
                 source="Aucune donnée chargée.", definition=ind.definition)


def slide_carte(ctx: Context, figure=None) -> Slide | None:
    """A picture slide (PowerPoint has no map chart), its table in the annex. None when nothing is loaded
    or the warehouse has no contours (maps.MapUnavailable)."""
    from .. import maps

    name = "part_industrie_effectifs"
    label = "Part de l'industrie dans l'emploi salarié"
    year = year_for(ctx, name, "epci")
    if year is None:
        return None
    try:
        fig, df = maps.map_figure(ctx.snap, name, "epci", annee=year,
                                  selection=None if ctx.focus == ctx.ti else ctx.focus, height=720)
    except maps.MapUnavailable:
        return None
    # Drawn for a projector: the picture is shrunk onto the slide, so type is enlarged first.
    fig.update_layout(font_size=24, legend_font_size=22, margin=dict(l=0, r=0, t=0, b=0))
    fig.update_traces(selector=dict(type="scattergeo", mode="text"), textfont_size=20)
    table = _rows(df, label, "part")
    slide = Slide("carte", f"{label} par EPCI en {year}", maps.sentence(name, df, fig), table,
                  notes=secret_notes(table), extra={"figure": figure or fig})
    return _finish(slide, name)


BUILDERS = {"titre": slide_titre, "chiffres_cles": slide_chiffres_cles, "ca_croissance": slide_ca_croissance,
            "ca_secteurs": slide_ca_secteurs, "ca_repartition": slide_ca_repartition, "industrie": slide_industrie,
            "filieres": slide_filieres, "comparer": slide_comparer, "sources": slide_sources}


def build(snap: Snapshot, sel: Selection, keys: list[str] | None = None, map_figure=None,
          ctx: Context | None = None) -> list[Slide]:
    """The slides of a deck, in deck order (unknown keys are refused)."""
    keys = list(keys or ORDER)
    bad = [k for k in keys if k not in ORDER]
    if bad:
        raise SelectionError(f"diapositive inconnue : {', '.join(bad)} ({', '.join(ORDER)})")
    ctx = ctx or context(snap, sel)
    out = []
    for key in [k for k in ORDER if k in keys]:
        s = slide_carte(ctx, map_figure) if key == "carte" else BUILDERS[key](ctx)
        if s is not None:
            out.append(s)
    return out

