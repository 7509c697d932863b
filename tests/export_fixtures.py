"""A demo warehouse built once per test session for the export tests (a real DuckDB file, no mocks)."""
from __future__ import annotations

from pathlib import Path

_cache: dict[str, Path] = {}


def demo_warehouse(tmp_path_factory) -> Path:
    if "path" not in _cache:
        from etl.load import build

        path = tmp_path_factory.mktemp("warehouse") / "warehouse.duckdb"
        build(path, demo=True, progress=lambda *a, **k: None)
        _cache["path"] = path
    return _cache["path"]


def chart_table(chart) -> dict[tuple[str, str], float | None]:
    """(category without its secret mark, series) -> value, from a native chart's embedded data."""
    cats = [str(c).removesuffix(" (s)").removesuffix(" (partiel)") for c in chart.plots[0].categories]
    out = {}
    for plot in chart.plots:
        for ser in plot.series:
            for c, v in zip(cats, ser.values):
                out[(c, ser.name)] = v
    return out
