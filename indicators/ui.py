"""Streamlit helpers shared by the pages: the only Streamlit module of the read side.

Each script run reads one warehouse snapshot (one data version) taken by the frame,
so every figure of a page comes from the same vintage even if the ETL swaps the file
meanwhile. Query results are cached with that version in the key.
"""
from __future__ import annotations

import os
import re

import pandas as pd
import streamlit as st

from . import charts, format as fmt, query
from .catalog import get as get_indicator
from .db import Snapshot, get_warehouse
from .export.tables import to_csv_bytes

DEMO_LABEL = "Données de démonstration"
STATUT_LABELS = {"ok": "", "partiel": "partiel", "secret": "s (secret)", "absent": "absent"}
_SNAPSHOT_KEY = "_snapshot"


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


def year_for(name: str, niveau: str = "departement", definition: str = "coeur") -> int | None:
    """The sidebar year if the indicator has it, else its latest year before it (or its latest)."""
    ys = years(name, niveau, definition) or years(name, "departement", definition)
    if not ys:
        return None
    chosen = st.session_state.get("annee")
    if chosen and chosen != "derniere":
        before = [y for y in ys if y <= int(chosen)]
        return before[-1] if before else ys[0]
    return ys[-1]


def get(name: str, niveau: str = "epci", annee: int | None = None, annees: list[int] | None = None,
        territoires: list[str] | None = None, definition: str = "coeur", annee_base: int | None = None) -> pd.DataFrame:
    return _cached_get(snapshot().version, name, niveau, annee, tuple(annees) if annees else None,
                       tuple(territoires) if territoires else None, definition, annee_base)


@st.cache_data(ttl=3600, max_entries=64, show_spinner=False)
def _cached_territories(version: str, niveau: str) -> pd.DataFrame:
    return query.territories(snapshot(), niveau)


def territories(niveau: str) -> pd.DataFrame:
    return _cached_territories(snapshot().version, niveau)


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


# --- shared state: territory and year, in the URL --------------------------------------------------

def epci_order() -> list[str]:
    return territories("epci").code.tolist()


def colours() -> dict[str, str]:
    cols = charts.epci_colours(epci_order())
    cols.update({"05": charts.REFERENCE_COLOURS["departement"], "93": charts.REFERENCE_COLOURS["region"],
                 "FR": charts.REFERENCE_COLOURS["france"]})
    return cols


def url_widget(widget, label: str, options: list, key: str, default=None, format_func=str, multi: bool = False, **kw):
    """A selectbox/radio/multiselect whose value lives in the URL as stable codes (not labels).

    On the first run of a session the value comes from the query string, validated against
    the options (anything else is ignored); afterwards the widget's value is written back.
    """
    by_text = {str(o): o for o in options}
    if key not in st.session_state:
        if multi:
            wanted = [by_text[v] for v in st.query_params.get_all(key) if v in by_text]
            st.session_state[key] = wanted or list(default if default is not None else [])
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


def sidebar() -> None:
    """Territory and year, drawn before the page runs; bound to the query string (stable codes)."""
    epci = territories("epci")
    options = ["05"] + epci.code.tolist()
    names = {"05": "Hautes-Alpes (département)", **dict(zip(epci.code, epci.nom_court))}
    with st.sidebar:
        st.markdown("### Territoire d'industrie Hautes-Alpes")
        url_widget(st.selectbox, "Territoire", options, "territoire", format_func=lambda c: names.get(c, c),
                   help="Le département ou l'une de ses 9 intercommunalités (EPCI)")
        all_years = sorted(set(years("population")) | set(years("ca_total")) | set(years("effectifs_secteur")), reverse=True)
        url_widget(st.selectbox, "Année", ["derniere"] + [str(y) for y in all_years], "annee",
                   format_func=lambda y: "Dernière disponible" if y == "derniere" else y,
                   help="Chaque indicateur est montré pour cette année ou, à défaut, pour sa dernière année "
                        "disponible avant elle.")
        st.caption(f"Entrepôt du {fmt.french_date(_built_at())}")


def _built_at():
    return query.built_at(snapshot())


def territory() -> tuple[str, str]:
    """(niveau, code) of the sidebar territory."""
    code = st.session_state.get("territoire") or "05"
    return ("departement", "05") if code == "05" else ("epci", code)


def territory_name(code: str) -> str:
    if code == "05":
        return "Hautes-Alpes"
    t = territories("epci")
    row = t[t.code == code]
    return row.nom_court.iat[0] if len(row) else code


# --- blocks ----------------------------------------------------------------------------------------

def demo_note(df: pd.DataFrame) -> str:
    return f" · **{DEMO_LABEL}**" if "demo" in df and df.demo.any() else ""


def caption(df: pd.DataFrame, name: str) -> str:
    ind = get_indicator(name)
    sources = sorted({s for s in df.source.dropna() if s})
    years_ = sorted({int(a) for a in df.annee.dropna()})
    vint = f"{years_[0]}" if len(years_) == 1 else (f"{years_[0]}–{years_[-1]}" if years_ else "")
    text = f"Source : {' ; '.join(sources) or 'aucune donnée chargée'}"
    text += f" — année {vint}." if vint else "."
    text += f" {ind.definition}"
    notes = sorted({n for n in df.note.dropna() if n})
    if notes:
        text += " — " + " ; ".join(notes) + "."
    return text + demo_note(df)


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


def chart_block(title: str, sentence: str, fig, df: pd.DataFrame, name: str, key: str) -> None:
    """Finding-style title, generated sentence, chart, source line, table + CSV download."""
    st.subheader(title)
    st.markdown(sentence)
    st.plotly_chart(fig, key=f"fig_{key}", config={"displaylogo": False, "locale": "fr"})
    st.caption(caption(df, name))
    with st.expander("Tableau et téléchargement"):
        st.dataframe(display_table(df, name), hide_index=True)
        st.download_button("Télécharger le tableau (CSV)", data=to_csv_bytes(df), file_name=f"{_file_name(title)}.csv",
                           mime="text/csv", key=f"csv_{key}")


def missing(name: str) -> None:
    ind = get_indicator(name)
    st.info(f"**{ind.titre}** : aucune donnée dans l'entrepôt. Chargez {ind.source_hint} "
            "(commande « python -m etl load FICHIER »).")


def metric(label: str, value: str, help_text: str, demo: bool, delta: str | None = None) -> None:
    st.metric(label, value, delta=delta, help=help_text, delta_color="off")
    if demo:
        st.caption(DEMO_LABEL)
