"""Concurrent refreshes of the warehouse.

- Writers started at the same time queue on the writer lock: none is lost, none fails.
- Readers (read-only DuckDB connections, as the dashboard opens them) during 10 rebuilds
  never fail and always see one consistent vintage: the figures they read are exactly
  those the writer produced under the `meta.version` they read with them.
"""
from __future__ import annotations

import subprocess
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import duckdb
import pytest

import bad_inputs
from etl_runner import (REPO, ForkedEtl, copy_warehouse, etl_command, etl_env, fingerprint, open_snapshot,
                         read_snapshot, run_etl)

# Slow, and one at a time on one xdist worker: each runs its own pool of processes sized for the machine's
# cores and judges timings (kills, rebuilds, time limits) that another such test would distort.
pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("stress")]

REBUILDS = 10
READERS = 2


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    root = tmp_path_factory.mktemp("concurrent_files")
    return {
        "base": bad_inputs.write_csv(root / "base_cc_comparateur_2025.csv", bad_inputs.BASE_HEADER, bad_inputs.base_rows(60)),
        "urssaf": bad_inputs.write_csv(root / "urssaf_commune_ape_2024.csv", bad_inputs.URSSAF_HEADER,
                                       bad_inputs.urssaf_rows(n_communes=60, apes_per_commune=5)),
        "chambre": bad_inputs.write_csv(root / "cci_entreprises_2022.csv", bad_inputs.CHAMBER_HEADER,
                                        bad_inputs.chamber_rows(300)),
    }


def _rows_per_file(path, names: list[str]) -> dict[str, int]:
    con = duckdb.connect(str(path), read_only=True)
    try:
        return dict(con.execute("""
            SELECT s.fichier, (SELECT count(*) FROM facts f WHERE f.source_id = s.source_id)
                              + (SELECT count(*) FROM firmes f WHERE f.source_id = s.source_id)
            FROM sources s WHERE list_contains(?, s.fichier)""", [names]).fetchall())
    finally:
        con.close()


def test_simultaneous_loads_queue_on_the_writer_lock(files, tmp_path, reference_warehouse):
    base = reference_warehouse
    # Reference: the three files loaded by one command.
    sequential = copy_warehouse(base, tmp_path / "sequential")
    run = run_etl("load", *files.values(), "--warehouse", sequential)
    assert run.returncode == 0, run.output
    names = [f.name for f in files.values()]
    expected = _rows_per_file(sequential, names)
    assert len(expected) == 3 and all(expected.values())

    wh = copy_warehouse(base, tmp_path / "concurrent")
    procs = [subprocess.Popen(etl_command("load", f, "--warehouse", wh), cwd=REPO, env=etl_env(),
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE) for f in files.values()]
    outputs = [p.communicate(timeout=120) for p in procs]
    for p, (out, err) in zip(procs, outputs):
        assert p.returncode == 0, err.decode()
        assert b"Traceback" not in out + err
    # Each writer started from the previous one's result: all three files are there, complete.
    assert _rows_per_file(wh, names) == expected
    assert not [p.name for p in wh.parent.iterdir() if ".tmp-" in p.name]


def test_readers_see_one_consistent_vintage_during_rebuilds(files, tmp_path, reference_warehouse):
    wh = copy_warehouse(reference_warehouse, tmp_path / "wh")
    produced = {}                    # version -> fingerprint, recorded after each writer run
    first_version, first = read_snapshot(wh)
    produced[first_version] = first
    seen: list[tuple[str, dict]] = []
    errors: list[str] = []
    done = threading.Event()
    # A connection opened before the rebuilds keeps its snapshot (the app reopens on change).
    held = open_snapshot(wh)

    def reader():
        while not done.is_set():
            try:
                seen.append(read_snapshot(wh))
                time.sleep(0.2)
            except Exception as exc:  # any failure to open or read is a test failure
                errors.append(f"{type(exc).__name__}: {exc}")

    def writer():
        try:
            for i in range(REBUILDS):   # (each run its own process, forked with the ETL already imported)
                # Alternate two different contents: reference only, then reference + one file.
                args = ("build", "--no-demo", "--warehouse", wh) if i % 2 == 0 else \
                    ("load", files["base"], "--warehouse", wh)
                run = etl.run(*args)
                assert run.returncode == 0, run.output
                version, content = read_snapshot(wh)
                produced[version] = content
        finally:
            done.set()

    t0 = time.perf_counter()
    with ForkedEtl(1) as etl, ThreadPoolExecutor(max_workers=READERS + 1) as pool:
        futures = [pool.submit(reader) for _ in range(READERS)] + [pool.submit(writer)]
        for f in futures:
            f.result()
    elapsed = time.perf_counter() - t0
    try:
        held_version = held.execute("SELECT valeur FROM meta WHERE cle = 'version'").fetchall()[0][0]
        assert held_version == first_version
        assert fingerprint(held) == first
    finally:
        held.close()

    print(f"\n{REBUILDS} rebuilds in {elapsed:.1f} s, {len(seen)} snapshots read by {READERS} readers, "
          f"{len({v for v, _ in seen})} vintages seen, {len(errors)} errors")
    assert errors == []
    assert len(produced) == REBUILDS + 1
    # the two contents alternate (the starting warehouse, reference tables only, is a third one)
    assert len({tuple(sorted(c.items())) for v, c in produced.items() if v != first_version}) == 2
    assert len(seen) >= REBUILDS
    for version, content in seen:
        assert version in produced, "a reader saw a version no writer completed"
        assert content == produced[version], "a reader saw figures of another vintage than its meta.version"
    assert len({v for v, _ in seen}) >= 3
