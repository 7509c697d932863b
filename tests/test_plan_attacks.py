"""What a hostile workbook, a stale export or a password guesser can no longer do to the plan d'actions:
user text shown as text (no link, no image) on the page and kept literal in the slides and the annex, text
cells exported as text (the round trip proposes nothing), an export reloaded after an online edit shows a
conflict instead of reverting it, sign-in throttled per account and per address."""
from __future__ import annotations

import io
import re
from pathlib import Path

import openpyxl

from etl import load as loader
from etl import plan_store
from indicators import markup, plan, suivi
from indicators.content import registry
from test_plan_actions import _page
from test_plan_suivi import snap, wh  # noqa: F401  (wh: the plan-store fixture, shared)

ROOT = Path(__file__).resolve().parents[1]
QUIET = lambda message: None  # noqa: E731
LINK = "[Portail officiel](https://evil.example)"
IMAGE = "![x](https://evil.example/p.png)"


def exported(path: Path, dest: Path) -> Path:
    s = snap(path)
    dest.write_bytes(plan.to_xlsx(suivi.plan_actions(s), suivi.binomes(s)))
    return dest


def set_cells(path: Path, numero: str, values: dict, creator: str | None = None) -> Path:
    wb = openpyxl.load_workbook(path)
    ws = wb["Actions"]
    header = [c.value for c in ws[1]]
    r = next(i for i in range(2, ws.max_row + 1) if ws.cell(i, 1).value == numero)
    for name, v in values.items():
        cell = ws.cell(r, header.index(name) + 1)
        cell.value = v
        if isinstance(v, str):
            cell.data_type = "s"    # text typed in a cell (never a formula)
    if creator is not None:
        wb.properties.creator = creator
    wb.save(path)
    return path


# --- 1. user text is text ------------------------------------------------------------------------------

UNESCAPED = re.compile(r"(?<!\\)(\]\(|!\[|<img|(?<![\\])://|\bwww\.)")


def test_escape_leaves_no_markdown_and_reads_the_same():
    for text in (LINK, IMAGE, "<img src=x onerror=alert(1)>", "**gras** `code` ~barré~ $x$ | a", "voir www.exemple.fr",
                 "- une liste", "12. item", "contact@exemple.fr", "Axe 1. Foncier et attractivité", "a\\b"):
        shown = markup.escape(text)
        assert not UNESCAPED.search(shown), shown
        assert not re.search(r"(?<!\\)[\[\]()<>*`~$|!@]", shown), shown
        assert re.sub(r"\\(.)", r"\1", shown) == text
    assert markup.escape("Axe 1. Foncier et attractivité") == "Axe 1. Foncier et attractivité"
    assert markup.escape("Guillestrois-Queyras : 85 ét.") == "Guillestrois-Queyras : 85 ét."


def _bodies(at) -> list[str]:
    """Every text the page hands to a Markdown renderer: markdown, captions, alerts, table cells and labels."""
    out = [e.value for kind in ("markdown", "caption", "info", "warning", "error", "success", "subheader")
           for e in getattr(at, kind)]
    out += [e.label for e in at.expander]
    for t in at.table:
        df = t.value
        out += [str(v) for v in df.index] + [str(v) for col in df.columns for v in df[col]]
    return out


def test_a_hostile_workbook_shows_no_link_and_no_image(wh, tmp_path, monkeypatch):
    path = set_cells(exported(wh, tmp_path / "plan.xlsx"), "1.1",
                     {"Intitulé de l'action": LINK, "Porteur(s)": IMAGE, "Notes": "<img src=https://evil.example/q.png>"},
                     creator=LINK)
    set_cells(path, "2.1", {"Intitulé de l'action": IMAGE, "Filière(s)": None})
    loader.load([path], wh, progress=QUIET)
    at = _page(wh, monkeypatch)
    bodies = _bodies(at)
    hits = [b for b in bodies if "evil" in b]
    assert len(hits) >= 3, "the hostile text is not on the page any more"
    bad = [b for b in bodies if UNESCAPED.search(b)]
    assert not bad, bad
    assert markup.escape(LINK) in bodies and markup.escape(IMAGE) in bodies
    # The action picker (plain text, no Markdown) shows the words as typed.
    at.selectbox(key="plan_action").set_value("1.1").run()
    assert not at.exception, [e.value for e in at.exception]
    assert any(markup.escape(LINK) in h.value for h in at.subheader)     # the action shown in detail, by its title
    assert not [b for b in _bodies(at) if UNESCAPED.search(b)]


def test_slides_and_annex_keep_the_literal_text(wh, tmp_path):
    from pptx import Presentation

    from indicators.export.annex import build_annex
    from indicators.export.deck import build_deck

    s = snap(wh)
    with suivi.store(s) as con:
        plan_store.create_edition(con, "Comité de mars", "2027-03-12", "Claire", s.version, registry.deck_figures(s))
    path = set_cells(exported(wh, tmp_path / "plan.xlsx"), "1.1", {"Intitulé de l'action": LINK, "Statut": "en cours"},
                     creator=IMAGE)
    loader.load([path], wh, progress=QUIET)
    deck = Presentation(io.BytesIO(build_deck(snap(wh), keys=["titre", "depuis_comite"])))
    text = " ".join(sh.text_frame.text for sl in deck.slides for sh in sl.shapes if sh.has_text_frame)
    notes = " ".join(sl.notes_slide.notes_text_frame.text for sl in deck.slides if sl.has_notes_slide)
    assert LINK in text + notes and "\\[" not in text + notes
    wb = openpyxl.load_workbook(io.BytesIO(build_annex(snap(wh), keys=["sources"])))
    cells = [c.value for ws in wb.worksheets for row in ws.iter_rows() for c in row if isinstance(c.value, str)]
    assert IMAGE in cells and not any("\\" in c for c in cells)


# --- 2. text cells are text -----------------------------------------------------------------------------

FORMULA_LIKE = {"Porteur(s)": "+12 %", "Notes": "=HYPERLINK(\"https://evil.example\",\"clic\")",
                "Financements": "-5 k€ ; @Région", "Indicateur de suivi": "=1+1", "Binôme élu-industriel": "@SUM(A1)"}


def test_plan_workbook_round_trip_with_formula_like_text_proposes_nothing(wh, tmp_path):
    path = set_cells(exported(wh, tmp_path / "plan.xlsx"), "1.1", FORMULA_LIKE)
    loader.load([path], wh, progress=QUIET)
    a = suivi.plan_actions(snap(wh))
    assert a[a.numero == "1.1"].iloc[0].porteurs == "+12 %"
    again = exported(wh, tmp_path / "again.xlsx")
    ws = openpyxl.load_workbook(again)["Actions"]
    header = [c.value for c in ws[1]]
    r = next(i for i in range(2, ws.max_row + 1) if ws.cell(i, 1).value == "1.1")
    for name, text in FORMULA_LIKE.items():
        cell = ws.cell(r, header.index(name) + 1)
        assert (cell.value, cell.data_type) == (text, "s"), name
    assert all(c.data_type != "f" for row in ws.iter_rows() for c in row)
    [report] = loader.check([again], warehouse=wh)
    assert report.statut == "vérifié", report.problems
    assert report.changes == [], [plan_store.describe(c) for c in report.changes]
    # The CSV export keeps its formula neutralisation, and reads back as typed too.
    csv = plan.to_csv(suivi.plan_actions(snap(wh))).decode("utf-8-sig")
    assert "'=HYPERLINK" in csv and "'+12 %" in csv and ";=" not in csv and ";+" not in csv
    (tmp_path / "plan.csv").write_text(csv, encoding="utf-8-sig")
    [report] = loader.check([tmp_path / "plan.csv"], warehouse=wh)
    assert report.changes == [], [plan_store.describe(c) for c in report.changes]


# --- 3. a stale export does not revert online edits ------------------------------------------------------

def _action(path: Path, numero: str):
    a = suivi.plan_actions(snap(path))
    return a[a.numero == numero].iloc[0]


def test_an_export_reloaded_after_an_online_edit_shows_a_conflict_and_reverts_nothing(wh, tmp_path, use_warehouse):
    from tests.test_importer import HASH, open_importer, sign_in, upload

    stale = exported(wh, tmp_path / "plan.xlsx")               # taken before the online edit
    ws = openpyxl.load_workbook(stale)["Actions"]
    assert ws.cell(1, ws.max_column).value == plan.REVISION and ws.column_dimensions[
        openpyxl.utils.get_column_letter(ws.max_column)].hidden
    s = snap(wh)
    base = {"statut": "à lancer", "notes": None}
    suivi.save(s, "1.1", base, {"statut": "en cours", "notes": "Note en ligne"}, "Jeanne")
    set_cells(stale, "1.1", {"Notes": "Note du classeur", "Porteur(s)": "Nouveau porteur"})
    set_cells(stale, "2.1", {"Statut": "réalisé"})
    [report] = loader.check([stale], warehouse=wh)
    lines = [plan_store.describe(c) for c in report.changes]
    assert [(c.cle, c.champ, c.conflit) for c in report.changes] == [
        ("1.1", "porteurs", False), ("2.1", "statut", False), ("1.1", "notes", True)], lines
    assert lines[-1] == ("action 1.1, Note d'avancement : conflit, non appliqué (modifié en ligne depuis l'export du "
                         "classeur) — version en ligne « Note en ligne », version du classeur « Note du classeur »")
    # The import page shows the conflict with both versions before anything is applied.
    use_warehouse(wh)
    at = upload(sign_in(open_importer({"admin": {"password_hash": HASH}})), "plan.xlsx", stale.read_bytes())
    assert not at.exception, [e.value for e in at.exception]
    assert any("1 conflit(s)" in w.value and "pas appliqués" in w.value for w in at.warning)
    [both] = [t.value for t in at.table if "Version du classeur" in t.value.columns]
    assert list(both.reset_index().iloc[0]) == ["1.1", "Note d'avancement", "Note en ligne", "Note du classeur"]
    [diff] = [d.value for d in at.dataframe if "Changement" in d.value.columns]
    assert len(diff) == 2 and not any("conflit" in c for c in diff.Changement)
    # Loaded: the fields not edited since the export are applied, the online edits are kept.
    loader.load([stale], wh, progress=QUIET, par="Paul Import")
    one, two = _action(wh, "1.1"), _action(wh, "2.1")
    assert (one.statut, one.notes, one.porteurs, two.statut) == ("en cours", "Note en ligne", "Nouveau porteur", "réalisé")
    h = suivi.history(snap(wh), "1.1")
    assert list(h[h.Origine == "import"].Champ) == ["Porteur(s)"]
    # An export taken now re-imports as nothing at all.
    [report] = loader.check([exported(wh, tmp_path / "now.xlsx")], warehouse=wh)
    assert report.changes == [], [plan_store.describe(c) for c in report.changes]


def test_a_workbook_without_revision_is_applied_as_before(wh, tmp_path):
    """A workbook made by hand (no « Révision du suivi » column) has no base: its values are applied."""
    path = exported(wh, tmp_path / "plan.xlsx")
    wb = openpyxl.load_workbook(path)
    wb["Actions"].delete_cols(wb["Actions"].max_column)
    wb.save(path)
    suivi.save(snap(wh), "1.1", {"notes": None}, {"notes": "Note en ligne"}, "Jeanne")
    [report] = loader.check([path], warehouse=wh)
    assert [(c.cle, c.champ, c.conflit, c.apres) for c in report.changes] == [("1.1", "notes", False, None)]


# --- 4. sign-in throttled per address and per account -----------------------------------------------------

class Clock:
    def __init__(self):
        self.t = 1000.0

    def __call__(self) -> float:
        return self.t


def test_throttle_slows_one_address_without_locking_out_the_others():
    from indicators import auth

    clock = Clock()
    th = auth.Throttle(clock)
    for _ in range(auth.ADDRESS_FREE_FAILURES):
        assert th.wait(["admin"], "203.0.113.9") == 0
        th.failed(["admin", "editeur"], "203.0.113.9")
    assert th.wait(["admin"], "203.0.113.9") > 0                 # the guesser waits…
    assert th.wait(["admin", "editeur"], "198.51.100.7") == 0     # …a colleague elsewhere does not
    for _ in range(50):                                           # the guesser keeps going, as fast as allowed
        clock.t += th.wait(["admin"], "203.0.113.9") + 0.01
        th.failed(["admin", "editeur"], "203.0.113.9")
    assert th.wait(["admin"], "203.0.113.9") >= 30
    assert th.wait(["admin", "editeur"], "198.51.100.7") == 0     # one address never locks the account
    th.succeeded("198.51.100.7")
    clock.t += auth.WINDOW_S + 1
    assert th.wait(["admin"], "203.0.113.9") == 0                 # forgotten after the window


def test_throttle_stops_one_account_being_guessed_from_many_addresses():
    from indicators import auth

    clock = Clock()
    th = auth.Throttle(clock)
    n_addresses = auth.ACCOUNT_FREE_FAILURES // auth.ADDRESS_SHARE + 1
    for i in range(n_addresses):
        for _ in range(auth.ADDRESS_SHARE):
            th.failed(["admin"], f"192.0.2.{i}")
    assert th.wait(["admin"], "192.0.2.200") > 0                  # a fresh address waits on that account
    assert th.wait(["editeur"], "192.0.2.200") == 0               # another account does not
    tries = 0
    for i in range(200):                                          # 200 sessions, each from a new address
        if th.wait(["admin"], f"10.0.{i}.1") == 0:
            tries += 1
            th.failed(["admin"], f"10.0.{i}.1")
        clock.t += 0.5
    assert tries <= 8, tries                                      # 100 s: a handful of guesses, not 200


def test_sign_in_refuses_a_guesser_and_lets_a_colleague_in(warehouse, use_warehouse, monkeypatch):
    from indicators import auth
    from pages.views import staff
    from tests.test_importer import HASH, open_importer, sign_in

    use_warehouse(warehouse)
    auth.THROTTLE.reset()
    where = {"ip": "203.0.113.9"}
    monkeypatch.setattr(staff, "client_address", lambda: where["ip"])
    try:
        guesser = open_importer({"admin": {"password_hash": HASH}})
        for _ in range(auth.ADDRESS_FREE_FAILURES):
            sign_in(guesser, password="pas le bon mot de passe")
            assert any("Mot de passe incorrect" in e.value for e in guesser.error)
        sign_in(guesser)                                          # even the right password waits now
        assert any("Trop de tentatives" in e.value for e in guesser.error) and not guesser.file_uploader
        where["ip"] = "198.51.100.7"
        colleague = sign_in(open_importer({"admin": {"password_hash": HASH}}))
        assert colleague.file_uploader and not colleague.error
    finally:
        auth.THROTTLE.reset()
