"""SIGKILL the ETL at random points of a load: the warehouse is always the old one or the new one.

The load is a real-sized URSSAF file (every commune of the perimeter x 20 APE codes)
into a warehouse holding the reference data. Kill times are stratified over the phases
of an uninterrupted load, so every one gets hit: start-up, reading and checking, writing
the new file, the swap. After each kill the warehouse must open and be
byte-identical to the old file or hold exactly the content of a completed load, and the
next `load` must succeed, remove the killed writer's temporary files and reach the new content.
"""
from __future__ import annotations

import os
import random
import signal
import subprocess
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

import bad_inputs
from etl_runner import (REPO, ForkedEtl, copy_warehouse, etl_command, etl_env, limit_memory, read_snapshot,
                         sha256)

# Slow, and one at a time on one xdist worker: each runs its own pool of processes sized for the machine's
# cores and judges timings (kills, rebuilds, time limits) that another such test would distort.
pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("stress")]

TRIALS = 21
SEED = 20240605


def _stale(wh: Path) -> list[str]:
    return sorted(p.name for p in wh.parent.iterdir() if ".tmp-" in p.name)


def _start(data: Path, wh: Path) -> subprocess.Popen:
    return subprocess.Popen(etl_command("load", data, "--warehouse", wh), cwd=REPO, env=etl_env(),
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, preexec_fn=limit_memory)


def _wait_for_new_file(proc: subprocess.Popen, wh: Path, timeout: float = 60) -> float:
    """Seconds until the writer's new file appears next to the warehouse (or the process ends)."""
    t0 = time.perf_counter()
    while not _stale(wh) and proc.poll() is None and time.perf_counter() - t0 < timeout:
        time.sleep(0.002)
    return time.perf_counter() - t0


@pytest.fixture(scope="module")
def setup(tmp_path_factory, reference_warehouse):
    root = tmp_path_factory.mktemp("crash")
    data = bad_inputs.write_csv(root / "urssaf_commune_ape_2024.csv", bad_inputs.URSSAF_HEADER,
                                bad_inputs.urssaf_rows(n_communes=None, apes_per_commune=20))
    old = copy_warehouse(reference_warehouse, root / "old")
    ref = copy_warehouse(old, root / "reference")
    # An uninterrupted load, timed: start-up until the new file appears, then writing until the swap.
    t0 = time.perf_counter()
    proc = _start(data, ref)
    startup = _wait_for_new_file(proc, ref)
    assert proc.wait(timeout=120) == 0
    duration = time.perf_counter() - t0
    version, new = read_snapshot(ref)
    old_version, old_content = read_snapshot(old)
    assert new != old_content
    return {"root": root, "data": data, "old": old, "old_sha": sha256(old), "old_version": old_version,
            "new": new, "duration": duration, "writing": duration - startup}


def test_sigkill_during_load(setup):
    rng = random.Random(SEED)
    # A third of the trials die at stratified times over a whole load (start-up included); half once
    # the new file exists, at stratified times over the writing phase; the rest just after the swap.
    n_any, n_writing = TRIALS // 3, TRIALS // 2
    n_swap = TRIALS - n_any - n_writing
    plan = [("any", (k + rng.random()) / n_any * setup["duration"]) for k in range(n_any)]
    plan += [("writing", (k + rng.random()) / n_writing * setup["writing"]) for k in range(n_writing)]
    plan += [("swap", rng.random() * 0.01) for _ in range(n_swap)]

    def trial(k: int) -> dict:
        wh = copy_warehouse(setup["old"], setup["root"] / f"trial{k:02d}")
        phase, delay = plan[k]
        inode = wh.stat().st_ino
        proc = _start(setup["data"], wh)
        if phase == "writing":
            _wait_for_new_file(proc, wh)
        elif phase == "swap":
            while wh.stat().st_ino == inode and proc.poll() is None:
                time.sleep(0.001)
        time.sleep(delay)
        finished = proc.poll() is not None
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
        stale = _stale(wh)
        # The warehouse opens, and is the old file byte for byte or the complete new content.
        version, content = read_snapshot(wh)
        if sha256(wh) == setup["old_sha"]:
            state = "old"
        else:
            assert content == setup["new"], f"trial {k}: warehouse neither old nor new"
            assert version != setup["old_version"]
            state = "new"
        result = {"state": state, "stale": stale, "finished": finished}
        if stale:
            # The next run works, removes what the killed one left and ends with the new content (a process
            # forked with the ETL imported: the start-up is not what is tested here).
            again = etl.run("load", setup["data"], "--warehouse", wh)
            assert again.returncode == 0, again.output
            assert "Traceback" not in again.output
            result.update(after=_stale(wh), final=read_snapshot(wh)[1] == setup["new"])
        return result

    workers = max(2, min(4, os.cpu_count() or 2))
    with ForkedEtl(workers) as etl, ThreadPoolExecutor(max_workers=workers) as pool:
        results = list(pool.map(trial, range(TRIALS)))

    states = [r["state"] for r in results]
    killed_mid_write = sum(bool(r["stale"]) for r in results)
    print(f"\n{TRIALS} SIGKILL trials (load of {setup['duration']:.1f} s, {setup['writing']:.1f} s writing): "
          f"{states.count('old')} old, {states.count('new')} new, {killed_mid_write} killed while writing the new file, "
          f"{sum(r['finished'] for r in results)} already finished")
    cleaned = [r for r in results if r["stale"]]
    assert all(r["final"] for r in cleaned), "the run after a kill did not reach the new content"
    assert all(r["after"] == [] for r in cleaned), "temporary files left after the next run"
    # The kills hit the writing phase, and some came after the swap (timings stretch on a loaded
    # machine, so only a quarter of the writing-phase trials are required to land inside it).
    assert killed_mid_write >= max(1, n_writing // 4), states
    assert states.count("new") >= 1, states
