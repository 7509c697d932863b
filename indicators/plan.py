"""The action plan for people: the per-axe table of the committee deck, French tables for the CSV, and the
plan exported as a workbook or CSV that `python -m etl load` reads back (totals and filière figures:
indicators/content/plan.py).

Pure pandas over `suivi.plan_actions()` (no SQL, no Streamlit). An unknown amount stays unknown:
totals add the amounts filled in and say how many actions have none.
"""
from __future__ import annotations

import pandas as pd

from . import suivi
# Totals and the filière figures next to each action live with the plan's findings (content/plan.py).
from .content.plan import FIGURES, NON_RENSEIGNE, STATUTS, filiere_figures, figures_text, totals  # noqa: F401
from .db import Snapshot


def by_axe(snap: Snapshot) -> pd.DataFrame:
    """The committee deck's table, one row per axe: axe_num, axe, actions, count per statut, montant_eur
    (NaN when no amount is filled in), sans_montant, and `liste`: the actions of the axe
    (numero, intitule, porteurs, statut, montant_eur) as a DataFrame for the slide body."""
    actions = suivi.plan_actions(snap)
    t = totals(actions, "axe").rename(columns={"code": "axe_num", "libelle": "axe"})
    t["liste"] = [actions.loc[actions.axe_num == n, ["numero", "intitule", "porteurs", "statut", "montant_eur"]]
                  .reset_index(drop=True) for n in t.axe_num]
    return t


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
