"""Tableau de bord des Territoires d'industrie: the frame around the pages.

Start it with `python dashboard.py [streamlit options]`. Navigation, first-start build of
the warehouse, the shared sidebar (territory, year), then the selected page.
"""
from __future__ import annotations

import sys
from pathlib import Path

import streamlit as st
from streamlit import runtime


def _launch() -> None:
    """Start the Streamlit server on this file.

    With a `pages/` folder next to the entry file, Streamlit runs a fresh server's first
    script in its legacy multipage mode, so a deep link (/industrie) opens with a « Page not
    found » dialog before st.navigation takes over. Declaring the app st.navigation-only
    before the server starts avoids that (`streamlit run dashboard.py` works too, with
    that dialog on the first deep link).
    """
    from streamlit.runtime.pages_manager import PagesManager
    from streamlit.web import cli

    PagesManager.uses_pages_directory = False
    _preload()
    sys.exit(cli.main(["run", __file__, *sys.argv[1:]], standalone_mode=False))


def _preload() -> None:
    """Import the read side (pandas, plotly, shapely, DuckDB: about 1 s) and read the warehouse's reference
    tables (territories, available years: 1 to 2 s on a national warehouse) once, before the server accepts
    its first visitor: the script then runs in this process with these modules and per-version caches warm."""
    try:
        from indicators import catalog, charts, maps, query  # noqa: F401
        from indicators.db import get_warehouse

        snap = get_warehouse().snapshot()
        for niveau in query.NIVEAUX:
            query.territories(snap, niveau)
        for name in catalog.SIDEBAR_YEARS:
            query.years(snap, name)
        # The first visitor's page: the content layer, the export selection's modules (python-pptx) and the
        # home page's findings once, so that DuckDB and the imports are warm (about 1 s of a fresh server's
        # first page otherwise).
        from indicators import presentation, ui  # noqa: F401
        from indicators.content import context, registry
        from indicators.export import slides  # noqa: F401

        registry.build(context(snap), "accueil")
    except Exception:  # no warehouse yet (first start builds it) or unreadable: the pages say so
        pass


if __name__ == "__main__" and not runtime.exists():
    _launch()

st.set_page_config(page_icon=str(Path(__file__).with_name("assets") / "favicon.png"), layout="wide")

from indicators import presentation, ui  # noqa: E402
from indicators.content.registry import BY_PATH, PAGES  # noqa: E402
from indicators.db import WarehouseMissing  # noqa: E402
from indicators.perimeter import OutdatedWarehouse  # noqa: E402

# The navigation, from the one registry of pages (indicators/content/registry.py).
NAVIGATION = [st.Page(p.script, title=p.title, icon=p.icon, **({"url_path": p.path} if p.path else {"default": True}))
              for p in PAGES]


def _first_start() -> None:
    """No warehouse yet (fresh clone): build it from the reference and demo data, visibly."""
    from etl.load import build

    with st.status("Première ouverture : construction de l'entrepôt de données…", expanded=True) as status:
        build(ui.warehouse_path(), demo=True, progress=st.write)
        status.update(label="Entrepôt construit.", state="complete", expanded=False)


page = st.navigation(NAVIGATION)
try:
    ui.begin_run()
except WarehouseMissing:
    _first_start()
    ui.begin_run()
try:
    ui.per()
except OutdatedWarehouse as exc:
    st.error(f"Le tableau de bord ne peut pas lire cet {exc}.")
    st.stop()
ui.sidebar()
presentation.begin(BY_PATH[page.url_path].key)
page.run()
presentation.end()
ui.version_marker(page.url_path)
