"""Plotly renderers: `figure(finding)` draws a finding's chart spec (indicators/content) from the same
rounded rows the slide and the annex show; the plan page's status bars.

The chosen territory stands out, the others are grey (content.FOCUS / OTHER / REFERENCE_GREYS); secret
values are drawn as an "s" label on an empty bar, never as a zero bar; French separators (U+202F).
"""
from __future__ import annotations

import math

import pandas as pd
import plotly.graph_objects as go

from . import format as fmt


EPCI_PALETTE = ["#332288", "#88CCEE", "#44AA99", "#117733", "#999933", "#DDCC77", "#CC6677", "#882255", "#AA4499"]
REFERENCE_COLOURS = {"ti": "#0b3d91", "departement": "#3b3b3b", "region": "#7a7a7a", "france": "#b0b0b0"}
SECTOR_COLOURS = {"industrie": "#332288", "construction": "#DDCC77", "commerce": "#44AA99",
                  "hebergement_restauration": "#CC6677", "transport_autres_services": "#88CCEE"}
FILIERE_COLOURS = {"agroalimentaire": "#117733", "ppam": "#AA4499", "aeronautique": "#332288",
                   "energies_renouvelables": "#DDCC77", "btp": "#CC6677"}
FONT = dict(family="DejaVu Sans, Arial, sans-serif", size=16, color="#222222")


def epci_colours(epci_codes_in_order: list[str]) -> dict[str, str]:
    """SIREN -> colour, from the fixed order of the reference EPCI table."""
    return {code: EPCI_PALETTE[i % len(EPCI_PALETTE)] for i, code in enumerate(epci_codes_in_order)}


def _layout(fig: go.Figure, height: int = 420, legend: bool = False) -> go.Figure:
    fig.update_layout(
        font=FONT, height=height, margin=dict(l=10, r=30, t=20, b=10), plot_bgcolor="white", paper_bgcolor="white",
        showlegend=legend, separators=",\u202f", hoverlabel=dict(font_size=15),
        legend=dict(orientation="h", yanchor="bottom", y=1.02, xanchor="left", x=0),
    )
    fig.update_xaxes(showgrid=True, gridcolor="#e5e5e5", zeroline=True, zerolinecolor="#999999")
    fig.update_yaxes(showgrid=False)
    return fig


PLAN_STATUT_COLOURS = {"à lancer": "#88CCEE", "en cours": "#DDCC77", "réalisé": "#117733", "abandonné": "#BBBBBB"}


def plan_status_bars(totals: pd.DataFrame, statuts: list[str]) -> go.Figure:
    """Actions per axe, stacked by statut (one row of `plan.totals(..., 'axe')` per bar)."""
    d = totals.iloc[::-1]
    fig = go.Figure()
    for s in statuts:
        fig.add_trace(go.Bar(
            y=d.libelle, x=d[s], name=s.capitalize(), orientation="h", marker_color=PLAN_STATUT_COLOURS.get(s, "#4477AA"),
            text=[str(v) if v else "" for v in d[s]], textposition="inside", insidetextanchor="middle",
            hovertext=[f"<b>{a}</b><br>{v} action(s) {s}" for a, v in zip(d.libelle, d[s])], hoverinfo="text"))
    fig.update_layout(barmode="stack")
    fig.update_xaxes(dtick=1 if d.actions.max() <= 12 else None, title_text="Nombre d'actions")
    return _layout(fig, 110 + 60 * len(d), legend=True)


def _room(values) -> list[float]:
    """An axis range leaving room for the labels outside the bars."""
    v = [x for x in values if x == x]
    lo, hi = min([0.0, *v]), max([0.0, *v])
    pad = (hi - lo) * 0.18 or 1.0
    return [lo - (pad if lo < 0 else 0), hi + (pad if hi > 0 else 0)]


# --- one renderer per chart spec (indicators/content): the screen's side of a finding -------------------

def figure(finding) -> go.Figure | None:
    """The plotly figure of a finding's chart spec, from the same rounded rows the slide and the annex use."""
    from .content import KINDS, shown

    spec = finding.spec
    if spec is None:
        return None
    d = finding.chart_rows()
    if not len(d):
        return None
    kind = d.kind.iat[0]
    unit = KINDS[kind][0]
    texts = [shown(v, k, s) + (" (partiel)" if s == "partiel" else "") for v, k, s in zip(d.valeur, d.kind, d.statut)]
    d = d.assign(_text=texts)
    ticks = {"eur": dict(ticksuffix="\u202fM€", tickformat=",d"), "part": dict(tickformat=".0%"),
             "evolution": dict(tickformat="+.0%"), "count": dict(tickformat=",d"),
             "km2": dict(tickformat=",d", ticksuffix="\u202fkm²")}.get(kind, {})
    if spec.kind in ("bar", "waterfall") and spec.by_point:
        cats = list(dict.fromkeys(d[spec.cat].astype(str)))
        g = d.drop_duplicates(spec.cat)
        if spec.kind == "waterfall":
            tot = finding.table[finding.table.usage == "phrase"].sort_values("annee")
            xs = [tot.categorie.iat[0]] + cats + [tot.categorie.iat[-1]]
            ys = [tot.valeur.iat[0]] + g.valeur.fillna(0).tolist() + [tot.valeur.iat[-1]]
            labels = [shown(tot.valeur.iat[0], kind)] + [
                ("+" if s not in ("secret", "absent") and v > 0 else "") + t
                for v, s, t in zip(g.valeur, g.statut, g._text)] + [shown(tot.valeur.iat[-1], kind)]
            labels = [t.replace("+−", "−") for t in labels]
            fig = go.Figure(go.Waterfall(
                x=xs, y=ys, measure=["absolute"] + ["relative"] * len(cats) + ["total"], text=labels,
                textposition="outside", cliponaxis=False, increasing=dict(marker_color="#117733"),
                decreasing=dict(marker_color="#CC6677"), totals=dict(marker_color="#332288"),
                connector=dict(line_color="#999999"), hoverinfo="x+text"))
            fig.update_yaxes(showgrid=True, gridcolor="#e5e5e5", **ticks)
            return _layout(fig, 460)
        fig = go.Figure(go.Bar(
            x=g.valeur.fillna(0), y=g[spec.cat].astype(str), orientation="h", text=g._text, textposition="outside",
            cliponaxis=False, marker_color=[spec.colours.get(c, "#4477AA") for c in g[spec.cat].astype(str)],
            marker_pattern_shape=["/" if s == "partiel" else "" for s in g.statut],
            hovertext=[f"<b>{c}</b><br>{t}" for c, t in zip(g[spec.cat], g._text)], hoverinfo="text"))
        fig.update_yaxes(autorange="reversed")
        fig.update_xaxes(range=_room(g.valeur), **ticks)
        return _layout(fig, max(300, 60 + 40 * len(g)))
    if spec.kind in ("bar", "bar_stacked"):
        fig = go.Figure()
        for name, g in d.groupby(spec.series, sort=False):
            fig.add_trace(go.Bar(
                x=g.valeur.fillna(0), y=g[spec.cat].astype(str), orientation="h", name=str(name),
                text=g._text if spec.kind == "bar" else None, textposition="outside" if spec.kind == "bar" else None,
                cliponaxis=False, marker_color=spec.colours.get(str(name), "#4477AA"),
                hovertext=[f"<b>{c}</b> – {name}<br>{t}" for c, t in zip(g[spec.cat], g._text)], hoverinfo="text"))
        fig.update_layout(barmode="stack" if spec.kind == "bar_stacked" else "group")
        if spec.kind == "bar":
            fig.update_xaxes(range=_room(d.valeur))
        fig.update_yaxes(autorange="reversed")
        highlight = (finding.extra or {}).get("highlight")
        if highlight:
            order = list(dict.fromkeys(d[spec.cat].astype(str)))
            fig.update_yaxes(tickmode="array", tickvals=order,
                             ticktext=[f"<b>▶ {c}</b>" if c == highlight else c for c in order])
        fig.update_xaxes(**ticks)
        return _layout(fig, max(320, 90 + 44 * d[spec.cat].nunique() * (1 if spec.kind == "bar_stacked" else
                                                                          max(1, d[spec.series].nunique()) * 0.7)),
                       legend=True)
    if spec.kind == "line":
        fig = go.Figure()
        for name, g in d.groupby(spec.series, sort=False):
            g = g.sort_values("annee")
            colour = spec.colours.get(str(name), "#4477AA")
            fig.add_trace(go.Scatter(
                x=g.annee.astype(int), y=g.valeur, mode="lines+markers", name=str(name),
                line=dict(color=colour, width=3), marker=dict(size=8), connectgaps=False,
                hovertext=[f"<b>{name}</b> {a}<br>{t}" for a, t in zip(g.annee, g._text)], hoverinfo="text"))
        fig.update_yaxes(showgrid=True, gridcolor="#e5e5e5", **ticks)
        fig.update_xaxes(dtick=1, showgrid=False)
        _mark_break(fig, d)
        return _layout(fig, 420, legend=True)
    if spec.kind == "pie":
        g = d.drop_duplicates(spec.cat)
        fig = go.Figure(go.Pie(labels=g[spec.cat].astype(str), values=g.valeur, sort=False, direction="clockwise",
                               marker_colors=[spec.colours.get(c, "#4477AA") for c in g[spec.cat].astype(str)],
                               texttemplate="%{percent:.0%}", hovertext=g._text, hoverinfo="label+text"))
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


# --- ranked bars of one indicator by EPCI (the Foncier page, outside the content layer so far) ---------

def _tick_format(unite: str) -> dict:
    if unite == "part":
        return dict(tickformat=".0%")
    if unite == "€":
        return dict(tickformat="~s", ticksuffix=" €")
    return dict(tickformat=",d")


def _label(v, unite, statut) -> str:
    return fmt.value(v, unite, statut)


def ranked_bars(df: pd.DataFrame, label_col: str, unite: str, colours: dict[str, str] | None = None,
                references: pd.DataFrame | None = None, height: int | None = None) -> go.Figure:
    """Horizontal bars ranked by value; secret/absent shown as a labelled empty bar; reference lines."""
    d = df.copy()
    d["_sort"] = d.valeur.fillna(-math.inf)
    d = d.sort_values("_sort")
    colour = [(colours or {}).get(c, "#4477AA") for c in d.code]
    texts = [_label(v, unite, s) for v, s in zip(d.valeur, d.statut)]
    hover = [f"<b>{n}</b><br>{t}<br>{s}{'<br>' + note if note else ''}<br><i>{src}</i>"
             for n, t, s, note, src in zip(d[label_col], texts, d.statut, d.note.fillna(""), d.source.fillna(""))]
    fig = go.Figure(go.Bar(
        x=d.valeur.fillna(0), y=d[label_col], orientation="h", marker_color=colour, text=texts, textposition="outside",
        cliponaxis=False, hovertext=hover, hoverinfo="text",
        marker_pattern_shape=["/" if s == "partiel" else "" for s in d.statut],
    ))
    if references is not None:
        for r in references.itertuples():
            if r.statut in ("secret", "absent") or pd.isna(r.valeur):
                continue
            fig.add_vline(x=r.valeur, line_dash="dash", line_color=REFERENCE_COLOURS.get(r.niveau, "#555"), line_width=2,
                          annotation_text=f"{r.nom_court} : {_label(r.valeur, unite, r.statut)}",
                          annotation_position="top", annotation_font_size=14)
    fig.update_xaxes(**_tick_format(unite))
    return _layout(fig, height or max(300, 60 + 42 * len(d)))
