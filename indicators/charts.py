"""Plotly renderers: `figure(finding)` draws a finding's chart spec (indicators/content) from the same
rounded rows the slide and the annex show; the plan page's status bars.

The chosen territory stands out, the others are grey (content.FOCUS / OTHER / REFERENCE_GREYS); secret
values are drawn as an "s" label on an empty bar, never as a zero bar; French separators (U+202F).
"""
from __future__ import annotations

import math

import pandas as pd
import plotly.graph_objects as go

from . import chart_kit, format as fmt, palettes

EPCI_PALETTE = palettes.TERRITORIES
REFERENCE_COLOURS = {"ti": palettes.FOCUS, "departement": "#3b3b3b", "region": "#7a7a7a", "france": "#b0b0b0"}
SECTOR_COLOURS = palettes.SECTORS
FILIERE_COLOURS = palettes.FILIERES
FONT = dict(family="DejaVu Sans, Arial, sans-serif", size=16, color="#222222")


def epci_colours(epci_codes_in_order: list[str]) -> dict[str, str]:
    """SIREN -> colour, from the fixed order of the reference EPCI table."""
    return {code: EPCI_PALETTE[i % len(EPCI_PALETTE)] for i, code in enumerate(epci_codes_in_order)}


def _layout(fig: go.Figure, height: int = 420, legend: bool = False) -> go.Figure:
    fig.update_layout(
        font=FONT, height=height, margin=dict(l=24, r=30, t=20, b=10), plot_bgcolor="white", paper_bgcolor="white",
        showlegend=bool(legend), separators=fmt.PLOTLY_SEPARATORS, hoverlabel=dict(font_size=15),
        legend=dict(orientation="h", yanchor="bottom", y=1.02, xanchor="left", x=0),
    )
    fig.update_xaxes(showgrid=True, gridcolor="#e5e5e5", zeroline=True, zerolinecolor="#999999", automargin=True)
    fig.update_yaxes(showgrid=False, automargin=True, ticklabelstandoff=6)
    return fig


def _room(values) -> list[float]:
    """An axis range leaving room for the labels outside the bars."""
    v = [x for x in values if x == x]
    lo, hi = min([0.0, *v]), max([0.0, *v])
    pad = (hi - lo) * 0.18 or 1.0
    return [lo - (pad if lo < 0 else 0), hi + (pad if hi > 0 else 0)]


# --- one renderer per chart spec (indicators/content): the screen's side of a finding -------------------

def figure(finding) -> go.Figure | None:
    """The plotly figure of a finding's chart spec, from the same rounded rows the slide and the annex use."""
    from .content import KINDS, labels, shown

    spec = finding.spec
    if spec is None:
        return None
    d = finding.chart_rows()
    if not len(d):
        return None
    kind = d.kind.iat[0]
    unit = KINDS[kind][0]
    texts = [t + (" (partiel)" if s == "partiel" else "") for t, s in zip(labels(d), d.statut)]
    d = d.assign(_text=texts)

    def ticks(values) -> dict:
        v = [x for x in values if x == x]
        return chart_kit.french_axis(min([0.0, *v]), max([0.0, *v]), kind, n=4) if v else {}
    highlight = (finding.extra or {}).get("highlight")
    if spec.kind == "bar_stacked":        # categories of very unequal size: one panel each, not a stack
        return chart_kit.small_multiples(d, spec, kind, highlight, _layout)
    if spec.kind == "line" and d[spec.series].nunique() > 1 and chart_kit.unequal(
            {s: g.valeur.dropna().tolist() for s, g in d.groupby(spec.series)}):
        return chart_kit.line_panels(d, spec, kind, _layout)
    if spec.kind in ("bar", "waterfall") and spec.by_point:
        cats = list(dict.fromkeys(d[spec.cat].astype(str)))
        g = d.drop_duplicates(spec.cat)
        if spec.kind == "waterfall":
            tot = finding.table[finding.table.usage == "phrase"].sort_values("annee")
            return chart_kit.contributions(g, tot.categorie.iat[0], tot.categorie.iat[-1],
                                           shown(tot.valeur.iat[0], kind), shown(tot.valeur.iat[-1], kind), kind, _layout)
        fig = go.Figure(go.Bar(
            x=g.valeur.fillna(0), y=g[spec.cat].astype(str), orientation="h",
            text=g._text.where(g.statut != "secret", ""), textposition=chart_kit.label_positions(g.valeur),
            insidetextanchor="end", constraintext="none", showlegend=False,
            cliponaxis=False, marker_color=[spec.colours.get(c, "#4477AA") for c in g[spec.cat].astype(str)],
            marker_pattern_shape=["/" if s == "partiel" else "" for s in g.statut],
            hovertext=[f"<b>{c}</b><br>{t}" for c, t in zip(g[spec.cat], g._text)], hoverinfo="text"))
        chart_kit.secret_marks_h(fig, [c for c, s in zip(g[spec.cat].astype(str), g.statut) if s == "secret"])
        chart_kit.legend_placeholders(fig, (g.statut == "secret").any(), (g.statut == "partiel").any())
        fig.update_yaxes(autorange="reversed")
        if highlight:
            order = g[spec.cat].astype(str).tolist()
            fig.update_yaxes(tickmode="array", tickvals=order,
                             ticktext=[f"<b>▶ {c}</b>" if c == highlight else c for c in order])
        fig.update_xaxes(range=_room(g.valeur), **ticks(g.valeur))
        if (g.statut.isin(["secret", "partiel"])).any():
            return _layout(fig, max(300, 100 + 40 * len(g)), legend=True)
        return _layout(fig, max(300, 60 + 40 * len(g)))
    if spec.kind in ("bar", "bar_stacked"):
        fig = go.Figure()
        for name, g in d.groupby(spec.series, sort=False):
            fig.add_trace(go.Bar(
                x=g.valeur.fillna(0), y=g[spec.cat].astype(str), orientation="h", name=str(name),
                text=g._text, textposition=chart_kit.label_positions(g.valeur, d.valeur),   # « s » at 0 when secret
                insidetextanchor="end", constraintext="none",
                cliponaxis=False, marker_color=spec.colours.get(str(name), "#4477AA"),
                hovertext=[f"<b>{c}</b> – {name}<br>{t}" for c, t in zip(g[spec.cat], g._text)], hoverinfo="text"))
        fig.update_layout(barmode="group")
        fig.update_xaxes(range=_room(d.valeur))
        chart_kit.legend_placeholders(fig, (d.statut == "secret").any(), (d.statut == "partiel").any())
        fig.update_yaxes(autorange="reversed")
        if highlight:
            order = list(dict.fromkeys(d[spec.cat].astype(str)))
            fig.update_yaxes(tickmode="array", tickvals=order,
                             ticktext=[f"<b>▶ {c}</b>" if c == highlight else c for c in order])
        fig.update_xaxes(**ticks(d.valeur))
        several = bool(d[spec.series].nunique() > 1 or d.statut.isin(["secret", "partiel"]).any())
        return _layout(fig, max(320, 90 + 44 * d[spec.cat].nunique() * max(1, d[spec.series].nunique()) * 0.7),
                       legend=several)
    if spec.kind == "line":
        fig = go.Figure()
        for name, g in d.groupby(spec.series, sort=False):
            g = g.sort_values("annee")
            colour = spec.colours.get(str(name), "#4477AA")
            x, y, hover = _cut_at_source_breaks(g, name)
            fig.add_trace(go.Scatter(
                x=x, y=y, mode="lines+markers", name=str(name),
                line=dict(color=colour, width=3), marker=dict(size=8), connectgaps=False,
                hovertext=hover, hoverinfo="text"))
            sec = g[g.statut == "secret"]
            if len(sec):     # a secret year: « s » on the line's baseline, in the series' colour
                fig.add_trace(go.Scatter(x=sec.annee.astype(int), y=[0] * len(sec), mode="markers+text",
                                         text=["s"] * len(sec), textposition="top center", showlegend=False,
                                         marker=dict(symbol="square-open", size=12, color=colour),
                                         hovertext=[f"<b>{name}</b> {a}<br>secret statistique" for a in sec.annee],
                                         hoverinfo="text"))
        chart_kit.legend_placeholders(fig, (d.statut == "secret").any(), (d.statut == "partiel").any(), bar=False)
        v = d.valeur.dropna()
        fig.update_yaxes(showgrid=True, gridcolor="#e5e5e5", **ticks(d.valeur))
        if len(v):
            lo, hi = min(0.0, v.min()), max(0.0, v.max())
            fig.update_yaxes(range=[lo - (hi - lo) * 0.05, hi + (hi - lo) * 0.08])
        fig.update_xaxes(dtick=1, showgrid=False)
        _mark_break(fig, d)
        _mark_source_break(fig, d)
        return _layout(fig, 420, legend=True)
    if spec.kind == "pie":
        g = d.drop_duplicates(spec.cat)
        fig = go.Figure(go.Pie(labels=g[spec.cat].astype(str), values=g.valeur, sort=False, direction="clockwise",
                               marker_colors=[spec.colours.get(c, "#4477AA") for c in g[spec.cat].astype(str)],
                               text=[fmt.tick(fmt.round_half_up(v / g.valeur.sum(), 2), "part", 0.01) if g.valeur.sum() else ""
                                     for v in g.valeur.fillna(0)],
                               textinfo="text", hovertext=g._text, hoverinfo="label+text"))
        return _layout(fig, 420, legend=True)
    raise ValueError(f"type de graphique inconnu : {spec.kind}")


# >>> NAF 2025: the year a series breaks (figures in NAF 2025 after figures in NAF rév. 2) -----------
def _mark_break(fig: go.Figure, df: pd.DataFrame) -> None:
    """A dashed vertical line before the first year whose note says « Rupture de série en AAAA » (query.get),
    when the chart also shows earlier years: the series is not continuous across it."""
    if "note" not in df or "annee" not in df:
        return
    years = df.note.dropna().astype(str).str.extract(r"Rupture de série en (\d{4})")[0].dropna()
    if not len(years):
        return
    year = int(years.astype(int).min())
    if pd.to_numeric(df.annee, errors="coerce").min() < year:
        fig.add_vline(x=year - 0.5, line_dash="dash", line_color="#777777", line_width=1.5,
                      annotation_text=f"NAF 2025 ({year}) : rupture de série", annotation_position="top left",
                      annotation_font_size=12)
# <<< NAF 2025 ---------------------------------------------------------------------------------------


def _cut_at_source_breaks(g: pd.DataFrame, name) -> tuple[list, list, list]:
    """A series' points, with a gap (None) before each year its source changes: the line is not drawn across."""
    x, y, hover = [], [], []
    notes = g.note.fillna("").astype(str) if "note" in g else pd.Series("", index=g.index)
    for a, v, t, n in zip(g.annee.astype(int), g.valeur, g._text, notes):
        if f"Changement de source en {a}" in n and x:
            x, y, hover = x + [a - 0.5], y + [None], hover + [""]
        x, y, hover = x + [int(a)], y + [v], hover + [f"<b>{name}</b> {a}<br>{t}"]
    return x, y, hover


def _mark_source_break(fig: go.Figure, df: pd.DataFrame) -> None:
    """The same dashed line before the first year a series takes another source (content.source_breaks: real
    figures then demo ones, or two producers): the values on either side are not comparable."""
    if "note" not in df or "annee" not in df:
        return
    years = df.note.dropna().astype(str).str.extract(r"Changement de source en (\d{4})")[0].dropna()
    for year in sorted(set(years.astype(int))):
        fig.add_vline(x=year - 0.5, line_dash="dash", line_color="#777777", line_width=1.5,
                      annotation_text=f"{year} : changement de source, rupture de série", annotation_position="top left",
                      annotation_font_size=12)
