"""Chiffres clés: the chosen territory's key figures, and the candidature's figures recomputed."""
from __future__ import annotations

import streamlit as st

from indicators import format as fmt, ui


def run() -> None:
    st.title("Chiffres clés")
    ui.slide_button("chiffres_cles")
    for f in ui.findings("chiffres_cles"):
        ui.show(f)
    st.caption(fmt.typeset("Définitions : TPE et PME = entreprises de moins de 250 salariés et de 50 M€ de chiffre d'affaires au plus ; "
               "champ marchand non agricole et non financier (sections B à J, L à N, R et S de la NAF). Voir *Sources et méthodes*."))


if __name__ == "__main__":
    run()
