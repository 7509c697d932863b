"""Benchmark: the whole committee deck (and its annex) for the 9 EPCIs on the demo data, median of 5.

    python bench/deck.py [--warehouse PATH]      (target: deck under 3 s)
"""
from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from indicators.db import get_warehouse  # noqa: E402
from indicators.export.annex import build_annex  # noqa: E402
from indicators.export.deck import build_deck  # noqa: E402
from indicators.export.slides import Selection  # noqa: E402


def _median(fn, runs: int = 5) -> tuple[float, int]:
    times, size = [], 0
    for _ in range(runs):
        t0 = time.perf_counter()
        size = len(fn())
        times.append(time.perf_counter() - t0)
    return statistics.median(times), size


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--warehouse", type=Path)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    wh = get_warehouse(args.warehouse)
    sel = Selection()               # the 9 EPCIs, latest years
    deck_s, deck_size = _median(lambda: build_deck(wh.snapshot(), sel), args.runs)
    annex_s, annex_size = _median(lambda: build_annex(wh.snapshot(), sel), args.runs)
    print(f"deck (9 EPCI, {deck_size // 1024} Ko) : médiane {deck_s:.2f} s sur {args.runs} ; objectif < 3 s")
    print(f"annexe ({annex_size // 1024} Ko) : médiane {annex_s:.2f} s sur {args.runs}")
    return 0 if deck_s < 3 else 1


if __name__ == "__main__":
    sys.exit(main())
