"""The committee deck's slides: the dashboard's findings (indicators/content), in deck order
(indicators/content/registry.py), plus the map slide.
The deck, the annex and the pages render the same Finding objects."""
from __future__ import annotations

from dataclasses import replace

from .. import maps
from ..content import (DEMO_LABEL, FILIERE_MEASURES, KINDS, STATUT_MARKS, Context, Finding, Selection,  # noqa: F401
                       SelectionError, context, finish, rounded, rows, secret_notes, shown)
from ..content import registry
from ..content.comparer import SHORT as COMPARE_SHORT  # noqa: F401

Slide = Finding
ORDER = list(registry.DECK)


def with_map(snap, f: Finding, figure=None) -> Finding:
    """A map finding with its picture's figure (PowerPoint has no map chart): drawn for the slide's free area,
    type enlarged for a projector; `figure` replaces it (tests). None when the warehouse has no contours."""
    if figure is None:
        try:
            fig, _ = maps.finding_figure(snap, f.extra["carte"])
        except maps.MapUnavailable:
            return f
        figure = maps.present(fig, *maps.SLIDE_SIZE, font=maps.SLIDE_FONT)
    return replace(f, extra={**f.extra, "figure": figure})


def build(snap, sel: Selection, keys: list[str] | None = None, map_figure=None,
          ctx: Context | None = None) -> list[Finding]:
    """The slides of a deck, in deck order (unknown keys are refused); each names its annex sheet (registry)."""
    keys_all = keys is None
    maps_shown: list[dict] = []
    keys = list(keys or ORDER)
    bad = [k for k in keys if k not in ORDER]
    if bad:
        raise SelectionError(f"diapositive inconnue : {', '.join(bad)} ({', '.join(ORDER)})")
    ctx = ctx or context(snap, sel)
    wanted = set(keys)
    out = []
    for key in ORDER:
        if key not in wanted:
            continue
        s = next((f for f in registry.build(ctx, registry.PAGE_OF_SLIDE[key]) if f.key == key), None)
        if s is not None and s.chart == "carte":
            if keys_all and s.extra["carte"] in maps_shown:     # the Carte page's default is Industrie's map
                continue
            maps_shown.append(s.extra["carte"])
            s = with_map(ctx.snap, s, map_figure)
        if s is not None:
            s.sheet_name = registry.SHEETS.get(key, s.sheet_name)
            out.append(s)
    return out
