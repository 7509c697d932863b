"""Filières: the five strategic filières by EPCI, in establishments, employment and turnover."""
from __future__ import annotations

import streamlit as st

from indicators import charts, format as fmt, ui

MEASURES = {"etablissements_filiere": ("Établissements employeurs", "établissements"),
            "effectifs_filiere": ("Effectifs salariés", "salariés"),
            "ca_filiere": ("Chiffre d'affaires", "€")}


def run() -> None:
    st.title("Filières stratégiques")
    ui.slide_button("filieres")
    niveau, code = ui.territory()
    c1, c2 = st.columns(2)
    with c1:
        definition = ui.url_widget(st.radio, "Définition des filières", ["coeur", "elargi"], "definition", horizontal=True,
                                   format_func=lambda d: "Cœur de filière" if d == "coeur" else "Filière élargie",
                                   help="Cœur : les activités propres à la filière ; élargie : avec fournisseurs et services liés.")
    with c2:
        name = ui.url_widget(st.selectbox, "Mesure", list(MEASURES), "mesure", format_func=lambda n: MEASURES[n][0])
    label, unite = MEASURES[name][0], MEASURES[name][1]
    year = ui.year_for(name, "epci", definition)
    if year is None:
        ui.missing(name)
        return
    epci = ui.get(name, "epci", annee=year, definition=definition)
    dep = ui.get(name, "ti", annee=year, definition=definition)
    who = ui.per().name
    top = dep.dropna(subset=["valeur"]).sort_values("valeur", ascending=False)
    title = (f"{top.filiere.iat[0]} : première filière du {who} en {charts.lower_first(label)} ({fmt.value(top.valeur.iat[0], unite)})"
             if len(top) else f"{label} des filières")
    sentence = (f"{who}, " + str(year) + " : " + ", ".join(
        f"{charts.lower_first(r.filiere)} {fmt.value(r.valeur, unite, r.statut)}" for r in dep.itertuples()) + ".")
    n_secret = int((epci.statut == "secret").sum())
    if n_secret:
        sentence += (f" {n_secret} croisement(s) EPCI × filière en secret statistique (« s ») : "
                     "le total du territoire reste disponible.")
    order = ui.territories("epci").nom_court.tolist()
    fig = charts.stacked_bars(epci, "nom_court", "filiere_code", "filiere", unite if unite != "€" else "€",
                              charts.FILIERE_COLOURS, order)
    ui.chart_block(title, sentence, fig, epci, name, "stack")
    secret_cells = epci[epci.statut == "secret"]
    if len(secret_cells):
        st.caption("Valeurs en secret : " + " ; ".join(f"{r.nom_court} – {r.filiere} : s"
                                                       for r in secret_cells.itertuples()))

    ui.map_block(name, definition=definition, key="carte_filieres")

    ys = ui.years(name, niveau, definition)
    if len(ys) > 1:
        series = ui.get(name, niveau, annees=ys, territoires=[code], definition=definition)
        first = series[series.annee == ys[0]].set_index("filiere_code").valeur
        last = series[series.annee == ys[-1]].set_index("filiere_code").valeur
        growth = (last / first - 1).dropna().sort_values()
        labels = series.drop_duplicates("filiere_code").set_index("filiere_code").filiere
        sent = (f"{ui.territory_name(code)} : de {ys[0]} à {ys[-1]}, " + ", ".join(
            f"{charts.lower_first(labels[k])} {fmt.growth(v)}" for k, v in growth.items()) + ".") if len(growth) else ""
        ui.chart_block(f"{ui.territory_name(code)} : évolution des filières ({charts.lower_first(label)})", sent,
                       charts.lines(series, "filiere_code", "filiere", unite, charts.FILIERE_COLOURS), series, name, "evol")

    st.subheader("Codes NAF de chaque filière")
    st.dataframe(ui.reference_table("filieres"), hide_index=True)


if __name__ == "__main__":
    run()
