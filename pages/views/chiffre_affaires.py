"""Chiffre d'affaires: the change between two years attributed by sector, rates, levels, split."""
from __future__ import annotations

import streamlit as st

from indicators import ui
from indicators.content import chiffre_affaires


def run() -> None:
    st.title("Chiffre d'affaires")
    button = st.container()     # drawn once the base year is known: the slide says what the page says
    # The end year is the Context's (the sidebar's year, or the latest before it); only the base year is
    # chosen here, and it lives in the URL and the Selection (`annee_base`).
    end, _, ys = chiffre_affaires.span(ui.content_context("chiffre_affaires"))
    bases = [y for y in ys if y < end] if end is not None else []
    if bases:
        ui.url_widget(st.selectbox, f"Évolution de {end} par rapport à", bases, "ca_debut", default=bases[-1],
                      help="L'année d'arrivée est l'année choisie dans le panneau latéral (ou la dernière avant elle).")
    with button:
        ui.slide_button("chiffre_affaires")
    for f in ui.findings("chiffre_affaires"):
        ui.show(f)


if __name__ == "__main__":
    run()
