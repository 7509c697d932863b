"""The committee deck as a reader sees it: rendered by LibreOffice (`soffice --headless --convert-to pdf`) and
read back word by word (`pdftotext -bbox`). Every word of every text box and table is on its page (none cut at
the slide's edge, none broken inside), no two words overlap (a table over bullets, a data label over a category
name), every slide has its title in its title placeholder. Two decks only (the suite's budget): the TI at the
latest year, and the member with the most secret turnover cells in its year (Guillestrois-Queyras 2020 on the
demo data)."""
from __future__ import annotations

import collections
import io
import re
import shutil
import subprocess
import time
from xml.etree import ElementTree

import duckdb
import pytest
from pptx import Presentation

from indicators.db import get_warehouse
from indicators.export.deck import TABLE_PT, build_deck
from indicators.export.slides import Selection
from tests.conftest import in_ci

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("deck_render")]

SOFFICE = shutil.which("soffice") or shutil.which("libreoffice")
if not (SOFFICE and shutil.which("pdftotext")):
    if in_ci():
        raise RuntimeError("LibreOffice (paquet libreoffice-impress) et poppler-utils requis en intégration continue")
    pytest.skip("rendu du diaporama sauté : installez libreoffice-impress et poppler-utils", allow_module_level=True)

XHTML = "{http://www.w3.org/1999/xhtml}"
OVERLAP = 0.15       # two words overlap when they share more than this share of the smaller one's box


def _secret_heavy(wh) -> Selection:
    """The member EPCI and year with the most withheld turnover cells by sector: the deck with the most « s »."""
    con = duckdb.connect(str(wh), read_only=True)
    try:
        code, year = con.execute("""
            SELECT m.code, m.annee FROM mart m JOIN ref_territoires t ON t.niveau = 'epci' AND t.code = m.code
            WHERE m.mesure = 'ca_eur' AND m.groupement = 'secteur' AND m.niveau = 'epci' AND t.role = 'membre'
            GROUP BY ALL ORDER BY count(*) FILTER (WHERE m.secret IS DISTINCT FROM 'diffuse') DESC, m.annee, m.code
            LIMIT 1""").fetchone()
    finally:
        con.close()
    return Selection(focus=code, annee=int(year))


@pytest.fixture(scope="module")
def rendered(demo_warehouse, tmp_path_factory):
    """{name: (Presentation, pages of words, seconds to build, seconds to render)} for the two decks."""
    snap = get_warehouse(demo_warehouse).snapshot()
    out = tmp_path_factory.mktemp("deck_render")
    decks, times = {}, {}
    for name, sel in (("ti", Selection()), ("secret", _secret_heavy(demo_warehouse))):
        t0 = time.perf_counter()
        blob = build_deck(snap, sel)
        times[name] = time.perf_counter() - t0
        (out / f"{name}.pptx").write_bytes(blob)
        decks[name] = Presentation(io.BytesIO(blob))
    t0 = time.perf_counter()
    subprocess.run([SOFFICE, "--headless", f"-env:UserInstallation=file://{out}/profile", "--convert-to", "pdf",
                    "--outdir", str(out), str(out / "ti.pptx"), str(out / "secret.pptx")],
                   check=True, capture_output=True, timeout=300)
    render_s = time.perf_counter() - t0
    print(f"\ndiaporamas : construction TI {times['ti']:.1f} s, secret {times['secret']:.1f} s ; "
          f"rendu LibreOffice des deux {render_s:.1f} s")
    return {n: (decks[n], _pdf_words(out / f"{n}.pdf"), times[n], render_s) for n in decks}


def _pdf_words(pdf) -> list[tuple[float, float, list[tuple[str, float, float, float, float]]]]:
    """Each page: width, height and its words with their boxes (points)."""
    xml = subprocess.run(["pdftotext", "-bbox", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    root = ElementTree.fromstring(re.sub(r"<!DOCTYPE[^>]*>", "", xml))
    return [(float(p.get("width")), float(p.get("height")),
             [(w.text or "", *(float(w.get(k)) for k in ("xMin", "yMin", "xMax", "yMax"))) for w in p.iter(f"{XHTML}word")])
            for p in root.iter(f"{XHTML}page")]


def _tokens(text: str) -> list[str]:
    """Words, a hyphenated word as its parts (a line may break after its hyphen, « Hautes- / Alpes »)."""
    return [t for w in text.split() for t in re.split(r"(?<=-)(?=.)", w)]


def _slide_words(slide) -> list[str]:
    words = []
    for sh in slide.shapes:
        if sh.has_text_frame:
            words += _tokens(sh.text_frame.text)
        if sh.has_table:
            words += [t for row in sh.table.rows for c in row.cells for t in _tokens(c.text_frame.text)]
    return words


def _overlaps(words) -> list[tuple[str, str]]:
    out = []
    for i, a in enumerate(words):
        for b in words[i + 1:]:
            dx = min(a[3], b[3]) - max(a[1], b[1])
            dy = min(a[4], b[4]) - max(a[2], b[2])
            if dx > 0 and dy > 0:
                small = min((a[3] - a[1]) * (a[4] - a[2]), (b[3] - b[1]) * (b[4] - b[2]))
                if dx * dy > OVERLAP * small:
                    out.append((a[0], b[0]))
    return out


@pytest.mark.parametrize("name", ["ti", "secret"])
def test_every_word_is_on_its_slide_and_none_overlaps(rendered, name):
    prs, pages, _, _ = rendered[name]
    assert len(pages) == len(prs.slides)
    bad = []
    for k, (slide, (w, h, words)) in enumerate(zip(prs.slides, pages), 1):
        title = slide.shapes.title.text[:70]
        inside = collections.Counter(t for x in words if x[1] >= 0 and x[2] >= 0 and x[3] <= w + 0.5 and x[4] <= h + 0.5
                                     for t in _tokens(x[0]))
        missing = collections.Counter(_slide_words(slide)) - inside
        if missing:
            bad.append(f"diapositive {k} « {title} » : mots absents ou coupés {sorted(missing)[:8]}")
        over = _overlaps(words)
        if over:
            bad.append(f"diapositive {k} « {title} » : mots superposés {over[:5]}")
    assert not bad, "\n".join(bad)


@pytest.mark.parametrize("name", ["ti", "secret"])
def test_titles_placeholders_tables_and_left_out_slides(rendered, name):
    prs, _, _, _ = rendered[name]
    titles = [sl.shapes.title.text if sl.shapes.title is not None else None for sl in prs.slides]
    assert None not in titles, "a slide without a title placeholder"
    for slide in prs.slides:
        for sh in slide.shapes:
            if sh.has_table:
                sizes = [r.font.size.pt for row in sh.table.rows for c in row.cells for p in c.text_frame.paragraphs
                         for r in p.runs if r.font.size is not None]
                assert min(sizes) >= TABLE_PT - 1, (slide.shapes.title.text, min(sizes))   # header 1 pt smaller
    cand = [k for k, t in enumerate(titles) if t.startswith("Candidature")]
    if cand:        # the one « écart non expliqué » row of the demo is on a slide, not below it
        text = " ".join(c.text for k in cand for sh in prs.slides[k].shapes if sh.has_table
                        for row in sh.table.rows for c in row.cells)
        assert "écart non expliqué" in text
    if name == "secret":    # a year without candidature nor foncier inventory: said on the title slide, no slide
        first = " ".join(sh.text_frame.text for sh in prs.slides[0].shapes if sh.has_text_frame)
        assert "Parties sans diapositive" in first and "Candidature" in first
        assert not [t for t in titles[1:] if t.startswith("Candidature")]


def test_filieres_evolution_in_panels(rendered, demo_warehouse):
    """Series of unequal size (BTP in hundreds, PPAM in units) on one axis flatten the small ones: one native
    line chart per filière, as the page draws panels (charts.line_panels)."""
    from indicators.export import slides

    prs, _, _, _ = rendered["ti"]
    title = slides.build(get_warehouse(demo_warehouse).snapshot(), Selection(), keys=["filieres_evolution"])[0].titre
    slide = next(sl for sl in prs.slides if sl.shapes.title.text == title)
    charts = [sh.chart for sh in slide.shapes if sh.has_chart]
    assert len(charts) >= 3 and all(len(list(c.plots[0].series)) == 1 for c in charts)
