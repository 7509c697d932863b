"""Sources et méthodes: lineage, definitions, mappings, statistical secret."""
from __future__ import annotations

import re

import pandas as pd
import streamlit as st

from indicators import query, ui
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
    st.subheader("Filières stratégiques : codes NAF rév. 2")
    st.markdown("Proposition de périmètre à valider par l'Agence (fichier `data/reference/filieres.csv`, modifiable).")
    st.dataframe(ui.reference_table("filieres"), hide_index=True)
    _nomenclatures()

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
    # A custom perimeter's name is the staff's text: shown as text, never as Markdown.
    custom = [re.sub(r"([\\`*_{}\[\]()#+\-.!|<>~])", r"\\\1", n) for n in query.custom_territories(ui.snapshot())]
    st.markdown(methode(custom=custom))
    # --- end of statistical secret ---


# >>> NAF 2025: both nomenclatures, the breaks in series, the filières and sectors in NAF 2025 ---------
def _nomenclatures() -> None:
    st.subheader("Nomenclatures d'activité : NAF rév. 2 et NAF 2025")
    st.markdown("""
Depuis le 1er janvier 2027, les codes APE sont attribués dans la **NAF 2025** (déclinaison française de la NACE
Rév. 2.1, décret n° 2025-736) ; les fichiers antérieurs sont codés en **NAF rév. 2**. Chaque fichier chargé est lu
dans sa nomenclature (reconnue à ses codes, par ex. `46.50Y`, au nom de sa colonne ou du fichier) ; un fichier qui
mélange les deux est refusé. Aucun chiffre n'est converti d'une nomenclature à l'autre : un code NAF rév. 2 qui
correspond à plusieurs codes NAF 2025 n'est jamais réparti selon une clé inventée.

Les regroupements (grands secteurs A5, sections, secteurs de la candidature, filières) sont calculés depuis l'une ou
l'autre nomenclature. Quand une catégorie n'a pas le même contenu dans les deux (par ex. la promotion immobilière
passe de la construction aux activités immobilières, la réparation automobile quitte le commerce), la série est
**rompue** : les graphiques concernés l'indiquent sous le graphique (« Rupture de série en … »), avec l'année du
premier chiffre en NAF 2025.
""")
    st.markdown("**Nomenclature utilisée par chaque source chargée**")
    st.dataframe(ui.reference_table("nomenclature_sources"), hide_index=True)
    st.markdown("**Regroupements : catégories de même contenu dans les deux nomenclatures**")
    st.dataframe(ui.reference_table("naf_synthese"), hide_index=True)
    with st.expander("Catégories dont le contenu change (rupture de série) et sous-classes en cause"):
        st.dataframe(ui.reference_table("naf_ruptures"), hide_index=True)
    st.markdown("**Secteurs de la candidature en NAF 2025** (par section de la NACE Rév. 2.1)")
    st.dataframe(ui.reference_table("secteurs_naf2025"), hide_index=True)
    st.markdown("**Filières stratégiques en NAF 2025** : proposition tirée de la table de correspondance de l'INSEE "
                "(fichier `data/reference/filieres_naf2025.csv`). Une sous-classe NAF 2025 dont toutes les activités "
                "d'origine sont dans la filière est reprise ; une sous-classe qui reçoit aussi des activités hors filière "
                "est « à arbitrer » : jamais dans le cœur, dans le périmètre élargi seulement si elle prolonge une activité "
                "de la filière (même classe), en attendant une décision.")
    st.dataframe(ui.reference_table("filieres_decisions"), hide_index=True)
    st.dataframe(ui.reference_table("filieres_naf2025"), hide_index=True)
# <<< NAF 2025 ---------------------------------------------------------------------------------------


if __name__ == "__main__":
    run()
