"""The annex workbook, opened with openpyxl: no formula, the deck's numbers, secret cells empty and marked;
XLSX keeps formula-like text as text cells, CSV neutralises it."""
from __future__ import annotations

import io

import openpyxl
import pandas as pd
import pytest
from pptx import Presentation

from export_fixtures import slide_table
from indicators import query
from indicators.db import get_warehouse
from indicators.export import annex, slides
from indicators.export.deck import build_deck
from indicators.content import ChartSpec
from indicators.export.slides import KINDS, Selection, Slide
from indicators.export.tables import to_csv_bytes

SEL = Selection(filiere_mesure="ca_filiere")    # turnover of the filières: secret cells in the demo data


@pytest.fixture(scope="module")
def wh(demo_warehouse):
    return demo_warehouse


@pytest.fixture(scope="module")
def snap(wh):
    return get_warehouse(wh).snapshot()


@pytest.fixture(scope="module")
def workbook(snap):
    return openpyxl.load_workbook(io.BytesIO(annex.build_annex(snap, SEL)))


@pytest.fixture(scope="module")
def content(snap):
    return slides.build(snap, SEL)


def _records(ws) -> list[dict]:
    rows = list(ws.iter_rows(values_only=True))
    header_at = next(i for i, r in enumerate(rows) if r and r[0] == "Territoire")
    header = rows[header_at]
    return [dict(zip(header, r)) for r in rows[header_at + 1:]]


def test_one_sheet_per_slide_plus_sources(workbook, content):
    expected = [s.sheet for s in content if s.key not in ("titre", "depuis_comite")]
    assert workbook.sheetnames == expected
    assert workbook.sheetnames[-1] == "Sources"


def test_no_formula_anywhere(workbook):
    for ws in workbook.worksheets:
        for row in ws.iter_rows():
            for cell in row:
                assert cell.data_type != "f", f"{ws.title}!{cell.coordinate}"
                if isinstance(cell.value, str):   # « +12 % » stays as typed, in a text cell: never evaluated
                    assert cell.data_type == "s", f"{ws.title}!{cell.coordinate}"


def test_annex_numbers_are_the_deck_numbers(snap, workbook, content):
    prs = Presentation(io.BytesIO(build_deck(snap, SEL)))
    # By title: the deck leaves out slides with nothing to show (no committee edition yet) and continues long tables
    by_title = {sl.shapes.title.text_frame.text: sl for sl in reversed(prs.slides) if sl.shapes.title is not None}
    for s in content:
        if not s.chart or s.chart == "carte":     # a map is a picture on its slide: no chart data to compare
            continue
        deck_values = slide_table(by_title[s.titre])
        recs = [r for r in _records(workbook[s.sheet]) if r["Usage"] == "graphique"]
        cat_col, ser_col = s.spec.cat, s.spec.series
        header = {"territoire": "Territoire", "categorie": "Catégorie", "indicateur": "Indicateur", "annee": "Année"}
        assert len(recs) == len(deck_values), s.key
        for r in recs:
            got = deck_values[(str(r[header[cat_col]]), str(r[header[ser_col]]))]
            assert got == r["Valeur"], (s.key, r)


def test_key_figures_sheet_matches_the_tiles(snap, workbook):
    prs = Presentation(io.BytesIO(build_deck(snap, SEL, keys=["chiffres_cles"])))
    text = " ".join(sh.text_frame.text for sh in prs.slides[0].shapes if sh.has_text_frame)
    recs = [r for r in _records(workbook["Chiffres clés"]) if r["Usage"] == "chiffre clé"]
    assert len(recs) == 8
    for r in recs:
        kind = {"M€": "eur", "km²": "km2"}.get(r["Unité"]) or ("count" if not r["Unité"] else None)
        if kind is None:
            kind = "evolution" if "Évolution" in r["Indicateur"] else "part"
        assert slides.shown(r["Valeur"], kind) in text, r


def test_secret_cells_are_empty_and_marked(snap, workbook):
    recs = [r for r in _records(workbook["Filières"]) if r["Usage"] == "graphique"]
    year = query.latest_year(snap, "ca_filiere", "epci")
    q = query.get(snap, "ca_filiere", "epci", annee=year)
    shown = {r["Territoire"] for r in recs}   # the sheet's territories (the TI's EPCI, not the neighbour)
    secret = {(r.nom_court, r.filiere) for r in q[q.statut == "secret"].itertuples() if r.nom_court in shown}
    assert secret
    marked = {(r["Territoire"], r["Catégorie"]) for r in recs if str(r["Statut"]).startswith("s")}
    assert marked == secret
    for r in recs:
        if (r["Territoire"], r["Catégorie"]) in secret:
            assert r["Valeur"] is None and "Secret statistique" in r["Note"]
        else:
            assert isinstance(r["Valeur"], (int, float))   # 3.0 comes back from Excel as 3


def test_french_number_formats(workbook):
    ws = workbook["Industrie"]
    cells = [c for row in ws.iter_rows() for c in row if isinstance(c.value, float)]
    assert cells and all(c.number_format == KINDS["part"][3] for c in cells)
    ws = workbook["CA par secteur"]
    cells = [c for row in ws.iter_rows() for c in row if isinstance(c.value, float)]
    assert cells and all(c.number_format == KINDS["eur"][3] for c in cells)


def test_formula_like_text_is_a_text_cell_in_xlsx_and_neutralised_in_csv():
    """XLSX: a string cell holds the text exactly as typed (no formula, no added apostrophe Excel would show);
    CSV, which has no cell types: the apostrophe keeps spreadsheets from evaluating it."""
    evil = ["=HYPERLINK(\"http://x\")", "+1+1", "-2", "@SUM(A1)", "\tTAB", "\rCR"]
    table = pd.DataFrame({"territoire": evil, "code": ["1"] * 6, "categorie": evil, "annee": [2024] * 6,
                          "indicateur": evil, "valeur": [1.0, None, 2.0, 3.0, 4.0, 5.0], "kind": "count",
                          "statut": ["ok", "secret", "ok", "ok", "ok", "ok"], "note": evil, "source": evil,
                          "demo": False, "usage": "graphique"})
    s = Slide("industrie", "=1+2", "+phrase", table, ChartSpec("bar"), source="-source", notes=["@note"])
    wb = openpyxl.load_workbook(io.BytesIO(annex.render([s])))
    ws = wb.worksheets[0]
    # openpyxl leaves XML's escaped carriage return as "_x000D_" (Excel shows a carriage return)
    texts = [c.value.replace("_x000D_", "\r") for row in ws.iter_rows() for c in row if isinstance(c.value, str)]
    assert all(c.data_type != "f" for row in ws.iter_rows() for c in row)
    for t in evil + ["=1+2", "+phrase", "-source", "@note"]:
        assert t in texts, t
        assert "'" + t not in texts, t
    csv = to_csv_bytes(table)
    assert csv.startswith("\ufeff".encode())
    text = csv.decode("utf-8-sig")
    assert text.splitlines()[0].startswith("territoire;code;")
    assert "'=HYPERLINK" in text and "\n=" not in text and ";=" not in text and ";+" not in text
    # Secret stays empty in the CSV: the second row has no value between its separators.
    assert ";;count;secret;" in text


def test_command_line_annex(wh, tmp_path):
    from indicators.__main__ import main

    out = tmp_path / "annexe.xlsx"
    assert main(["annex", "--out", str(out), "--warehouse", str(wh), "--epci", "200067825", "240500439"]) == 0
    wb = openpyxl.load_workbook(out)
    # The chosen EPCIs are the Comparer sheet's; the other sheets show the territory's EPCIs, as the pages do.
    terr = {r["Territoire"] for r in _records(wb["Comparer les EPCI"])}
    assert terr == {"Gap-Tallard-Durance", "Briançonnais", "TI Hautes-Alpes", "Hautes-Alpes"}
