"""Benchmark: `python -m etl build` on the demo data (target: under 10 s).

Runs the build N times in fresh processes (the demo files generated once beforehand)
and prints the median and the spread. Usage: python bench/build_demo.py [--runs 5]
"""
from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        wh = Path(tmp) / "bench.duckdb"
        cmd = [sys.executable, "-m", "etl", "build", "--warehouse", str(wh)]
        subprocess.run(cmd, cwd=ROOT, check=True, capture_output=True)  # generates data/demo once
        times = []
        for _ in range(args.runs):
            t0 = time.perf_counter()
            subprocess.run(cmd, cwd=ROOT, check=True, capture_output=True)
            times.append(time.perf_counter() - t0)
        size = wh.stat().st_size / 1024**2
    print(f"etl build (démo) : médiane {statistics.median(times):.2f} s sur {args.runs} exécutions "
          f"(min {min(times):.2f} s, max {max(times):.2f} s) ; entrepôt {size:.1f} Mo")


if __name__ == "__main__":
    main()
