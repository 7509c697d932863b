"""Foncier économique: the findings (title, sentence, figures) the page, its slide and its annex sheet share,
the map of sites, and the slide. Pure functions of the tidy frames of query.get / foncier_query.sites:
no Streamlit here, so the page and the deck say the same thing by construction.

Self-contained on purpose (one `Finding` shape, a few phrases), so it can move into a shared content
layer as it is.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from . import format as fmt
from .charts import FONT

NNBSP = fmt.NNBSP
# Key figures of the page, in order (indicator, short label).
KEY_FIGURES = [("foncier_sites", "Sites économiques"), ("foncier_surface_brute", "Superficie totale"),
               ("foncier_surface_disponible", "Disponible à la vente"), ("foncier_taux_vacance", "Vacance"),
               ("foncier_surface_industrielle", "Vocation industrielle"), ("foncier_emplois", "Emplois sur les sites")]
VACANCY_COLOURS = ["#1a9850", "#a6d96a", "#fee08b", "#fdae61", "#d73027"]     # ColorBrewer RdYlGn, reversed
VACANCY_BOUNDS = [0.0, 0.05, 0.10, 0.15, 0.20]                               # classes [0;5[, [5;10[, ... [20;+[
NO_RATE_COLOUR = "#9e9e9e"


@dataclass
class Finding:
    key: str
    titre: str
    phrase: str
    figures: dict = field(default_factory=dict)     # name -> value (as computed, not rounded)
    annee: int | None = None

    def __post_init__(self):
        # The same typography as every finding (U+202F before « : ; % »), on the page and on the slide.
        self.titre, self.phrase = fmt.typeset(self.titre), fmt.typeset(self.phrase)


def _v(df: pd.DataFrame, code: str | None = None):
    """(value, statut, year) of a territory's row (the first row without `code`)."""
    row = df[df.code == code] if code is not None else df.head(1)
    if not len(row):
        return float("nan"), "absent", None
    r = row.iloc[0]
    return r.valeur, r.statut, (int(r.annee) if pd.notna(r.annee) else None)


def ha(v) -> str:
    return fmt.value(v, "ha", "ok" if v == v else "absent")


def _ranked(df: pd.DataFrame) -> pd.DataFrame:
    return df[df.statut.isin(["ok", "partiel"]) & df.valeur.notna()].sort_values("valeur", ascending=False)


def after_chosen_year(sites: pd.DataFrame, chosen: int | None) -> Finding | None:
    """An inventory is a state dated by its latest update: a year chosen before it gets no figure of it.
    sites: the territory's row of foncier_sites."""
    _, s, annee = _v(sites)
    if chosen is None or annee is None or s == "absent" or annee <= chosen:
        return None
    return Finding("disponible", f"Foncier économique : inventaire de {annee}, postérieur à {chosen}",
                   f"L'inventaire des zones d'activités chargé décrit l'état de {annee} ; il ne dit rien de {chosen}. "
                   "Choisissez « Dernière disponible » pour le voir.", {}, annee)


def disponible(epci: pd.DataFrame, focus: pd.DataFrame, brute: pd.DataFrame, sites: pd.DataFrame, name: str) -> Finding:
    """Land for sale: the territory's total, its share of the gross area, the EPCI offering most and least.
    epci: foncier_surface_disponible by EPCI; focus / brute / sites: the territory's row of
    foncier_surface_disponible, foncier_surface_brute and foncier_sites."""
    v, s, annee = _v(focus)
    b, _, _ = _v(brute)
    n, _, _ = _v(sites)
    if s == "absent" or v != v:
        return Finding("disponible", "Foncier économique : aucun inventaire des zones d'activités chargé",
                       "Chargez l'inventaire des zones d'activités économiques de chaque EPCI (standard CNIG "
                       "« Sites économiques ») pour suivre le foncier disponible.", {}, None)
    ranked = _ranked(epci)
    titre = f"{name} : {ha(v)} à vendre dans les zones d'activités" + (f" en {annee}" if annee else "")
    share = v / b if b and b == b else float("nan")
    phrase = (f"{name} : {fmt.number(n)} site{'s' if n != 1 else ''} économique{'s' if n != 1 else ''} "
              f"({ha(b)} au total), dont {ha(v)} disponibles à la commercialisation"
              + (f", soit {fmt.percent(share)} de leur superficie" if share == share else "") + ".")
    if len(ranked) > 1:
        phrase += (f" {ranked.nom_court.iat[0]} en offre le plus ({ha(ranked.valeur.iat[0])}), "
                   f"{ranked.nom_court.iat[-1]} le moins ({ha(ranked.valeur.iat[-1])}).")
    if s == "partiel":
        phrase += " Agrégat partiel : tous les sites ou toutes les communes ne sont pas couverts par un inventaire."
    return Finding("disponible", titre, phrase, {"surface_disponible": v, "surface_brute": b, "sites": n, "part": share},
                   annee)


def vacance(epci: pd.DataFrame, focus: pd.DataFrame, vacantes: pd.DataFrame, unites: pd.DataFrame, name: str) -> Finding:
    """Vacancy rate of land units (art. L318-8-2 of the code de l'urbanisme): the territory and its spread."""
    v, s, annee = _v(focus)
    if s == "absent" or v != v:
        return Finding("vacance", "Vacance des zones d'activités : non renseignée",
                       "Les inventaires chargés ne renseignent pas les unités foncières vacantes.", {}, annee)
    u, _, _ = _v(vacantes)
    total, _, _ = _v(unites)
    ranked = _ranked(epci)
    titre = (f"{name} : {fmt.percent(v)} des unités foncières des zones d'activités vacantes"
             + (f" en {annee}" if annee else ""))
    phrase = (f"{name} : {fmt.number(u)} unité{'s' if u != 1 else ''} foncière{'s' if u != 1 else ''} "
              f"vacante{'s' if u != 1 else ''} sur {fmt.number(total)}, au sens de l'article L318-8-2 du code de l'urbanisme.")
    if len(ranked) > 1:
        phrase += (f" Le taux va de {fmt.percent(ranked.valeur.iat[-1])} ({ranked.nom_court.iat[-1]}) à "
                   f"{fmt.percent(ranked.valeur.iat[0])} ({ranked.nom_court.iat[0]}).")
    return Finding("vacance", titre, phrase, {"taux_vacance": v, "unites_vacantes": u, "unites_foncieres": total}, annee)


def prix(epci: pd.DataFrame, focus: pd.DataFrame, name: str) -> Finding:
    """Median price of land sold, « s » below 3 sales (no reason given)."""
    v, s, annee = _v(focus)
    n_secret = int((epci.statut == "secret").sum())
    if s == "secret":
        return Finding("prix", f"{name} : prix médian du foncier économique vendu, s",
                       "s", {"prix_m2_median": None}, annee)
    if s == "absent" or v != v:
        return Finding("prix", "Prix du foncier économique vendu : aucune vente renseignée",
                       "Les inventaires chargés ne renseignent aucun prix de vente de terrain.", {}, annee)
    ranked = _ranked(epci)
    titre = f"{name} : le foncier économique s'est vendu {fmt.value(v, '€/m²')} en médiane"
    phrase = f"{name} : prix médian au m² des terrains vendus dans les zones d'activités, {fmt.value(v, '€/m²')}."
    if len(ranked) > 1:
        phrase += (f" De {fmt.value(ranked.valeur.iat[-1], '€/m²')} ({ranked.nom_court.iat[-1]}) à "
                   f"{fmt.value(ranked.valeur.iat[0], '€/m²')} ({ranked.nom_court.iat[0]}).")
    if n_secret:
        phrase += f" « s » pour {n_secret} EPCI."
    return Finding("prix", titre, phrase, {"prix_m2_median": v}, annee)


def key_figures(rows: dict[str, pd.DataFrame]) -> list[tuple[str, str, str]]:
    """(value text, label, statut) of the page's key figures for the territory (its row of each indicator)."""
    units = {"foncier_sites": "sites", "foncier_taux_vacance": "part", "foncier_emplois": "emplois"}
    out = []
    for name, label in KEY_FIGURES:
        v, s, _ = _v(rows[name])
        unite = units.get(name, "ha")
        out.append((fmt.value(v, unite, s), label, s))
    return out


def axe1_text(disp: Finding) -> str:
    """The line shown under the plan's axe 1 (« Foncier et attractivité »)."""
    f = disp.figures
    if not f:
        return "Repères du foncier économique : aucun inventaire des zones d'activités chargé."
    return (f"Repères du foncier économique{f' ({disp.annee})' if disp.annee else ''} : {fmt.number(f['sites'])} sites, "
            f"{ha(f['surface_brute'])} au total, {ha(f['surface_disponible'])} disponibles à la vente.")


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
               height: int = 760) -> go.Figure:
    """Sites as circles (area proportional to the site's gross area) coloured by vacancy rate, over the EPCI
    outlines; drawn offline (pass maps.PLOTLY_CONFIG). outlines: "epci:SIREN" / "dep" -> shapely geometry
    (maps.geometries(snap).shapes, "dep:CODE" for départements); labels: code, nom_court, label_lon, label_lat of the EPCI."""
    from .maps import _label_positions, _lines, _short

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
                                textfont=dict(family=FONT["family"], size=12, color="#333333",
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
                                  xanchor="left", y=-0.02, yanchor="top", font=dict(size=14), itemclick=False,
                                  itemdoubleclick=False, bgcolor="rgba(255,255,255,0.85)"))
    return fig


def map_title(sites: pd.DataFrame, name: str) -> str:
    """The map's finding: how many sites, how many with land for sale, the year of the inventory."""
    if not len(sites):
        return f"{name} : aucun site économique inventorié"
    year = max(pd.Timestamp(d).year for d in sites.actu_date)
    free = int((sites.surface_disponible_ha.fillna(0) > 0).sum())
    return f"{name} : {fmt.number(len(sites))} sites économiques en {year}, dont {fmt.number(free)} avec du foncier à vendre"


def map_sentence(sites: pd.DataFrame) -> str:
    if not len(sites):
        return "Aucun site économique inventorié sur ce territoire."
    high = int((sites.taux_vacance >= 0.15).sum())
    top = sites.sort_values("surface_brute_ha", ascending=False).iloc[0]
    return (f"Le site le plus étendu : {top.nom} ({ha(top.surface_brute_ha)}, {top.commune_nom})."
            + (f" {high} site{'s' if high > 1 else ''} à 15{NNBSP}% de vacance ou plus." if high else ""))


# --- the slide ------------------------------------------------------------------------------------

def short_name(ctx) -> str:
    """The name in titles and sentences: the TI's short name (« TI … »), or the EPCI's."""
    return ctx.home_short if ctx.is_home else ctx.focus.nom_court


def slide(ctx):
    """The committee slide « Foncier économique »: land for sale by EPCI (native bar chart) and the finding.
    ctx: indicators.content.Context. None when no inventory is loaded."""
    from . import content as C

    name = "foncier_surface_disponible"
    label = "Surface disponible à la vente"
    focus = ctx.focus
    epci = ctx.get(name, "epci", territoires=[t.code for t in ctx.per.members])
    ref = ctx.get(name, focus.niveau, territoires=[focus.code])
    if not len(ref) or (ref.statut == "absent").all():
        return None
    later = after_chosen_year(ctx.get("foncier_sites", focus.niveau, territoires=[focus.code]), ctx.sel.annee)
    if later is not None:
        return C.Finding("foncier", later.titre, later.phrase, sheet_name="Foncier économique", years=(later.annee,))
    f = disponible(epci, ref, ctx.get("foncier_surface_brute", focus.niveau, territoires=[focus.code]),
                   ctx.get("foncier_sites", focus.niveau, territoires=[focus.code]), short_name(ctx))
    e = C.rows(ctx, epci, label, "ha")
    e = e.assign(_s=e.valeur.fillna(-1.0)).sort_values("_s", ascending=False, kind="stable").drop(columns="_s")
    table = C.concat([e, C.rows(ctx, ref, label, "ha", usage="phrase")])
    spec = C.ChartSpec("bar", cat="territoire", series="indicateur", by_point=True,
                       colours={r.territoire: ctx.colour(r.code, r.niveau) for r in table.itertuples()})
    out = C.Finding("foncier", f.titre, f.phrase, table, spec, notes=C.secret_notes(table),
                    sheet_name="Foncier économique")
    return C.finish(out, name)
