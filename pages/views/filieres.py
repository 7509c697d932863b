"""Filières: the five strategic filières by EPCI, in establishments, employment and turnover."""
from __future__ import annotations

import streamlit as st

from indicators import presentation, ui
from indicators.content import FILIERE_MEASURES, french as fr


def run() -> None:
    st.title("Filières stratégiques")
    ui.slide_button("filieres")
    c1, c2 = st.columns(2)
    with c1:
        definition = ui.url_widget(st.radio, "Définition des filières", ["coeur", "elargi"], "definition", horizontal=True,
                                   format_func=lambda d: "Cœur de filière" if d == "coeur" else "Filière élargie",
                                   help="Cœur : les activités propres à la filière ; élargie : avec fournisseurs et services liés.")
    with c2:
        name = ui.url_widget(st.selectbox, "Mesure", list(FILIERE_MEASURES), "mesure",
                             format_func=lambda n: fr.upper_first(FILIERE_MEASURES[n]))
    for f in ui.findings("filieres"):      # by EPCI, the map of one filière (chosen in its block), over time
        ui.show(f)
    if not presentation.on():       # a grid to read at a desk, not on a projector
        st.subheader("Codes NAF de chaque filière")
        st.dataframe(ui.reference_table("filieres"), hide_index=True)


if __name__ == "__main__":
    run()
