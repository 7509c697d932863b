"""Every file of the bad input corpus through `python -m etl load` and `python -m etl check`.

(Forked from a process with the ETL imported, see tests/etl_zygote.py: same process, outputs and limits.)

Each file is either loaded correctly or refused with a French message naming the file,
the line and the column; a refusal exits with code 2, prints no traceback and leaves the
warehouse byte-identical. Every run is bounded in time and address space (etl_runner).
"""
from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor

import duckdb
import pytest

import bad_inputs
from bad_inputs import CASES, HOSTILE_TEXTS
from etl_runner import MEMORY_LIMIT, TIME_LIMIT, ForkedEtl, copy_warehouse, run_etl, sha256

WORKERS = max(2, min(4, os.cpu_count() or 2))


@pytest.fixture(scope="module")
def results(tmp_path_factory, reference_warehouse):
    """Run load and check on every corpus file (a few in parallel) and keep what happened."""
    root = tmp_path_factory.mktemp("bad_inputs")
    paths = bad_inputs.generate(root / "corpus")
    base = reference_warehouse

    con = duckdb.connect(str(base), read_only=True)
    try:
        base_counts = (con.execute("SELECT count(*) FROM sources").fetchall()[0][0],
                       con.execute("SELECT count(*) FROM facts").fetchall()[0][0])
    finally:
        con.close()

    def one(case):
        wh = copy_warehouse(base, root / "wh" / case.file)
        before = sha256(wh)
        load = etl.run("load", paths[case.file], "--warehouse", wh)
        # check names the warehouse whose perimeter it checks against: never the user's data/warehouse.duckdb
        check = etl.run("check", paths[case.file], "--warehouse", base)
        # (the plan store beside the warehouse is no temporary file: a load that succeeds may seed it)
        leftovers = sorted(p.name for p in wh.parent.iterdir() if p.name not in ("warehouse.duckdb", "warehouse.duckdb.lock")
                           and not (load.returncode == 0 and p.name.startswith("warehouse.suivi.sqlite")))
        return case.file, {"wh": wh, "before": before, "after": sha256(wh), "base_counts": base_counts,
                           "load": load, "check": check, "leftovers": leftovers}

    with ForkedEtl(WORKERS) as etl, ThreadPoolExecutor(max_workers=WORKERS) as pool:
        return dict(pool.map(one, CASES))


@pytest.mark.slow
@pytest.mark.xdist_group("stress")   # the corpus runs on its own pool of forked ETLs, with time limits
@pytest.mark.parametrize("case", CASES, ids=[c.file for c in CASES])
def test_bad_input(case, results):
    r = results[case.file]
    load, check = r["load"], r["check"]
    for run in (load, check):
        assert "Traceback" not in run.output, run.output
        assert run.seconds < TIME_LIMIT
    assert r["leftovers"] == [], "temporary files left next to the warehouse"
    if case.expect == "refuse":
        assert load.returncode == 2, load.output
        assert check.returncode == 2, check.output
        assert r["after"] == r["before"], "the warehouse changed although the file was refused"
        assert "Fichier refusé, l'entrepôt n'a pas été modifié" in load.stderr
        for run in (load, check):
            message = run.output
            assert case.file in message
            if case.ligne is not None:
                assert f"ligne {case.ligne}" in message, message
            if case.colonne is not None:
                assert f"colonne « {case.colonne} »" in message, message
            for word in case.words:
                assert word in message.lower(), message
    else:
        assert load.returncode == 0, load.output
        assert check.returncode == 0, check.output
        assert "Entrepôt mis à jour." in load.stdout
        for word in case.words:
            assert word in load.output.lower(), load.output
        con = duckdb.connect(str(r["wh"]), read_only=True)
        try:
            sid = con.execute("SELECT source_id FROM sources WHERE fichier = ?", [case.file]).fetchall()
            assert len(sid) == 1
            _check_loaded(case.file, con, sid[0][0], *r["base_counts"])
        finally:
            con.close()


def _check_loaded(name: str, con: duckdb.DuckDBPyConnection, sid: int, base_sources: int, base_facts: int) -> None:
    """What a loaded file must have put in the warehouse."""
    tables = {r[0] for r in con.execute("SELECT table_name FROM information_schema.tables").fetchall()}
    assert {"facts", "sources", "firmes", "mart", "meta"} <= tables
    if name in ("hostile_text.csv", "hostile_text.xlsx"):
        stored = {r[0] for r in con.execute("SELECT raison_sociale FROM firmes WHERE source_id = ?", [sid]).fetchall()}
        # Text is data: kept verbatim (trimmed), never executed.
        assert {t.strip() for t in HOSTILE_TEXTS} <= stored
        assert con.execute("SELECT count(*) FROM firmes WHERE source_id = ?", [sid]).fetchall()[0][0] == 12
        # Nothing was deleted: the sources before the load are all still there, plus this file.
        assert con.execute("SELECT count(*) FROM sources WHERE source_id <> ?", [sid]).fetchall()[0][0] == base_sources
        assert con.execute("SELECT count(*) FROM facts WHERE source_id <> ?", [sid]).fetchall()[0][0] == base_facts
    elif name == "huge_dimension.xlsx":
        assert con.execute("SELECT count(*) FROM firmes WHERE source_id = ?", [sid]).fetchall()[0][0] == 12
    elif name == "cp1252.csv":
        stored = {r[0] for r in con.execute("SELECT raison_sociale FROM firmes WHERE source_id = ?", [sid]).fetchall()}
        assert "Société Œuvre d’art – 5 €" in stored
    elif name == "utf16.csv":
        # 12 communes x 4 APE codes x 2 years x 2 measures, every cell filled.
        assert con.execute("SELECT count(*) FROM facts WHERE source_id = ?", [sid]).fetchall()[0][0] == 12 * 4 * 2 * 2
    elif name == "unknown_commune.csv":
        codes = {r[0] for r in con.execute("SELECT DISTINCT territoire_code FROM facts WHERE source_id = ?", [sid]).fetchall()}
        assert codes and not codes & {"75056", "29019"}
        assert len(codes) == 10
        assert con.execute("SELECT lignes_gardees, lignes_rejetees FROM sources WHERE source_id = ?", [sid]).fetchall() \
            == [(40, 8)]
    elif name == "unknown_commune_base.csv":
        codes = {r[0] for r in con.execute("SELECT DISTINCT territoire_code FROM facts WHERE source_id = ? AND niveau = 'commune'",
                                           [sid]).fetchall()}
        assert len(codes) == 10 and not codes & {"99999", "75101", "75056"}
    elif name == "hostile_header.csv":
        assert con.execute("SELECT count(DISTINCT territoire_code) FROM facts WHERE source_id = ?", [sid]).fetchall()[0][0] == 12


def test_limits_are_enforced_in_one_place():
    """The limits the corpus relies on are the ones documented (etl/readers.py)."""
    from etl import readers
    from etl.sources import foncier

    assert readers.MAX_LINE_BYTES <= 1024**2
    assert readers.MAX_XLSX_UNCOMPRESSED < 1100 * 1024**2   # the zip bomb inflates to 1.1 GB
    assert readers.MAX_XLSX_FILE_BYTES <= 200 * 1024**2
    assert readers.MAX_ZIP_MEMBERS <= 10_000 and foncier.MAX_ZIP_MEMBERS <= 1_000   # every zip, a CNIG package
    assert MEMORY_LIMIT <= 3 * 1024**3



def test_damaged_warehouse_is_reported_not_replaced(tmp_path):
    """A warehouse file that is not a DuckDB database: French message, exit 3, file and folder untouched."""
    wh = tmp_path / "warehouse.duckdb"
    wh.write_bytes(b"ceci n'est pas une base DuckDB\n" * 1000)
    before = sha256(wh)
    data = bad_inputs.write_csv(tmp_path / "base.csv", bad_inputs.BASE_HEADER, bad_inputs.base_rows())
    run = run_etl("load", data, "--warehouse", wh)
    assert run.returncode == 3, run.output
    assert "Traceback" not in run.output
    assert "Erreur inattendue" in run.stderr and "ETL_DEBUG=1" in run.stderr
    assert sha256(wh) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["base.csv", "warehouse.duckdb", "warehouse.duckdb.lock"]
