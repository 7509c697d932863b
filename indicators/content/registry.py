"""The dashboard's pages, declared once.

For each page: its key (the script `pages/views/<key>.py`), French title, icon and URL path, the findings it
shows in order (and the content builder that makes them), its own slides, the annex sheet of each of those
slides and the blocks presentation mode steps through. The navigation (dashboard.py), the deck's order
(export/slides.py), the annex's sheets (export/annex.py), presentation mode, the plan's committee editions
(suivi.py) and the tests read this module; no other list of pages exists.

Slides whose finding is not built by the content layer yet (title, map, sources, « depuis le dernier comité »)
are named here by key; export/slides.py builds them.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

from . import Context, Finding, accueil, chiffre_affaires, chiffres_cles, comparer, filieres, flux, foncier, industrie


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
    whole_deck: bool = False                   # its slide button gives the whole deck (Accueil)
    frozen: tuple[str, ...] = ()               # slides whose figures a committee edition freezes (suivi.py)

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
    return [accueil.intro(ctx), build(ctx, "chiffres_cles")[0]]


def _industrie(ctx: Context) -> list[Finding]:
    """The industry's shares and their change, then the creations and closures of establishments."""
    return [*industrie.build(ctx), flux.industrie(ctx), flux.industrie_taux(ctx)]


def _filieres(ctx: Context) -> list[Finding]:
    return [*filieres.build(ctx), flux.filieres(ctx)]


PAGES: tuple[Page, ...] = (
    Page("accueil", "Accueil", ":material/home:", "", ("accueil", "chiffres_cles"), _accueil,
         slides=("titre",), steps=("chiffres_cles",), whole_deck=True),
    Page("chiffres_cles", "Chiffres clés", ":material/pin:", "chiffres-cles", tuple(chiffres_cles.KEYS),
         chiffres_cles.build, slides=tuple(chiffres_cles.KEYS),
         sheets={"chiffres_cles": "Chiffres clés", "candidature": "Candidature"}, steps=tuple(chiffres_cles.KEYS),
         frozen=("chiffres_cles",)),
    Page("chiffre_affaires", "Chiffre d'affaires", ":material/euro:", "chiffre-affaires",
         tuple(chiffre_affaires.KEYS), chiffre_affaires.build, slides=tuple(chiffre_affaires.KEYS),
         sheets={"ca_croissance": "CA évolution", "ca_taux": "CA taux par secteur", "ca_secteurs": "CA par secteur",
                 "ca_repartition": "CA répartition"},
         steps=tuple(chiffre_affaires.KEYS), frozen=("ca_croissance", "ca_secteurs", "ca_repartition")),
    Page("industrie", "Industrie", ":material/factory:", "industrie", (*industrie.KEYS, *flux.KEYS_INDUSTRIE), _industrie,
         slides=(*industrie.KEYS, *flux.KEYS_INDUSTRIE),
         sheets={"industrie": "Industrie", "industrie_etablissements": "Industrie établissements",
                 "industrie_employeurs": "Industrie employeurs", "industrie_evolution": "Industrie évolution",
                 **flux.SHEETS_INDUSTRIE},
         steps=(*industrie.KEYS[:-1], "carte_industrie", industrie.KEYS[-1], *flux.KEYS_INDUSTRIE), frozen=("industrie",)),
    Page("filieres", "Filières", ":material/hub:", "filieres", (*filieres.KEYS, *flux.KEYS_FILIERES), _filieres,
         slides=(*filieres.KEYS, *flux.KEYS_FILIERES),
         sheets={"filieres": "Filières", "filieres_evolution": "Filières évolution", **flux.SHEETS_FILIERES},
         steps=(filieres.KEYS[0], "carte_filieres", *filieres.KEYS[1:], *flux.KEYS_FILIERES), frozen=("filieres",)),
    Page("foncier", "Foncier économique", ":material/location_city:", "foncier", tuple(foncier.KEYS), foncier.build,
         slides=tuple(foncier.KEYS), sheets=dict(foncier.SHEETS), steps=foncier.STEPS),
    Page("carte", "Carte", ":material/map:", "carte", slides=("carte",), sheets={"carte": "Carte"},
         steps=("carte",)),
    Page("comparer", "Comparer les EPCI", ":material/compare_arrows:", "comparer", _comparer_keys(), comparer.build,
         slides=_comparer_keys(), sheets=_comparer_sheets(), steps=_comparer_keys(),
         frozen=("comparer",)),
    Page("plan_actions", "Plan d'actions", ":material/checklist:", "plan-actions", slides=("depuis_comite",)),
    Page("sources", "Sources et méthodes", ":material/menu_book:", "sources", slides=("sources",),
         sheets={"sources": "Sources"}),
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
