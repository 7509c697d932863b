"""Chiffre d'affaires: the change between two years attributed by sector, rates, levels, split."""
from __future__ import annotations

import streamlit as st

from indicators import ui
from indicators.content import chiffre_affaires


def run() -> None:
    st.title("Chiffre d'affaires")
    ui.slide_button("chiffre_affaires")
    end, base, ys = chiffre_affaires._years(ui.content_context())
    if end is not None:
        bases = [y for y in ys if y < end]
        if bases:
            st.session_state["ca_fin"] = end
            ui.url_widget(st.selectbox, f"Évolution de {end} par rapport à", bases, "ca_debut", default=bases[-1],
                          help="L'année d'arrivée est l'année choisie dans le panneau latéral (ou la dernière avant elle).")
    for f in ui.findings("chiffre_affaires"):
        ui.show(f)


if __name__ == "__main__":
    run()
