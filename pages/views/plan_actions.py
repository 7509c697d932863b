"""Plan d'actions: the findings of indicators/content/plan.py (the same objects as the slides and the annex),
after the page's filters; then, for the staff, the exports, the edit forms and the administrator's help."""
from __future__ import annotations

import pandas as pd
import streamlit as st

from indicators import format as fmt, plan, ui
from indicators.export.tables import to_csv_bytes
from pages.views import plan_edit

TOUS = "tous"


def _filters(actions: pd.DataFrame) -> None:
    """The filters and the action shown in detail, bound to the URL; the findings read them (ui.export_selection)."""
    axes = actions.drop_duplicates("axe_num").set_index("axe_num").axe.to_dict()
    epci = ui.territories("epci")
    epci_names = dict(zip(epci.code, epci.nom_court))
    filieres = ui.categories_filieres()
    c1, c2, c3, c4 = st.columns([3, 2, 2, 2])
    with c1:
        ui.url_widget(st.multiselect, "Axes", list(axes), "plan_axe", default=[], multi=True,
                      format_func=lambda a: axes.get(a, str(a)), placeholder="Tous les axes")
    with c2:
        ui.url_widget(st.multiselect, "Statut", plan.STATUTS, "plan_statut", default=[], multi=True,
                      format_func=str.capitalize, placeholder="Tous les statuts")
    with c3:
        ui.url_widget(st.selectbox, "EPCI", [TOUS] + list(epci_names), "plan_epci",
                      format_func=lambda c: "Tous les EPCI" if c == TOUS else epci_names.get(c, c),
                      help="Actions de l'EPCI et actions de tout le territoire.")
    with c4:
        ui.url_widget(st.selectbox, "Filière", [TOUS] + list(filieres), "plan_filiere",
                      format_func=lambda c: "Toutes les filières" if c == TOUS else filieres.get(c, c))


def _action_picker(actions: pd.DataFrame) -> None:
    labels = dict(zip(actions.numero, actions.numero + " – " + actions.intitule))
    if not labels:
        return
    first = next((i for i, f in enumerate(actions.filieres) if len(f)), 0)  # default: the first with a filière
    ui.url_widget(st.selectbox, "Action détaillée", list(labels), "plan_action", default=list(labels)[first],
                  format_func=labels.get)


def run() -> None:
    st.title("Plan d'actions")
    everything = ui.plan_actions()
    top = st.container()         # « depuis le dernier comité » above the filters, built after them
    if len(everything) and not ui.presenting():
        st.markdown(
            fmt.typeset(f"Les **{len(everything)} fiches actions** de la candidature Territoire d'industrie, en "
            f"**{everything.axe_num.nunique()} axes**, avec leurs porteurs, leur avancement et leurs montants, et pour "
            "chaque action les chiffres de sa filière dans son territoire."))
    if len(everything):
        _filters(everything)
        axes, statuts = st.session_state.get("plan_axe") or None, st.session_state.get("plan_statut") or None
        epci, fil = st.session_state.get("plan_epci"), st.session_state.get("plan_filiere")
        _action_picker(ui.plan_actions(axes, statuts, None if epci == TOUS else epci, None if fil == TOUS else fil))
    found = {f.key: f for f in ui.findings("plan_actions")}
    with top:
        ui.show(found.pop("depuis_comite"))
    for f in found.values():
        ui.show(f)
        if f.key == "plan_actions" and len(everything) and not ui.presenting():
            st.download_button("Télécharger le plan d'actions (CSV)", data=to_csv_bytes(plan.for_people(everything)),
                               file_name="plan_actions.csv", mime="text/csv", key="csv_plan")
        if f.key in ("plan_actions", "plan_action") and f.extra.get("axe1") and not ui.presenting():
            st.page_link("pages/views/foncier.py", label="Indicateurs du foncier économique", icon=":material/location_city:")
    if ui.presenting():
        return
    if len(everything):
        plan_edit.exports(everything)
        plan_edit.staff_section(everything)
    plan_edit.admin_help()


if __name__ == "__main__":
    run()
