"""Foncier économique: the map of sites and the list of sites of the page (pure functions of
foncier_query.sites' frame). The page's findings, its slides and annex sheets are indicators/content/foncier.py's.
"""
from __future__ import annotations

import math
import re

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from . import format as fmt
from .charts import FONT

NNBSP = fmt.NNBSP
VACANCY_COLOURS = ["#1a9850", "#a6d96a", "#fee08b", "#fdae61", "#d73027"]     # ColorBrewer RdYlGn, reversed
VACANCY_BOUNDS = [0.0, 0.05, 0.10, 0.15, 0.20]                               # classes [0;5[, [5;10[, ... [20;+[
NO_RATE_COLOUR = "#9e9e9e"


def ha(v) -> str:
    return fmt.value(v, "ha", "ok" if v == v else "absent")


# --- the list of sites ------------------------------------------------------------------------------

def sites_for_people(sites: pd.DataFrame) -> pd.DataFrame:
    """The sites as people read them (French headers, figures as numbers for the CSV)."""
    return pd.DataFrame({
        "Site": sites.nom, "EPCI": sites.epci_nom, "Commune": sites.commune_nom,
        "Disponible à la vente (ha)": sites.surface_disponible_ha, "Terrains en vente": sites.terrains_en_vente,
        "Superficie totale (ha)": sites.surface_brute_ha, "Superficie utile (ha)": sites.surface_utile_ha,
        "Vocation dominante": sites.vocadomi, "Unités foncières": sites.unites_foncieres,
        "Taux de vacance (%)": (sites.taux_vacance * 100).round(1), "Établissements": sites.etablissements,
        "Emplois": sites.emplois, "Vocation industrielle": sites.industrielle.map({True: "oui", False: "non"}),
        "Actualisé le": pd.to_datetime(sites.actu_date).dt.strftime("%d/%m/%Y"), "Identifiant": sites.code,
    })


def sites_display(table: pd.DataFrame) -> pd.DataFrame:
    """sites_for_people with French number formats (for the screen; the CSV keeps the numbers)."""
    out = table.copy()
    for col in out.columns:
        if col.endswith("(ha)") or col.endswith("(%)"):
            out[col] = [fmt.number(v, 1) for v in out[col]]
        elif col in ("Terrains en vente", "Unités foncières", "Établissements", "Emplois"):
            out[col] = [fmt.number(v, 0) for v in out[col]]
    return out


def with_available_land(sites: pd.DataFrame, minimum_ha: float = 0.0) -> pd.DataFrame:
    """Sites with land for sale (surface disponible above `minimum_ha`, or a terrain « en vente »)."""
    d = sites.surface_disponible_ha.fillna(0)
    out = sites[(d > minimum_ha) | ((minimum_ha == 0) & (sites.terrains_en_vente > 0))]
    return out.sort_values(["surface_disponible_ha", "nom"], ascending=[False, True], na_position="last")


# --- the map --------------------------------------------------------------------------------------

def _short(name: str, width: int = 13) -> str:
    """A long EPCI name on two or more lines for its label (after spaces or hyphens)."""
    if len(name) <= width:
        return name
    tokens = re.findall(r"[^ -]+-|[^ -]+", name)    # "Gap-Tallard-Durance" -> "Gap-", "Tallard-", "Durance"
    lines, line = [], ""
    for t in tokens:
        sep = "" if line.endswith("-") or not line else " "
        if line and len(line) + len(sep) + len(t) > width:
            lines.append(line)
            line = t
        else:
            line = f"{line}{sep}{t}"
    return "<br>".join(lines + [line])


def _label_positions(lon: list[float], lat: list[float], texts: list[str]) -> list[str]:
    """Centred labels, except pairs whose boxes would overlap: the northern one goes above its point, the
    southern one below (box sizes in degrees, for the département-wide view)."""
    pos = ["middle center"] * len(texts)
    size = [(max(len(t) for t in x.split("<br>")) * 0.022, x.count("<br>") * 0.06 + 0.06) for x in texts]
    for i in range(len(texts)):
        for j in range(i + 1, len(texts)):
            if (abs(lon[i] - lon[j]) < (size[i][0] + size[j][0]) / 2
                    and abs(lat[i] - lat[j]) < (size[i][1] + size[j][1]) / 2):
                north, south = (i, j) if lat[i] >= lat[j] else (j, i)
                pos[north], pos[south] = "top center", "bottom center"
    return pos


def vacancy_class(rate) -> int:
    """Index of the vacancy class (half-open bounds), -1 when unknown."""
    if rate is None or (isinstance(rate, float) and math.isnan(rate)):
        return -1
    return int(np.searchsorted(VACANCY_BOUNDS, rate, side="right") - 1)


def vacancy_labels() -> list[str]:
    out = []
    for i, lo in enumerate(VACANCY_BOUNDS):
        hi = VACANCY_BOUNDS[i + 1] if i + 1 < len(VACANCY_BOUNDS) else None
        out.append(f"de {fmt.number(lo * 100)} à moins de {fmt.number(hi * 100)}{NNBSP}%" if hi is not None
                   else f"{fmt.number(lo * 100)}{NNBSP}% ou plus")
    return out


def map_figure(outlines: dict[str, object], labels: pd.DataFrame, sites: pd.DataFrame, selection: str | None = None,
               height: int = 760, text_size: int = 12, legend_right: bool = False) -> go.Figure:
    """Sites as circles (area proportional to the site's gross area) coloured by vacancy rate, over the EPCI
    outlines; drawn offline (pass maps.PLOTLY_CONFIG). outlines: "epci:SIREN" / "dep" -> shapely geometry
    (maps.geometries(snap).shapes, "dep:CODE" for départements); labels: code, nom_court, label_lon, label_lat of the EPCI."""
    from .maps import _lines

    fig = go.Figure()
    for key, geom in outlines.items():
        if not key.startswith("epci:"):
            continue
        lon, lat = _lines(geom)
        chosen = selection and key == f"epci:{selection}"
        fig.add_trace(go.Scattergeo(lon=lon, lat=lat, mode="lines", hoverinfo="skip", showlegend=False,
                                    line=dict(color="#000000" if chosen else "#666666", width=3.5 if chosen else 1.2)))
    s = sites.dropna(subset=["lon", "lat"]).copy()
    area = s.surface_brute_ha.fillna(0).clip(lower=0)
    biggest = float(area.max()) if len(area) and area.max() > 0 else 1.0
    s["size"] = 8 + 42 * np.sqrt(area / biggest)          # circle area proportional to the site's area
    s["classe"] = [vacancy_class(r) for r in s.taux_vacance]
    labels_ = vacancy_labels()
    groups = [(i, lab, col) for i, (lab, col) in enumerate(zip(labels_, VACANCY_COLOURS))]
    groups.append((-1, "non renseigné", NO_RATE_COLOUR))
    s = s.sort_values("size", ascending=False)            # small circles drawn over large ones
    for i, label, colour in groups:
        g = s[s.classe == i]
        if not len(g):
            continue
        hover = [f"<b>{r.nom}</b><br>{r.commune_nom} ({r.epci_nom})<br>Superficie : {ha(r.surface_brute_ha)}"
                 f"<br>Disponible à la vente : {ha(r.surface_disponible_ha)}"
                 f"<br>Vacance : {fmt.percent(r.taux_vacance) if r.taux_vacance == r.taux_vacance else fmt.ABSENT}"
                 f"<br>Actualisé le {pd.Timestamp(r.actu_date):%d/%m/%Y}" for r in g.itertuples()]
        fig.add_trace(go.Scattergeo(lon=g.lon, lat=g.lat, mode="markers", name=f"{label} ({len(g)})",
                                    marker=dict(size=g["size"], color=colour, opacity=0.85,
                                                line=dict(color="#333333", width=0.8)),
                                    hovertext=hover, hoverinfo="text"))
    for key, geom in outlines.items():       # département outlines ("dep:CODE"; "dep" in older warehouses)
        if key == "dep" or key.startswith("dep:"):
            lon, lat = _lines(geom)
            fig.add_trace(go.Scattergeo(lon=lon, lat=lat, mode="lines", hoverinfo="skip", showlegend=False,
                                        line=dict(color="#111111", width=2.2)))
    lab = labels.dropna(subset=["label_lon"])
    texts = [_short(n) for n in lab.nom_court]
    fig.add_trace(go.Scattergeo(lon=lab.label_lon, lat=lab.label_lat, mode="text", text=texts,
                                textposition=_label_positions(lab.label_lon.tolist(), lab.label_lat.tolist(), texts),
                                textfont=dict(family=FONT["family"], size=text_size, color="#333333",
                                              shadow="1px 1px 2px #ffffff, -1px -1px 2px #ffffff, 1px -1px 2px #ffffff, "
                                                     "-1px 1px 2px #ffffff"),
                                hoverinfo="skip", showlegend=False))
    if len(s):   # size key: the largest site
        fig.add_trace(go.Scattergeo(lon=[None], lat=[None], mode="markers", hoverinfo="skip",
                                    marker=dict(size=50, color="rgba(0,0,0,0)", line=dict(color="#333333", width=1)),
                                    name=f"cercle : superficie du site ({ha(biggest)} pour le plus grand)"))
    fig.update_geos(fitbounds="locations", visible=False, projection_type="mercator", bgcolor="white")
    fig.update_layout(font=FONT, height=height, margin=dict(l=0, r=0, t=10, b=0), paper_bgcolor="white",
                      separators=fmt.PLOTLY_SEPARATORS, hoverlabel=dict(font_size=15), dragmode=False,
                      legend=dict(title=dict(text="<b>Taux de vacance</b>", side="top"), orientation="h", x=0.0,
                                  xanchor="left", y=-0.02, yanchor="top", font=dict(size=max(14, text_size)), itemclick=False,
                                  itemdoubleclick=False, bgcolor="rgba(255,255,255,0.85)"))
    if legend_right:     # a wide, low screen (projector): the legend beside the map, the map as tall as it can be
        fig.update_layout(legend=dict(orientation="v", x=1.0, xanchor="left", y=0.5, yanchor="middle"),
                          margin=dict(l=0, r=380, t=0, b=0))
    return fig


def map_title(sites: pd.DataFrame, name: str) -> str:
    """The map's finding: how many sites, how many with land for sale, dated by the inventories of their EPCIs
    (each by the latest update of its sites: a map over inventories of 2024 and 2025 says both)."""
    from .content.foncier import dated

    if not len(sites):
        return fmt.typeset(f"{name} : aucun site économique inventorié")
    years = sorted(set(pd.to_datetime(sites.actu_date).groupby(sites.epci.fillna("")).max().dt.year.astype(int)))
    free = int((sites.surface_disponible_ha.fillna(0) > 0).sum())
    return fmt.typeset(f"{name} : {fmt.count(len(sites), 'site économique', 'sites économiques')} ({dated(years)}), "
                       f"dont {fmt.number(free)} avec du foncier disponible à la vente")


def map_sentence(sites: pd.DataFrame) -> str:
    if not len(sites):
        return "Aucun site économique inventorié sur ce territoire."
    high = int((sites.taux_vacance >= 0.15).sum())
    top = sites.sort_values("surface_brute_ha", ascending=False).iloc[0]
    return fmt.typeset(f"Le site le plus étendu : {top.nom} ({ha(top.surface_brute_ha)}, {top.commune_nom})."
                       + (f" {fmt.count(high, 'site')} à 15{NNBSP}% de vacance ou plus." if high else ""))
