"""Sections of the « Plan d'actions » page for the staff: exports, the administrator's help, and for signed-in
staff (administrateur or éditeur) the edit form (validated, recorded in the history, conflicts between two editors shown with both
versions) and the committee edition button. Logic lives in indicators/suivi.py and etl/plan_store.py."""
from __future__ import annotations

import math
from datetime import date

import pandas as pd
import streamlit as st

from indicators import catalog, format as fmt, markup, plan, suivi, ui
from indicators.content import registry
from pages.views import staff

BASES = "_plan_bases"          # numero -> (revision, values the form was read with)
CONFLICT = "_plan_conflit"     # numero -> Conflict of the last save
SAVED = "_plan_enregistre"     # message after a save, shown after the rerun
NONE = "—"


def whole_territory() -> tuple[str, str, str]:
    return suivi.whole_territory(ui.snapshot())


def _md(text) -> str:
    return markup.escape(text)


def exports(actions: pd.DataFrame) -> None:
    c1, c2 = st.columns(2)
    creator = suivi.producer(ui.snapshot())     # the organisation keeping the plan, never « openpyxl »
    c1.download_button("Exporter le plan suivi (Excel, réimportable)", data=plan.to_xlsx(actions, ui.plan_binomes(), creator),
                       file_name="plan_actions_suivi.xlsx", key="plan_xlsx",
                       mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    c2.download_button("Exporter le plan suivi (CSV, réimportable)", data=plan.to_csv(actions),
                       file_name="plan_actions_suivi.csv", mime="text/csv", key="plan_csv_suivi")


# --- staff -------------------------------------------------------------------------------------------

def staff_section(actions: pd.DataFrame) -> None:
    st.subheader("Modifier une action")
    stored = staff.hashes()
    who = staff.signed_in()
    if who is None:
        if not stored:      # how to switch it on: in the administrator's help below the page
            st.caption(fmt.typeset("Modification en ligne désactivée : voir l'aide pour l'administrateur."))
            return
        with st.expander("Se connecter pour modifier le plan (personnel de l'Agence)"):
            staff.sign_in_form(stored, key="connexion_plan", name_label="Votre nom (inscrit à l'historique)")
        return
    name, role = who
    c1, c2 = st.columns([4, 1])
    c1.markdown(f"Connecté(e) : **{_md(name)}** ({staff.ROLES.get(role, role)}). Chaque changement est contrôlé puis "
                "inscrit à l'historique (qui, quand, champ, avant, après).")
    if c2.button("Se déconnecter", key="deconnexion_plan", icon=":material/logout:"):
        staff.sign_out(BASES, CONFLICT)
        st.rerun()
    done = st.session_state.pop(SAVED, None)
    if done:
        st.success(fmt.typeset(done))
    labels = dict(zip(actions.numero, actions.numero + " – " + actions.intitule))
    numero = st.selectbox("Action à modifier", list(labels), format_func=labels.get, key="plan_edit_action")
    current = actions[actions.numero == numero].iloc[0]
    _edit_form(current, name)
    _history(numero)
    _axis_target_form(actions, name)
    _edition_form(name)


def _axis_target_form(actions: pd.DataFrame, name: str) -> None:
    st.subheader("Cible d'un axe")
    axes = actions.drop_duplicates("axe_num").set_index("axe_num").axe.to_dict()
    names = list(catalog.CATALOG)
    with st.form("cible_axe", clear_on_submit=True):
        c1, c2, c3, c4, c5 = st.columns([2, 3, 1, 1, 1])
        axe = c1.selectbox("Axe", list(axes), format_func=lambda a: axes.get(a, str(a)))
        ind = c2.selectbox("Indicateur (catalogue)", names, format_func=lambda n: catalog.CATALOG[n].titre)
        sens = c3.selectbox("Sens", suivi.plan_store.SENS)
        valeur = c4.text_input("Valeur cible", help="Vide : retire la cible de l'axe pour cet indicateur.")
        annee = c5.text_input("Année cible")
        ok = st.form_submit_button("Enregistrer la cible de l'axe", icon=":material/flag:")
    if ok:
        try:
            c = suivi.set_axis_target(ui.snapshot(), axe, ind, sens, valeur, annee, name)
        except suivi.plan_store.PlanError as exc:
            st.error(fmt.typeset(f"Cible refusée, rien n'a été enregistré : {_md(exc)}"))
            return
        st.session_state[SAVED] = "Cible de l'axe enregistrée et inscrite à l'historique." if c else "Cible inchangée."
        st.rerun()


def _value(v):
    if isinstance(v, float) and math.isnan(v):
        return None
    if v is pd.NaT or (hasattr(v, "isoformat") and pd.isna(v)):
        return None
    if isinstance(v, pd.Timestamp):
        return v.date().isoformat()
    return v


def _stored_values(row) -> dict:
    out = {k: _value(row[k]) for k in suivi.plan_store.FIELDS if k in row.index}
    out["montant_estime"] = _value(row["montant_eur"])
    if out.get("cible_annee") is not None:
        out["cible_annee"] = int(out["cible_annee"])
    return out


def _text_of(field: str, v) -> str:
    """A stored value as the form shows it (French numbers, JJ/MM/AAAA)."""
    if v is None:
        return ""
    kind = suivi.plan_store.FIELDS[field][1]
    if kind == "amount":
        return suivi.plan_store._thousands(float(v)).replace("\u202f", " ")
    if kind == "date":
        return f"{v[8:10]}/{v[5:7]}/{v[:4]}"
    if kind == "number":
        return str(v).replace(".", ",")
    return str(v)


def _edit_form(row, name: str) -> None:
    numero = row.numero
    bases = st.session_state.setdefault(BASES, {})
    if numero not in bases:
        bases[numero] = (int(row.revision), _stored_values(row))
    rev, base = bases[numero]
    lk = suivi.lookups(ui.snapshot())
    niveau, whole_code, whole_name = whole_territory()
    epci_names = {**lk.epci, **({whole_code: f"{whole_name} (tout le territoire)"} if whole_code else {})}
    conflict = st.session_state.get(CONFLICT, {}).get(numero)
    k = f"pe_{numero}_{rev}_"
    with st.form(f"plan_edit_{numero}_{rev}"):
        c1, c2, c3 = st.columns(3)
        statut = c1.selectbox("Statut", suivi.STATUTS, index=suivi.STATUTS.index(base["statut"]) if base["statut"] in suivi.STATUTS else 0,
                              key=k + "statut")
        d0 = c2.text_input("Date de début (JJ/MM/AAAA)", _text_of("date_debut", base["date_debut"]), key=k + "date_debut")
        d1 = c3.text_input("Date de fin (JJ/MM/AAAA)", _text_of("date_fin", base["date_fin"]), key=k + "date_fin")
        c1, c2, c3 = st.columns(3)
        m0 = c1.text_input("Montant estimé (€)", _text_of("montant_estime", base["montant_estime"]), key=k + "montant_estime",
                           help="En euros ; « 1,5 M€ » ou « 200 k€ » acceptés ; vide : non renseigné.")
        m1 = c2.text_input("Montant engagé (€)", _text_of("montant_engage", base["montant_engage"]), key=k + "montant_engage")
        m2 = c3.text_input("Montant payé (€)", _text_of("montant_paye", base["montant_paye"]), key=k + "montant_paye")
        c1, c2 = st.columns(2)
        porteurs = c1.text_input("Porteur(s)", base["porteurs"] or "", key=k + "porteurs", max_chars=2000)
        binome = c2.text_input("Binôme élu-industriel", base["binome"] or "", key=k + "binome", max_chars=2000)
        c1, c2 = st.columns(2)
        terr = c1.multiselect("EPCI concernés", list(epci_names), default=[c for c in base["territoires"] if c in epci_names],
                              format_func=epci_names.get, key=k + "territoires")
        fil = c2.multiselect("Filières", list(lk.filieres), default=[c for c in base["filieres"] if c in lk.filieres],
                             format_func=lk.filieres.get, key=k + "filieres")
        c1, c2, c3, c4 = st.columns([3, 1, 1, 1])
        names = [""] + list(catalog.CATALOG)
        cible = c1.selectbox("Indicateur cible (catalogue)", names,
                             index=names.index(base["cible_indicateur"]) if base["cible_indicateur"] in names else 0,
                             format_func=lambda n: NONE if not n else catalog.CATALOG[n].titre, key=k + "cible_indicateur")
        sens = c2.selectbox("Sens", suivi.plan_store.SENS, index=1 if base["cible_sens"] == "≤" else 0, key=k + "cible_sens")
        cv = c3.text_input("Valeur cible", _text_of("cible_valeur", base["cible_valeur"]), key=k + "cible_valeur",
                           help="Une part en % (« 12 % ») ; un montant en euros ; un effectif en nombre.")
        ca = c4.text_input("Année cible", "" if base["cible_annee"] is None else str(base["cible_annee"]), key=k + "cible_annee")
        fin = st.text_input("Financements", base["financements"] or "", key=k + "financements", max_chars=2000)
        suivi_txt = st.text_input("Indicateur de suivi", base["indicateur_suivi"] or "", key=k + "indicateur_suivi", max_chars=2000)
        notes = st.text_area("Note d'avancement", base["notes"] or "", key=k + "notes", max_chars=2000)
        submitted = st.form_submit_button("Enregistrer les modifications", type="primary", icon=":material/save:")
    new = {"statut": statut, "date_debut": d0, "date_fin": d1, "montant_estime": m0, "montant_engage": m1,
           "montant_paye": m2, "porteurs": porteurs, "binome": binome, "territoires": terr, "filieres": fil,
           "cible_indicateur": cible or None, "cible_sens": sens if cible else None, "cible_valeur": cv,
           "cible_annee": ca, "financements": fin, "indicateur_suivi": suivi_txt, "notes": notes}
    if conflict is not None and not submitted:
        _show_conflict(numero, *conflict, name)
    if submitted:
        _save(numero, base, new, name)


def _save(numero: str, base: dict, new: dict, name: str) -> None:
    snap = ui.snapshot()
    try:
        changes = suivi.save(snap, numero, base, new, name)
    except suivi.plan_store.Conflict as c:
        st.session_state.setdefault(CONFLICT, {})[numero] = (c, new)
        _show_conflict(numero, c, new, name)
        return
    except suivi.plan_store.PlanError as exc:
        st.error(fmt.typeset(f"Modification refusée, rien n'a été enregistré : {_md(exc)}"))
        return
    st.session_state.get(CONFLICT, {}).pop(numero, None)
    st.session_state.get(BASES, {}).pop(numero, None)
    st.session_state[SAVED] = (f"Action {_md(numero)} : {len(changes)} changement(s) enregistré(s) et inscrit(s) à "
                               "l'historique." if changes else f"Action {_md(numero)} : aucun changement à enregistrer.")
    st.rerun()


def _show_conflict(numero: str, c, new: dict, name: str) -> None:
    snap = ui.snapshot()
    names = suivi.labels(snap)
    st.error(fmt.typeset(f"Conflit : {_md(c)}. Votre saisie est conservée ci-dessous et dans le formulaire."))
    st.table(markup.table(pd.DataFrame({
        "Champ": [suivi.plan_store.LABELS.get(f, f) for f in c.fields],
        "Version enregistrée (autre personne)": [suivi._shown(f, c.theirs.get(f), names) for f in c.fields],
        "Votre saisie": [suivi._shown(f, c.mine.get(f), names) for f in c.fields]}).set_index("Champ")))
    c1, c2 = st.columns(2)
    if c1.button("Enregistrer ma version à la place", key=f"conflit_mienne_{numero}"):
        current = suivi.actions(snap)
        row = current[current.numero == numero].iloc[0]
        theirs = _stored_values(row)
        rev, base = st.session_state[BASES][numero]
        # The whole form is saved again; the conflicting fields take the stored version as their base.
        _save(numero, {**base, **{f: theirs.get(f) for f in c.fields}}, new, name)
    if c2.button("Garder la version enregistrée", key=f"conflit_leur_{numero}"):
        st.session_state.get(CONFLICT, {}).pop(numero, None)
        st.session_state.get(BASES, {}).pop(numero, None)
        st.rerun()


def _history(numero: str) -> None:
    h = suivi.history(ui.snapshot(), numero)
    with st.expander(f"Historique de l'action {_md(numero)} ({len(h)} changement(s))"):
        if h.empty:
            st.caption("Aucun changement inscrit.")
        else:
            st.dataframe(h.iloc[::-1], hide_index=True, width="stretch")


def _edition_form(name: str) -> None:
    st.subheader("Éditions de comité")
    snap = ui.snapshot()
    eds = suivi.editions(snap)
    if eds:
        st.dataframe(pd.DataFrame({"Édition": [e["nom"] for e in eds],
                                   "Comité": [f"{e['date_comite'][8:10]}/{e['date_comite'][5:7]}/{e['date_comite'][:4]}" for e in eds],
                                   "Créée par": [e["par"] for e in eds], "Créée le": [e["cree_le"].replace("T", " ") for e in eds],
                                   "Chiffres figés": [e["chiffres"] for e in eds]}), hide_index=True, width="stretch")
    with st.form("edition_comite", clear_on_submit=True):
        c1, c2 = st.columns([3, 1])
        nom = c1.text_input("Nom de l'édition (ex. « Comité de pilotage mars 2027 »)", max_chars=80)
        when = c2.date_input("Date du comité", value=date.today(), format="DD/MM/YYYY")
        ok = st.form_submit_button("Figer l'édition du comité", icon=":material/lock:",
                                   help="Fige le plan tel qu'il est et les chiffres de la présentation : une édition est immuable.")
    if ok:
        try:
            with st.spinner("Calcul des chiffres de la présentation…"):
                ed = suivi.create_edition(snap, nom, when.isoformat() if when else None, name,
                                          lambda: registry.deck_figures(snap))
        except suivi.plan_store.PlanError as exc:
            st.error(fmt.typeset(f"Édition non créée : {_md(exc)}"))
            return
        st.session_state[SAVED] = (f"Édition « {_md(ed['nom'])} » figée : {len(ed['plan']['actions'])} actions et "
                                   f"{len(ed['chiffres'])} chiffres de la présentation.")
        st.rerun()


ADMIN_HELP = """**Mettre le plan à jour.** Le personnel de l'Agence le modifie sur cette page (section « Modifier une
action », après connexion), ou exporte le plan (bouton « Exporter le plan suivi »), le modifie puis lance
`python -m etl check FICHIER` (les changements s'affichent) et `python -m etl load FICHIER --par NOM`. Chaque
changement est inscrit à l'historique ; un classeur erroné est refusé avec la feuille, la ligne et la colonne en cause.

**Éditions de comité.** Le jour d'un comité, un administrateur enregistre une édition (section « Modifier une
action », ou `python -m indicators comite creer --nom NOM`) : le plan et les chiffres de la présentation sont figés,
et « Depuis le dernier comité » dit ensuite ce qui a changé (`python -m indicators comite ecarts` pour le détail).

**Modification en ligne.** Elle demande un mot de passe d'administrateur ou d'éditeur dans
`.streamlit/secrets.toml` (sections `[admin]` et `[editeur]`, empreinte produite par
`python -m indicators hash-password`)."""


def admin_help() -> None:
    """The commands and files behind the page, for the administrator only (never in a finding or on a slide)."""
    with st.expander("Aide pour l'administrateur"):
        st.markdown(fmt.typeset(ADMIN_HELP))
