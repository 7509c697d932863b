"""Chiffre d'affaires: level and growth by sector between two years, an EPCI against its TI."""
from __future__ import annotations

import pandas as pd
import streamlit as st

from indicators import charts, format as fmt, ui


def run() -> None:
    st.title("Chiffre d'affaires")
    ui.slide_button("chiffre_affaires")
    niveau, code = ui.territory()
    name = ui.territory_name(code)
    years = ui.years("ca_total")
    if len(years) < 1:
        ui.missing("ca_total")
        return
    c1, c2 = st.columns(2)
    end_default = ui.year_for("ca_total")
    with c1:
        end = ui.url_widget(st.selectbox, "Année", years, "ca_fin", default=end_default)
    with c2:
        bases = [y for y in years if y < end] or [end]
        base = ui.url_widget(st.selectbox, "Comparée à", bases, "ca_debut", default=bases[-1])
    codes = [code]
    rates = ui.get("taux_croissance_ca_secteur", niveau, annee=end, annee_base=base, territoires=codes)
    total = ui.get("taux_croissance_ca", niveau, annee=end, annee_base=base, territoires=codes)
    total_rate = total.valeur.iat[0] if len(total) else None
    sentence = charts.sentence_growth(name, total_rate, rates, "secteur", base, end)
    title = f"{name} : chiffre d'affaires {fmt.growth(total_rate) if total_rate == total_rate and total_rate is not None else 'non diffusable'} entre {base} et {end}"
    if niveau == "epci":
        ti = ui.per().ti
        dep = ui.get("taux_croissance_ca_secteur", "ti", annee=end, annee_base=base, territoires=[ti.code])
        both = pd.concat([rates.assign(serie=name), dep.assign(serie=ti.nom)], ignore_index=True)
        fig = charts.grouped_growth_bars(both, "secteur", "serie", {name: ui.colours().get(code), ti.nom: charts.REFERENCE_COLOURS["ti"]})
        ui.chart_block(title, sentence, fig, both, "taux_croissance_ca_secteur", "growth")
    else:
        fig = charts.sector_growth_bars(rates, "secteur", "secteur_code")
        ui.chart_block(title, sentence, fig, rates, "taux_croissance_ca_secteur", "growth")

    levels = ui.get("ca_secteur", niveau, annees=years, territoires=codes)
    colours = charts.SECTOR_COLOURS
    last = levels[levels.annee == end].dropna(subset=["valeur"]).sort_values("valeur", ascending=False)
    lead = charts.lower_first(last.secteur.iat[0]) if len(last) else None
    ui.chart_block(
        f"{name} : {lead} en tête du chiffre d'affaires en {end}" if lead else f"{name} : chiffre d'affaires par secteur",
        f"Chiffre d'affaires par secteur de {years[0]} à {years[-1]} ; en {end}, "
        + ", ".join(f"{charts.lower_first(r.secteur)} {fmt.value(r.valeur, '€', r.statut)}" for r in levels[levels.annee == end].itertuples()) + ".",
        charts.lines(levels, "secteur_code", "secteur", "€", colours), levels, "ca_secteur", "levels")

    contrib = ui.get("croissance_ca_secteur", niveau, annee=end, annee_base=base, territoires=codes)
    tot = ui.get("ca_total", niveau, annees=[base, end], territoires=codes)
    start_v = tot[tot.annee == base].valeur.iat[0] if len(tot[tot.annee == base]) else None
    end_v = tot[tot.annee == end].valeur.iat[0] if len(tot[tot.annee == end]) else None
    if start_v is None or end_v is None or start_v != start_v or end_v != end_v:
        st.info("Contributions non diffusables : le chiffre d'affaires total est en secret statistique ou absent.")
        return
    best = contrib.dropna(subset=["valeur"]).sort_values("valeur", ascending=False)
    ui.chart_block(
        f"{best.secteur.iat[0]} : première contribution à l'évolution ({fmt.euros(best.valeur.iat[0])})" if len(best)
        else "Contributions des secteurs",
        f"Le chiffre d'affaires passe de {fmt.euros(start_v)} en {base} à {fmt.euros(end_v)} en {end} ; "
        "chaque barre est la variation d'un secteur en euros.",
        charts.waterfall(contrib, "secteur", "Total", start_v, end_v), contrib, "croissance_ca_secteur", "contrib")


if __name__ == "__main__":
    run()
