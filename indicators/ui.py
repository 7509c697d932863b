"""Streamlit helpers shared by the pages: the only Streamlit module of the read side.

Each script run reads one warehouse snapshot (one data version) taken by the frame,
so every figure of a page comes from the same vintage even if the ETL swaps the file
meanwhile. Query results are cached with that version in the key.
"""
from __future__ import annotations

import html
import os
import re

import pandas as pd
import streamlit as st

from . import charts, format as fmt, maps, markup, perimeter as perimeter_mod, presentation, query
from .catalog import SIDEBAR_YEARS, get as get_indicator
from .content import registry
from .db import Snapshot, get_warehouse
from .export.tables import to_csv_bytes

DEMO_LABEL = "Données de démonstration"
STATUT_LABELS = {"ok": "", "partiel": "partiel", "secret": "s (secret)", "absent": "absent"}
_SNAPSHOT_KEY = "_snapshot"
TABLE_MAX_ROWS = 40             # a finding's table up to this many rows is static (wrapped), a longer one scrolls
_SAID_KEY = "_notes_said"          # the notes already under a block of this run's page
_OUTSIDE_KEY = "_territoire_hors"  # why a shared link's territory is not the one shown
_PENDING_TERRITORY = "_territoire_clique"


# --- data access ---------------------------------------------------------------------------------

@st.cache_resource
def _warehouse_at(path: str | None):
    return get_warehouse(path)


def _warehouse():
    # TI_WAREHOUSE points the app at another warehouse file (tests, a second territory).
    return _warehouse_at(os.environ.get("TI_WAREHOUSE"))


def warehouse_path():
    return _warehouse().path


def begin_run() -> Snapshot:
    """Take the snapshot every query of this script run will read."""
    snap = _warehouse().snapshot()
    st.session_state[_SNAPSHOT_KEY] = snap
    st.session_state[_SAID_KEY] = set()
    return snap


def snapshot() -> Snapshot:
    snap = st.session_state.get(_SNAPSHOT_KEY)
    return snap if snap is not None else begin_run()


@st.cache_data(ttl=3600, max_entries=1024, show_spinner=False)
def _cached_get(version: str, name: str, niveau: str, annee, annees, territoires, definition: str, annee_base) -> pd.DataFrame:
    return query.get(snapshot(), name, niveau=niveau, annee=annee, annees=list(annees) if annees else None,
                     territoires=list(territoires) if territoires else None, definition=definition, annee_base=annee_base)


@st.cache_data(ttl=3600, max_entries=256, show_spinner=False)
def _cached_years(version: str, name: str, niveau: str, definition: str) -> list[int]:
    return query.years(snapshot(), name, niveau, definition)


def years(name: str, niveau: str = "departement", definition: str = "coeur") -> list[int]:
    return _cached_years(snapshot().version, name, niveau, definition)


def get(name: str, niveau: str = "epci", annee: int | None = None, annees: list[int] | None = None,
        territoires: list[str] | None = None, definition: str = "coeur", annee_base: int | None = None) -> pd.DataFrame:
    """query.get, cached; without `territoires`, the territory's perimeter at that level (a national
    warehouse holds 1 253 EPCIs: a page reads only what it shows)."""
    if territoires is None and niveau in query.NIVEAUX:  # (foncier indicators by site: every site of the warehouse)
        territoires = perimeter(niveau)
    return _cached_get(snapshot().version, name, niveau, annee, tuple(annees) if annees else None,
                       tuple(territoires) if territoires else None, definition, annee_base)


@st.cache_data(ttl=3600, max_entries=64, show_spinner=False)
def _cached_territories(version: str, niveau: str, perimetre: bool) -> pd.DataFrame:
    return query.territories(snapshot(), niveau, perimetre=perimetre)


def territories(niveau: str, perimetre: bool = True) -> pd.DataFrame:
    """The territories of a level: the territory's perimeter (default) or every one in the warehouse."""
    return _cached_territories(snapshot().version, niveau, perimetre)


def perimeter(niveau: str) -> list[str]:
    return territories(niveau).code.tolist()


@st.cache_data(ttl=3600, max_entries=64, show_spinner=False)
def _cached_reference(version: str, name: str, filiere: str | None) -> pd.DataFrame:
    return query.reference_table(snapshot(), name, filiere)


def reference_table(name: str, filiere: str | None = None) -> pd.DataFrame:
    return _cached_reference(snapshot().version, name, filiere)


@st.cache_data(ttl=3600, max_entries=8, show_spinner=False)
def _cached_published(version: str) -> pd.DataFrame:
    return query.published(snapshot())


def published() -> pd.DataFrame:
    return _cached_published(snapshot().version)


def _suivi():
    """The plan's read side, imported when a plan is first shown: it reads the ETL's plan store, which a
    visitor's other pages never load."""
    from . import suivi
    return suivi


@st.cache_data(ttl=3600, max_entries=128, show_spinner=False)
def _cached_plan(version: str, axes, statuts, territoire, filiere) -> pd.DataFrame:
    return _suivi().plan_actions(snapshot(), list(axes) if axes else None, list(statuts) if statuts else None,
                              territoire, filiere)


def plan_version() -> str:
    """The data version and the plan store's revision: an edit in the app shows at the next run."""
    return f"{snapshot().version}:{_suivi().revision(snapshot())}"


def plan_actions(axes: list[int] | None = None, statuts: list[str] | None = None, territoire: str | None = None,
                 filiere: str | None = None) -> pd.DataFrame:
    return _cached_plan(plan_version(), tuple(axes) if axes else None, tuple(statuts) if statuts else None,
                        territoire, filiere)


@st.cache_data(ttl=3600, max_entries=8, show_spinner=False)
def _cached_binomes(version: str) -> pd.DataFrame:
    return _suivi().binomes(snapshot())


def plan_binomes() -> pd.DataFrame:
    return _cached_binomes(plan_version())


@st.cache_data(ttl=3600, max_entries=8, show_spinner=False)
def _cached_filieres(version: str) -> dict[str, str]:
    return dict(query.categories(snapshot(), "filiere_coeur")[["groupe_code", "libelle"]].itertuples(index=False))


def categories_filieres() -> dict[str, str]:
    """Filière code -> label, in the candidature's order."""
    return _cached_filieres(snapshot().version)


# --- shared state: territory and year, in the URL --------------------------------------------------

def per() -> perimeter_mod.Perimeter:
    """The territory the warehouse serves (its TI, members, references, neighbours)."""
    return perimeter_mod.load(snapshot())


def epci_order() -> list[str]:
    return territories("epci").code.tolist()


def colours() -> dict[str, str]:
    cols = charts.epci_colours(epci_order())
    for t in per().references:
        cols.setdefault(t.code, charts.REFERENCE_COLOURS[t.niveau])
    if per().ti:
        cols[per().ti.code] = charts.REFERENCE_COLOURS.get("ti", charts.REFERENCE_COLOURS["departement"])
    return cols


def url_widget(widget, label: str, options: list, key: str, default=None, format_func=str, multi: bool = False, **kw):
    """A selectbox/radio/multiselect whose value lives in the URL as stable codes (not labels).

    On the first run of a session the value comes from the query string, validated against
    the options (anything else is ignored); afterwards the widget's value is written back.
    """
    by_text = {str(o): o for o in options}
    if key not in st.session_state:
        if multi:
            wanted = list(dict.fromkeys(by_text[v] for v in st.query_params.get_all(key) if v in by_text))
            st.session_state[key] = wanted[:kw.get("max_selections") or len(wanted)] or list(default if default is not None else [])
        else:
            v = st.query_params.get(key)
            st.session_state[key] = by_text[v] if v in by_text else (default if default is not None else options[0])
    elif (st.session_state[key] not in options) if not multi else not set(st.session_state[key]) <= set(options):
        st.session_state[key] = default if default is not None else (options[0] if not multi else [])
    value = widget(label, options, format_func=format_func, key=key, **kw)
    if multi:
        st.query_params[key] = [str(v) for v in value]
    else:
        st.query_params[key] = str(value)
    return value


def _outside_notice(p, code: str) -> str:
    """Why a link's territory is not shown: a neighbour EPCI is named with its own TI (never the raw value: the
    URL is anyone's)."""
    there = {t.code: t for t in p.neighbours}
    whole = f"la page montre le {p.name} entier"
    if code not in there:
        return f"Le lien désigne un territoire qui n'est pas dans ce tableau de bord : {whole}."
    tis = {t.code: t.nom_court for t in p.other_tis}
    own = [tis[c] for c in query.ti_of_epci(snapshot(), code) if c in tis]
    who = there[code].nom_court + (f" ({own[0]})" if own else "")
    return fmt.typeset(f"{who} n'est pas membre du {p.name} : {whole}. Pour le comparer aux EPCI du territoire, "
                       "ajoutez-le dans la page Comparer les EPCI.")


def sidebar() -> None:
    """Territory and year, drawn before the page runs; bound to the query string (stable codes)."""
    p = per()
    options = [p.ti.code] + [t.code for t in p.members]
    # « TI Hautes-Alpes (8 EPCI) »: short enough for the sidebar's box.
    names = {p.ti.code: f"{p.ti.nom_court} ({len(p.members)} EPCI)", **{t.code: t.nom_court for t in p.members}}
    pending = st.session_state.pop(_PENDING_TERRITORY, None)   # an EPCI clicked on a map
    if pending in options:
        st.session_state["territoire"] = pending
    asked = st.query_params.get("territoire")
    if "territoire" not in st.session_state and asked and asked not in options:   # a shared link, said, not rewritten silently
        st.session_state[_OUTSIDE_KEY] = _outside_notice(p, asked)
    if st.session_state.get(_OUTSIDE_KEY) and st.session_state.get("territoire", p.ti.code) == p.ti.code:
        st.warning(st.session_state[_OUTSIDE_KEY])      # until the visitor chooses a territory
    else:
        st.session_state.pop(_OUTSIDE_KEY, None)
    with st.sidebar:
        st.markdown(f"### {p.name}")
        n = len(p.members)
        url_widget(st.selectbox, "Territoire", options, "territoire", format_func=lambda c: names.get(c, c),
                   help=f"Le Territoire d'industrie dans son ensemble ou l'une de ses {n} intercommunalités (EPCI) ; "
                        f"références : {', '.join(t.nom for t in p.references)}")
        all_years = sorted({y for name in SIDEBAR_YEARS for y in years(name)}, reverse=True)
        url_widget(st.selectbox, "Année", ["derniere"] + [str(y) for y in all_years], "annee",
                   format_func=lambda y: "Dernière disponible" if y == "derniere" else y,
                   help="Chaque indicateur est montré pour cette année ou, à défaut, pour sa dernière année "
                        "disponible avant elle.")
        st.caption(f"Données chargées le {fmt.french_date(_built_at())}")
        presentation.toggle()
        export_buttons()


def version_marker(page: str) -> None:
    """The data version this run read, invisible, for support and the concurrency test."""
    st.html(f'<div data-testid="ti-version" data-page="{html.escape(page or "accueil")}" '
            f'data-version="{html.escape(snapshot().version)}" hidden></div>')


def _built_at():
    return query.built_at(snapshot())


def territory() -> tuple[str, str]:
    """(niveau, code) of the sidebar territory: the TI itself by default, or one of its EPCI."""
    ti = per().ti.code
    code = st.session_state.get("territoire") or ti
    return ("ti", ti) if code == ti else ("epci", code)


def territory_name(code: str) -> str:
    p = per()
    if p.ti and code == p.ti.code:
        return p.name
    for t in (*p.members, *p.neighbours, *p.references, *p.other_tis):
        if t.code == code:
            return t.nom_court
    t = territories("epci", perimetre=False)
    row = t[t.code == code]
    return row.nom_court.iat[0] if len(row) else code


# --- blocks ----------------------------------------------------------------------------------------

def demo_note(df: pd.DataFrame) -> str:
    return f" · **{DEMO_LABEL}**" if "demo" in df and df.demo.any() else ""


def display_table(df: pd.DataFrame, name: str) -> pd.DataFrame:
    """The table behind a chart, as people read it: French formats, 's' for secret."""
    ind = get_indicator(name)
    out = pd.DataFrame({"Territoire": df.get("nom_court", df.nom)})
    if "annee" in df:
        out["Année"] = df.annee.astype("Int64").astype(str)
    if ind.dimension and ind.dimension in df:
        out[ind.dimension.capitalize()] = df[ind.dimension]
    out["Valeur"] = [fmt.value(v, ind.unite, s) for v, s in zip(df.valeur, df.statut)]
    out["Statut"] = df.statut.map(STATUT_LABELS)
    out["Note"] = df.note.fillna("")
    return out


def _file_name(title: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", title.lower().encode("ascii", "ignore").decode()).strip("_")[:60] or "tableau"


def metric(label: str, value: str, help_text: str, demo: bool, delta: str | None = None) -> None:
    st.metric(label, value, delta=delta, help=help_text, delta_color="off")
    if demo:
        st.caption(DEMO_LABEL)


# --- committee exports: built on click (st.download_button with a callable) ----------------------------

PPTX_MIME = "application/vnd.openxmlformats-officedocument.presentationml.presentation"
XLSX_MIME = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def export_selection(page: str | None = None):
    """The current selection, as the page, its slide button and the exports see it: sidebar territory and
    year, the Comparer page's EPCIs, the Filières page's measure and definition, the Chiffre d'affaires page's
    base year (a widget bound to the URL). Only the sidebar chooses the year: the Context resolves it."""
    from .export.slides import FILIERE_MEASURES, Selection

    _, code = territory()
    known = set(territories("epci", perimetre=False).code)   # Comparer may add EPCIs outside the perimeter
    chosen = [c for c in (st.session_state.get("epci") or []) if c in known]
    annee = st.session_state.get("annee")
    annee = int(annee) if annee and annee != "derniere" else None
    annee_base = st.session_state.get("ca_debut") if page == "chiffre_affaires" else None
    mesure = st.session_state.get("mesure")
    refs = st.session_state.get("refs")
    plan_view = None
    if page == "plan_actions":     # the Plan d'actions page's filters and chosen action (content/plan.py View)
        from .content.plan import View

        axes, statuts = st.session_state.get("plan_axe") or [], st.session_state.get("plan_statut") or []
        epci_f, fil = st.session_state.get("plan_epci"), st.session_state.get("plan_filiere")
        plan_view = View(tuple(int(a) for a in axes) or None, tuple(statuts) or None,
                         None if epci_f in (None, "tous") else epci_f, None if fil in (None, "tous") else fil,
                         st.session_state.get("plan_action"))
    return Selection(epcis=tuple(chosen) if len(chosen) >= 1 else None, annee=annee, focus=code,
                     annee_base=int(annee_base) if annee_base else None,
                     filiere_mesure=mesure if mesure in FILIERE_MEASURES else "etablissements_filiere",
                     definition=st.session_state.get("definition") or "coeur",
                     refs=tuple(refs) if refs is not None else None,
                     parties=page == "comparer" and st.session_state.get("parties") == "1",
                     **_map_choice(), plan=plan_view)


def _map_choice() -> dict:
    """The map widgets' values (Carte page, Filières map), for the map findings of indicators/content/carte.py."""
    from .catalog import CATALOG

    name = st.session_state.get("indicateur")
    return dict(carte=name if name in CATALOG else None, carte_niveau=st.session_state.get("carte_niveau") or "epci",
                carte_categorie=st.session_state.get("carte_cat"), carte_methode=st.session_state.get("classes"),
                carte_definition=st.session_state.get("definition_carte") or "coeur",
                filiere_categorie=st.session_state.get("carte_filieres_cat"))


def _template():
    """The agency's PowerPoint template, when TI_DECK_TEMPLATE names one."""
    path = os.environ.get("TI_DECK_TEMPLATE")
    return path if path and os.path.isfile(path) else None


def _deck_builder(selection, keys):
    path = warehouse_path()

    def build() -> bytes:      # runs on click, in another thread: its own snapshot, no Streamlit call
        from .export.deck import build_deck
        return build_deck(get_warehouse(path).snapshot(), selection, template=_template(), keys=keys)
    return build


def _annex_builder(selection):
    path = warehouse_path()

    def build() -> bytes:
        from .export.annex import build_annex
        return build_annex(get_warehouse(path).snapshot(), selection)
    return build


def slide_button(page: str) -> None:
    """One button per page: that page's slide(s) as a PowerPoint with native, editable charts."""
    st.download_button("Diapositive PowerPoint de cette page",
                       data=_deck_builder(export_selection(page), list(registry.slide_button(page))),
                       file_name=f"{_file_name(per().name)}_{page}.pptx", mime=PPTX_MIME, key=f"pptx_{page}",
                       icon=":material/slideshow:", on_click="ignore",
                       help="Graphiques PowerPoint modifiables (clic droit, « Modifier les données »), titre, phrase, "
                            "source et millésime, secret statistique.")


def export_buttons() -> None:
    """The whole deck and its annex for the current selection (drawn in the sidebar)."""
    sel = export_selection()
    st.download_button("Présentation du comité (PowerPoint)", data=_deck_builder(sel, None),
                       file_name=f"{_file_name(per().name)}_comite.pptx", mime=PPTX_MIME, key="pptx_deck",
                       icon=":material/slideshow:", on_click="ignore", width="stretch",
                       help="Toutes les diapositives pour la sélection en cours (territoire, année, EPCI de la page "
                            "Comparer) ; graphiques natifs modifiables.")
    st.download_button("Annexe chiffrée (Excel)", data=_annex_builder(sel),
                       file_name=f"{_file_name(per().name)}_annexe.xlsx", mime=XLSX_MIME, key="xlsx_annex",
                       icon=":material/table_view:", on_click="ignore", width="stretch",
                       help="Une feuille par diapositive avec exactement ses chiffres, et les sources.")

# --- maps ------------------------------------------------------------------------------------------

# A resource, not data: unpickling a plotly figure re-validates it (100 to 250 ms a map on every run);
# the figure is never modified after (presentation mode draws a copy).
@st.cache_resource(ttl=3600, max_entries=64, show_spinner=False)
def _cached_map(version: str, spec: tuple):
    return maps.finding_figure(snapshot(), dict(spec))


def _map(f, key: str) -> None:
    """A map finding (indicators/content/carte.py): title, sentence, the category to map (sectors, filières),
    the map, source and notes, the table; clicking an EPCI selects it in the sidebar."""
    st.subheader(f.titre)
    if f.phrase:
        st.markdown(f.phrase.replace("$", "\\$"))
    spec = f.extra["carte"]
    cats = dict(f.extra.get("categories") or [])
    if cats:
        codes = list(cats)
        st.selectbox("Filière" if "filiere" in spec["name"] else "Catégorie", codes, key=f"{key}_cat",
                     index=codes.index(spec["categorie"]) if spec["categorie"] in codes else 0, format_func=cats.get)
    try:
        fig, df = _cached_map(snapshot().version, tuple(sorted(spec.items())))
    except maps.MapUnavailable as exc:
        st.warning(f"Carte indisponible : {exc}.")
        return
    present = presentation.on()
    if present:
        fig = maps.present(fig, *maps.PRESENTATION_SIZE, font=maps.PRESENTATION_FONT, legend=maps.PRESENTATION_LEGEND)
    event = st.plotly_chart(fig, key=f"map_{key}", on_select="rerun", selection_mode="points",
                            config=maps.PLOTLY_CONFIG, theme=None)
    _select_from_map(event, key)
    missing = maps.missing_sentence(snapshot())
    st.caption(_finding_caption(f) + (f" {missing}" if missing else "")
               + ("" if present else " Cliquer sur un territoire le choisit pour les autres pages (EPCI de la commune)."))
    with st.expander("Tableau et téléchargement"):
        table = display_table(df, spec["name"])
        if spec["niveau"] == "commune":
            table.insert(1, "EPCI", df.epci_nom.to_numpy())
        table["Classe"] = df.classe.to_numpy()
        st.dataframe(table, hide_index=True)
        st.download_button("Télécharger le tableau (CSV)", data=lambda table=table: to_csv_bytes(table),
                           file_name=f"{_file_name(f.titre)}.csv", mime="text/csv", key=f"csv_{key}", on_click="ignore")


def _select_from_map(event, key: str) -> None:
    """A click on a territory selects its EPCI for every page (applied by the sidebar on the next run)."""
    points = (getattr(event, "selection", None) or {}).get("points", []) if event else []
    clicked = [p.get("customdata") for p in points if p.get("customdata")]
    clicked = [c[0] if isinstance(c, (list, tuple)) else c for c in clicked]
    handled_key = f"_{key}_selection_traitee"
    if not clicked or clicked == st.session_state.get(handled_key):
        return
    st.session_state[handled_key] = clicked
    if clicked[0] != st.session_state.get("territoire"):
        st.session_state[_PENDING_TERRITORY] = clicked[0]
        st.rerun()


# --- foncier économique (CNIG inventories of economic zones) ---------------------------------------

@st.cache_data(ttl=3600, max_entries=64, show_spinner=False)
def _cached_sites(version: str, territoires, niveau: str) -> pd.DataFrame:
    from . import foncier_query
    return foncier_query.sites(snapshot(), list(territoires) if territoires is not None else None, niveau)


def foncier_sites(territoires: list[str] | None = None, niveau: str = "epci") -> pd.DataFrame:
    """The inventory's sites of those territories (default: the perimeter's EPCIs), one row each."""
    if territoires is None:
        territoires = perimeter("epci")
    return _cached_sites(snapshot().version, tuple(territoires), niveau)


# --- findings (indicators/content): one object, rendered here, on the slide and in the annex -----------

@st.cache_data(ttl=3600, max_entries=256, show_spinner=False)
def _cached_findings(version: str, selection, page: str) -> list:
    from .content import context

    return registry.build(context(snapshot(), selection), page)


def findings(page: str) -> list:
    """The findings of a page for the current selection (sidebar territory and year, page widgets); a page
    reading the plan store is cached by its revision too (an edit shows at the next run)."""
    version = plan_version() if registry.page(page).reads_plan else snapshot().version
    return _cached_findings(version, export_selection(page), page)


def presenting() -> bool:
    """Presentation mode: a page leaves out what is not a finding (edit forms, help for the staff)."""
    return presentation.on()


_CONTEXT_KEY = "_context"


def content_context(page: str | None = None):
    """The Context of this run for the current selection: built once per snapshot and selection, so that
    every block of a page (findings, map, slide button) reads the same resolved years."""
    from .content import context

    snap, sel = snapshot(), export_selection(page)
    held = st.session_state.get(_CONTEXT_KEY)
    if held is None or held[0] is not snap or held[1] != sel:
        held = (snap, sel, context(snap, sel))
        st.session_state[_CONTEXT_KEY] = held
    return held[2]


def _finding_caption(f) -> str:
    parts = [f.source] if f.source else []
    # A note already under a block of this page (« Références non calculées … ») is not repeated under the next
    # one; a slide, alone, keeps all its notes.
    said = st.session_state.setdefault(_SAID_KEY, set())
    parts += [n for n in f.notes if n not in said]
    said.update(f.notes)
    if f.definition and not presentation.on():      # the projector: source and notes; definitions at the desk
        parts.append(f.definition)
    text = " ".join(p if p.endswith(".") else p + "." for p in parts)
    if f.extra.get("escape"):       # people's text in it (the plan): shown as text, never as Markdown
        text = markup.escape(text)
    return text + (f" · **{DEMO_LABEL}**" if f.demo else "")


def _figures(f) -> None:
    from .content import shown
    t = f.table
    figs = t[t.usage == "chiffre"]
    shares = f.extra.get("shares", {})
    cols = st.columns(4)
    for i, r in enumerate(figs.itertuples()):
        with cols[i % 4]:
            year = "" if pd.isna(r.annee) else (f" ({int(r.annee_base)} → {int(r.annee)})" if pd.notna(r.annee_base)
                                                 else f" ({int(r.annee)})")
            st.metric(f"{r.indicateur}{year}", shown(r.valeur, r.kind, r.statut), help=(r.note or None),
                      delta_color="off")
            if r.indicateur in shares:
                st.caption(f"{fmt.percent(shares[r.indicateur], 0)} {f.extra.get('home') or 'de la référence'}")
            elif r.statut == "absent" and r.note:
                st.caption(r.note)


@st.cache_resource(ttl=3600, max_entries=512, show_spinner=False)
def _cached_figure(fingerprint, _f, present: bool):
    fig = charts.figure(_f)
    if present:
        presentation.fit(fig)
    return fig


def _figure(f):
    """A finding's figure, built once per content (building a plotly figure takes 10 to 60 ms): the cache
    key is what the figure is drawn from (its rows, its spec, the highlighted territory)."""
    if f.spec is None:
        return None
    rows_hash = int(pd.util.hash_pandas_object(f.table, index=False).sum()) if len(f.table) else 0
    fingerprint = (f.key, repr(f.spec), str(f.extra.get("highlight")), rows_hash, tuple(f.table.columns))
    return _cached_figure(fingerprint, f, presentation.on())


def show(f, key: str | None = None) -> None:
    """A finding as a page block: title, sentence, chart (or figures, or table), source line and notes,
    the table behind it with a CSV download."""
    from .content import people_table, screen_table

    if not presentation.visible(f.key):     # presentation mode: one finding at a time (registry steps)
        return
    key = key or f.key
    if f.chart == "carte":
        return _map(f, key)
    esc = bool(f.extra.get("escape"))      # people's text in it (the plan): shown as text, never as Markdown
    st.subheader(markup.escape(f.titre) if esc else f.titre)
    if f.key == "chiffres_cles" or f.extra.get("figures"):     # key figures as tiles
        _figures(f)
    if f.phrase:
        st.markdown(markup.escape(f.phrase) if esc else f.phrase.replace("$", "\\$"))
    fig = _figure(f)
    if fig is not None:     # theme=None: the fonts and sizes of indicators/charts.py, as on the slide
        st.plotly_chart(fig, key=f"fig_{key}", config={"displaylogo": False, "locale": "fr"}, theme=None)
    for heading, sentence, table in (() if presentation.on() else f.extra.get("sections", ())):   # the plan's axes
        st.markdown(f"#### {markup.escape(heading)}")
        st.markdown(markup.escape(sentence))
        st.table(markup.table(table))
    if "display" in f.extra and ("sections" not in f.extra or presentation.on()):   # projected: one table, paged
        disp = presentation.table_rows(f.key, f.extra["display"])    # projected: a page of rows per step
        static = bool(f.extra.get("static"))      # every row in view, reasons wrapped (the candidature)
        if (presentation.on() or static) and disp.index.name is None:   # a static table, wrapped
            disp = disp.set_index(disp.columns[0])
        bold = f.extra.get("bold_rows") or ()
        if bold:      # the rows the sentence points at (« écart non expliqué »)
            disp = disp.style.apply(lambda row: ["font-weight: bold" if row.name in bold else "" for _ in row], axis=1)
        mark = f.extra.get("highlight")
        if mark is not None and mark in disp.index:     # the chosen territory stands out, as in the charts
            disp = disp.style.apply(lambda row: ["font-weight: bold; background-color: #e6e3f3" if row.name == mark
                                                 else "" for _ in row], axis=1)
        if f.extra["display"].index.name is None and not presentation.on() and not static:
            st.dataframe(disp, width="stretch", hide_index=True)
        else:           # a static table wraps its headers: every column in view, no sideways scrolling
            st.table(markup.table(disp) if esc else disp)
    if f.source or f.notes:
        st.caption(_finding_caption(f))
    for label, table in (() if presentation.on() else f.extra.get("more", ())):   # more reference tables (Sources)
        if label:
            label = fmt.typeset(label)
            st.markdown(f"**{label}**" if len(label) < 90 else label)
        st.dataframe(table, hide_index=True)
    if len(f.table) and "indicateur" not in f.table and "display" not in f.extra:   # a reference table (Sources)
        st.dataframe(f.table, hide_index=True, width="stretch")
    elif len(f.table) and "indicateur" in f.table:
        with st.expander("Tableau et téléchargement"):
            people = people_table(f.table)
            screen = screen_table(f.table)      # French text as the chart labels it
            if len(screen) <= TABLE_MAX_ROWS:   # every row and every word in view: a static table wraps its cells
                st.table(markup.table(screen.set_index(screen.columns[0])))
            else:
                st.dataframe(screen, hide_index=True)
            # The CSV is built on click, not on every run of the page.
            st.download_button("Télécharger le tableau (CSV)", data=lambda people=people: to_csv_bytes(people),
                               file_name=f"{_file_name(f.titre)}.csv", mime="text/csv", key=f"csv_{key}",
                               on_click="ignore")
