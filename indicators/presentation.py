"""Mode présentation: for a projector in committee (1280×720).

One switch kept in the URL (`?presentation=1`): the sidebar, the download widgets and the page widgets are
hidden, type and charts are larger, and the page shows one finding at a time, with « précédent / suivant »
buttons (and the arrow keys) to step through them; the step is in the URL too (`diapo=2`).

The steps of each page are declared in indicators/content/registry.py (`Page.steps`: finding and map keys, in
order). The frame calls `begin(page)` before the page runs and `end()` after it; `ui.show` and `ui.map_block` ask
`visible(key)` whether their block is the current step and `fit(fig)` for the projector's chart size. A page
without steps (Plan d'actions, Sources…) is shown whole.
"""
from __future__ import annotations

import math

import streamlit as st

from .content import registry

PARAM, STEP_PARAM = "presentation", "diapo"
CHART_HEIGHT = 330          # 720 px: the buttons, title, sentence, chart and source line above the fold
FONT_SIZE = 18
LABEL_SIZE = 16             # the smallest chart text (ticks, facet titles, values) on a projector: 14 px at least
TABLE_PX = 230              # a table's height per step (header and rows): a longer table is paged, a page a step
_LINE_PX, _ROW_PAD_PX, _CHARS_PER_LINE = 30, 14, 120   # st.table at 1.15 rem on 1 216 px (measured: 29 px a line)
_PAGES = "_presentation_pages"   # {page: {block key: its number of table pages}}, learnt when the block is drawn
_STATE = "_presentation"
_DRAWN = "_presentation_blocs"   # the block keys this run drew, in order (tests read it)
_NAV = "_presentation_nav"
_PAGE = "_presentation_page"

CSS = """
<style>
[data-testid="stSidebar"], [data-testid="stSidebarCollapsedControl"], [data-testid="stSidebarCollapseButton"],
[data-testid="stExpandSidebarButton"], header[data-testid="stHeader"], [data-testid="stDownloadButton"],
[data-testid="stExpander"], [data-testid="stToolbar"], [data-testid="stMain"] h1,
[data-testid="stMain"] [data-testid="stHorizontalBlock"]:has([data-testid="stRadio"]),
[data-testid="stMain"] [data-testid="stHorizontalBlock"]:has([data-testid="stSelectbox"]),
[data-testid="stMain"] [data-testid="stElementContainer"]:has([data-testid="stMultiSelect"]),
[data-testid="stMain"] [data-testid="stElementContainer"]:has([data-testid="stSelectbox"]),
[data-testid="stMain"] [data-testid="stElementContainer"]:has([data-testid="stRadio"]),
[data-testid="stMain"] [data-testid="stElementContainer"]:has([data-testid="stButton"] [kind="secondary"]):has(.stDownloadButton)
{ display: none !important; }
[data-testid="stMainBlockContainer"], .block-container { padding: 0.6rem 2.2rem 0.4rem 2.2rem !important;
  max-width: 100% !important; }
[data-testid="stMain"] [data-testid="stVerticalBlock"] { gap: 0.6rem !important; }
[data-testid="stMain"] h2, [data-testid="stMain"] h3 { font-size: 1.75rem !important; line-height: 1.2 !important;
  padding-top: 0.2rem !important; }
[data-testid="stMain"] [data-testid="stMarkdownContainer"] p,
[data-testid="stMain"] [data-testid="stMarkdownContainer"] li { font-size: 1.3rem !important; line-height: 1.4 !important; }
[data-testid="stMain"] [data-testid="stCaptionContainer"] p { font-size: 0.95rem !important; }
[data-testid="stMetricValue"] { font-size: 2.4rem !important; }
[data-testid="stMain"] [data-testid="stMetricValue"] [data-testid="stMarkdownContainer"] p,
[data-testid="stMain"] [data-testid="stMetricValue"] div { font-size: 2.4rem !important; line-height: 1.2 !important; }
[data-testid="stMetricLabel"] p { font-size: 1.05rem !important; }
[data-testid="stMain"] [data-testid="stTable"] th, [data-testid="stMain"] [data-testid="stTable"] td {
  font-size: 1.15rem !important; padding: 0.25rem 0.5rem !important; }
/* charts full width: columns holding a chart are stacked, so a column whose block is not the step takes no room */
[data-testid="stMain"] [data-testid="stHorizontalBlock"]:has(.js-plotly-plot) { flex-direction: column !important; }
[data-testid="stMain"] [data-testid="stHorizontalBlock"]:has(.js-plotly-plot) > [data-testid="stColumn"] {
  width: 100% !important; flex: 1 1 100% !important; min-width: 100% !important; }
[data-testid="stMain"] [data-testid="stHorizontalBlock"]:has(.js-plotly-plot) > [data-testid="stColumn"]:not(:has(.js-plotly-plot)) {
  display: none !important; }
</style>
"""

# Every mode: a key figure's label wraps instead of losing its year at 1280 px.
BASE_CSS = """
<style>
[data-testid="stMetricLabel"], [data-testid="stMetricLabel"] * { white-space: normal !important;
  overflow: visible !important; text-overflow: clip !important; }
</style>
"""

KEYS = """
<script>
const doc = window.parent.document;
if (!doc.__tiPresentationKeys) {
  doc.__tiPresentationKeys = true;
  doc.addEventListener("keydown", (e) => {
    const tag = (e.target && e.target.tagName) || "";
    if (["INPUT", "TEXTAREA", "SELECT"].includes(tag)) return;
    const want = {ArrowRight: "Suivant", PageDown: "Suivant", " ": "Suivant", ArrowLeft: "Précédent",
                  PageUp: "Précédent", Escape: "Quitter la présentation"}[e.key];
    if (!want) return;
    const b = [...doc.querySelectorAll("button")].find((x) => x.innerText.trim().endsWith(want));
    if (b && !b.disabled) { e.preventDefault(); b.click(); }
  });
}
</script>
"""


def on() -> bool:
    """Presentation mode: from the URL on a visitor's first run, then from the visitor's state."""
    if _STATE not in st.session_state:
        st.session_state[_STATE] = st.query_params.get(PARAM) == "1"
    return bool(st.session_state[_STATE])


def _set(value: bool) -> None:
    st.session_state[_STATE] = value
    st.session_state.pop(f"_step_{st.session_state.get(_PAGE)}", None)


def toggle() -> None:
    """The switch, in the sidebar."""
    st.toggle("Mode présentation", value=on(), key="_presentation_toggle",
              on_change=lambda: _set(bool(st.session_state["_presentation_toggle"])),
              help="Pour un vidéoprojecteur : sans panneau latéral ni téléchargements, en grand, une "
                   "conclusion à la fois (« Suivant », « Précédent » ou les flèches du clavier).")


def step(page: str) -> int:
    key = f"_step_{page}"
    if key not in st.session_state:
        try:
            st.session_state[key] = max(0, int(st.query_params.get(STEP_PARAM, "1")) - 1)
        except ValueError:
            st.session_state[key] = 0
    return st.session_state[key]


def _steps(page: str) -> tuple[str, ...]:
    return registry.page(page).steps if page in registry.BY_KEY else ()


def _flat(page: str) -> list[tuple[str, int]]:
    """The page's steps as shown: each registry step, as many times as its table has pages."""
    pages = st.session_state.get(_PAGES, {}).get(page, {})
    return [(k, j) for k in _steps(page) for j in range(pages.get(k, 1))]


def _current(page: str) -> tuple[str, int] | None:
    flat = _flat(page)
    return flat[min(step(page), len(flat) - 1)] if flat else None


def _row_px(table) -> list[int]:
    """The height each row of a static table takes once its cells wrap: the columns share the width in
    proportion to their text (a tenth of it at least, two fifths at most)."""
    cells = [[str(i)] + ["" if v is None or v != v else str(v) for v in row]
             for i, row in zip(table.index, table.itertuples(index=False))]
    head = [str(table.index.name or "")] + [str(c) for c in table.columns]
    mean = [max(len(h), sum(len(r[j]) for r in cells) / max(1, len(cells))) for j, h in enumerate(head)]
    share = [min(0.4, max(0.1, m / sum(mean))) for m in mean]
    def px(row):
        return _ROW_PAD_PX + _LINE_PX * max(math.ceil(len(c) / (_CHARS_PER_LINE * w)) or 1 for c, w in zip(row, share))
    return [px(head)] + [px(r) for r in cells]


def _table_pages(table) -> list[tuple[int, int]]:
    """(first, last) rows of each page: as many as TABLE_PX holds under the header, one at least."""
    head, *rows = _row_px(table)
    pages, start, used = [], 0, head
    for i, h in enumerate(rows):
        if i > start and used + h > TABLE_PX:
            pages.append((start, i))
            start, used = i, head
        used += h
    return pages + [(start, len(rows))]


def table_rows(key: str, table):
    """Presentation mode: the rows of the block `key`'s table this step shows (as many as TABLE_PX holds, one
    step per page, « Lignes 1 à 6 sur 10 » above them); out of it, the whole table."""
    if not on():
        return table
    pages = _table_pages(table)
    if len(pages) == 1:
        return table
    page = st.session_state.get(_PAGE, "accueil")
    st.session_state.setdefault(_PAGES, {}).setdefault(page, {})[key] = len(pages)
    cur = _current(page)
    j = cur[1] if cur and cur[0] == key else 0
    first, last = pages[min(j, len(pages) - 1)]
    st.caption(f"Lignes {first + 1} à {last} sur {len(table)} (suite à l'étape suivante)" if last < len(table)
               else f"Lignes {first + 1} à {last} sur {len(table)}")
    return table.iloc[first:last]


def begin(page: str) -> None:
    """Before the page (a registry key) runs: the URL says the mode, the style is set, a place is kept for the
    buttons."""
    st.session_state[_PAGE] = page
    st.session_state[_DRAWN] = []
    st.html(BASE_CSS)
    if not on():
        st.session_state.pop(_NAV, None)
        if PARAM in st.query_params:
            del st.query_params[PARAM]
        if STEP_PARAM in st.query_params:
            del st.query_params[STEP_PARAM]
        return
    st.query_params[PARAM] = "1"
    st.html(CSS)
    cur = _current(page)            # the step's block named in the page (class st-key-presentation-<key>): tests read it
    st.session_state[_NAV] = st.container(key=f"presentation-{cur[0] if cur else 'page'}")


def visible(key: str) -> bool:
    """Whether the page's block `key` is drawn: always out of presentation mode, else when it is the current
    step of the page (every block of a page without steps)."""
    st.session_state.setdefault(_DRAWN, []).append(key)
    if not on():
        return True
    page = st.session_state.get(_PAGE, "accueil")
    if not _steps(page):
        return True
    cur = _current(page)
    return cur is not None and cur[0] == key


def fit(fig) -> None:
    """A chart for the projector: a fixed height and larger type; the type a chart sets for itself (panel
    titles, ticks and values of small multiples: 11 to 14 px) is raised to LABEL_SIZE, never lowered."""
    if not on() or fig is None:
        return
    fig.update_layout(height=CHART_HEIGHT, font_size=FONT_SIZE)

    def _raise(font) -> None:
        if font is not None and (font.size is None or font.size < LABEL_SIZE):
            font.size = LABEL_SIZE
    for a in fig.layout.annotations:
        _raise(a.font)
    fig.for_each_xaxis(lambda ax: _raise(ax.tickfont))
    fig.for_each_yaxis(lambda ax: _raise(ax.tickfont))
    if fig.layout.legend is not None:
        _raise(fig.layout.legend.font)
    for trace in fig.data:
        for name in ("textfont", "insidetextfont", "outsidetextfont"):
            if name in trace:
                _raise(trace[name])


def _move(page: str, by: int, n: int) -> None:
    st.session_state[f"_step_{page}"] = min(max(0, step(page) + by), max(0, n - 1))


def end() -> None:
    """After the page ran: « précédent / suivant » for its blocks, the step in the URL, the keyboard."""
    nav = st.session_state.pop(_NAV, None)
    if nav is None:
        return
    page = st.session_state.get(_PAGE, "accueil")
    n = len(_flat(page))
    i = step(page)
    if n and i >= n:       # a step beyond the page's (a hand-made URL): the last one
        st.session_state[f"_step_{page}"] = i = n - 1
        st.rerun()
    st.query_params[STEP_PARAM] = str(i + 1)
    with nav:
        c1, c2, c3, c4 = st.columns([1.2, 1.2, 1, 2.2], vertical_alignment="center")
        c1.button("Précédent", icon=":material/arrow_back:", disabled=i <= 0, key="_pres_prev",
                  on_click=_move, args=(page, -1, n), width="stretch")
        c2.button("Suivant", icon=":material/arrow_forward:", disabled=i >= n - 1, key="_pres_next",
                  on_click=_move, args=(page, 1, n), width="stretch")
        c3.markdown(f"**{i + 1} / {max(n, 1)}**")
        c4.button("Quitter la présentation", icon=":material/close:", key="_pres_quit", on_click=_set,
                  args=(False,))
    import streamlit.components.v1 as components
    components.html(KEYS, height=0)
