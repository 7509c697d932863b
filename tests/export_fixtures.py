"""Reading the native charts of a generated deck (the demo warehouse comes from conftest)."""
from __future__ import annotations

def chart_table(chart) -> dict[tuple[str, str], float | None]:
    """(category without its secret mark, series) -> value, from a native chart's embedded data."""
    cats = [str(c).removesuffix(" (s)").removesuffix(" (partiel)") for c in chart.plots[0].categories]
    out = {}
    for plot in chart.plots:
        for ser in plot.series:
            for c, v in zip(cats, ser.values):
                out[(c, ser.name)] = v
    return out


def slide_table(slide) -> dict[tuple[str, str], float | None]:
    """chart_table over every native chart of a slide (small multiples: one chart per series)."""
    out = {}
    for sh in slide.shapes:
        if sh.has_chart:
            out.update(chart_table(sh.chart))
    return out
