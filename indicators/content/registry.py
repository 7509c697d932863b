"""The dashboard's pages, declared once.

For each page: its key (the script `pages/views/<key>.py`), French title, icon and URL path, the findings it
shows in order (and the content builder that makes them), its own slides, the annex sheet of each of those
slides and the blocks presentation mode steps through. The navigation (dashboard.py), the deck's order
(export/slides.py), the annex's sheets (export/annex.py), presentation mode, the plan's committee editions
(suivi.py) and the tests read this module; no other list of pages exists.

Every slide is a finding of the content layer (maps included: indicators/content/carte.py).
"""
from __future__ import annotations

from dataclasses import dataclass, field
import contextlib
from typing import Callable

from . import Context, Finding, accueil, chiffre_affaires, chiffres_cles, comparer, filieres, flux, foncier, industrie
from . import carte, plan, sources


@dataclass(frozen=True)
class Page:
    key: str                                   # pages/views/<key>.py; the state key of presentation mode
    title: str                                 # navigation and page title
    icon: str
    path: str = ""                             # URL path; "" for the default page (Accueil)
    findings: tuple[str, ...] = ()             # keys of the findings the page shows, in order
    build: Callable[[Context], list[Finding]] | None = None   # the content builder of those findings
    slides: tuple[str, ...] = ()               # the page's own slides (deck keys), in deck order
    sheets: dict[str, str] = field(default_factory=dict)      # slide key -> annex sheet (no entry: no sheet)
    steps: tuple[str, ...] = ()                # presentation mode: the page's blocks, one at a time
    desk: tuple[str, ...] = ()                 # blocks shown at the desk only, never a presentation step
    whole_deck: bool = False                   # its slide button gives the whole deck (Accueil)
    frozen: tuple[str, ...] = ()               # slides whose figures a committee edition freezes (suivi.py)
    reads_plan: bool = False                   # its findings read the plan store (cached by its revision too)
    about: str = ""                            # what the page holds, in a few words (Accueil's list of pages)

    @property
    def script(self) -> str:
        return f"pages/views/{self.key}.py"

    @property
    def url(self) -> str:
        """The path as the browser shows it ("" for the default page)."""
        return self.path


def _comparer_keys() -> tuple[str, ...]:
    return ("comparer",) + tuple(f"comparer_{n}" for n, _, _ in comparer.COMPARE)


def _comparer_sheets() -> dict[str, str]:
    small = {f"comparer_{n}": f"Comparer {comparer.SHORT.get(label, label)}"[:31].replace(":", "")
             for n, label, _ in comparer.COMPARE}
    return {"comparer": "Comparer les EPCI", **small}


def _accueil(ctx: Context) -> list[Finding]:
    """What the dashboard covers, then the chosen territory's key figures (the Chiffres clés page's first)."""
    return [accueil.intro(ctx), build(ctx, "chiffres_cles")[0], sources.title(ctx)]


def _industrie(ctx: Context) -> list[Finding]:
    """The industry's shares, the map of the first, then its change over time."""
    found = industrie.build(ctx)
    return [*found[:-1], carte.industrie(ctx), found[-1], flux.industrie(ctx), flux.industrie_taux(ctx)]


def _filieres(ctx: Context) -> list[Finding]:
    """The filières by EPCI, the map of one filière, then their change over time."""
    found = filieres.build(ctx)
    return [found[0], carte.filieres(ctx), *found[1:], flux.filieres(ctx)]


_INDUSTRIE_KEYS = (*industrie.KEYS[:-1], carte.KEY_INDUSTRIE, industrie.KEYS[-1], *flux.KEYS_INDUSTRIE)
_FILIERES_KEYS = (filieres.KEYS[0], carte.KEY_FILIERES, *filieres.KEYS[1:], *flux.KEYS_FILIERES)


def _plan(ctx: Context) -> list[Finding]:
    """The plan's findings; « depuis le dernier comité » compares the deck's figures now with an edition's."""
    return plan.build(ctx, figures=lambda: deck_figures(ctx.snap, ctx), foncier=lambda: build(ctx, "foncier"))


PAGES: tuple[Page, ...] = (
    Page("accueil", "Accueil", ":material/home:", "", ("accueil", "chiffres_cles", "titre"), _accueil,
         slides=("titre",), steps=("chiffres_cles",), whole_deck=True),
    Page("chiffres_cles", "Chiffres clés", ":material/pin:", "chiffres-cles", tuple(chiffres_cles.KEYS),
         chiffres_cles.build, slides=tuple(chiffres_cles.KEYS),
         sheets={"chiffres_cles": "Chiffres clés", "candidature": "Candidature"}, steps=tuple(chiffres_cles.KEYS),
         frozen=("chiffres_cles",),
         about="le territoire choisi en chiffres et ceux de la candidature recalculés"),
    Page("chiffre_affaires", "Chiffre d'affaires", ":material/euro:", "chiffre-affaires",
         tuple(chiffre_affaires.KEYS), chiffre_affaires.build, slides=tuple(chiffre_affaires.KEYS),
         sheets={"ca_croissance": "CA évolution", "ca_taux": "CA taux par secteur", "ca_secteurs": "CA par secteur",
                 "ca_repartition": "CA répartition"},
         steps=tuple(chiffre_affaires.KEYS), frozen=("ca_croissance", "ca_secteurs", "ca_repartition"),
         about="évolution attribuée par secteur, niveau et répartition"),
    Page("industrie", "Industrie", ":material/factory:", "industrie", _INDUSTRIE_KEYS, _industrie,
         slides=_INDUSTRIE_KEYS,
         sheets={"industrie": "Industrie", "industrie_etablissements": "Industrie établissements",
                 "industrie_employeurs": "Industrie employeurs", "carte_industrie": "Industrie carte",
                 "industrie_evolution": "Industrie évolution", **flux.SHEETS_INDUSTRIE},
         steps=_INDUSTRIE_KEYS, frozen=("industrie",),
         about="part de l'industrie face aux EPCI et aux références, créations et fermetures d'établissements"),
    Page("filieres", "Filières", ":material/hub:", "filieres", _FILIERES_KEYS, _filieres,
         slides=_FILIERES_KEYS, sheets={"filieres": "Filières", "carte_filieres": "Filières carte",
                                        "filieres_evolution": "Filières évolution", **flux.SHEETS_FILIERES},
         steps=_FILIERES_KEYS, frozen=("filieres",),
         about="les cinq filières stratégiques"),
    Page("foncier", "Foncier économique", ":material/location_city:", "foncier", tuple(foncier.KEYS), foncier.build,
         slides=tuple(foncier.KEYS), sheets=dict(foncier.SHEETS), steps=foncier.STEPS,
         about="sites économiques, foncier disponible, vacance et prix"),
    Page("carte", "Carte", ":material/map:", "carte", (carte.KEY_CARTE,), carte.build, slides=(carte.KEY_CARTE,),
         sheets={"carte": "Carte"}, steps=(carte.KEY_CARTE,),
         about="tout indicateur par EPCI ou par commune"),
    Page("comparer", "Comparer les EPCI", ":material/compare_arrows:", "comparer", _comparer_keys(), comparer.build,
         slides=_comparer_keys(), sheets=_comparer_sheets(), steps=_comparer_keys(),
         frozen=("comparer",),
         about="tableau côte à côte"),
    Page("plan_actions", "Plan d'actions", ":material/checklist:", "plan-actions", tuple(plan.KEYS), _plan,
         slides=tuple(plan.KEYS), sheets=dict(plan.SHEETS), steps=tuple(plan.KEYS), reads_plan=True,
         about="les fiches actions de la candidature et leur avancement"),
    Page("sources", "Sources et méthodes", ":material/menu_book:", "sources", tuple(sources.KEYS), sources.build,
         slides=tuple(sources.KEYS), sheets=dict(sources.SHEETS), steps=sources.STEPS, desk=sources.DESK, reads_plan=True,
         about="provenance, définitions et secret statistique"),
    Page("importer", "Importer des données", ":material/upload_file:", "importer"),
)
BY_KEY = {p.key: p for p in PAGES}
BY_PATH = {p.path: p for p in PAGES}

# The committee deck: pages in this order, each with its own slides (the title first, then what changed since
# the last committee, the figures page by page, the map, foncier, the sources).
DECK_PAGES = ("accueil", "plan_actions", "chiffres_cles", "chiffre_affaires", "industrie", "filieres", "comparer",
              "carte", "foncier", "sources")
DECK: tuple[str, ...] = tuple(k for p in DECK_PAGES for k in BY_KEY[p].slides)
PAGE_OF_SLIDE = {k: p for p in DECK_PAGES for k in BY_KEY[p].slides}
SHEETS = {k: name for p in PAGES for k, name in p.sheets.items()}
ANNEX: tuple[str, ...] = tuple(k for k in DECK if k in SHEETS)   # the annex's sheets, in deck order
# The figures a committee edition freezes (slides of the content layer), in deck order.
FROZEN: tuple[str, ...] = tuple(k for p in DECK_PAGES for k in BY_KEY[p].frozen)


def page(key: str) -> Page:
    return BY_KEY[key]


def slide_button(key: str) -> tuple[str, ...]:
    """The slides of a page's download button: its own, or the whole deck."""
    p = BY_KEY[key]
    return DECK if p.whole_deck else p.slides


def build(ctx: Context, key: str) -> list[Finding]:
    """The findings a page shows (the same objects its slides and annex sheets render), built once per context;
    each carries its annex sheet's name from this registry."""
    memo = ctx._memo.setdefault(("page",), {})
    if key not in memo:
        found = BY_KEY[key].build(ctx)
        for f in found:
            f.sheet_name = SHEETS.get(f.key, f.sheet_name)
        memo[key] = found
    return memo[key]


def deck_figures(snap, ctx: Context | None = None) -> list[dict]:
    """Every figure of the committee deck's data slides (default selection), as shown: rounded, secret cells
    empty with their statut (the secret rules of the read side already applied). What a committee edition
    freezes (suivi.create_edition) and « depuis le dernier comité » compares (suivi.ecarts). `ctx`: a deck's
    Context to share its memoised queries (used only when its selection is the default)."""
    from . import Selection, context

    if ctx is None or ctx.sel != Selection():
        ctx = context(snap, Selection())
    built = []
    for key in FROZEN:   # the figures slides of the deck, in deck order
        with contextlib.suppress(Exception):  # a slide the warehouse cannot fill (no data loaded) freezes nothing
            built += [f for f in build(ctx, PAGE_OF_SLIDE[key]) if f.key == key]
    rows = []
    for s in built:
        t = s.table
        if not len(t) or "indicateur" not in t:
            continue
        for r in t.itertuples():
            secret = r.statut in ("secret", "absent")
            rows.append({"diapo": s.key, "indicateur": str(r.indicateur), "territoire": str(r.territoire),
                         "code": str(r.code), "categorie": str(r.categorie or ""), "annee": int(r.annee),
                         "valeur": None if secret or r.valeur != r.valeur else float(r.valeur), "kind": r.kind,
                         "statut": str(r.statut)})
    seen, out = set(), []
    for r in rows:
        key = (r["diapo"], r["indicateur"], r["code"], r["categorie"])
        if key not in seen:
            seen.add(key)
            out.append(r)
    return out
