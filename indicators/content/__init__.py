"""The content layer: every title, sentence and number the dashboard says, built once.

One module per page (`chiffres_cles`, `chiffre_affaires`, `industrie`, `filieres`, `comparer`, `accueil`):
`build(ctx) -> list[Finding]`, pure functions over the warehouse (read through indicators/query.py).
A Finding holds its title, sentence, the rows behind it (rounded as shown), the chart's spec, the source
line, notes and the years it shows. The page (`ui.show`), the slide (export/deck.py) and the annex sheet
(export/annex.py) render the same object, so they say the same thing by construction.

The chosen territory (the Territoire d'industrie by default, or one of its EPCIs) drives every finding;
territory codes and names are read from the warehouse through indicators/perimeter.py.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import NamedTuple

import pandas as pd

from .. import query
from ..catalog import get as get_indicator
from ..db import Snapshot
from .. import format as fmt
from . import french as fr

DEMO_LABEL = "Données de démonstration"
DEMO_SUFFIX = " (données de démonstration)"    # etl/load.py marks a demo file's label so

# kind of number -> (unit shown, divisor, decimals kept, Excel/PowerPoint number format)
KINDS = {k: (unit, div, dec, fmt.OFFICE_FORMATS[k]) for k, (unit, div, dec) in {
    "eur": ("M€", 1e6, 1),
    "part": ("%", 1.0, 3),
    "evolution": ("%", 1.0, 3),
    "count": ("", 1.0, 0),
    "km2": ("km²", 1.0, 0),
    "ha": ("ha", 1.0, 1),
    "eur_m2": ("€/m²", 1.0, 1),
}.items()}
UNIT_KIND = {"€": "eur", "part": "part", "km²": "km2", "ha": "ha"}
STATUT_MARKS = {"ok": "", "partiel": "partiel", "secret": "s", "absent": "–"}

# Colours (indicators/palettes.py): the chosen territory stands out, the others are grey, references darker
# greys; sectors, filières and the signs of a contribution have hues of their own.
from ..palettes import (DOWN, FILIERES as FILIERE_COLOURS, FOCUS, OTHER, REFERENCE_GREYS,  # noqa: E402
                        SECTORS as SECTOR_COLOURS, TOTAL, UP)


class SelectionError(ValueError):
    pass


# --- the territory, from the warehouse --------------------------------------------------------------

class Territory(NamedTuple):
    niveau: str
    code: str
    nom: str
    nom_court: str
    role: str | None = None


@dataclass
class Perimeter:
    """What the content layer needs of indicators/perimeter.py (its `load(snap)` result, or the same
    read from a warehouse built before the Territoire d'industrie level existed)."""
    home: Territory                    # the default selection: the TI (niveau 'ti'), else the reference département
    name: str                          # « Territoire d'industrie X »
    members: list[Territory]           # member EPCIs, in order
    references: list[Territory]        # départements, régions, France (the home excluded)
    other_tis: list[Territory] = field(default_factory=list)   # other TI of the reference régions


def _territory(t) -> Territory:
    return Territory(t.niveau, t.code, t.nom, getattr(t, "nom_court", None) or t.nom, getattr(t, "role", None))


def load_perimeter(snap: Snapshot) -> Perimeter:
    """The territory as indicators/perimeter.py reads it from the warehouse."""
    from .. import perimeter as per_module

    p = per_module.load(snap)
    return Perimeter(_territory(p.ti), p.name, [_territory(t) for t in p.members],
                     [_territory(t) for t in p.references if t.niveau != "ti"], [_territory(t) for t in p.other_tis])


# --- selection and context ----------------------------------------------------------------------------

@dataclass(frozen=True)
class Selection:
    """What the pages and the deck show: the chosen territory (`focus`: a code; None = the TI), a year
    (None = each indicator's latest), the Comparer page's EPCIs, the turnover base year, the filière choice."""
    epcis: tuple[str, ...] | None = None
    annee: int | None = None
    focus: str | None = None
    annee_base: int | None = None
    filiere_mesure: str = "etablissements_filiere"
    definition: str = "coeur"
    refs: tuple[str, ...] | None = None       # Comparer's reference territories, "niveau:code" (default: TI, département)
    parties: bool = False                     # Comparer: an EPCI crossing départements by its part inside them
    carte: str | None = None                  # Carte: the indicator mapped (None: the industry's share)
    carte_niveau: str = "epci"                # Carte: epci or commune
    carte_categorie: str | None = None        # Carte: sector or filière of an indicator split by one
    carte_methode: str | None = None          # Carte: jenks, quantiles (None: the indicator's default)
    carte_definition: str = "coeur"           # Carte: filières' definition
    filiere_categorie: str | None = None      # Filières: the filière mapped
    plan: object = None                       # Plan d'actions: its filters and chosen action (content/plan.py View)


FILIERE_MEASURES = {"etablissements_filiere": "établissements employeurs", "effectifs_filiere": "effectifs salariés",
                    "ca_filiere": "chiffre d'affaires"}


@dataclass
class Context:
    snap: Snapshot
    sel: Selection
    per: Perimeter
    focus: Territory
    chosen: list[str]                  # EPCIs of the Comparer page (default: the members)
    epci: pd.DataFrame                 # every EPCI of the warehouse
    _memo: dict = field(default_factory=dict)

    @property
    def home(self) -> Territory:
        return self.per.home

    @property
    def is_home(self) -> bool:
        return self.focus.code == self.home.code and self.focus.niveau == self.home.niveau

    @property
    def name(self) -> str:
        """The chosen territory as titles name it."""
        return self.per.name if self.is_home else self.focus.nom_court

    @property
    def home_name(self) -> str:
        return self.per.name

    @property
    def home_short(self) -> str:
        """The home territory as tables and charts label it (« TI X »)."""
        return self.home.nom_court

    def of(self, t: Territory) -> str:
        """« du Territoire d'industrie », « du département (X) », « de la région (…) »."""
        return fr.of_territory(t.niveau, t.nom_court if t.niveau != "ti" else None)

    def get(self, name: str, niveau: str, annee: int | None = None, annees: list[int] | None = None,
            territoires: list[str] | None = None, definition: str = "coeur", annee_base: int | None = None) -> pd.DataFrame:
        """query.get, memoised per context (findings share figures); callers must not modify the result."""
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

    def year(self, name: str, niveau: str, definition: str = "coeur") -> tuple[int | None, list[int]]:
        """(the year shown, the years that exist): the chosen year, or the latest before it; never a later one.
        Without a chosen year: the latest. None when nothing exists up to the chosen year."""
        ys = self.years(name, niveau, definition)
        if not ys:
            return None, []
        if self.sel.annee:
            before = [y for y in ys if y <= int(self.sel.annee)]
            return (before[-1] if before else None), ys
        return ys[-1], ys

    def span(self, name: str, niveau: str, definition: str = "coeur") -> tuple[int | None, int | None, list[int]]:
        """(end, base, the years that exist) of a change between two years: the end is `year()` (the chosen
        year or the latest before it, never a later one); the base is the selection's `annee_base` when the
        indicator has it before the end, else the year just before the end (None: a single year)."""
        end, ys = self.year(name, niveau, definition)
        if end is None:
            return None, None, ys
        wanted = self.sel.annee_base
        if wanted is not None and int(wanted) in ys and int(wanted) < end:
            return end, int(wanted), ys
        before = [y for y in ys if y < end]
        return end, (before[-1] if before else None), ys

    def no_year_sentence(self, name: str, ys: list[int]) -> str:
        ind = get_indicator(name)
        if not ys:
            return f"{ind.titre} : aucune donnée chargée ; chargez {ind.source_hint}."
        return (f"{ind.titre} : pas de donnée en {self.sel.annee} ni avant ; "
                f"années disponibles : {fmt.years_text(ys)}.")

    def references(self, niveaux: tuple[str, ...] = ("ti", "departement", "region", "france")) -> list[Territory]:
        """The home territory (when an EPCI is chosen) and the references, in that order."""
        out = [] if self.is_home else [self.home]
        return out + [t for t in self.per.references if t.niveau in niveaux]

    def compare_references(self) -> list[Territory]:
        """The Comparer page's reference territories: the chosen ones, else the TI and its main département."""
        every = {f"{t.niveau}:{t.code}": t for t in [self.home, *self.per.references, *self.per.other_tis]}
        if self.sel.refs is not None:
            return [every[k] for k in self.sel.refs if k in every]
        dep = next((t for t in self.per.references if t.niveau == "departement"), None)
        return [t for t in (self.home, dep) if t is not None]

    def colour(self, code: str, niveau: str) -> str:
        if code == self.focus.code and niveau == self.focus.niveau:
            return FOCUS
        if niveau == "epci" or niveau == "commune":
            return OTHER
        refs = [t.code for t in ([self.home] + self.per.references)]
        i = refs.index(code) if code in refs else len(REFERENCE_GREYS) - 1
        return REFERENCE_GREYS[min(i, len(REFERENCE_GREYS) - 1)]


def context(snap: Snapshot, sel: Selection | None = None) -> Context:
    sel = sel or Selection()
    per = load_perimeter(snap)
    epci = query.territories(snap, "epci")
    known = epci.code.tolist()
    own = [t.code for t in per.members]
    chosen = list(dict.fromkeys(sel.epcis)) if sel.epcis else own
    unknown = [c for c in chosen if c not in set(known)]
    if unknown:
        raise SelectionError(f"EPCI inconnu(s) : {', '.join(unknown)} (SIREN attendus, par exemple ceux du territoire : "
                             f"{', '.join(own)})")
    chosen = [c for c in known if c in chosen]
    wanted = sel.focus or (chosen[0] if sel.epcis and len(chosen) == 1 else None)   # one EPCI chosen: it is the focus
    if wanted in (None, "", per.home.code):
        focus = per.home
    else:
        row = epci[epci.code == wanted]
        if not len(row):
            raise SelectionError(f"territoire inconnu : {wanted} ({per.home.code} pour {per.name}, "
                                 f"ou le SIREN d'un de ses EPCI : {', '.join(own)})")
        r = row.iloc[0]
        focus = Territory("epci", r.code, r.nom, r.nom_court or r.nom, "membre" if r.code in own else None)
    if sel.filiere_mesure not in FILIERE_MEASURES:
        raise SelectionError(f"mesure de filière inconnue : {sel.filiere_mesure} ({', '.join(FILIERE_MEASURES)})")
    if sel.annee is not None:
        from ..catalog import SIDEBAR_YEARS
        ys = sorted({y for n in SIDEBAR_YEARS for y in query.years(snap, n, per.home.niveau)})
        if ys and not (ys[0] <= int(sel.annee) <= ys[-1]):
            raise SelectionError(f"année {sel.annee} absente de l'entrepôt : années disponibles {fmt.years_text(ys)}")
    return Context(snap, sel, per, focus, chosen, epci)


# --- findings -------------------------------------------------------------------------------------------

@dataclass
class ChartSpec:
    """What a chart draws, for every renderer: `kind` in bar (horizontal), bar_stacked, line, pie, waterfall;
    `cat` and `series` name columns of the finding's table (rows with usage 'graphique'); colours by
    category (by_point) or by series."""
    kind: str
    cat: str = "categorie"
    series: str = "indicateur"
    colours: dict = field(default_factory=dict)
    by_point: bool = False
    references: list[str] = field(default_factory=list)   # categories drawn as references (bars of another shade)


@dataclass(frozen=True)
class Claim:
    """One thing a finding's title or sentence asserts, in a form tests/test_claims.py (content/claims.py)
    checks against the finding's own table, written by the same code that writes the words.
    `kind`: max | min (the subjects are the extreme of `where`'s rows, ties included), rank (subject's
    position `value` among `where`), share (subject / sum of `of` rows = `value`), equal (« chacun »: the
    subjects' amounts as displayed are equal), attribution (a change of sign `direction` explained by the
    subjects in the order named, the heaviest first), direction (subject's change from `years[0]` to
    `years[-1]` has sign `direction`), dated (the `where` rows, summed or shown, are of `years` only),
    constant (a figure that does not depend on the selected year: `value` for `subject`).
    `where` / `of`: (column, value) pairs selecting table rows; `qualifier` 'diffusable' when the claim is
    made among the diffusable values only."""
    kind: str
    subject: tuple[str, ...] = ()
    col: str = "categorie"
    where: tuple[tuple[str, object], ...] = ()
    value: float | None = None
    text: str = ""
    qualifier: str = ""
    direction: str = ""
    years: tuple[int, ...] = ()
    of: tuple[tuple[str, object], ...] = ()


@dataclass
class Finding:
    key: str
    titre: str
    phrase: str = ""
    table: pd.DataFrame = field(default_factory=pd.DataFrame)
    spec: ChartSpec | None = None
    source: str = ""
    notes: list[str] = field(default_factory=list)
    definition: str = ""
    years: tuple[int, ...] = ()
    demo: bool = False
    extra: dict = field(default_factory=dict)
    sheet_name: str = ""
    claims: list[Claim] = field(default_factory=list)   # what titre and phrase assert (content/claims.py)

    def __post_init__(self):
        self.titre = fmt.typeset(self.titre)
        self.phrase = fmt.typeset(self.phrase)
        self.source = fmt.typeset(self.source)
        self.notes = [fmt.typeset(n) for n in self.notes]
        self.definition = fmt.typeset(self.definition)

    @property
    def chart(self) -> str | None:
        return self.spec.kind if self.spec else None

    @property
    def sheet(self) -> str:
        return (self.sheet_name or self.key)[:31]

    def chart_rows(self) -> pd.DataFrame:
        t = self.table
        return t[t["usage"] == "graphique"] if "usage" in t else t


# --- numbers as shown -------------------------------------------------------------------------------------

def _nan(v) -> bool:
    return v is None or v is pd.NA or (isinstance(v, float) and math.isnan(v))


def rounded(value, kind: str):
    """The value as shown (M€ with 1 decimal, shares to 0.1 point...)."""
    if _nan(value):
        return None
    _, div, dec, _ = KINDS[kind]
    v = fmt.round_half_up(float(value) / div, dec)
    return int(v) if dec == 0 else v


def euro_decimals(values_meur) -> int:
    """Decimals of the amounts in M€ shown together (a chart, an enumeration): one for all when one of them
    under 100 M€ needs it (« −2,3 M€ », « −2,0 M€ », never « −2 M€ » beside them), else none."""
    v = [abs(float(x)) for x in values_meur if not _nan(x)]
    return 1 if any(x < 100 and fmt.round_half_up(x, 1) != fmt.round_half_up(x) for x in v) else 0


def shown(value, kind: str, statut: str = "ok", decimals: int | None = None) -> str:
    """French text of a table value (already rounded/divided): 4 772,3 M€, 12,3 %, +5,0 %, 14 866; s, –.
    `decimals`: those of the amounts shown beside it (euro_decimals), else the value's own."""
    if statut == "secret":
        return fmt.SECRET
    if statut == "absent" or _nan(value):
        return fmt.ABSENT
    if kind == "eur":     # the sentences' rule: one decimal under 100 M€
        return fmt.euros(value * 1e6, scale="M€", decimals=decimals)
    if kind == "part":
        return fmt.percent(value, 1)
    if kind == "evolution":
        return fmt.percent(value, 1, sign=True)
    if kind == "km2":
        return f"{fmt.number(value, 0)}{fmt.NNBSP}km²"
    if kind == "ha":
        return f"{fmt.number(value, 1)}{fmt.NNBSP}ha"
    if kind == "eur_m2":
        return f"{fmt.number(value, 1)}{fmt.NNBSP}€/m²"
    return fmt.number(value, 0)


def labels(t: pd.DataFrame) -> list[str]:
    """The labels a chart writes beside its values (and the claim verifier compares): amounts in M€ with the
    same decimals within the chart."""
    dec = euro_decimals(t.valeur[t.kind == "eur"]) if len(t) else None
    return [shown(v, k, s, dec if k == "eur" else None) for v, k, s in zip(t.valeur, t.kind, t.statut)]


# The note of a row holding the sum of the secret values of a chart (the total minus the diffusable ones).
SECRET_SUM_NOTE = "somme des valeurs en secret (total moins valeurs diffusables)"


TABLE_COLUMNS = ["territoire", "code", "niveau", "categorie", "annee", "annee_base", "indicateur", "valeur", "kind",
                 "statut", "note", "source", "demo", "usage", "role"]


def rows(ctx: Context | None, df: pd.DataFrame, indicateur: str, kind: str, categorie_col: str | None = None,
         usage: str = "graphique") -> pd.DataFrame:
    """Tidy query rows -> a finding's table rows (rounded values, statut, source, role of the territory)."""
    n = len(df)
    names = df["nom_court"].astype(str).to_numpy() if n else []
    out = pd.DataFrame({
        "territoire": names,
        "code": df["code"].to_numpy(),
        "niveau": df["niveau"].to_numpy(),
        "categorie": df[categorie_col].astype(str).to_numpy() if categorie_col else "",
        "annee": df["annee"].astype("Int64").to_numpy(),
        "annee_base": (df["annee_base"].astype("Int64").to_numpy() if "annee_base" in df
                       else pd.array([pd.NA] * n, dtype="Int64")),
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
    if ctx is not None and n:
        out["role"] = ["choisi" if (c == ctx.focus.code and nv == ctx.focus.niveau) else
                       ("autre" if nv in ("epci", "commune") else "référence") for c, nv in zip(out.code, out.niveau)]
    else:
        out["role"] = ""
    return out


def concat(frames: list[pd.DataFrame]) -> pd.DataFrame:
    frames = [f for f in frames if len(f)]
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=TABLE_COLUMNS)


def table_years(table: pd.DataFrame) -> tuple[int, ...]:
    if not len(table):
        return ()
    ys = {int(a) for a in table.annee.dropna()}
    if "annee_base" in table:
        ys |= {int(a) for a in table.annee_base.dropna()}
    return tuple(sorted(ys))


def source_line(table: pd.DataFrame) -> str:
    """« Source : … — années 2021 et 2022. » Sources all of demo data lose their mark here (the block says
    « Données de démonstration » once); beside a real one, the demo one keeps it: the reader sees which is which."""
    sources = sorted({s for s in table.source if s}) if len(table) else []
    if sources and all(s.endswith(DEMO_SUFFIX) for s in sources):
        sources = [s.removesuffix(DEMO_SUFFIX) for s in sources]
    text = "Source : " + (" ; ".join(sources) or "aucune donnée chargée")
    ys = table_years(table)
    if ys:
        text += " — " + (f"année {ys[0]}" if len(ys) == 1 else f"années {fmt.years_text(ys)}")
    return text + "."


def secret_notes(table: pd.DataFrame, label=lambda r: r.territoire) -> list[str]:
    """« s » cells (no reason: the secret says only « s »), partial aggregates."""
    notes = []
    if not len(table):
        return notes
    sec = table[table.statut == "secret"]
    if len(sec):
        cells = list(dict.fromkeys(label(r) for r in sec.itertuples()))
        notes.append(f"« s » : secret statistique ({fmt.count(len(cells), 'valeur')} : {', '.join(cells)}).")
    part = table[table.statut == "partiel"]
    if len(part):
        cells = list(dict.fromkeys(label(r) for r in part.itertuples()))
        notes.append(f"Valeurs partielles (calculées sur une partie des communes) : {', '.join(cells)}.")
    return notes


SOURCE_BREAK = "Changement de source en {year}"   # read by charts._mark_source_break


def source_breaks(t: pd.DataFrame) -> tuple[pd.DataFrame, list[str]]:
    """A series whose source changes from one year to the next (real figures, then demo ones): the first row
    of the new source says so in its note, and one note per change names the territory and both sources."""
    keys = [c for c in ("code", "niveau", "indicateur", "categorie") if c in t]
    if (not len(t) or "annee" not in t or "source" not in t or not keys or t.annee.nunique() < 2
            or t.source[t.source.astype(str) != ""].nunique() < 2):     # one source: no series can change it
        return t, []
    t, notes = (t.copy() if t.index.is_unique else t.reset_index(drop=True)), []
    for _, g in t[t.source.astype(str) != ""].sort_values("annee").groupby(keys, sort=False):
        prev = g.source.shift()
        for i, r in g[prev.notna() & (g.source != prev)].iterrows():
            mark = SOURCE_BREAK.format(year=int(r.annee))
            t.at[i, "note"] = f"{r.note} ; {mark}" if isinstance(r.note, str) and r.note else mark
            before = prev.loc[i]
            who = r.territoire if "territoire" in t else r.code
            if r.source == before + DEMO_SUFFIX:
                what = f"données de démonstration après les données réelles ({before})"
            elif before == r.source + DEMO_SUFFIX:
                what = f"données réelles ({r.source}) après les données de démonstration"
            else:
                what = f"{r.source} après {before}"
            note = f"{who} : rupture de série en {int(r.annee)}, {what}"
            if note not in notes:
                notes.append(note)
    return t, notes


def finish(f: Finding, name: str | None = None) -> Finding:
    f.table, breaks = source_breaks(f.table)
    # A category whose content changes with the nomenclature (query.get's row note): said under the chart too.
    if len(f.table) and "note" in f.table:
        naf = f.table.note.dropna().astype(str).str.extract(r"(Rupture de série en \d{4}, au passage[^;]*)")[0]
        breaks = list(dict.fromkeys(naf.dropna().str.strip())) + breaks
    f.notes = list(f.notes) + [fmt.typeset(n) for n in breaks if n not in f.notes]
    t = f.table
    f.demo = bool(len(t) and t.demo.astype(bool).any())
    if not f.source:
        f.source = fmt.typeset(source_line(t))
    if not f.years:
        f.years = table_years(t)
    if name and not f.definition:
        f.definition = fmt.typeset(get_indicator(name).definition)
    return f


def absent(key: str, ctx: Context, name: str, ys: list[int], titre: str | None = None) -> Finding:
    """No figure for the chosen year (or nothing loaded): the block says so, and which years exist."""
    ind = get_indicator(name)
    when = f" en {ctx.sel.annee}" if ctx.sel.annee else ""
    return Finding(key, titre or f"{ctx.name} : {fr.lower_first(ind.titre)}, pas de donnée{when}",
                   ctx.no_year_sentence(name, ys), source="Aucune donnée pour cette année." if ys else "Aucune donnée chargée.",
                   definition=ind.definition)


def ranked(df: pd.DataFrame) -> tuple[pd.DataFrame, bool]:
    """Values that can be ranked and whether the ranking is sure (no secret or partial value could change it)."""
    known = df[df.statut == "ok"].dropna(subset=["valeur"])
    sure = bool(len(known) == len(df))
    return known.sort_values("valeur", ascending=False, kind="stable"), sure


PEOPLE_COLUMNS = [("territoire", "territoire"), ("categorie", "catégorie"), ("annee", "année"),
                  ("annee_base", "année de base"), ("indicateur", "indicateur"),
                  ("publie", "valeur de la candidature"), ("valeur", "valeur"),
                  ("unite", "unité"), ("rang", "rang"), ("statut", "statut"), ("note", "note"), ("source", "source")]


def people_table(table: pd.DataFrame) -> pd.DataFrame:
    """A finding's rows as people read them (page table, CSV): French headers, values as shown rounded,
    « s » for secret, « – » for absent, the unit in its own column."""
    out = {}
    for col, label in PEOPLE_COLUMNS:
        if col == "unite":
            out[fmt.header(label)] = [KINDS[k][0] for k in table.kind] if len(table) else []
        elif col == "statut":
            out[fmt.header(label)] = [STATUT_MARKS.get(s, s) or "ok" for s in table.statut]
        elif col in table:
            if col in ("annee_base", "rang") and table[col].isna().all():
                continue
            if col in ("valeur", "publie"):
                # Shares as percentages (12,3), euros in M€: the unit column says which. Beside a published
                # figure (the candidature's), the value is the recomputed one.
                label = "valeur recalculée" if col == "valeur" and "publie" in table else label
                out[fmt.header(label)] = [None if (col == "valeur" and s in ("secret", "absent")) or _nan(v) else
                                         (fmt.round_half_up(v * 100, 1) if k in ("part", "evolution") else v)
                                         for v, k, s in zip(table[col], table.kind, table.statut)]
            else:
                out[fmt.header(label)] = table[col].to_numpy()
    df = pd.DataFrame(out)
    if "Catégorie" in df and (df["Catégorie"] == "").all():
        df = df.drop(columns="Catégorie")
    return df


SCREEN_STATUTS = {"ok": "", "secret": "secret statistique", "partiel": "partiel", "absent": "absent"}


def screen_table(table: pd.DataFrame) -> pd.DataFrame:
    """A finding's rows as the page's table shows them: every cell French text, as the chart labels it
    (« 4 400,3 M€ », « 12,3 % », « s »), years without decimals, an empty cell for a missing year or rank,
    the statut said only when it is not « ok »; the CSV keeps people_table's numbers."""
    if not len(table):
        return people_table(table)
    df = people_table(table).drop(columns=[fmt.header("unité")], errors="ignore")
    if "publie" in table:
        df[fmt.header("valeur de la candidature")] = labels(table.assign(valeur=table.publie, statut="ok"))
    df[fmt.header("valeur recalculée" if "publie" in table else "valeur")] = labels(table)

    def year(v):
        return "" if _nan(v) else str(int(v))
    for col in ("année", "année de base"):
        if fmt.header(col) in df:
            df[fmt.header(col)] = [year(v) for v in df[fmt.header(col)]]
    if fmt.header("rang") in df:
        df[fmt.header("rang")] = ["" if _nan(v) else fmt.ordinal(int(v)) for v in table["rang"]]
    df[fmt.header("statut")] = [SCREEN_STATUTS.get(s, s) for s in table.statut]
    if not df[fmt.header("statut")].astype(bool).any():
        df = df.drop(columns=fmt.header("statut"))
    return df
