"""Read-side benchmark on a warehouse (the national one of bench/run.py, or any other).

    python bench/read.py --warehouse PATH [--runs 50] [--page-runs 5] [--no-browser] [--no-deck]

- every query a page runs, at EPCI level over the whole warehouse (no territory filter), `runs`
  times: `query.get` for each catalogue indicator, and the other query functions pages call;
  the first (cold) run is reported apart, p50 and p95 are over all runs;
- the first call of a turnover query in a new process (`cold`: the secondary secret of the groups it
  needs is computed then), for the territory's EPCIs and over the whole warehouse;
- every page's full server-side run (AppTest, `TI_WAREHOUSE` pointing at the warehouse): p50 / p95
  of `page_runs` runs (the first one cold, in a new AppTest each time; `--page-runs 0` skips them);
- each page in a real browser (Playwright + Chromium) on a fresh server: from navigation to the
  page's URL to the app's « script not running » state;
- the Streamlit server's peak resident memory (VmHWM) after visiting every page in a browser;
- the committee deck for 9 EPCIs (`indicators.export.deck.build_deck`): median of 3 and the cold run.
"""
from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import socket
import statistics
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

PORT = 8690
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]


def pages() -> list[tuple[str, str]]:
    """(script, url path) of every page registered in dashboard.py, in menu order."""
    text = (ROOT / "dashboard.py").read_text(encoding="utf-8")
    out = []
    for m in re.finditer(r'st\.Page\("(pages/views/\w+\.py)"([^)]*)\)', text):
        url = re.search(r'url_path="([^"]+)"', m.group(2))
        out.append((m.group(1), url.group(1) if url else ""))
    return out


def _pct(xs: list[float], q: float) -> float:
    xs = sorted(xs)
    if len(xs) == 1:
        return xs[0]
    k = (len(xs) - 1) * q
    lo, hi = int(k), min(int(k) + 1, len(xs) - 1)
    return xs[lo] + (xs[hi] - xs[lo]) * (k - lo)


def _stats_ms(times: list[float]) -> dict:
    return {"first_ms": round(times[0] * 1000, 1), "p50_ms": round(_pct(times, 0.5) * 1000, 1),
            "p95_ms": round(_pct(times, 0.95) * 1000, 1), "runs": len(times)}


def _epcis_of(snap, departement: str = "05", n: int = 9) -> list[str]:
    rows = snap.rows("""SELECT DISTINCT e.code FROM ref_appartenance e JOIN ref_appartenance d USING (commune)
                        WHERE e.niveau = 'epci' AND d.niveau = 'departement' AND d.code = ? ORDER BY 1""", [departement])
    codes = [r[0] for r in rows]
    if len(codes) < n:  # complete with other EPCIs
        codes += [r[0] for r in snap.rows("SELECT code FROM ref_territoires WHERE niveau = 'epci' ORDER BY code LIMIT ?",
                                          [n + len(codes)]) if r[0] not in codes]
    return codes[:n]


def query_timings(warehouse: Path, runs: int = 50) -> dict:
    """Every catalogue indicator at EPCI level over the whole warehouse, and the other page queries."""
    from indicators import query, suivi
    from indicators.catalog import CATALOG
    from indicators.db import get_warehouse

    wh = get_warehouse(warehouse)
    calls = {f"get:{name}": (lambda s, n=name: query.get(s, n, niveau="epci")) for name in CATALOG}
    for name, ind in CATALOG.items():
        if ind.groupement == "filiere":
            calls[f"get:{name}:elargi"] = lambda s, n=name: query.get(s, n, niveau="epci", definition="elargi")
    calls.update({
        "get:ca_secteur:toutes_annees": lambda s: query.get(s, "ca_secteur", "epci", annees=query.years(s, "ca_secteur", "epci")),
        "get:part_industrie_effectifs:toutes_annees": lambda s: query.get(
            s, "part_industrie_effectifs", "epci", annees=query.years(s, "part_industrie_effectifs", "epci")),
        "get:population:communes": lambda s: query.get(s, "population", "commune"),
        "territories:epci": lambda s: query.territories(s, "epci"),
        "territories:commune": lambda s: query.territories(s, "commune"),
        "years:ca_total": lambda s: query.years(s, "ca_total", "epci"),
        "years:effectifs_secteur": lambda s: query.years(s, "effectifs_secteur", "epci"),
        "categories:filiere_coeur": lambda s: query.categories(s, "filiere_coeur"),
        "reference_table:sources": lambda s: query.reference_table(s, "sources"),
        "reference_table:filieres": lambda s: query.reference_table(s, "filieres"),
        "reference_table:secteurs": lambda s: query.reference_table(s, "secteurs"),
        "reference_table:problemes": lambda s: query.reference_table(s, "problemes"),
        "published": lambda s: query.published(s),
        "built_at": lambda s: query.built_at(s),
        "plan_actions": lambda s: suivi.plan_actions(s),
        "plan_binomes": lambda s: suivi.binomes(s),
    })
    out = {}
    for label, fn in calls.items():
        times = []
        try:
            for _ in range(runs):
                snap = wh.snapshot()
                t0 = time.perf_counter()
                fn(snap)
                times.append(time.perf_counter() - t0)
            out[label] = _stats_ms(times)
        except Exception as exc:  # a failing query is a result too, not the end of the run
            out[label] = {"erreur": f"{type(exc).__name__}: {exc}"[:300]}
    return out


# First calls timed each in a new process (nothing cached): label -> call.
COLD = {
    "ca_secteur:territoire": "query.get(s, 'ca_secteur', 'epci', territoires=epcis)",
    "ca_secteur:territoire:toutes_annees": "query.get(s, 'ca_secteur', 'epci', annees=query.years(s, 'ca_secteur', 'epci'), "
                                            "territoires=epcis)",
    "ca_filiere:territoire": "query.get(s, 'ca_filiere', 'epci', territoires=epcis)",
    "ca_secteur:france": "query.get(s, 'ca_secteur', 'epci')",
    "ca_secteur:france:toutes_annees": "query.get(s, 'ca_secteur', 'epci', annees=query.years(s, 'ca_secteur', 'epci'))",
    "ca_filiere:france": "query.get(s, 'ca_filiere', 'epci')",
}


def _cold_calls() -> dict[str, str]:
    """COLD, then every catalogue indicator read for all the EPCIs of France (the first read of any indicator)."""
    from indicators.catalog import CATALOG

    return COLD | {f"france:{name}": f"query.get(s, {name!r}, 'epci')" for name in CATALOG}


def _cold_one(warehouse: Path, label: str) -> float:
    from indicators import query  # noqa: F401  (used by the timed expression)
    from indicators.db import get_warehouse

    wh = get_warehouse(warehouse)
    epcis = _epcis_of(wh.snapshot())
    s = wh.snapshot()
    t0 = time.perf_counter()
    eval(_cold_calls()[label], {"query": query, "s": s, "epcis": epcis})
    return time.perf_counter() - t0


def cold_timings(warehouse: Path) -> dict:
    """Each cold call as the first query of a new process; territory = the EPCIs of the Hautes-Alpes."""
    out = {}
    for label in _cold_calls():
        proc = subprocess.run([sys.executable, __file__, "--warehouse", str(warehouse), "--cold-one", label],
                              capture_output=True, text=True)
        try:
            out[label] = {"s": round(float(proc.stdout.strip().splitlines()[-1]), 3)}
        except (ValueError, IndexError):
            out[label] = {"erreur": (proc.stderr or proc.stdout)[-300:]}
    return out


def apptest_pages(warehouse: Path, runs: int = 5) -> dict:
    """Each page's full server-side run (switch_page then run), `runs` times, each in a new AppTest."""
    from streamlit.testing.v1 import AppTest

    os.environ["TI_WAREHOUSE"] = str(warehouse)
    out = {}
    for script, url in pages():
        times, error = [], None
        for _ in range(runs):
            at = AppTest.from_file(str(ROOT / "dashboard.py"), default_timeout=600)
            at.run()
            t0 = time.perf_counter()
            at.switch_page(script).run()
            times.append(time.perf_counter() - t0)
            if at.exception:
                error = str(at.exception[0].value)[:300]
        out[url or "accueil"] = _stats_ms(times) | ({"erreur": error} if error else {})
    return out


def _port_free(port: int) -> bool:
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) != 0


@contextlib.contextmanager
def server(warehouse: Path, port: int = PORT):
    """A fresh Streamlit server on the warehouse; yields its process."""
    deadline = time.time() + 30
    while not _port_free(port) and time.time() < deadline:
        time.sleep(0.5)
    env = dict(os.environ, TI_WAREHOUSE=str(warehouse))
    proc = subprocess.Popen([sys.executable, str(ROOT / "dashboard.py"), "--server.port", str(port),
                             "--server.headless", "true", "--browser.gatherUsageStats", "false"],
                            cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.time() + 60
        while time.time() < deadline:
            with contextlib.suppress(OSError):
                if urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=2).read() == b"ok":
                    break
            time.sleep(0.2)
        else:
            raise RuntimeError("le serveur Streamlit ne répond pas")
        yield proc
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def _vm_hwm_mb(pid: int) -> float | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return round(int(line.split()[1]) / 1024, 1)
    except OSError:
        return None
    return None


def _visit(page, url: str, timeout_s: float = 300) -> float:
    t0 = time.perf_counter()
    page.goto(url)
    page.wait_for_selector('[data-testid="stApp"][data-test-script-state="notRunning"]', timeout=timeout_s * 1000)
    return time.perf_counter() - t0


def browser_pages(warehouse: Path, port: int = PORT) -> tuple[dict, float | None]:
    """Each page on a fresh server (cold caches), then one server visiting every page: its peak RSS."""
    from playwright.sync_api import sync_playwright

    out = {}
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            for _script, url in pages():
                with server(warehouse, port):
                    page = browser.new_page(viewport={"width": 1600, "height": 1000})
                    try:
                        out[url or "accueil"] = {"s": round(_visit(page, f"http://127.0.0.1:{port}/{url}"), 2)}
                    finally:
                        page.close()
            with server(warehouse, port) as proc:
                page = browser.new_page(viewport={"width": 1600, "height": 1000})
                for _script, url in pages():
                    _visit(page, f"http://127.0.0.1:{port}/{url}")
                rss = _vm_hwm_mb(proc.pid)
                page.close()
        finally:
            browser.close()
    return out, rss


def deck_timing(warehouse: Path, runs: int = 3) -> dict:
    from indicators.db import get_warehouse
    from indicators.export.deck import build_deck
    from indicators.export.slides import Selection

    wh = get_warehouse(warehouse)
    epcis = tuple(_epcis_of(wh.snapshot()))
    times, size = [], 0
    for _ in range(runs):
        t0 = time.perf_counter()
        size = len(build_deck(wh.snapshot(), Selection(epcis=epcis)))
        times.append(time.perf_counter() - t0)
    return {"epci": len(epcis), "first_s": round(times[0], 2), "median_s": round(statistics.median(times), 2),
            "runs_s": [round(t, 2) for t in times], "ko": size // 1024}


def run(warehouse: Path, runs: int = 50, page_runs: int = 5, browser: bool = True, progress=print,
        deck: bool = True) -> dict:
    """All read-side measures; the summary keys of bench/results.json and the details behind them."""
    warehouse = Path(warehouse).resolve()
    res: dict = {}
    t0 = time.perf_counter()
    cold = cold_timings(warehouse)
    progress(f"  premiers appels à froid ({len(cold)}) : {time.perf_counter() - t0:.1f} s")
    t0 = time.perf_counter()
    queries = query_timings(warehouse, runs)
    progress(f"  requêtes ({len(queries)} x {runs}) : {time.perf_counter() - t0:.1f} s")
    deck_res: dict = {}
    if deck:
        try:
            deck_res = deck_timing(warehouse)
            progress(f"  diaporama 9 EPCI : {deck_res['median_s']} s (premier {deck_res['first_s']} s)")
        except Exception as exc:
            deck_res = {"erreur": f"{type(exc).__name__}: {exc}"[:300]}
            progress(f"  diaporama 9 EPCI : échec ({deck_res['erreur']})")
    apptest: dict = {}
    if page_runs > 0:
        t0 = time.perf_counter()
        apptest = apptest_pages(warehouse, page_runs)
        progress(f"  pages (AppTest x {page_runs}) : {time.perf_counter() - t0:.1f} s")
    timed = [v["p95_ms"] for v in queries.values() if "p95_ms" in v]
    france = [v["s"] for k, v in cold.items() if ":france" in k or k.startswith("france:")]
    res.update({
        "cold_france_max_s": max(france) if france and all("s" in v for v in cold.values()) else None,
        "query_p95_ms": max(timed) if timed else None,
        "page_p95_ms": max(v["p95_ms"] for v in apptest.values()) if apptest else None,
        "deck_s": deck_res.get("median_s"),
        "requetes_a_froid": cold, "requetes": queries, "pages_apptest": apptest, "diaporama": deck_res,
    })
    if browser:
        t0 = time.perf_counter()
        try:
            pages_browser, rss = browser_pages(warehouse)
            res.update({"browser_page_s": max(v["s"] for v in pages_browser.values()), "server_rss_mb": rss,
                        "pages_navigateur": pages_browser})
        except Exception as exc:  # no Chromium here: said in the results, not a crash
            res.update({"browser_page_s": None, "server_rss_mb": None, "navigateur_erreur": str(exc)[:300]})
        progress(f"  navigateur et mémoire : {time.perf_counter() - t0:.1f} s")
    return res


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description="Banc d'essai côté lecture (requêtes, pages, navigateur, mémoire, diaporama)")
    p.add_argument("--warehouse", type=Path, required=True)
    p.add_argument("--runs", type=int, default=50)
    p.add_argument("--page-runs", type=int, default=5)
    p.add_argument("--no-browser", action="store_true")
    p.add_argument("--no-deck", action="store_true")
    p.add_argument("--out", type=Path)
    p.add_argument("--cold", action="store_true", help="seulement les premiers appels, chacun dans un processus neuf")
    p.add_argument("--cold-one", help=argparse.SUPPRESS)  # internal: one COLD call in this new process
    args = p.parse_args(argv)
    if args.cold_one:
        print(_cold_one(args.warehouse.resolve(), args.cold_one))
        return 0
    if args.cold:
        cold = cold_timings(args.warehouse.resolve())
        print(json.dumps(cold, indent=2, ensure_ascii=False))
        return 0
    res = run(args.warehouse, args.runs, args.page_runs, not args.no_browser, deck=not args.no_deck)
    text = json.dumps(res, indent=2, ensure_ascii=False)
    if args.out:
        args.out.write_text(text + "\n", encoding="utf-8")
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
