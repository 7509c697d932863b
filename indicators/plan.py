"""The action plan for people: totals by axe / filière / EPCI, the per-axe table of the committee deck,
French tables for the page, the annex and the CSV, and the filière figures next to each action.

Pure pandas over `suivi.plan_actions()` (no SQL, no Streamlit). An unknown amount stays unknown:
totals add the amounts filled in and say how many actions have none.
"""
from __future__ import annotations

from typing import Callable

import pandas as pd

from . import format as fmt, suivi
from .db import Snapshot

STATUTS = suivi.STATUTS
NON_RENSEIGNE = "Non renseigné"
# The indicators shown next to an action, for its filière(s) and territory(ies).
FIGURES = [("etablissements_filiere", "Établissements employeurs", "établissements"),
           ("effectifs_filiere", "Effectifs salariés", "salariés"),
           ("ca_filiere", "Chiffre d'affaires", "€")]


def _explode(actions: pd.DataFrame, col: str, labels: dict[str, str]) -> pd.DataFrame:
    d = actions.copy()
    d["_code"] = [v if len(v) else [None] for v in d[col]]
    d = d.explode("_code")
    d["_code"] = [c if isinstance(c, str) else "" for c in d["_code"]]  # "": not filled in
    d["_label"] = [labels.get(c, c) if c else NON_RENSEIGNE for c in d["_code"]]
    return d


def totals(actions: pd.DataFrame, by: str, labels: dict[str, str] | None = None,
           order: list[str] | None = None) -> pd.DataFrame:
    """One row per axe, filière or territory: actions, actions by statut, amount filled in, actions without amount.

    An action on two EPCIs (or filières) counts in each: the rows of `epci` / `filiere` do not add up.
    `labels`: code -> name for filières / territories (default: the names in the actions); `order`: codes in
    display order (default: first seen). « Non renseigné » comes last.
    """
    if by == "axe":
        d = actions.assign(_code=actions.axe_num, _label=actions.axe)
    elif by in ("filiere", "epci"):
        col = "filieres" if by == "filiere" else "territoires"
        if labels is None:  # the names in the actions, in the same order as the codes
            labels = {}
            for codes, names in zip(actions[col], actions[f"{col}_noms"].fillna("")):
                labels.update(zip(codes, [n.strip() for n in names.split(" ; ")] if names else []))
        d = _explode(actions, col, labels)
    else:
        raise ValueError(f"regroupement inconnu « {by} » (axe, filiere ou epci)")
    columns = ["code", "libelle", "actions"] + STATUTS + ["montant_eur", "sans_montant"]
    if d.empty:
        return pd.DataFrame(columns=columns)
    rows = []
    for (code, label), g in d.groupby(["_code", "_label"], sort=False):
        row = {"code": code if code != "" else None, "libelle": label, "actions": len(g)}
        row.update({s: int((g.statut == s).sum()) for s in STATUTS})
        row["montant_eur"] = g.montant_eur.sum(min_count=1)
        row["sans_montant"] = int(g.montant_eur.isna().sum())
        rows.append(row)
    out = pd.DataFrame(rows, columns=columns)
    rank = {c: i for i, c in enumerate(order or [])}
    out["_rank"] = [len(rank) + 1 if c is None or (by != "axe" and pd.isna(c)) else rank.get(c, len(rank))
                    for c in out.code]
    return out.sort_values("_rank", kind="stable").drop(columns="_rank").reset_index(drop=True)


def by_axe(snap: Snapshot) -> pd.DataFrame:
    """The committee deck's table, one row per axe: axe_num, axe, actions, count per statut, montant_eur
    (NaN when no amount is filled in), sans_montant, and `liste`: the actions of the axe
    (numero, intitule, porteurs, statut, montant_eur) as a DataFrame for the slide body."""
    actions = suivi.plan_actions(snap)
    t = totals(actions, "axe").rename(columns={"code": "axe_num", "libelle": "axe"})
    t["liste"] = [actions.loc[actions.axe_num == n, ["numero", "intitule", "porteurs", "statut", "montant_eur"]]
                  .reset_index(drop=True) for n in t.axe_num]
    return t


def status_line(row) -> str:
    """'3 actions : 2 à lancer, 1 en cours' (statuts without action left out)."""
    parts = [f"{row[s]} {s}" for s in STATUTS if row[s]]
    return f"{row['actions']} action{'s' if row['actions'] > 1 else ''}" + (" : " + ", ".join(parts) if parts else "")


def amount_text(montant, sans_montant: int, actions: int) -> str:
    """'12,5 M€ (2 actions sans montant)' or 'non renseigné'."""
    if pd.isna(montant):
        return "non renseigné"
    text = fmt.euros(montant)
    if sans_montant:
        text += f" ({sans_montant} action{'s' if sans_montant > 1 else ''} sans montant)"
    return text


def for_people(actions: pd.DataFrame) -> pd.DataFrame:
    """The actions with French headers and French formats (page table, annex, CSV)."""
    def day(v):
        return "" if pd.isna(v) else pd.Timestamp(v).strftime("%d/%m/%Y")
    return pd.DataFrame({
        "N°": actions.numero,
        "Axe": actions.axe,
        "Action": actions.intitule,
        "Porteur(s)": actions.porteurs.fillna(""),
        "EPCI": actions.territoires_noms.fillna(""),
        "Filière(s)": actions.filieres_noms.fillna(""),
        "Statut": actions.statut,
        "Montant estimé (€)": actions.montant_eur,
        **({"Montant engagé (€)": actions.montant_engage, "Montant payé (€)": actions.montant_paye,
            "Binôme": actions.binome.fillna("")} if "montant_engage" in actions else {}),
        "Financements": actions.financements.fillna(""),
        "Début": [day(v) for v in actions.date_debut],
        "Fin": [day(v) for v in actions.date_fin],
        "Indicateur de suivi": actions.indicateur_suivi.fillna(""),
        "Notes": actions.notes.fillna(""),
    })


def binomes_for_people(binomes: pd.DataFrame) -> pd.DataFrame:
    return pd.DataFrame({"EPCI": binomes.epci, "SIREN": binomes.code, "Élu(e)": binomes.elu.fillna(""),
                         "Industriel(le)": binomes.industriel.fillna("")})


def totals_for_people(t: pd.DataFrame, first: str) -> pd.DataFrame:
    out = pd.DataFrame({first: t.libelle, "Actions": t.actions})
    for s in STATUTS:
        out[s.capitalize()] = t[s]
    out["Montant estimé"] = [amount_text(m, n, a) for m, n, a in zip(t.montant_eur, t.sans_montant, t.actions)]
    return out


Getter = Callable[..., pd.DataFrame]


def filiere_figures(actions: pd.DataFrame, get: Getter, years: dict[str, int | None],
                    whole: tuple[str, str, str] | None = None) -> pd.DataFrame:
    """For each action with a filière: the filière's figures in the action's territories (the whole territory
    when no EPCI is filled in). `get(name, niveau, annee=...)` is `query.get` bound to a snapshot (or the
    cached `ui.get`); `years`: the year of each indicator; `whole`: (niveau, code, name) of the whole territory
    (`suivi.whole_territory`; default: the first département the getter returns). Secret values stay secret."""
    frames = {}
    whole_niveau = whole[0] if whole else "departement"
    for name, _, _ in FIGURES:
        if years.get(name) is None:
            continue
        frames[name] = pd.concat([get(name, niveau, annee=years[name]) for niveau in ("epci", whole_niveau)],
                                 ignore_index=True)
    if whole:
        whole_code = whole[1]
    else:
        deps = [df[df.niveau == whole_niveau].code for df in frames.values() if "niveau" in df]
        whole_code = next((c.iat[0] for c in deps if len(c)), "")
    rows = []
    for a in actions.itertuples():
        territories = a.territoires or [whole_code]
        for filiere in a.filieres:
            for code in territories:
                for name, label, unite in FIGURES:
                    df = frames.get(name)
                    hit = None if df is None else df[(df.code == code) & (df.filiere_code == filiere)]
                    if hit is None or hit.empty:
                        rows.append(dict(numero=a.numero, code=code, territoire=None, filiere_code=filiere, filiere=None,
                                         indicateur=name, libelle=label, unite=unite, annee=years.get(name),
                                         valeur=float("nan"), statut="absent", note="Aucune donnée chargée", source="",
                                         demo=False))
                        continue
                    r = hit.iloc[0]
                    rows.append(dict(numero=a.numero, code=code, territoire=r.nom_court, filiere_code=filiere,
                                     filiere=r.filiere, indicateur=name, libelle=label, unite=unite, annee=int(r.annee),
                                     valeur=r.valeur, statut=r.statut, note=r.note, source=r.source,
                                     demo=bool(r.demo)))
    out = pd.DataFrame(rows, columns=["numero", "code", "territoire", "filiere_code", "filiere", "indicateur", "libelle",
                                      "unite", "annee", "valeur", "statut", "note", "source", "demo"])
    return out


def figures_text(figures: pd.DataFrame) -> dict[str, str]:
    """numero -> 'Briançonnais : 85 ét., 1 230 sal., CA 95 M€' (one part per territory; the filière is named
    first when the action has several)."""
    out: dict[str, str] = {}
    for numero, g in figures.groupby("numero", sort=False):
        parts = []
        several = g.filiere_code.nunique() > 1
        for (_, _), h in g.groupby(["filiere_code", "code"], sort=False):
            first = h.iloc[0]
            who = (f"{first.filiere or first.filiere_code}, " if several else "") + f"{first.territoire or first.code}"
            vals = []
            for r in h.itertuples():
                v = fmt.value(r.valeur, r.unite, r.statut)
                vals.append(f"CA {v}" if r.indicateur == "ca_filiere" else f"{v} {'ét.' if r.unite == 'établissements' else 'sal.'}")
            parts.append(f"{who} : {', '.join(vals)}")
        out[numero] = " | ".join(parts)
    return out


# --- export of the current plan (read back by `python -m etl load`: a round trip changes nothing) ----------

# The plan's revision the export was taken from (same on every row; hidden in the workbook): re-imported, a field
# edited online since then and changed in the file is a conflict, not a silent revert (etl/plan_store.diff).
REVISION = "Révision du suivi"
EXPORT_COLUMNS = [("N°", "numero"), ("Axe", "axe"), ("Intitulé de l'action", "intitule"), ("Porteur(s)", "porteurs"),
                  ("EPCI", "territoires_noms"), ("Filière(s)", "filieres_noms"), ("Montant estimé (€)", "montant_eur"),
                  ("Montant engagé (€)", "montant_engage"), ("Montant payé (€)", "montant_paye"),
                  ("Financements", "financements"), ("Statut", "statut"), ("Date de début", "date_debut"),
                  ("Date de fin", "date_fin"), ("Binôme élu-industriel", "binome"),
                  ("Indicateur de suivi", "indicateur_suivi"), ("Indicateur cible", "cible_indicateur"),
                  ("Sens de la cible", "cible_sens"), ("Valeur cible", "cible_valeur"), ("Année cible", "cible_annee"),
                  ("Notes", "notes"), (REVISION, "historique_id")]


def export_table(actions: pd.DataFrame, dates_as_text: bool = True) -> pd.DataFrame:
    """The plan with the workbook's headers (EPCI and filières by name, amounts in euros)."""
    out = {}
    for header, col in EXPORT_COLUMNS:
        values = list(actions[col]) if col in actions else [None] * len(actions)
        if col in ("date_debut", "date_fin"):
            values = [None if pd.isna(v) else (pd.Timestamp(v).strftime("%d/%m/%Y") if dates_as_text
                                                 else pd.Timestamp(v).date()) for v in values]
        elif col in ("cible_annee", "historique_id"):
            values = [None if v is None or pd.isna(v) else int(v) for v in values]
        else:
            values = [None if not isinstance(v, (list, str)) and pd.isna(v) else v for v in values]
        out[header] = values
    return pd.DataFrame(out)


_FORMULA_START = ("=", "+", "-", "@")


def _text_cells(ws) -> None:
    """Every text cell stored as text (never a formula, never an apostrophe in the value): « =HYPERLINK(…) » or
    « +12 % » read back exactly as typed. Text that starts like a formula also gets Excel's quote prefix (shown
    without apostrophe, kept as text when the cell is edited)."""
    for row in ws.iter_rows():
        for cell in row:
            if isinstance(cell.value, str):
                cell.data_type = "s"
                if cell.value.startswith(_FORMULA_START):
                    cell.quotePrefix = True


def to_xlsx(actions: pd.DataFrame, binomes: pd.DataFrame, creator: str | None = None) -> bytes:
    """The current plan as a workbook the loader reads (sheets « Actions » and « Binômes »). `creator`: the
    organisation keeping the plan (`suivi.producer`), the workbook's author read back at the next import (else
    openpyxl would sign it « openpyxl »)."""
    import io

    from openpyxl import Workbook
    from openpyxl.utils import get_column_letter

    wb = Workbook()
    ws = wb.active
    ws.title = "Actions"
    table = export_table(actions, dates_as_text=False)
    ws.append(list(table.columns))
    for row in table.itertuples(index=False):
        ws.append(list(row))
    ws.column_dimensions[get_column_letter(len(table.columns))].hidden = True   # « Révision du suivi »
    for r in range(2, len(table) + 2):
        for c in (7, 8, 9):
            ws.cell(r, c).number_format = '#,##0 "€"'
        for c in (12, 13):
            ws.cell(r, c).number_format = "DD/MM/YYYY"
    b = wb.create_sheet("Binômes")
    b.append(["EPCI", "Élu(e)", "Industriel(le)"])
    for r in binomes.itertuples():
        b.append([r.epci, r.elu, r.industriel])
    for sheet in (ws, b):
        _text_cells(sheet)
    wb.properties.creator = creator or "Plan d'actions du Territoire d'industrie"
    wb.properties.lastModifiedBy = creator or None
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def to_csv(actions: pd.DataFrame) -> bytes:
    from .export.tables import to_csv_bytes

    return to_csv_bytes(export_table(actions))
