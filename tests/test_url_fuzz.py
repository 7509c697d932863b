"""Untrusted URL parameters: hostile query strings on every page (AppTest and a real browser).

Every value of the query string goes through `ui.url_widget`, which keeps it only if it is one
of the options (codes read from the warehouse's reference tables). The tests check that a page
given hostile values does not fail, falls back to the defaults, and that no hostile value ever
reaches the database: every SQL text and bound parameter of the run is recorded (the real DuckDB
file answers; nothing is mocked) and searched for a marker carried by every hostile value.
A static check completes it: no SQL text in the read side is built from variables.
"""
from __future__ import annotations

import ast
from urllib.parse import urlencode

import pytest
from streamlit.testing.v1 import AppTest

from indicators import db
from indicators.content import registry
from tests.conftest import ROOT

MARK = "ZQX"
HOSTILE = [
    f"05' OR '{MARK}'='{MARK}", f"'; DROP TABLE mart; --{MARK}", MARK + "x" * 10_000, f"Hautes‑Alpes 🏔️\u202e\u200b{MARK}",
    f"../../../etc/passwd{MARK}", f"a\x00b{MARK}", f"<script>alert('{MARK}')</script>", f"{{0}}%s{MARK}",
    f"200067452{MARK}", f"2024{MARK}", "1e308", "-1", "NaN", " 2024", "",
]
SIDEBAR = ["territoire", "annee"]
PAGES = {  # page -> the keys its widgets keep in the URL
    "accueil": [], "chiffres_cles": [], "chiffre_affaires": ["ca_debut"], "industrie": [],
    "filieres": ["definition", "mesure"], "carte": ["indicateur", "classes", "definition_carte"],
    "comparer": ["epci", "refs", "parties"], "plan_actions": ["plan_axe", "plan_statut", "plan_epci", "plan_filiere", "plan_action"],
    "foncier": [], "sources": [], "importer": [],
}
UNKNOWN = ["zz_inconnu", "__proto__", "territoire[]", "<b>"]
URL_PATHS = {p.key: p.path for p in registry.PAGES}


def hostile_params(page: str, shift: int, as_lists: bool) -> dict:
    keys = SIDEBAR + PAGES[page] + UNKNOWN
    params = {}
    for i, key in enumerate(keys):
        value = HOSTILE[(i + shift) % len(HOSTILE)]
        params[key] = [value, HOSTILE[(i + shift + 1) % len(HOSTILE)], value] if as_lists else value
    return params


@pytest.fixture()
def recorded_sql(monkeypatch):
    """Every SQL text and bound parameter the read side sends to DuckDB during the test."""
    seen: list[tuple[str, list]] = []
    real_df, real_rows = db.Snapshot.df, db.Snapshot.rows

    def df(self, sql, params=None):
        seen.append((sql, list(params or [])))
        return real_df(self, sql, params)

    def rows(self, sql, params=None):
        seen.append((sql, list(params or [])))
        return real_rows(self, sql, params)

    monkeypatch.setattr(db.Snapshot, "df", df)
    monkeypatch.setattr(db.Snapshot, "rows", rows)
    return seen


def run_page(page: str, params: dict) -> AppTest:
    at = AppTest.from_file(str(ROOT / "dashboard.py"), default_timeout=120)
    at.query_params.update(params)
    at.run()
    if page != "accueil":
        at.switch_page(registry.page(page).script).run()
    return at


def url_state(at: AppTest, page: str) -> dict:
    return {k: at.session_state[k] for k in SIDEBAR + PAGES[page] if k in at.session_state}


def _mentions_mark(value) -> bool:
    if isinstance(value, (list, tuple)):
        return any(_mentions_mark(v) for v in value)
    return MARK in str(value)


@pytest.mark.parametrize("page", list(PAGES))
def test_hostile_query_strings_fall_back_to_defaults(page, demo_warehouse, use_warehouse, recorded_sql):
    use_warehouse(demo_warehouse)
    clean = run_page(page, {})
    assert not clean.exception, [e.value for e in clean.exception]
    defaults = url_state(clean, page)
    assert defaults["territoire"].startswith("ti-") and defaults["annee"] == "derniere"   # the TI itself
    recorded_sql.clear()
    for shift, as_lists in ((0, False), (7, True)):
        at = run_page(page, hostile_params(page, shift, as_lists))
        assert not at.exception, (shift, [e.value for e in at.exception])
        assert at.title and at.title[0].value, "page sans titre"
        assert url_state(at, page) == defaults, "les valeurs de l'adresse non reconnues sont ignorées"
    assert recorded_sql, "la page lit l'entrepôt"
    leaked = [(sql[:80], params) for sql, params in recorded_sql if MARK in sql or _mentions_mark(params)]
    assert leaked == [], "une valeur de l'adresse a atteint la base"


def test_valid_url_values_are_taken(demo_warehouse, use_warehouse):
    """The fuzz is not vacuous: the same keys with valid codes do select the view."""
    use_warehouse(demo_warehouse)
    at = run_page("filieres", {"territoire": "200067452", "annee": "2022", "definition": "elargi",
                               "mesure": "effectifs_filiere"})
    assert not at.exception
    assert url_state(at, "filieres") == {"territoire": "200067452", "annee": "2022", "definition": "elargi",
                                         "mesure": "effectifs_filiere"}
    at = run_page("comparer", {"epci": ["200067452", "200067825", "nope"], "refs": ["france:FR"]})
    assert at.session_state["epci"] == ["200067452", "200067825"] and at.session_state["refs"] == ["france:FR"]


# --- no SQL built from variables in the read side ---------------------------------------------------

SQL_CALLS = ("df", "rows", "execute", "sql", "query")
ALLOWED = {  # (file, function): why a non-constant SQL text is safe there
    ("indicators/db.py", "_open"): "ATTACH of the warehouse path from the configuration, quotes doubled",
    ("indicators/db.py", "df"): "Snapshot.df forwards the caller's SQL and binds its parameters",
    ("indicators/db.py", "rows"): "Snapshot.rows forwards the caller's SQL and binds its parameters",
    ("indicators/db.py", "arrow_df"): "Snapshot.arrow_df forwards the caller's SQL and binds its parameters",
    ("indicators/query.py", "_reference"): "its callers pass constant SQL; the result is cached per data version",
    # query._Sql composes one statement from fixed fragments and catalogue identifiers; every value
    # (measure, levels, years, territory codes, categories) is a bound $parameter.
    ("indicators/query.py", "get"): "statement composed by query._Sql, values bound",
    # The foncier indicators and site list: fixed SQL fragments chosen by level and measure, values bound.
    ("indicators/foncier_query.py", "get"): "statement composed from the module's fixed fragments, values bound",
    ("indicators/foncier_query.py", "sites"): "statement composed from the module's fixed fragments, values bound",
}


def _assigned(scope, name: str) -> list:
    out = []
    for n in ast.walk(scope):
        if isinstance(n, ast.Assign) and any(isinstance(t, ast.Name) and t.id == name for t in n.targets):
            out.append(n.value)
        elif isinstance(n, (ast.AugAssign, ast.AnnAssign)) and isinstance(n.target, ast.Name) and n.target.id == name \
                and n.value is not None:
            out.append(n.value)
    return out


def _is_module(node, module) -> bool:
    """A name bound by an import (`C.rows(...)` calls a content function, not the database)."""
    return isinstance(node, ast.Name) and any(
        isinstance(n, (ast.Import, ast.ImportFrom)) and any((a.asname or a.name.split(".")[0]) == node.id for a in n.names)
        for n in ast.walk(module))


def _static(node, scope, module, seen=()) -> bool:
    """Text made only of string constants: literals, `+` and f-strings of literals, a constant dict's entry, names bound to those."""
    if isinstance(node, ast.Constant):
        return isinstance(node.value, str)
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        return _static(node.left, scope, module, seen) and _static(node.right, scope, module, seen)
    if isinstance(node, ast.JoinedStr):     # an f-string of constants
        return all(isinstance(v, ast.Constant) or (isinstance(v, ast.FormattedValue) and _static(v.value, scope, module, seen))
                   for v in node.values)
    if isinstance(node, ast.IfExp):
        return _static(node.body, scope, module, seen) and _static(node.orelse, scope, module, seen)
    if isinstance(node, ast.Subscript) and isinstance(node.value, ast.Dict):
        return all(_static(v, scope, module, seen) for v in node.value.values)
    if isinstance(node, ast.Subscript) and isinstance(node.value, ast.Name):   # an entry of a constant dict by name
        dicts = _assigned(module, node.value.id)
        return bool(dicts) and all(isinstance(d, ast.Dict) and all(_static(v, scope, module, seen) for v in d.values)
                                   for d in dicts)
    if isinstance(node, ast.Name) and node.id not in seen:
        values = _assigned(scope, node.id) or _assigned(module, node.id)
        return bool(values) and all(_static(v, scope, module, seen + (node.id,)) for v in values)
    return False


def test_read_side_sql_is_constant_text_with_bound_parameters():
    files = sorted((ROOT / "indicators").rglob("*.py")) + sorted((ROOT / "pages").rglob("*.py")) + [ROOT / "dashboard.py"]
    found, checked = [], 0
    for path in files:
        rel = path.relative_to(ROOT).as_posix()
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for fn in [n for n in ast.walk(tree) if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))]:
            for call in ast.walk(fn):
                if isinstance(call, ast.Call) and isinstance(call.func, ast.Attribute) and call.func.attr in SQL_CALLS \
                        and call.args and not _is_module(call.func.value, tree):
                    checked += 1
                    if not _static(call.args[0], fn, tree) and (rel, fn.name) not in ALLOWED:
                        found.append(f"{rel}:{call.lineno} {ast.unparse(call)[:90]}")
    assert checked > 15
    assert found == [], "SQL construit à partir de variables :\n" + "\n".join(found)


def test_every_url_widget_key_is_fuzzed():
    """A page adding a URL-bound widget must be added to PAGES above (and so to the fuzz)."""
    keys = set()
    for path in [*(ROOT / "pages" / "views").glob("*.py"), ROOT / "indicators" / "ui.py"]:
        for call in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(call, ast.Call) and getattr(call.func, "attr", getattr(call.func, "id", None)) == "url_widget" \
                    and len(call.args) >= 4 and isinstance(call.args[3], ast.Constant):
                keys.add(call.args[3].value)
    assert keys == set(SIDEBAR) | {k for ks in PAGES.values() for k in ks}
    assert set(PAGES) == set(registry.BY_KEY)     # every page of the registry, and no other
    direct = [p.name for p in (ROOT / "pages" / "views").glob("*.py") if "query_params" in p.read_text(encoding="utf-8")]
    assert direct == [], "les pages lisent l'adresse par ui.url_widget seulement"


# --- a real browser ----------------------------------------------------------------------------------

BROWSER_PAGES = ["accueil", "chiffre_affaires", "comparer", "carte", "plan_actions"]   # AppTest above covers every page


@pytest.mark.slow   # real browser
def test_hostile_urls_in_a_real_browser(demo_warehouse):
    """The query string as a browser sends it (percent-encoding, repeated keys) on pages of each widget kind."""
    from tests.browser_support import CHROMIUM, FLAGS, require_browser, server

    require_browser()
    from playwright.sync_api import sync_playwright

    with server(demo_warehouse) as url, sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        try:
            for i, page in enumerate(BROWSER_PAGES):
                params = hostile_params(page, i, as_lists=bool(i % 2))
                params = {k: ([v.replace("\x00", "%00")[:2000] for v in vs] if isinstance(vs, list)
                              else vs.replace("\x00", "%00")[:2000]) for k, vs in params.items()}
                tab = browser.new_page(viewport={"width": 1400, "height": 1000})
                tab.goto(f"{url}/{URL_PATHS[page]}?{urlencode(params, doseq=True)}")
                tab.wait_for_selector("[data-testid='stApp'][data-test-script-state='notRunning']", timeout=90_000)
                tab.wait_for_timeout(300)
                assert tab.locator("[data-testid='stException']").count() == 0, page
                assert tab.locator("h1").first.inner_text().strip(), page
                assert "territoire=ti-" in tab.url and "annee=derniere" in tab.url, (page, tab.url[:200])
                assert MARK not in tab.locator("[data-testid='stSidebar']").inner_text()
                tab.close()
        finally:
            browser.close()
