"""Benchmark at national scale: the ETL against a bare DuckDB and against pandas.

    python bench/run.py [--scale quick|full] [--reps 3]

1. generates (or reuses) the national dataset of the scale (bench/generate.py);
2. builds a warehouse with the national reference only (`TI_REFERENCE_DIR`), then for each
   source file, `--reps` times and in the same run: the ETL (`etl.load.load([file])` into a
   copy of that warehouse), (a) a bare DuckDB `read_csv` + `GROUP BY` of the same file into
   a table of a new database file (the practical limit), (b) pandas `read_csv` + `groupby`
   (what an analyst would write); medians;
3. loads every file into one warehouse (its size is `warehouse_mb`);
4. writes bench/results.json and prints a table.

5. on that national warehouse, the read side (bench/read.py): every query a page runs at EPCI
   level over all of France (`--runs`, p50 / p95), every page's server-side run (AppTest,
   `--page-runs`), each page in a real browser on a fresh server, the server's peak memory
   after visiting every page, the deck for 9 EPCIs.

It never runs in the test suite.
"""
from __future__ import annotations

import argparse
import gc
import json
import os
import platform
import shutil
import statistics
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import duckdb  # noqa: E402
import pandas as pd  # noqa: E402

from bench import generate as gen  # noqa: E402

RESULTS = ROOT / "bench" / "results.json"
# cold_france_max_s: the slowest first read, in a new process, of any indicator for all the EPCIs of France.
TARGETS = {"cold_france_max_s": ("<=", 1), "etl_ingest_ratio_vs_duckdb": ("<=", 3), "secret_protection_s": ("<=", 60),
           "query_p95_ms": ("<=", 100),
           "page_p95_ms": ("<=", 300), "browser_page_s": ("<=", 2), "server_rss_mb": ("<=", 600), "deck_s": ("<=", 3)}

# Per source: delimiter, the columns (by position) a GROUP BY keeps, and what it sums.
# The same work for DuckDB and pandas: read the file, group by territory x activity, aggregate.
SOURCES = ["base_comparateur", "urssaf", "sirene", "chambre"]


def _header(path: Path, delim: str) -> list[str]:
    with open(path, encoding="utf-8-sig") as f:
        return f.readline().rstrip("\r\n").split(delim)


def _plan(kind: str, path: Path) -> dict:
    """Which columns the baselines group by and aggregate, by position."""
    delim = "," if kind == "sirene" else ";"
    header = _header(path, delim)
    if kind == "base_comparateur":
        keys, values, count_where = [0], list(range(2, len(header))), None
    elif kind == "urssaf":
        keys = [header.index("Code commune"), header.index("Code APE")]
        values, count_where = list(range(max(keys) + 1, len(header))), None
    elif kind == "sirene":
        keys = [header.index("codeCommuneEtablissement"), header.index("activitePrincipaleEtablissement")]
        values, count_where = [], (header.index("etatAdministratifEtablissement"), "A")
    else:
        keys = [header.index("Code commune INSEE"), header.index("Code NAF")]
        values, count_where = [i for i, h in enumerate(header) if h.startswith("CA ")], None
    return {"delim": delim, "n": len(header), "keys": keys, "values": values, "count_where": count_where}


def duckdb_baseline(kind: str, path: Path, workdir: Path) -> float:
    """Bare DuckDB: read_csv + GROUP BY into a table of a new database file."""
    p = _plan(kind, path)
    names = [f"c{i}" for i in range(p["n"])]
    keys = ", ".join(f"c{i}" for i in p["keys"])
    aggs = [f"sum(TRY_CAST(c{i} AS DOUBLE)) AS s{i}" for i in p["values"]]
    if p["count_where"]:
        aggs.append(f"count(*) FILTER (WHERE c{p['count_where'][0]} = '{p['count_where'][1]}') AS n")
    else:
        aggs.append("count(*) AS n")
    db = workdir / f"baseline_{kind}.duckdb"
    db.unlink(missing_ok=True)
    t0 = time.perf_counter()
    con = duckdb.connect(str(db))
    con.execute(f"""
        CREATE TABLE agg AS SELECT {keys}, {", ".join(aggs)}
        FROM read_csv(?, delim=?, header=true, names=?, all_varchar=true)
        GROUP BY ALL""", [path.as_posix(), p["delim"], names])
    con.execute("CHECKPOINT")
    con.close()
    elapsed = time.perf_counter() - t0
    db.unlink(missing_ok=True)
    return elapsed


def pandas_baseline(kind: str, path: Path) -> float:
    """What an analyst would write: read_csv (codes as text) + groupby."""
    p = _plan(kind, path)
    t0 = time.perf_counter()
    keys = p["keys"]
    usecols = keys + p["values"] + ([p["count_where"][0]] if p["count_where"] else [])
    df = pd.read_csv(path, sep=p["delim"], usecols=usecols, dtype={i: str for i in keys} | (
        {p["count_where"][0]: str} if p["count_where"] else {}), header=None, skiprows=1, low_memory=False)
    if p["count_where"]:
        col, val = p["count_where"]
        out = df[df[col] == val].groupby(keys).size()
    else:
        out = df.groupby(keys).agg(["sum", "count"]) if p["values"] else df.groupby(keys).size()
    elapsed = time.perf_counter() - t0
    assert len(out) > 0
    del df, out
    gc.collect()
    return elapsed


def etl_load(path: Path, base_wh: Path, work_wh: Path) -> tuple[float, int, float]:
    """Seconds of the load, rows kept, and the seconds of the statistical secret's protection within it (computed,
    never from a cache: the bench's cache directory is switched off)."""
    from etl import load as loader, secret

    shutil.copyfile(base_wh, work_wh)
    before = secret.TIMINGS["protection_s"]
    t0 = time.perf_counter()
    reports = loader.load([path], work_wh, progress=lambda _msg: None)
    elapsed = time.perf_counter() - t0
    return elapsed, sum(r.lignes_gardees for r in reports), secret.TIMINGS["protection_s"] - before


def _median(xs):
    return round(statistics.median(xs), 3) if xs else None


def _machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = None
    try:
        mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 1024**3
    except (ValueError, OSError, AttributeError):
        pass
    return f"{os.cpu_count()} cœurs ({cpu}), {mem:.0f} Go de RAM, {platform.system()} {platform.release()}" if mem else cpu


def run(scale: str, reps: int, out_data: Path, keep: bool = False, only: list[str] | None = None,
        read_runs: int = 50, page_runs: int = 5, browser: bool = True, read_side: bool = True) -> dict:
    t_start = time.perf_counter()
    print(f"Banc d'essai, échelle {scale}, {reps} répétition(s)")
    files = gen.generate(scale, out_data)
    os.environ["TI_REFERENCE_DIR"] = str(files["reference"])
    os.environ["TI_SECRET_CACHE"] = ""     # every load computes its protection: a cached one would measure nothing
    from etl import load as loader
    from etl import sources
    from etl.perimeter import resolve

    workdir = Path(tempfile.mkdtemp(prefix="ti-bench-", dir=files["reference"].parent))
    try:
        base_wh = workdir / "base.duckdb"
        t0 = time.perf_counter()
        loader.build(base_wh, demo=False, progress=lambda _msg: None, perimeter=resolve(national=True))
        build_s = time.perf_counter() - t0
        print(f"Entrepôt de référence national : {build_s:.1f} s")
        per_source = {}
        for kind in only or SOURCES:
            path = files[kind]
            item = {"fichier": path.name, "lignes": gen._count_lines(path) - 1,
                    "mo": round(path.stat().st_size / 1024**2, 1)}
            etl, protection, duck, pand, kept = [], [], [], [], None
            has_loader = kind in sources.KINDS
            for r in range(reps):
                if has_loader:
                    s, kept, prot = etl_load(path, base_wh, workdir / "work.duckdb")
                    etl.append(s)
                    protection.append(prot)
                duck.append(duckdb_baseline(kind, path, workdir))
                pand.append(pandas_baseline(kind, path))
                print(f"  {kind} #{r + 1}: ETL {etl[-1] if etl else float('nan'):.2f} s, "
                      f"DuckDB {duck[-1]:.2f} s, pandas {pand[-1]:.2f} s")
            item.update({"etl_s": _median(etl), "duckdb_s": _median(duck), "pandas_s": _median(pand),
                         "etl_runs_s": [round(x, 3) for x in etl], "duckdb_runs_s": [round(x, 3) for x in duck],
                         "pandas_runs_s": [round(x, 3) for x in pand], "lignes_gardees": kept})
            if has_loader:
                item["ratio_vs_duckdb"] = round(item["etl_s"] / item["duckdb_s"], 2)
                # Ingest (read, validate, write, marts) apart from the secret's protection of a chamber file.
                item["protection_s"] = _median(protection)
                item["ingest_ratio_vs_duckdb"] = round((item["etl_s"] - item["protection_s"]) / item["duckdb_s"], 2)
                item["speedup_vs_pandas"] = round(item["pandas_s"] / item["etl_s"], 2)
            else:
                item["note"] = "pas de chargeur pour ce type de fichier : ETL non mesuré"
            per_source[kind] = item
        # Every file in one warehouse: its size, and the time of a full national load.
        full_wh = workdir / "national.duckdb"
        shutil.copyfile(base_wh, full_wh)
        loadable = [files[k] for k in (only or SOURCES) if k in sources.KINDS]
        t0 = time.perf_counter()
        loader.load(loadable, full_wh, progress=lambda _msg: None)
        all_s = time.perf_counter() - t0
        counts = {}
        con = duckdb.connect(str(full_wh), read_only=True)
        try:
            for t in ("facts", "firmes", "mart"):
                counts[t] = con.execute(f"SELECT count(*) FROM {t}").fetchall()[0][0]
        finally:
            con.close()
        warehouse_mb = round(full_wh.stat().st_size / 1024**2, 1)
        print(f"Entrepôt national : {warehouse_mb} Mo, chargé en {all_s:.1f} s ; côté lecture…")
        read = {}
        if read_side:
            from bench import read as read_bench
            read = read_bench.run(full_wh, read_runs, page_runs, browser)
        if keep:
            shutil.copyfile(full_wh, files["reference"].parent / "national.duckdb")
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    measured = [v for v in per_source.values() if "ratio_vs_duckdb" in v]
    results = {
        "scale": scale,
        "date": datetime.now().isoformat(timespec="seconds"),
        "machine": _machine(),
        "repetitions": reps,
        "etl_ratio_vs_duckdb": max((v["ratio_vs_duckdb"] for v in measured), default=None),
        "etl_ingest_ratio_vs_duckdb": max((v["ingest_ratio_vs_duckdb"] for v in measured), default=None),
        "secret_protection_s": per_source.get("chambre", {}).get("protection_s"),
        "etl_speedup_vs_pandas": min((v["speedup_vs_pandas"] for v in measured), default=None),
        "cold_france_max_s": read.get("cold_france_max_s"),
        "query_p95_ms": read.get("query_p95_ms"),
        "page_p95_ms": read.get("page_p95_ms"),
        "browser_page_s": read.get("browser_page_s"),
        "server_rss_mb": read.get("server_rss_mb"),
        "deck_s": read.get("deck_s"),
        "warehouse_mb": warehouse_mb,
        "etl": per_source,
        "etl_build_reference_s": round(build_s, 2),
        "etl_load_all_s": round(all_s, 2),
        "warehouse_rows": counts,
        "lecture": {k: v for k, v in read.items() if k not in TARGETS},
        "dataset": json.loads((files["reference"].parent / "summary.json").read_text(encoding="utf-8")),
        "targets": {k: f"{op} {v}" for k, (op, v) in TARGETS.items()},
        "duration_s": round(time.perf_counter() - t_start, 1),
    }
    return results


def table(results: dict) -> str:
    lines = [f"Échelle {results['scale']} — {results['machine']} — {results['date']}", ""]
    lines.append(f"{'source':<17} {'lignes':>10} {'Mo':>7} {'ETL s':>8} {'DuckDB s':>9} {'pandas s':>9} {'ETL/DuckDB':>11} {'pandas/ETL':>11}")
    for kind, v in results["etl"].items():
        def f(x, fmt="{:.2f}"):
            return fmt.format(x) if x is not None else "—"
        lines.append(f"{kind:<17} {v['lignes']:>10} {v['mo']:>7} {f(v['etl_s']):>8} {f(v['duckdb_s']):>9} {f(v['pandas_s']):>9} "
                     f"{f(v.get('ratio_vs_duckdb')):>11} {f(v.get('speedup_vs_pandas')):>11}")
    read = results.get("lecture") or {}
    if read.get("requetes"):
        lines += ["", "requêtes les plus lentes (niveau EPCI, toute la France)      premier ms   p50 ms   p95 ms"]
        slow = sorted(read["requetes"].items(), key=lambda kv: kv[1].get("p95_ms", float("inf")), reverse=True)[:8]
        for label, v in slow:
            if "erreur" in v:
                lines.append(f"  {label:<58} ERREUR {v['erreur'][:60]}")
            else:
                lines.append(f"  {label:<58} {v['first_ms']:>9} {v['p50_ms']:>8} {v['p95_ms']:>8}")
    if read.get("pages_apptest"):
        lines += ["", f"{'page':<20} {'AppTest p50 ms':>15} {'p95 ms':>9} {'navigateur s':>13}"]
        for page, v in read["pages_apptest"].items():
            nav = (read.get("pages_navigateur") or {}).get(page, {}).get("s", "—")
            lines.append(f"{page:<20} {v['p50_ms']:>15} {v['p95_ms']:>9} {nav!s:>13}" + (" ERREUR" if v.get("erreur") else ""))
    lines.append("")
    for key, (op, target) in TARGETS.items():
        val = results.get(key)
        ok = "—" if val is None else ("atteint" if (val <= target if op == "<=" else val >= target) else "MANQUÉ")
        lines.append(f"{key:<24} {('—' if val is None else val)!s:>10}   cible {op} {target:<5} {ok}")
    lines.append(f"{'warehouse_mb':<24} {results['warehouse_mb']!s:>10}")
    lines.append(f"{'etl_load_all_s':<24} {results['etl_load_all_s']!s:>10}   (tous les fichiers dans un entrepôt)")
    lines.append(f"durée totale : {results['duration_s']} s")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description="Banc d'essai à l'échelle nationale")
    p.add_argument("--scale", choices=sorted(gen.SCALES), default="quick")
    p.add_argument("--reps", type=int, default=3)
    p.add_argument("--data", type=Path, default=gen.DEFAULT_OUT, help="dossier des données générées")
    p.add_argument("--out", type=Path, default=RESULTS)
    p.add_argument("--only", nargs="+", choices=SOURCES, help="seulement ces sources")
    p.add_argument("--keep", action="store_true", help="garder l'entrepôt national (bench/data/<échelle>/national.duckdb)")
    p.add_argument("--runs", type=int, default=50, help="exécutions de chaque requête (p50, p95)")
    p.add_argument("--page-runs", type=int, default=5, help="exécutions de chaque page (AppTest)")
    p.add_argument("--no-browser", action="store_true", help="sans navigateur (ni mémoire du serveur)")
    p.add_argument("--no-read", action="store_true", help="sans les mesures côté lecture")
    args = p.parse_args(argv)
    results = run(args.scale, args.reps, args.data, args.keep, args.only, args.runs, args.page_runs,
                  not args.no_browser, not args.no_read)
    args.out.write_text(json.dumps(results, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    print()
    print(table(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
