"""Sources et méthodes: lineage, definitions, mappings, statistical secret."""
from __future__ import annotations

import pandas as pd
import streamlit as st

from indicators import ui
from indicators.catalog import CATALOG
from indicators.secret import methode


def run() -> None:
    st.title("Sources et méthodes")
    ui.slide_button("sources")
    st.subheader("Sources chargées dans l'entrepôt")
    st.dataframe(ui.reference_table("sources"), hide_index=True)
    problems = ui.reference_table("problemes")
    if len(problems):
        with st.expander(f"Remarques de chargement ({len(problems)})"):
            st.dataframe(problems, hide_index=True)

    st.subheader("Définitions des indicateurs")
    st.dataframe(pd.DataFrame([{"Indicateur": i.titre, "Nom technique": i.name, "Unité": i.unite,
                                "Définition": i.definition, "Source attendue": i.source_hint} for i in CATALOG.values()]),
                 hide_index=True)

    st.subheader("Secteurs de la candidature (chiffre d'affaires)")
    st.dataframe(ui.reference_table("secteurs"), hide_index=True)
    st.subheader("Filières stratégiques : codes NAF")
    st.markdown("Proposition de périmètre à valider par l'Agence (fichier `data/reference/filieres.csv`, modifiable).")
    st.dataframe(ui.reference_table("filieres"), hide_index=True)

    # --- statistical secret (method: indicators/secret.py, computed at load by etl/secret.py) ---
    st.subheader("Secret statistique")
    st.markdown("""
- **Valeurs des producteurs** (INSEE, URSSAF) : leurs cellules en secret restent en secret ; elles s'affichent « s ».
- **Données d'entreprises** (fichiers CCI / CMA) : les agrégats de chiffre d'affaires suivent les règles ci-dessous ;
  une valeur en secret s'affiche « s », jamais 0, sans autre indication.
- Aucune donnée individuelle d'entreprise ne sort de l'entrepôt : pages, exports et commandes ne lisent que des agrégats.
- **Statuts** : *ok* ; *secret* ; *partiel* (agrégat calculé sur une partie des communes : commune non couverte par le
  fichier, ou valeur communale en secret) ; *absent* (aucun fichier chargé ne fournit la valeur).
""")
    st.markdown(methode())
    # --- end of statistical secret ---


if __name__ == "__main__":
    run()
