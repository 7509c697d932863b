"""Industrie: share of industry by EPCI against the département, the région and France."""
from __future__ import annotations

import pandas as pd
import streamlit as st

from indicators import charts, format as fmt, ui

MEASURES = {
    "part_industrie_etablissements": "des établissements",
    "part_industrie_effectifs": "de l'emploi salarié",
    "part_industrie_etablissements_employeurs": "des établissements employeurs",
}


def _with_references(name: str, year: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    epci = ui.get(name, "epci", annee=year)
    refs = pd.concat([ui.get(name, n, annee=year) for n in ("ti", "departement", "region", "france")], ignore_index=True)
    return epci, refs


def run() -> None:
    st.title("Industrie")
    ui.slide_button("industrie")
    niveau, code = ui.territory()
    for name, what in MEASURES.items():
        year = ui.year_for(name, "epci")
        if year is None:
            ui.missing(name)
            continue
        epci, refs = _with_references(name, year)
        dep = refs[refs.niveau == "departement"]
        dep_v = dep.valeur.iat[0] if len(dep) else None
        focus = epci[epci.code == code] if niveau == "epci" else refs[refs.niveau == "ti"]
        f = focus.iloc[0]
        sentence = charts.sentence_share_vs_reference(f.nom_court, f.valeur, "le département", dep_v, f"{what} dans l'industrie")
        top = epci.dropna(subset=["valeur"]).sort_values("valeur", ascending=False)
        title = (f"{top.nom_court.iat[0]} : l'EPCI le plus industriel ({fmt.percent(top.valeur.iat[0])} {what})"
                 if len(top) else f"Part de l'industrie {what}")
        absent_refs = refs[refs.statut == "absent"].nom_court.tolist()
        if absent_refs:
            sentence += f" Références absentes (aucun fichier chargé ne les fournit) : {', '.join(absent_refs)}."
        both = pd.concat([epci, refs], ignore_index=True)
        ui.chart_block(title, sentence, charts.ranked_bars(epci, "nom_court", "part", ui.colours(), refs), both, name, name)

    ui.map_block("part_industrie_effectifs", key="carte_industrie")

    st.subheader("Indice de spécificité")
    name = "part_industrie_effectifs"
    year = ui.year_for(name, "epci")
    if year is not None:
        epci, refs = _with_references(name, year)
        table = epci[["nom_court", "valeur", "statut"]].copy()
        for r in refs.itertuples():
            table[f"/ {r.nom_court}"] = [fmt.number(v / r.valeur, 2) if r.statut not in ("secret", "absent") and v == v
                                         and r.valeur else fmt.ABSENT for v in epci.valeur]
        table["Part de l'industrie"] = [fmt.value(v, "part", s) for v, s in zip(table.valeur, table.statut)]
        st.markdown(f"Part de l'industrie dans l'emploi salarié de l'EPCI divisée par celle de la référence ({year}) : "
                    "au-dessus de 1, l'EPCI est plus industriel que la référence ; « – » : référence absente.")
        st.dataframe(table.drop(columns=["valeur", "statut"]).rename(columns={"nom_court": "EPCI"}), hide_index=True)
        st.caption(ui.caption(pd.concat([epci, refs]), name))

    name = "part_industrie_effectifs"
    ys = ui.years(name, "epci")
    if len(ys) > 1:
        series = pd.concat([ui.get(name, "epci", annees=ys), ui.get(name, "ti", annees=ys)], ignore_index=True)
        ti = series[series.niveau == "ti"].sort_values("annee")
        first, last = ti.valeur.iat[0], ti.valeur.iat[-1]
        who = ui.per().name
        ui.chart_block(
            f"{who} : part de l'industrie dans l'emploi salarié {'en hausse' if last > first else 'en baisse'} de {ys[0]} à {ys[-1]}",
            f"{who} : {fmt.percent(first)} en {ys[0]}, {fmt.percent(last)} en {ys[-1]} ({fmt.points(last - first)} "
            f"{'de plus' if last > first else 'de moins'}).",
            charts.lines(series, "code", "nom_court", "part", ui.colours()), series, name, "evolution")


if __name__ == "__main__":
    run()
