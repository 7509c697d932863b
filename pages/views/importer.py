"""Importer des données: upload, validation report, confirmation, load — for the administrator only.

Without `[admin] password_hash` in `.streamlit/secrets.toml` the page only explains how to enable
it. The ETL is imported only once the administrator is signed in (visitors keep a light page).
Files are checked and loaded in a child process (etl/imports.py): a hostile file cannot crash
the server, and the warehouse is replaced atomically, so sessions reading it are not disturbed.
"""
from __future__ import annotations

import pandas as pd
import streamlit as st

from indicators import auth, format as fmt, markup, ui
from pages.views import staff

SIGNED_IN, SIGNED_IN_AT, SESSION_HOURS = staff.SIGNED_IN, staff.SIGNED_IN_AT, staff.SESSION_HOURS
CHECKS = "_import_controles"      # sha256 -> Outcome of the check (one check per uploaded content)
DONE = "_import_resultat"         # message of the last load, shown after the rerun
UPLOADER = "_import_uploader_n"   # bumping it empties the file uploader after a load

DISABLED = ("L'import de fichiers depuis le tableau de bord est **désactivé** : aucun mot de passe administrateur "
            "n'est configuré. L'administrateur du serveur peut l'activer (voir l'aide ci-dessous).")

HOW_TO_ENABLE = """
Pour activer l'import, sur le serveur qui héberge le tableau de bord :

1. créer l'empreinte du mot de passe (12 caractères au moins) :
   `python -m indicators hash-password` ;
2. copier les deux lignes affichées dans le fichier `.streamlit/secrets.toml` (à ne jamais versionner ni envoyer
   par courriel) :
   ```toml
   [admin]
   password_hash = "pbkdf2_sha256$600000$…$…"
   ```
3. redémarrer le tableau de bord.

Sans cela, les fichiers se chargent en ligne de commande : `python -m etl check FICHIER` puis
`python -m etl load FICHIER`.
"""

STATUT_TEXT = {"vérifié": "Fichier valide : prêt à être chargé", "refusé": "Fichier refusé",
               "erreur": "Contrôle impossible", "chargé": "Fichier chargé", "déjà chargé": "Fichier déjà chargé"}


def _admin_help() -> None:
    """Commands and settings files, for the server's administrator only, behind an expander."""
    with st.expander("Aide pour l'administrateur"):
        st.markdown(fmt.typeset(HOW_TO_ENABLE))


def _configured_hash() -> str | None:
    return staff.configured_hash("admin")


def _signed_in() -> str | None:
    who = staff.signed_in()
    return who[0] if who else None


def _sign_in(stored: str) -> None:
    st.markdown("Cette page permet à l'administrateur de charger un fichier (INSEE, URSSAF, CCI/CMA, plan d'actions) "
                "dans l'entrepôt. Connectez-vous pour continuer.")
    staff.sign_in_form({"admin": stored, **{k: v for k, v in staff.hashes().items() if k != "admin"}})


def _report(outcome) -> None:
    """The validation report: status, lines, then every problem with its line and column."""
    text = STATUT_TEXT.get(outcome.statut, outcome.statut)
    reports = outcome.reports
    r = reports[0] if reports else {}
    if r.get("kind"):
        text += f" — type reconnu : **{r['kind']}**, {r.get('lignes_lues', 0)} ligne(s) lue(s)"
        if outcome.statut == "vérifié":
            text += f", {r.get('lignes_gardees', 0)} dans le périmètre"
    problems = outcome.problems or [p for rep in reports for p in rep.get("problems", [])]
    if outcome.ok:
        st.success(fmt.typeset(text + "."))
    else:   # the first errors in full (the table below may cut long messages)
        grave = [p for p in problems if p.get("grave")]
        st.error(fmt.typeset(text + ".\n\n" + "\n".join(f"- {_problem(p)}" for p in grave[:5])
                 + (f"\n- … et {len(grave) - 5} autre(s) erreur(s), dans le tableau ci-dessous" if len(grave) > 5 else "")))
    if problems:
        table = pd.DataFrame({"Gravité": ["erreur" if p.get("grave") else "remarque" for p in problems],
                              "Fichier": [p.get("fichier") or "" for p in problems],
                              "Ligne": [str(p["ligne"]) if p.get("ligne") is not None else "" for p in problems],
                              "Colonne": [p.get("colonne") or "" for p in problems],
                              "Message": [p.get("message") or "" for p in problems]})
        st.dataframe(table, hide_index=True, width="stretch")


def md(text) -> str:
    """File text (names, headers, cells quoted in messages) shown as plain text, never as markdown or links."""
    return markup.escape(text)


def _problem(p: dict) -> str:
    where = [p.get("fichier") or ""] + ([f"ligne {p['ligne']}"] if p.get("ligne") is not None else []) \
        + ([f"colonne « {p['colonne']} »"] if p.get("colonne") else [])
    return md(f"{', '.join(w for w in where if w)} : {p.get('message', '')}")


def _size(n: int) -> str:
    return f"{n} octets" if n < 1024 else (f"{n / 1024:.0f} Ko" if n < 1024**2 else f"{n / 1024**2:.1f} Mo".replace(".", ","))


def _admin_page(name: str) -> None:
    from etl import imports   # only for the signed-in administrator

    c1, c2 = st.columns([4, 1])
    c1.markdown(f"Connecté(e) : **{md(name)}**. Les fichiers sont contrôlés puis chargés tout ou rien : un fichier "
                "refusé ne modifie pas l'entrepôt, et les pages ouvertes passent aux nouveaux chiffres à leur "
                "prochain affichage.")
    if c2.button("Se déconnecter", icon=":material/logout:"):
        staff.sign_out(CHECKS)
        st.rerun()
    warehouse = ui.warehouse_path()
    raw = imports.raw_dir_for(warehouse)
    who, where = name, getattr(st.context, "ip_address", None)

    done = st.session_state.pop(DONE, None)
    if done:
        st.success(fmt.typeset(done))

    st.subheader("1. Déposer le fichier")
    n = st.session_state.setdefault(UPLOADER, 0)
    upload = st.file_uploader(f"Fichier CSV, XLSX, CSV compressé (.gz) ou Parquet — {imports.MAX_UPLOAD_MB} Mo au plus",
                              type=list(imports.EXTENSIONS), max_upload_size=imports.MAX_UPLOAD_MB, key=f"import_{n}")
    if upload is None:
        _journal(imports, raw)
        return
    data = upload.getvalue()
    if not imports.extension_ok(upload.name):
        st.error(fmt.typeset(f"{md(upload.name)} : extension non acceptée (acceptées : {', '.join(imports.EXTENSIONS)})."))
        return
    try:
        stored = imports.store(data, upload.name, raw)
    except (ValueError, OSError) as exc:
        st.error(fmt.typeset(f"{md(upload.name)} : fichier non enregistré ({md(exc)})."))
        return

    st.subheader("2. Rapport de contrôle")
    checks = st.session_state.setdefault(CHECKS, {})
    outcome = checks.get(stored.sha256)
    if outcome is None:
        with st.spinner(f"Contrôle de {stored.name}…"):
            outcome = imports.run("check", stored.path, warehouse)
        checks[stored.sha256] = outcome
        imports.journal_append(raw, action="contrôle", stored=stored, outcome=outcome, qui=who, adresse=where)
    seconds = f"{outcome.seconds:.1f}".replace(".", ",")
    st.caption(fmt.typeset(f"{md(stored.name)} — {_size(stored.size)} — SHA-256 {stored.sha256} — contrôlé en {seconds} s"))
    _report(outcome)
    if not outcome.ok:
        st.info("Corrigez le fichier puis déposez-le à nouveau. L'entrepôt n'a pas été modifié.")
        _journal(imports, raw)
        return

    changes = next((r.get("changements") for r in outcome.reports if r.get("changements") is not None), None)
    if changes is not None:
        st.subheader("Changements du plan d'actions")
        if changes:
            st.markdown(fmt.typeset(f"Appliquer ce classeur fera **{len(changes)} changement(s)** au plan suivi, inscrits à "
                        f"l'historique à votre nom (les colonnes absentes du classeur ne changent rien) :"))
            st.dataframe(pd.DataFrame({"Changement": changes}), hide_index=True, width="stretch")
        else:
            st.info("Ce classeur ne change rien au plan d'actions suivi.")
        conflicts = next((r.get("conflits") for r in outcome.reports if r.get("conflits")), None)
        if conflicts:
            st.warning(fmt.typeset(f"**{len(conflicts)} conflit(s)** : ces champs ont été modifiés en ligne depuis l'export de ce "
                       "classeur, et le classeur les change aussi. Ils ne seront **pas appliqués** : la version en ligne "
                       "est gardée. Pour imposer la version du classeur, modifiez l'action en ligne (section « Modifier "
                       "une action » de la page Plan d'actions) ou exportez à nouveau le plan et reportez-y vos changements."))
            st.table(markup.table(pd.DataFrame({
                "Action": [c["action"] for c in conflicts], "Champ": [c["champ"] for c in conflicts],
                "Version en ligne (modifiée depuis l'export)": [c["en_ligne"] for c in conflicts],
                "Version du classeur": [c["classeur"] for c in conflicts]}).set_index("Action")))
    st.subheader("3. Confirmer et charger")
    confirmed = st.checkbox(f"J'ai lu le rapport et je charge « {md(stored.name)} » dans l'entrepôt", key=f"confirme_{n}")
    if st.button("Charger dans l'entrepôt", type="primary", disabled=not confirmed, icon=":material/upload:"):
        before = ui.snapshot().version
        with st.spinner("Chargement et recalcul des agrégats…"):
            result = imports.run("load", stored.path, warehouse, par=who)
        imports.journal_append(raw, action="chargement", stored=stored, outcome=result, qui=who, adresse=where)
        if result.ok:
            after = ui.begin_run().version
            st.session_state[DONE] = (f"{md(stored.name)} : {STATUT_TEXT[result.statut].lower()} en {result.seconds:.1f} s"
                                      + (f" (version des données {after[:8]}, auparavant {before[:8]})." if after != before
                                         else " ; l'entrepôt est inchangé."))
            st.session_state[UPLOADER] = n + 1
            checks.pop(stored.sha256, None)
            st.rerun()
        _report(result)
    _journal(imports, raw)


def _journal(imports, raw) -> None:
    st.subheader("Journal des imports")
    rows = imports.journal_read(raw, limit=100)
    if not rows:
        st.caption("Aucun import pour l'instant.")
        return
    df = pd.DataFrame(rows)
    df["sha256"] = df["sha256"].str[:12]
    df["horodatage"] = pd.to_datetime(df["horodatage"], errors="coerce").dt.strftime("%d/%m/%Y %H:%M:%S").fillna("")
    st.dataframe(df.rename(columns={"horodatage": "Quand", "action": "Action", "fichier": "Fichier", "sha256": "SHA-256",
                                    "octets": "Octets", "resultat": "Résultat", "detail": "Détail", "qui": "Qui",
                                    "adresse": "Adresse"}), hide_index=True, width="stretch")
    st.caption(fmt.typeset(f"Les 100 dernières lignes du journal ({imports.JOURNAL_NAME}, à côté des fichiers déposés)."))


def run() -> None:
    st.title("Importer des données")
    stored = _configured_hash()
    if stored is None:
        st.info(fmt.typeset(DISABLED))
        _admin_help()
        return
    try:
        auth.parse(stored)
    except auth.BadHash as exc:
        st.error(fmt.typeset(f"Import désactivé : l'empreinte du mot de passe administrateur est invalide ({exc})."))
        with st.expander("Aide pour l'administrateur"):
            st.markdown("Recréez l'empreinte avec `python -m indicators hash-password` et remplacez la ligne "
                        "`[admin] password_hash` de `.streamlit/secrets.toml`.")
        return
    who = staff.signed_in()
    if who is None:
        _sign_in(stored)
        return
    if who[1] != "admin":
        st.warning(fmt.typeset(f"Connecté(e) : {md(who[0])}, avec le rôle éditeur : il permet de modifier le plan d'actions "
                   "(page « Plan d'actions »), pas de charger des fichiers de données. Connectez-vous avec le mot de "
                   "passe administrateur pour importer."))
        if st.button("Se déconnecter", icon=":material/logout:"):
            staff.sign_out(CHECKS)
            st.rerun()
        return
    _admin_page(who[0])


if __name__ == "__main__":
    run()
