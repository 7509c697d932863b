"""The chart grammar of the screen: French axes, placeholders for secret and partial values, small
multiples, panels for unequal series, diverging bars of signed contributions.

`indicators/charts.figure` dispatches a finding's chart spec here. Values are those of the finding's table
(rounded as shown; euros in M€, shares and growths as fractions).
"""
from __future__ import annotations

import math

import plotly.graph_objects as go
from plotly.subplots import make_subplots

from . import format as fmt, palettes

SECRET_LEGEND = "s : secret statistique"
PARTIAL_LEGEND = "Valeur partielle (hachures)"


# --- axes ---------------------------------------------------------------------------------------------

def nice_ticks(lo: float, hi: float, n: int = 5) -> list[float]:
    """Round tick values covering [lo, hi], about n of them, 0 included when in range."""
    if not (math.isfinite(lo) and math.isfinite(hi)):
        return []
    if hi <= lo:
        hi = lo + (abs(lo) or 1.0)
    raw = (hi - lo) / max(1, n - 1)
    mag = 10 ** math.floor(math.log10(raw))
    step = next(m * mag for m in (1, 2, 2.5, 5, 10) if m * mag >= raw)
    first = (math.floor(lo / step + 1e-9) if lo < 0 else math.ceil(lo / step - 1e-9)) * step
    out, v = [], first
    while v <= hi + step * 1e-9:
        out.append(round(v, 12) + 0.0)
        v += step
    return out


def french_axis(lo: float, hi: float, kind: str, n: int = 5) -> dict:
    """Plotly axis settings with French tick labels for values between lo and hi."""
    ticks = nice_ticks(lo, hi, n)
    if not ticks:
        return {}
    step = ticks[1] - ticks[0] if len(ticks) > 1 else abs(ticks[0]) or 1
    top = max(abs(t) for t in ticks)
    return dict(tickmode="array", tickvals=ticks, ticktext=[fmt.tick(t, kind, step, top) for t in ticks])


def room(values, pad: float = 0.2) -> list[float]:
    v = [x for x in values if x is not None and x == x]
    lo, hi = min([0.0, *v]), max([0.0, *v])
    p = (hi - lo) * pad or 1.0
    return [lo - (p if lo < 0 else 0), hi + (p if hi > 0 else 0)]


def label_positions(values, all_values=None) -> list[str]:
    """Value labels outside their bars, but inside the longest ones (within 15 % of the largest): a label
    past the longest bar would leave the chart on a narrow screen."""
    ref = [abs(v) for v in (values if all_values is None else all_values) if v == v and v is not None]
    top = max(ref) if ref else 0
    return ["inside" if top and v == v and v is not None and abs(v) >= 0.85 * top else "outside" for v in values]


# --- placeholders ---------------------------------------------------------------------------------------

def legend_placeholders(fig: go.Figure, secret: bool, partial: bool, bar: bool = True) -> None:
    """Legend entries saying what « s » and the hatching mean (a trace with no point)."""
    if secret:
        fig.add_trace(go.Scatter(x=[None], y=[None], mode="markers+text", name=SECRET_LEGEND, hoverinfo="skip",
                                 marker=dict(symbol="square-open", size=14, color=palettes.SECRET_LINE),
                                 showlegend=True, legendrank=900))
    if partial:
        if bar:
            fig.add_trace(go.Bar(x=[None], y=[None], name=PARTIAL_LEGEND, hoverinfo="skip", showlegend=True,
                                 marker=dict(color="#9a9a9a", pattern_shape=palettes.PARTIAL_PATTERN),
                                 legendrank=901))
        else:
            fig.add_trace(go.Scatter(x=[None], y=[None], mode="lines+markers", name="Valeur partielle (pointillés)",
                                     line=dict(dash="dot", color="#7a7a7a"), hoverinfo="skip", showlegend=True,
                                     legendrank=901))


def secret_marks_h(fig: go.Figure, cats: list[str], row=None, col=None, side: str = "right") -> None:
    """« s » at the foot of the empty place of a secret bar (horizontal bars); `side` left when the axis
    ends at 0 (only negative values), where a mark on the right would fall outside the chart."""
    if not cats:
        return
    fig.add_trace(go.Scatter(x=[0] * len(cats), y=cats, mode="text", text=["s"] * len(cats), textposition=f"middle {side}",
                             textfont=dict(color=palettes.SECRET_LINE, size=16), showlegend=False,
                             hovertext=[f"<b>{c}</b><br>secret statistique" for c in cats], hoverinfo="text"),
                  row=row, col=col)


def secret_box(fig: go.Figure, k: int, row: int, col: int) -> None:
    """A panel (subplot k, 1-based) whose values are all secret: a grey box « s — secret statistique », no axis."""
    ref = "" if k == 1 else str(k)
    # An empty trace makes the panel's axes exist for plotly, else the box on their domain is not drawn.
    fig.add_trace(go.Scatter(x=[None], y=[None], showlegend=False, hoverinfo="skip"), row=row, col=col)
    fig.add_shape(type="rect", xref=f"x{ref} domain", yref=f"y{ref} domain", x0=0.02, x1=0.98, y0=0.05, y1=0.95,
                  fillcolor="#eeeeee", line=dict(color=palettes.SECRET_LINE, width=1), layer="below")
    fig.add_annotation(text="s — secret statistique", xref=f"x{ref} domain", yref=f"y{ref} domain", x=0.5, y=0.5,
                       showarrow=False, font=dict(size=14, color="#555555"))
    fig.update_xaxes(visible=False, row=row, col=col)
    fig.update_yaxes(visible=False, row=row, col=col)


def wrap(text: str, width: int) -> str:
    """A panel title on several lines (<br>) of at most about `width` characters."""
    lines, cur = [], ""
    for w in str(text).split():
        if cur and len(cur) + 1 + len(w) > width:
            lines.append(cur)
            cur = w
        else:
            cur = f"{cur} {w}".strip()
    return "<br>".join([*lines, cur])


# --- renderers --------------------------------------------------------------------------------------------

def small_multiples(d, spec, kind: str, highlight: str | None, layout) -> go.Figure:
    """One panel per series (a filière, a sector): horizontal bars of the territories, each panel on its
    own axis, so that a small series is read as well as a large one."""
    series = list(dict.fromkeys(d[spec.series].astype(str)))
    cats = list(dict.fromkeys(d[spec.cat].astype(str)))
    n = len(series)
    fig = make_subplots(rows=1, cols=n, shared_yaxes=True, horizontal_spacing=0.02 if n > 3 else 0.04,
                        subplot_titles=[f"<b>{wrap(s, 18 if n > 3 else 28)}</b>" for s in series])
    secret = partial = False
    for i, s in enumerate(series, start=1):
        g = d[d[spec.series].astype(str) == s].set_index(d[spec.cat].astype(str)[d[spec.series].astype(str) == s])
        g = g.reindex(cats)
        colour = spec.colours.get(s, palettes.FOCUS)
        vals = g.valeur.tolist()
        stat = g.statut.fillna("absent").tolist()
        if all(st == "secret" for st in stat):
            secret = True
            secret_box(fig, i, 1, i)
            continue
        fig.add_trace(go.Bar(
            x=vals, y=cats, orientation="h", name=s, showlegend=False, cliponaxis=False,
            marker=dict(color=colour, opacity=[1.0 if (highlight is None or c == highlight) else palettes.OTHERS_OPACITY
                                         for c in cats],
                        pattern_shape=[palettes.PARTIAL_PATTERN if st == "partiel" else "" for st in stat]),
            text=g._text.fillna("–").where([st not in ("secret",) for st in stat], "").tolist(),
            textposition="outside", textfont=dict(size=13), constraintext="none",
            hovertext=[f"<b>{c}</b> – {s}<br>{t}" for c, t in zip(cats, g._text.fillna("–"))], hoverinfo="text"),
            row=1, col=i)
        secret_marks_h(fig, [c for c, st in zip(cats, stat) if st == "secret"], row=1, col=i)
        secret |= "secret" in stat
        partial |= "partiel" in stat
        r = room(vals, 0.45)
        ax = french_axis(r[0], r[1] / 1.45 if r[1] > 0 else r[1], kind, n=3)
        fig.update_xaxes(range=r, showgrid=True, gridcolor="#eeeeee", zeroline=True, zerolinecolor="#999999",
                         tickfont=dict(size=11), row=1, col=i, **ax)
    fig.update_yaxes(autorange="reversed", tickmode="array", tickvals=cats,
                     ticktext=[f"<b>▶ {c}</b>" if c == highlight else c for c in cats], row=1, col=1)
    fig.update_annotations(font_size=14)
    legend_placeholders(fig, secret, partial)
    fig = layout(fig, max(320, 110 + 40 * len(cats)), legend=secret or partial)
    lines = max(wrap(s, 18 if n > 3 else 28).count("<br>") for s in series) + 1
    fig.update_layout(margin=dict(l=10, r=20, t=30 + 22 * lines, b=10), legend=dict(y=-0.08, yanchor="top"))
    return fig


def unequal(values_by_series: dict[str, list[float]], ratio: float = 5.0) -> bool:
    """Series whose typical levels differ by more than `ratio`: one shared axis would flatten the small ones."""
    levels = [max(abs(v) for v in vs) for vs in values_by_series.values() if vs]
    levels = [v for v in levels if v > 0]
    return len(levels) > 1 and max(levels) / min(levels) > ratio


def line_panels(d, spec, kind: str, layout) -> go.Figure:
    """Evolutions of series of unequal size: one small panel per series, each on its own axis; secret
    years marked « s » on the panel's baseline, so no series is dropped."""
    series = list(dict.fromkeys(d[spec.series].astype(str)))
    n = len(series)
    cols = min(n, 3)
    rows_ = math.ceil(n / cols)
    fig = make_subplots(rows=rows_, cols=cols, subplot_titles=[f"<b>{s}</b>" for s in series],
                        horizontal_spacing=0.08, vertical_spacing=0.16 if rows_ > 1 else 0.1)
    years = sorted({int(a) for a in d.annee.dropna()})
    secret = partial = False
    for i, s in enumerate(series):
        r, c = i // cols + 1, i % cols + 1
        g = d[d[spec.series].astype(str) == s].sort_values("annee")
        colour = spec.colours.get(s, palettes.FOCUS)
        if len(g) and (g.statut == "secret").all():
            # Nothing to draw: a grey box says so, rather than a 0 to 1 axis with « s » on its zero line.
            secret = True
            secret_box(fig, i + 1, r, c)
            continue
        fig.add_trace(go.Scatter(
            x=g.annee.astype(int), y=g.valeur, mode="lines+markers+text", name=s, showlegend=False,
            line=dict(color=colour, width=3), marker=dict(size=8), connectgaps=False,
            text=[t if k in (0, len(g) - 1) else "" for k, t in enumerate(g._text)], textposition="top center",
            textfont=dict(size=12), cliponaxis=False,
            hovertext=[f"<b>{s}</b> {a}<br>{t}" for a, t in zip(g.annee, g._text)], hoverinfo="text"), row=r, col=c)
        sec = g[g.statut == "secret"]
        if len(sec):
            secret = True
            fig.add_trace(go.Scatter(x=sec.annee.astype(int), y=[0] * len(sec), mode="markers+text", text=["s"] * len(sec),
                                     textposition="top center", showlegend=False, hoverinfo="text",
                                     hovertext=[f"<b>{s}</b> {a}<br>secret statistique" for a in sec.annee],
                                     marker=dict(symbol="square-open", size=12, color=palettes.SECRET_LINE)),
                          row=r, col=c)
        partial |= bool((g.statut == "partiel").any())
        v = g.valeur.dropna().tolist()
        lo, hi = (min([0.0, *v]), max([0.0, *v])) if v else (0.0, 1.0)
        pad = (hi - lo) * 0.25 or 1.0
        fig.update_yaxes(range=[lo, hi + pad], showgrid=True, gridcolor="#eeeeee", tickfont=dict(size=11),
                         row=r, col=c, **french_axis(lo, hi, kind, n=3))
        fig.update_xaxes(tickmode="array", tickvals=[years[0], years[-1]] if years else None,
                         tickfont=dict(size=11), range=[years[0] - 0.5, years[-1] + 0.5] if years else None,
                         row=r, col=c)
    fig.update_annotations(font_size=14)
    legend_placeholders(fig, secret, partial, bar=False)
    fig = layout(fig, 230 * rows_ + 80, legend=secret or partial)
    fig.update_layout(margin=dict(l=10, r=20, t=50, b=10), legend=dict(y=-0.1, yanchor="top"))
    return fig


def contributions(g, start_label: str, end_label: str, start_text: str, end_text: str, kind: str, layout) -> go.Figure:
    """Signed contributions to a change, as diverging bars sorted from the largest rise to the largest fall,
    around 0 (not a waterfall from 0 € where the contributions are slivers of the totals)."""
    g = g.assign(_v=g.valeur.astype(float)).sort_values("_v", ascending=False, na_position="last")
    cats = g.categorie.astype(str).tolist()
    vals = g._v.tolist()
    stat = g.statut.tolist()
    labels = [("" if st in ("secret", "absent") else ("+" if v > 0 else "")) + t
              for v, st, t in zip(vals, stat, g._text)]
    labels = [t.replace("+" + fmt.MINUS, fmt.MINUS) for t in labels]
    fig = go.Figure(go.Bar(
        x=[0 if v != v else v for v in vals], y=cats, orientation="h", cliponaxis=False, showlegend=False,
        marker=dict(color=[palettes.UP if v >= 0 else palettes.DOWN for v in [0 if v != v else v for v in vals]],
                    pattern_shape=[palettes.PARTIAL_PATTERN if st == "partiel" else "" for st in stat]),
        text=[t if st != "secret" else "" for t, st in zip(labels, stat)], textposition="outside", constraintext="none",
        hovertext=[f"<b>{c}</b><br>{t}" for c, t in zip(cats, labels)], hoverinfo="text"))
    known = [v for v in vals if v == v]
    secret_marks_h(fig, [c for c, st in zip(cats, stat) if st == "secret"],
                   side="left" if known and max(known) <= 0 else "right")
    if any(v >= 0 for v in known):
        fig.add_trace(go.Bar(x=[None], y=[None], name="Hausse", marker_color=palettes.UP, showlegend=True))
    if any(v < 0 for v in known):
        fig.add_trace(go.Bar(x=[None], y=[None], name="Baisse", marker_color=palettes.DOWN, showlegend=True))
    legend_placeholders(fig, "secret" in stat, "partiel" in stat)
    r = room(vals, 0.35)
    fig.update_xaxes(range=r, zeroline=True, zerolinecolor="#555555", zerolinewidth=2,
                     **french_axis(min(0, *[v for v in vals if v == v] or [0]), max(0, *[v for v in vals if v == v] or [0]),
                                   kind))
    fig.update_yaxes(autorange="reversed")
    fig = layout(fig, max(320, 120 + 42 * len(cats)), legend=True)
    fig.update_layout(barmode="overlay", title=dict(
        text=f"Du {start_label.lower()} ({start_text}) au {end_label.lower()} ({end_text}){fmt.NNBSP}: contribution de chaque secteur",
        font=dict(size=14, color="#555555"), x=0, xanchor="left", y=0.99, yanchor="top"),
        margin=dict(l=10, r=30, t=40, b=10), legend=dict(y=-0.06, yanchor="top"))
    return fig
