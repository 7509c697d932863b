"""The annex workbook: one sheet per slide with exactly the numbers behind it, plus a sources sheet.

Values are the slides' rounded values (M€ with one decimal, shares as fractions to 0.1 point),
written as numbers with French-readable number formats; secret and absent cells are left
empty and marked in the Statut column (with the reason in Note). No formula: every text cell
is written as a string cell (`write_string`, formulas, URLs and numbers never inferred), so text that starts
like a formula is shown and read back exactly as typed, without an added apostrophe.
"""
from __future__ import annotations

import io

import pandas as pd
import xlsxwriter

from ..content import registry
from . import slides as content
from .slides import KINDS, Selection, Slide

COLUMNS = [("territoire", "Territoire", 28), ("code", "Code", 11), ("categorie", "Catégorie", 34), ("annee", "Année", 8),
           ("annee_base", "Année de base", 9), ("indicateur", "Indicateur", 34),
           ("publie", "Valeur de la candidature", 14), ("valeur", "Valeur", 14),
           ("unite", "Unité", 7), ("rang", "Rang", 6), ("statut", "Statut", 22), ("note", "Note", 60),
           ("usage", "Usage", 16), ("source", "Source", 60)]
USAGE_LABELS = {"graphique": "graphique", "phrase": "phrase du titre", "chiffre": "chiffre clé",
                "référence absente": "référence absente"}


def _write_text(ws, row: int, col: int, value, fmt=None) -> None:
    if value is None or (isinstance(value, float) and pd.isna(value)) or value is pd.NA:
        ws.write_blank(row, col, None, fmt)
    else:
        ws.write_string(row, col, str(value), fmt)   # a string cell: never evaluated, no apostrophe added


def _slide_sheet(wb, formats, s: Slide) -> None:
    ws = wb.add_worksheet(s.sheet)
    _write_text(ws, 0, 0, s.titre, formats["title"])
    r = 1
    for line in [s.phrase, s.source, s.definition, *s.notes]:
        if line:
            _write_text(ws, r, 0, line, formats["wrap"])
            r += 1
    r += 1
    t = s.table
    cols = [c for c in COLUMNS if c[0] in t.columns or c[0] == "unite"]
    cols = [c for c in cols if not (c[0] in ("annee_base", "rang") and (c[0] not in t or t[c[0]].isna().all()))]
    for j, (key, label, width) in enumerate(cols):
        label = "Valeur recalculée" if key == "valeur" and "publie" in t.columns else label
        ws.write_string(r, j, label, formats["header"])
        ws.set_column(j, j, width)
    ws.freeze_panes(r + 1, 0)
    header_row = r
    for rec in t.to_dict("records"):
        r += 1
        for j, (key, _, _) in enumerate(cols):
            if key == "valeur":
                v = rec["valeur"]
                if rec["statut"] in ("secret", "absent") or v is None or pd.isna(v):
                    ws.write_blank(r, j, None, formats["blank_" + rec["statut"]] if rec["statut"] in ("secret", "absent") else None)
                else:
                    ws.write_number(r, j, float(v), formats[rec["kind"]])
            elif key == "publie":       # the candidature's figure, in the recomputed value's unit
                v = rec["publie"]
                if v is None or pd.isna(v):
                    ws.write_blank(r, j, None)
                else:
                    ws.write_number(r, j, float(v), formats[rec["kind"]])
            elif key == "unite":
                _write_text(ws, r, j, KINDS[rec["kind"]][0] or None)
            elif key == "statut":
                _write_text(ws, r, j, content.STATUT_MARKS.get(rec["statut"], rec["statut"]) or "ok")
            elif key == "usage":
                _write_text(ws, r, j, USAGE_LABELS.get(rec["usage"], rec["usage"]))
            elif key in ("annee", "annee_base", "rang"):
                v = rec.get(key)
                if v is None or v is pd.NA or (isinstance(v, float) and pd.isna(v)):
                    ws.write_blank(r, j, None)
                else:
                    ws.write_number(r, j, int(v))
            else:
                _write_text(ws, r, j, rec.get(key))
    ws.autofilter(header_row, 0, max(r, header_row), len(cols) - 1)


def _sources_sheet(wb, formats, s: Slide, t: pd.DataFrame | None = None) -> None:
    """A sheet of text columns (the sources; the plan's tables `t`): title, sentence, the table, then the source,
    the definition and the notes."""
    ws = wb.add_worksheet(s.sheet)
    _write_text(ws, 0, 0, s.titre, formats["title"])
    if s.phrase and t is not None:
        _write_text(ws, 1, 0, s.phrase, formats["wrap"])
    t = s.table if t is None else t.reset_index() if t.index.name is not None else t
    widths = {"Source": 60, "Producteur": 24, "Millésime": 10, "Années": 11, "Licence": 50, "Démonstration": 14}
    for j, col in enumerate(t.columns):
        ws.write_string(2, j, col, formats["header"])
        ws.set_column(j, j, widths.get(col, 16))
    for i, rec in enumerate(t.itertuples(index=False)):
        for j, v in enumerate(rec):
            _write_text(ws, 3 + i, j, v)
    r = 4 + len(t)
    for line in [s.source if s.key != "sources" else "", s.definition, *s.notes]:
        if not line:
            continue
        _write_text(ws, r, 0, line, formats["wrap"])
        r += 1


def render(slide_list: list[Slide]) -> bytes:
    buf = io.BytesIO()
    # strings_to_formulas off: no text ever becomes a formula (every text goes through write_string).
    wb = xlsxwriter.Workbook(buf, {"in_memory": True, "strings_to_formulas": False, "strings_to_urls": False,
                                   "strings_to_numbers": False})
    formats = {k: wb.add_format({"num_format": v[3]}) for k, v in KINDS.items()}
    formats.update({
        "title": wb.add_format({"bold": True, "font_size": 14}),
        "wrap": wb.add_format({"text_wrap": False}),
        "header": wb.add_format({"bold": True, "bg_color": "#E8E6F2", "border": 1, "text_wrap": True, "valign": "top"}),
        "blank_secret": wb.add_format({"bg_color": "#EEEEEE"}),
        "blank_absent": wb.add_format({}),
    })
    for s in slide_list:
        if s.key == "titre":
            continue
        if s.key == "sources":
            _sources_sheet(wb, formats, s)
        elif len(s.table):
            _slide_sheet(wb, formats, s)
        elif "display" in s.extra or "sheet_table" in s.extra:     # a table of text (the plan d'actions)
            _sources_sheet(wb, formats, s, s.extra.get("sheet_table", s.extra.get("display")))
    cover = next((s.titre for s in slide_list if s.key == "titre"), "Territoire d'industrie")
    wb.set_properties({"title": f"{cover} : annexe chiffrée", "comments": "Sans formule."})
    wb.close()
    return buf.getvalue()


def build_annex(snap, selection: Selection | None = None, keys: list[str] | None = None) -> bytes:
    """The annex of a selection as .xlsx bytes: the numbers behind every slide of the deck, the map's included."""
    # The title (the workbook's name) and every slide with an annex sheet in the registry (« Depuis le dernier
    # comité » is text, not a table of figures: `python -m indicators comite ecarts` lists it).
    # Without keys: the whole deck's slides (a map the deck leaves out as a repeat has no sheet either).
    wanted = set(keys) if keys else {"titre", *registry.ANNEX}
    slides = content.build(snap, selection or Selection(), keys)
    return render([s for s in slides if s.key in wanted])
