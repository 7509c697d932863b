"""Plan d'actions: the candidature's fiches actions by axe, their status and amounts, the binômes
élu-industriel, and next to each action the figures of its filière in its territory."""
from __future__ import annotations

import pandas as pd
import streamlit as st

from indicators import charts, format as fmt, markup, plan, ui
from indicators.export.tables import to_csv_bytes
from pages.views import plan_edit

TOUS = "tous"
UPDATE_HINT = ("Pour mettre le plan à jour : le personnel de l'Agence le modifie sur cette page (section « Modifier "
               "une action »), ou exporte le plan (xlsx), le modifie puis lance « python -m etl check FICHIER » (les "
               "changements s'affichent) et « python -m etl load FICHIER --par NOM ». Chaque changement est inscrit à "
               "l'historique ; un classeur erroné est refusé avec la feuille, la ligne et la colonne en cause.")


def _filters(actions: pd.DataFrame) -> tuple[list[int] | None, list[str] | None, str | None, str | None]:
    axes = actions.drop_duplicates("axe_num").set_index("axe_num").axe.to_dict()
    epci = ui.territories("epci")
    epci_names = dict(zip(epci.code, epci.nom_court))
    filieres = ui.categories_filieres()
    c1, c2, c3, c4 = st.columns([3, 2, 2, 2])
    with c1:
        chosen_axes = ui.url_widget(st.multiselect, "Axes", list(axes), "plan_axe", default=[], multi=True,
                                    format_func=lambda a: axes.get(a, str(a)), placeholder="Tous les axes")
    with c2:
        statuts = ui.url_widget(st.multiselect, "Statut", plan.STATUTS, "plan_statut", default=[], multi=True,
                                format_func=str.capitalize, placeholder="Tous les statuts")
    with c3:
        territoire = ui.url_widget(st.selectbox, "EPCI", [TOUS] + list(epci_names), "plan_epci",
                                   format_func=lambda c: "Tous les EPCI" if c == TOUS else epci_names.get(c, c),
                                   help="Actions de l'EPCI et actions de tout le département.")
    with c4:
        filiere = ui.url_widget(st.selectbox, "Filière", [TOUS] + list(filieres), "plan_filiere",
                                format_func=lambda c: "Toutes les filières" if c == TOUS else filieres.get(c, c))
    return (chosen_axes or None, statuts or None, None if territoire == TOUS else territoire,
            None if filiere == TOUS else filiere)


def _years() -> dict[str, int | None]:
    """Each figure's year by the Context's rule: the chosen year or the latest before it (None: nothing then)."""
    ctx = ui.content_context()
    return {name: ctx.year(name, "epci")[0] for name, _, _ in plan.FIGURES}


def run() -> None:
    st.title("Plan d'actions")
    everything = ui.plan_actions()
    if everything.empty:
        st.info("Aucun plan d'actions dans l'entrepôt. " + UPDATE_HINT)
        return
    plan_edit.since_last_committee()
    first = everything.iloc[0]
    n_axes = everything.axe_num.nunique()
    st.markdown(
        f"Les **{len(everything)} fiches actions** de la candidature Territoire d'industrie, en **{n_axes} axes**, "
        "avec leurs porteurs, leur avancement et leurs montants, et pour chaque action les chiffres de sa filière "
        "dans son territoire.")

    axes, statuts, territoire, filiere = _filters(everything)
    actions = ui.plan_actions(axes, statuts, territoire, filiere)
    if actions.empty:
        st.warning("Aucune action ne correspond à ces filtres.")
    else:
        _overview(actions, len(everything))
        _by_axe(actions)
        _detail(actions)
    _binomes()
    plan_edit.targets(everything)
    plan_edit.exports(everything)
    plan_edit.staff_section(everything)
    loaded = (f", fichier {markup.escape(first.fichier)}, importé le {fmt.french_date(pd.Timestamp(first.charge_le).to_pydatetime())}"
              if first.fichier and pd.notna(first.charge_le) else "")
    st.caption(f"Source : {markup.escape(first.source)}{loaded}, puis les modifications inscrites à l'historique. {UPDATE_HINT}")


def _overview(actions: pd.DataFrame, n_total: int) -> None:
    by_axe = plan.totals(actions, "axe")
    known = actions.montant_eur.notna()
    cols = st.columns(4)
    cols[0].metric("Actions", f"{len(actions)}" + (f" sur {n_total}" if len(actions) != n_total else ""))
    cols[1].metric("Montant estimé renseigné", fmt.euros(actions.montant_eur.sum()) if known.any() else fmt.ABSENT,
                   help="Somme des montants saisis dans le classeur ; une action sans montant n'est pas comptée pour 0.")
    cols[2].metric("En cours", int((actions.statut == "en cours").sum()))
    cols[3].metric("Réalisées", int((actions.statut == "réalisé").sum()))
    counts = ", ".join(f"{int((actions.statut == s).sum())} {s}" for s in plan.STATUTS if (actions.statut == s).any())
    sentence = f"{len(actions)} action{'s' if len(actions) > 1 else ''} : {counts}."
    missing = int((~known).sum())
    sentence += (f" Montant estimé renseigné pour {int(known.sum())} action(s) sur {len(actions)}"
                 f" ({fmt.euros(actions.montant_eur.sum())})." if known.any()
                 else " Aucun montant estimé n'est encore renseigné (la candidature estime l'ensemble des projets "
                      "matures à près de 50 M€).")
    if known.any() and missing:
        sentence += f" {missing} action(s) sans montant."
    st.subheader("Avancement par axe")
    st.markdown(sentence)
    st.plotly_chart(charts.plan_status_bars(by_axe, plan.STATUTS), key="fig_plan_status",
                    config={"displaylogo": False, "locale": "fr"})

    st.subheader("Totaux")
    st.caption("Une action menée sur plusieurs EPCI ou plusieurs filières compte dans chacun : les totaux par EPCI "
               "et par filière ne s'additionnent pas.")
    epci_order = [plan_edit.whole_territory()[1]] + ui.epci_order()
    fil_order = list(ui.categories_filieres())
    t1, t2, t3 = st.tabs(["Par axe", "Par filière", "Par EPCI"])
    with t1:
        st.dataframe(plan.totals_for_people(by_axe, "Axe"), hide_index=True, width="stretch")
    with t2:
        st.dataframe(plan.totals_for_people(plan.totals(actions, "filiere", order=fil_order), "Filière"),
                     hide_index=True, width="stretch")
    with t3:
        st.dataframe(plan.totals_for_people(plan.totals(actions, "epci", order=epci_order), "EPCI"),
                     hide_index=True, width="stretch")


def _by_axe(actions: pd.DataFrame) -> None:
    years = _years()
    figures = plan.filiere_figures(actions, ui.get, years, plan_edit.whole_territory())
    reperes = plan.figures_text(figures)
    table = plan.for_people(actions)
    table["Montant estimé"] = [fmt.euros(v) if pd.notna(v) else fmt.ABSENT for v in actions.montant_eur]
    table["Repères de la filière"] = [reperes.get(n, "filière à renseigner" if not len(f) else fmt.ABSENT)
                                      for n, f in zip(actions.numero, actions.filieres)]
    shown = ["N°", "Action", "Porteur(s)", "EPCI", "Filière(s)", "Statut", "Montant estimé", "Repères de la filière"]
    st.subheader("Les actions par axe")
    y = [f"{v}" for v in sorted({v for v in years.values() if v})]
    st.caption("Repères de la filière : établissements employeurs (ét.) et effectifs salariés (sal.) de la filière "
               f"dans l'EPCI de l'action, ou dans tout le territoire quand l'EPCI n'est pas renseigné ; chiffre d'affaires "
               f"(CA) ; années {', '.join(y) or '–'} ; « s » : secret statistique." + ui.demo_note(figures))
    for axe_num, g in actions.groupby("axe_num", sort=True):
        t = plan.totals(g, "axe").iloc[0]
        st.markdown(f"#### {markup.escape(t.libelle)}")
        st.markdown(f"{plan.status_line(t)} — montant estimé : {plan.amount_text(t.montant_eur, t.sans_montant, t.actions)}.")
        st.table(markup.table(table.loc[g.index, shown].set_index("N°")))
        if axe_num == 1:  # axe 1 « Foncier et attractivité »: its indicators are on the Foncier économique page
            _foncier_link()
    st.download_button("Télécharger le plan d'actions (CSV)", data=to_csv_bytes(plan.for_people(actions)),
                       file_name="plan_actions.csv", mime="text/csv", key="csv_plan")


def _foncier_link() -> None:
    from indicators.content import foncier

    st.markdown(foncier.axe1_text(ui.findings("foncier")))   # the Foncier page's key figures, same year rule
    st.page_link("pages/views/foncier.py", label="Indicateurs du foncier économique (sites, surfaces disponibles, vacance)",
                 icon=":material/location_city:")


def _detail(actions: pd.DataFrame) -> None:
    st.subheader("Une action et les chiffres de sa filière")
    labels = dict(zip(actions.numero, actions.numero + " – " + actions.intitule))
    first = next((i for i, f in enumerate(actions.filieres) if len(f)), 0)  # default: the first with a filière
    numero = ui.url_widget(st.selectbox, "Action", list(labels), "plan_action", default=list(labels)[first],
                           format_func=labels.get)
    if numero not in labels:  # filtered out since it was chosen
        numero = list(labels)[first]
    a = actions[actions.numero == numero].iloc[0]
    c1, c2 = st.columns([2, 3])
    with c1:
        st.markdown(f"**{markup.escape(a.intitule)}**  \n{markup.escape(a.axe)}")
        rows = [("Porteur(s)", a.porteurs), ("EPCI", a.territoires_noms), ("Filière(s)", a.filieres_noms),
                ("Statut", a.statut), ("Montant estimé", fmt.euros(a.montant_eur) if pd.notna(a.montant_eur) else None),
                ("Montant engagé", fmt.euros(a.montant_engage) if pd.notna(a.montant_engage) else None),
                ("Montant payé", fmt.euros(a.montant_paye) if pd.notna(a.montant_paye) else None),
                ("Binôme", a.binome), ("Financements", a.financements),
                ("Début", None if pd.isna(a.date_debut) else pd.Timestamp(a.date_debut).strftime("%d/%m/%Y")),
                ("Fin", None if pd.isna(a.date_fin) else pd.Timestamp(a.date_fin).strftime("%d/%m/%Y")),
                ("Indicateur de suivi", a.indicateur_suivi), ("Notes", a.notes)]
        st.table(markup.table(pd.DataFrame({"": [r[0] for r in rows],
                               "Valeur": [r[1] if isinstance(r[1], str) and r[1] else "non renseigné" for r in rows]})
                 .set_index("")))
    with c2:
        if a.axe_num == 1:   # axe 1 « Foncier et attractivité »: the foncier indicators of the action's territory
            _foncier_link()
        if not a.filieres:
            if a.axe_num != 1:
                st.info("Filière non renseignée : indiquez-la dans le classeur pour voir les chiffres de la filière.")
            return
        figures = plan.filiere_figures(actions[actions.numero == numero], ui.get, _years(), plan_edit.whole_territory())
        where = a.territoires_noms or f"{plan_edit.whole_territory()[2]} (EPCI non renseigné)"
        st.markdown(f"**{markup.escape(a.filieres_noms)}** — {markup.escape(where)}")
        out = pd.DataFrame({"Filière": figures.filiere.fillna(figures.filiere_code),
                            "Territoire": figures.territoire.fillna(figures.code),
                            "Indicateur": figures.libelle,
                            "Année": figures.annee.astype("Int64").astype(str),
                            "Valeur": [fmt.value(v, u, s) for v, u, s in zip(figures.valeur, figures.unite, figures.statut)],
                            "Note": figures.note.fillna("")})
        st.table(markup.table(out.set_index("Filière")))
        sources = sorted({s for s in figures.source if s})
        st.caption("Source : " + markup.escape(" ; ".join(sources) or "aucune donnée chargée") + "." + ui.demo_note(figures))


def _binomes() -> None:
    st.subheader("Binômes élu-industriel")
    b = ui.plan_binomes()
    if b.empty:
        st.info("Aucun binôme dans le classeur (feuille « Binômes »).")
        return
    named = int((b.elu.notna() | b.industriel.notna()).sum())
    st.markdown(f"Un binôme par EPCI : {named} sur {len(b)} renseigné(s)." if named else
                f"Un binôme par EPCI : aucun des {len(b)} binômes n'est encore désigné (ils étaient vides dans la candidature).")
    st.table(markup.table(pd.DataFrame({"EPCI": b.epci, "Élu(e)": b.elu.fillna("à désigner"),
                           "Industriel(le)": b.industriel.fillna("à désigner")}).set_index("EPCI")))


if __name__ == "__main__":
    run()
