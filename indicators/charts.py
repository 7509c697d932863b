"""Plotly figure builders and the plain-French sentences that go with them.

One colour per EPCI on every page and slide (Paul Tol's "muted" palette, safe for
colour-blind readers), greys for the reference territories. Secret values are drawn
as an "s" label on an empty bar, never as a zero bar.
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
        showlegend=legend, separators=", ", hoverlabel=dict(font_size=15),
        legend=dict(orientation="h", yanchor="bottom", y=1.02, xanchor="left", x=0),
    )
    fig.update_xaxes(showgrid=True, gridcolor="#e5e5e5", zeroline=True, zerolinecolor="#999999")
    fig.update_yaxes(showgrid=False)
    return fig


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


def sector_growth_bars(df: pd.DataFrame, label_col: str, colour_col: str) -> go.Figure:
    """Growth rates by sector (signed %), secret sectors labelled 's'."""
    d = df.iloc[::-1]
    texts = [fmt.growth(v) if s not in ("secret", "absent") else _label(v, "part", s) for v, s in zip(d.valeur, d.statut)]
    fig = go.Figure(go.Bar(
        x=d.valeur.fillna(0), y=d[label_col], orientation="h", text=texts, textposition="outside", cliponaxis=False,
        marker_color=[SECTOR_COLOURS.get(c, "#4477AA") for c in d[colour_col]],
        hovertext=[f"<b>{n}</b><br>{t}<br>{note}" for n, t, note in zip(d[label_col], texts, d.note.fillna(""))],
        hoverinfo="text"))
    fig.update_xaxes(tickformat="+.0%")
    return _layout(fig, 80 + 60 * len(d))


def lines(df: pd.DataFrame, series_col: str, label_col: str, unite: str, colours: dict[str, str]) -> go.Figure:
    """One line per series over the years; secret/absent years are gaps marked with an 's'."""
    fig = go.Figure()
    for key, g in df.groupby(series_col, sort=False):
        g = g.sort_values("annee")
        name = g[label_col].iat[0]
        texts = [_label(v, unite, s) for v, s in zip(g.valeur, g.statut)]
        fig.add_trace(go.Scatter(
            x=g.annee, y=g.valeur, mode="lines+markers", name=name, line=dict(color=colours.get(key, "#4477AA"), width=3),
            marker=dict(size=8), hovertext=[f"<b>{name}</b> {a}<br>{t}<br>{s}" for a, t, s in zip(g.annee, texts, g.statut)],
            hoverinfo="text", connectgaps=False))
        secret = g[g.statut == "secret"]
        if len(secret):
            fig.add_trace(go.Scatter(x=secret.annee, y=[None] * len(secret), mode="text", text=["s"] * len(secret),
                                     showlegend=False, hoverinfo="skip"))
    fig.update_yaxes(showgrid=True, gridcolor="#e5e5e5", **_tick_format(unite))
    fig.update_xaxes(dtick=1, showgrid=False)
    return _layout(fig, 420, legend=True)


def stacked_bars(df: pd.DataFrame, x_col: str, stack_col: str, stack_label: str, unite: str,
                 colours: dict[str, str], order: list[str] | None = None) -> go.Figure:
    """Categories stacked by territory (e.g. filières by EPCI)."""
    fig = go.Figure()
    for key, g in df.groupby(stack_col, sort=False):
        texts = [_label(v, unite, s) for v, s in zip(g.valeur, g.statut)]
        fig.add_trace(go.Bar(
            y=g[x_col], x=g.valeur.fillna(0), name=g[stack_label].iat[0], orientation="h",
            marker_color=colours.get(key, "#4477AA"),
            hovertext=[f"<b>{t}</b> – {g[stack_label].iat[0]}<br>{lab}<br>{note}"
                       for t, lab, note in zip(g[x_col], texts, g.note.fillna(""))], hoverinfo="text"))
    fig.update_layout(barmode="stack")
    if order:
        fig.update_yaxes(categoryorder="array", categoryarray=order[::-1])
    fig.update_xaxes(**_tick_format(unite))
    return _layout(fig, max(320, 80 + 44 * df[x_col].nunique()), legend=True)


def waterfall(df: pd.DataFrame, label_col: str, total_label: str, start: float, end: float) -> go.Figure:
    """Contributions of each sector to the change of the total, in euros."""
    xs = [f"{total_label} {int(df.annee_base.iat[0])}"] + df[label_col].tolist() + [f"{total_label} {int(df.annee.iat[0])}"]
    ys = [start] + df.valeur.fillna(0).tolist() + [end]
    texts = [fmt.euros(start)] + [fmt.value(v, "€", s) for v, s in zip(df.valeur, df.statut)] + [fmt.euros(end)]
    hidden = df.valeur.isna().to_numpy()
    if hidden.any():
        # Sectors in secret are shown together: their sum is end - start - the published ones, already public.
        keep = [0] + [i + 1 for i in range(len(df)) if not hidden[i]]
        xs = [xs[i] for i in keep] + ["Secteurs en secret (ensemble)", xs[-1]]
        rest = end - start - df.valeur.fillna(0).sum()
        ys = [ys[i] for i in keep] + [rest, end]
        texts = [texts[i] for i in keep] + [fmt.euros(rest), texts[-1]]
    measures = ["absolute"] + ["relative"] * (len(xs) - 2) + ["total"]
    fig = go.Figure(go.Waterfall(x=xs, y=ys, measure=measures, text=texts, textposition="outside", cliponaxis=False,
                                 increasing=dict(marker_color="#117733"), decreasing=dict(marker_color="#CC6677"),
                                 totals=dict(marker_color="#332288"), connector=dict(line_color="#999999")))
    fig.update_yaxes(showgrid=True, gridcolor="#e5e5e5", tickformat="~s", ticksuffix=" €")
    return _layout(fig, 460)


# --- Sentences (they double as the charts' text alternative) -------------------------------------

def lower_first(label: str) -> str:
    """'Hébergement-restauration' -> 'hébergement-restauration', but 'BTP' stays 'BTP'."""
    first = label.split(" ", 1)[0]
    return label if first.isupper() and len(first) > 1 else label[:1].lower() + label[1:]


def sentence_share_vs_reference(name: str, share, ref_name: str, ref_share, what: str) -> str:
    """ref_name is given with its article: 'le département', 'la région'."""
    if share is None or (isinstance(share, float) and math.isnan(share)):
        return f"{name} : part {what} non diffusable (secret statistique ou donnée absente)."
    text = f"{name} : {fmt.percent(share)} {what}"
    if ref_share is None or (isinstance(ref_share, float) and math.isnan(ref_share)):
        return text + "."
    diff = share - ref_share
    if abs(diff) < 0.0005:
        return text + f", comme {ref_name}."
    above = ref_name.replace("le ", "du ", 1) if ref_name.startswith("le ") else "de " + ref_name
    return text + f", {fmt.points(diff)} {'au-dessus ' + above if diff > 0 else 'sous ' + ref_name}."


def sentence_ranking(df: pd.DataFrame, label_col: str, unite: str, what: str) -> str:
    d = df.dropna(subset=["valeur"]).sort_values("valeur", ascending=False)
    if d.empty:
        return f"Aucune valeur diffusable pour {what}."
    top, low = d.iloc[0], d.iloc[-1]
    hidden = int((df.statut == "secret").sum())
    text = (f"{top[label_col]} a la plus forte {what} ({fmt.value(top.valeur, unite)}), "
            f"{low[label_col]} la plus faible ({fmt.value(low.valeur, unite)}).")
    if hidden:
        text += f" {hidden} valeur(s) en secret statistique (« s »)."
    return text


def sentence_growth(territory: str, total, sectors: pd.DataFrame, label_col: str, year0: int, year1: int) -> str:
    if total is None or (isinstance(total, float) and math.isnan(total)):
        return f"{territory} : évolution du chiffre d'affaires entre {year0} et {year1} non diffusable."
    d = sectors.dropna(subset=["valeur"]).sort_values("valeur", ascending=False)
    text = f"{territory} : chiffre d'affaires {fmt.growth(total)} entre {year0} et {year1}"
    if len(d):
        text += f", porté par {lower_first(d.iloc[0][label_col])} ({fmt.growth(d.iloc[0].valeur)})"
        if len(d) > 1:
            text += f" ; {lower_first(d.iloc[-1][label_col])} : {fmt.growth(d.iloc[-1].valeur)}"
    return text + "."


def grouped_growth_bars(df: pd.DataFrame, label_col: str, series_col: str, colours: dict[str, str]) -> go.Figure:
    """Growth by sector for a territory next to its reference (e.g. an EPCI and the département)."""
    fig = go.Figure()
    for serie, g in df.groupby(series_col, sort=False):
        g = g.iloc[::-1]
        texts = [fmt.growth(v) if s not in ("secret", "absent") else _label(v, "part", s) for v, s in zip(g.valeur, g.statut)]
        fig.add_trace(go.Bar(x=g.valeur.fillna(0), y=g[label_col], orientation="h", name=serie, text=texts,
                             textposition="outside", cliponaxis=False, marker_color=colours.get(serie, "#4477AA"),
                             hovertext=[f"<b>{serie}</b> – {n}<br>{t}<br>{note}" for n, t, note in
                                        zip(g[label_col], texts, g.note.fillna(""))], hoverinfo="text"))
    fig.update_layout(barmode="group")
    fig.update_xaxes(tickformat="+.0%")
    return _layout(fig, 120 + 70 * df[label_col].nunique(), legend=True)


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
