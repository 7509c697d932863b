"""Plan d'actions and Sources et méthodes through the content layer (indicators/content/plan.py, sources.py):
what élus read never names a command, an option or a settings file, never shows « nan » or « None », the plan's
producer is never a library, the binômes are the Territoire d'industrie's own EPCI, amounts round half up."""
from __future__ import annotations

import io
import re

import openpyxl
import pandas as pd
import pytest

from etl import load as loader
from etl import plan_store
from indicators import format as fmt, plan, suivi
from indicators.content import Selection, context, registry
from indicators.content import plan as plan_content, sources as sources_content
from test_plan_suivi import EDITOR, QUIET, row, snap as snapshot_of, wh  # noqa: F401  (wh: the plan-store fixture)

FORBIDDEN = re.compile(r"python -m|--par\b|--nom\b|\.toml|secrets\.toml|data/reference|\bnan\b|\bNone\b|\bNaT\b")


def _texts(f) -> list[str]:
    """Every text of a finding people read: title, sentence, source, notes, and the cells of its tables."""
    out = [f.titre, f.phrase, f.source, *f.notes]
    tables = [f.extra.get("display"), f.table if "indicateur" not in f.table else None,
              *[t for _, _, t in f.extra.get("sections", ())], *[t for _, t in f.extra.get("more", ())]]
    out += [h for h, _, _ in f.extra.get("sections", ())] + [line for _, line, _ in f.extra.get("sections", ())]
    for key in ("actions", "chiffres", "cibles", "vintages"):
        out += list(f.extra.get(key, []))
    for t in tables:
        if isinstance(t, pd.DataFrame) and len(t):
            out += [str(c) for c in t.columns] + [str(v) for v in t.index if t.index.name]
            out += [str(v) for col in t.columns for v in t[col] if isinstance(v, str)]
    return [x for x in out if x]


@pytest.mark.parametrize("sel", [Selection(), Selection(focus="200067452", annee=2020), Selection(annee=2021)])
def test_no_command_option_settings_file_nan_or_none_in_any_finding(snap, sel):
    """Every finding of every page of the registry (and the Sources page's reference blocks)."""
    ctx = context(snap, sel)
    found = [f for p in registry.PAGES if p.build for f in registry.build(ctx, p.key)]
    found += sources_content.reference(ctx)
    keys = {f.key for f in found}
    assert set(plan_content.KEYS) <= keys and {"sources", "titre"} <= keys
    bad = [(f.key, t) for f in found for t in _texts(f) if FORBIDDEN.search(t)]
    assert not bad, bad[:5]
    technical = [(f.key, t) for f in found for t in _texts(f) if t in ("Nom technique", "ok", "Statut ok")]
    assert not technical, technical[:5]


def test_plan_findings_on_the_demo(snap):
    ctx = context(snap, Selection())
    found = {f.key: f for f in registry.build(ctx, "plan_actions")}
    assert list(found) == plan_content.KEYS
    # N18, C15: the 8 member EPCI in the perimeter's order, the candidature's neighbour after them, flagged.
    b = found["plan_binomes"].extra["display"]
    members = [t.nom_court for t in ctx.per.members]
    assert list(b.index[:len(members)]) == members
    assert f"aucun des {len(members)} binômes" in found["plan_binomes"].titre
    assert (b.Remarque.iloc[len(members):] != "").all() and (b.Remarque.iloc[:len(members)] == "").all()
    # F15: an action without EPCI says so, never « nan »; F19: no bare « s » after « CA »
    detail = found["plan_action"]
    assert "nan" not in detail.phrase and "EPCI de l'action non renseigné" in detail.phrase
    shown = " ".join(found["plan_actions"].extra["display"]["Repères de la filière"])
    assert not re.search(r"CA s\b", shown) and "CA en secret" in shown
    # A16: a zero is a count the file gives (URSSAF counts every employer): said in words, never a bare 0
    assert not re.search(r"(?<!\d)0 (ét|sal)\.", shown)
    # F16: the count headers agree with « action » (feminine), as the key figure « Réalisées »
    totals = found["plan_totaux"].extra["display"]
    assert {"Réalisées", "Abandonnées", "À lancer", "En cours"} <= set(totals.columns)
    assert plan_content.STATUTS == list(suivi.STATUTS)       # the vocabulary of etl/base.py
    # The chart is drawn from the rows of the finding: one bar per axe and statut present
    t = found["plan_avancement"].table
    assert t.valeur.sum() == len(suivi.plan_actions(snap)) and found["plan_avancement"].spec.kind == "bar"


def test_plan_year_rule_of_the_foncier_marks(snap):
    """N17: in a year before the inventory, the axe 1 marks say so instead of giving the inventory's figures."""
    later = {f.key: f for f in registry.build(context(snap, Selection(annee=2021)), "plan_actions")}["plan_actions"]
    line = later.extra["sections"][0][1]
    assert "postérieur" in line and " ha " not in line.replace("\u202f", " ")
    latest = {f.key: f for f in registry.build(context(snap, Selection()), "plan_actions")}["plan_actions"]
    assert "ha" in latest.extra["sections"][0][1]


def test_title_slide_and_sources_say_dates_in_french(snap):
    ctx = context(snap, Selection())
    title = sources_content.title(ctx)
    assert any(v.endswith(", année 2023") for v in title.extra["vintages"]), title.extra["vintages"]
    assert not [v for v in title.extra["vintages"] if re.search(r"\d{4}-\d{2}", v) or "années 2023" in v]
    src = registry.build(ctx, "sources")[0]
    assert "Nom technique" not in src.table and not src.table["Millésime"].str.match(r"\d{4}-\d{2}").any()
    assert sources_content.vintage("2025-10-01") == "1er octobre 2025" and sources_content.years("2013-2018") == "années 2013 à 2018"


def test_amounts_round_half_up():
    """a-20: 1 500 000 + 400 000 + 250 000 € engaged is « 2,2 M€ », not « 2,1 M€ »."""
    assert fmt.euros(2_150_000) == "2,2\u202fM€" and fmt.euros(2_050_000) == "2,1\u202fM€"


def test_producer_is_the_organisation_never_openpyxl(wh, tmp_path):
    """a-19: an exported plan carries the organisation as its author; a workbook signed by a library gets the
    last editor of the plan's history (or the generic wording), never the library's name."""
    s = snapshot_of(wh)
    organisation = suivi.producer(s)
    assert organisation and "openpyxl" not in organisation.lower()
    data = plan.to_xlsx(suivi.plan_actions(s), suivi.binomes(s), organisation)
    assert openpyxl.load_workbook(io.BytesIO(data)).properties.creator == organisation
    # A workbook signed « openpyxl » (an older export), after an online edit by an editor.
    suivi.save(s, "1.1", row(wh, "1.1"), {"statut": "en cours"}, EDITOR)
    path = tmp_path / "plan.xlsx"
    path.write_bytes(plan.to_xlsx(suivi.plan_actions(snapshot_of(wh)), suivi.binomes(s), "openpyxl"))
    loader.load([path], wh, progress=QUIET)
    s = snapshot_of(wh)
    assert s.rows("SELECT producteur FROM sources WHERE kind = 'plan_actions'")[0][0] != "openpyxl"
    src = registry.build(context(s, Selection()), "sources")[0].table
    producers = " ".join(src.Producteur.astype(str))
    assert "openpyxl" not in producers.lower() and EDITOR in producers
    problems = " ".join(m for (m,) in s.rows("SELECT message FROM problemes"))
    assert "sans ligne de binôme" not in problems or "Cannes" not in problems      # N29: only the TI's EPCI


def test_since_last_committee_names_actions_by_number_and_title(wh):
    s = snapshot_of(wh)
    with suivi.store(s) as con:
        plan_store.create_edition(con, "Comité de mars", "2027-03-12", "Claire", s.version, registry.deck_figures(s))
    suivi.save(s, "1.1", row(wh, "1.1"), {"statut": "en cours", "montant_engage": "1 500 000",
                                           "montant_estime": "2 000 000"}, EDITOR)
    suivi.save(s, "2.1", row(wh, "2.1"), {"montant_engage": "650 000"}, EDITOR)
    f = {f.key: f for f in registry.build(context(snapshot_of(wh), Selection()), "plan_actions")}["depuis_comite"]
    assert f.titre == "Depuis le comité du 12/03/2027"
    assert "2,2\u202fM€ engagés de plus" in f.phrase
    title = suivi.plan_actions(s).set_index("numero").intitule["1.1"]
    lines = f.extra["actions"]
    assert any(line.startswith(f"1.1 {title} — statut : à lancer → en cours") for line in lines), lines
    assert not [line for line in lines if "(€)" in line and "€" in line.split(":", 1)[1]]     # the unit once
    assert "Versions des données" in f.definition and not re.search(r"[0-9a-f]{8}", f.source + f.phrase)
