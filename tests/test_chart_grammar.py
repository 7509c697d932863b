"""The screen's chart grammar on hand-made findings: panels, diverging contributions, « s » and partial."""
from __future__ import annotations

import pandas as pd

from indicators import chart_kit, charts
from indicators.content import ChartSpec, Finding


def _rows(items, kind="count", usage="graphique"):
    return pd.DataFrame([dict(territoire=t, code=t, niveau="epci", categorie=c, annee=a, annee_base=pd.NA,
                              indicateur="x", valeur=v, kind=kind, statut=s, note="", source="", demo=False,
                              usage=usage, role="autre") for t, c, a, v, s in items])


def test_filieres_by_epci_are_small_multiples_with_secret_marks_and_a_legend():
    t = _rows([("A", "BTP", 2024, 822.0, "ok"), ("B", "BTP", 2024, 300.0, "ok"),
               ("A", "PPAM", 2024, 7.0, "ok"), ("B", "PPAM", 2024, None, "secret"),
               ("A", "Aéro", 2024, 9.0, "partiel"), ("B", "Aéro", 2024, 2.0, "ok")])
    f = Finding("filieres", "t", table=t, spec=ChartSpec("bar_stacked", cat="territoire", series="categorie"))
    fig = charts.figure(f)
    bars = [tr for tr in fig.data if tr.type == "bar" and tr.x and tr.x[0] is not None]
    assert len(bars) == 3 and len({tr.xaxis for tr in bars}) == 3          # one panel, one axis per filière
    ppam = next(tr for tr in bars if tr.name == "PPAM")
    assert fig.layout[ppam.xaxis.replace("x", "xaxis")].range[1] < 20      # PPAM read on its own scale
    s_marks = [tr for tr in fig.data if tr.type == "scatter" and tr.mode == "text"]
    assert s_marks and list(s_marks[0].text) == ["s"] and list(s_marks[0].y) == ["B"]
    names = {tr.name for tr in fig.data if tr.showlegend}
    assert {chart_kit.SECRET_LEGEND, chart_kit.PARTIAL_LEGEND} <= names


def test_contributions_are_sorted_diverging_bars_around_zero():
    t = pd.concat([_rows([("T", "Industrie", 2022, 6.0, "ok"), ("T", "Commerce", 2022, 191.0, "ok"),
                          ("T", "BTP", 2022, -13.0, "ok")], kind="eur"),
                   _rows([("T", "Total 2021", 2021, 4500.0, "ok"), ("T", "Total 2022", 2022, 4684.0, "ok")],
                         kind="eur", usage="phrase")], ignore_index=True)
    f = Finding("ca_croissance", "t", table=t, spec=ChartSpec("waterfall", by_point=True))
    fig = charts.figure(f)
    bar = fig.data[0]
    assert bar.type == "bar" and list(bar.y) == ["Commerce", "Industrie", "BTP"]
    assert fig.layout.xaxis.range[0] < 0 < fig.layout.xaxis.range[1] < 400     # not a 0–5 Md€ axis
    assert list(bar.text) == ["+191\u202fM€", "+6\u202fM€", "\u221213\u202fM€"]


def test_unequal_evolutions_get_one_panel_each_and_a_secret_year_is_kept():
    t = _rows([("T", "BTP", a, 800.0 + a, "ok") for a in (2022, 2023)]
              + [("T", "PPAM", 2022, 7.0, "ok"), ("T", "PPAM", 2023, None, "secret")])
    f = Finding("filieres_evolution", "t", table=t, spec=ChartSpec("line", cat="annee", series="categorie"))
    fig = charts.figure(f)
    lines = [tr for tr in fig.data if tr.type == "scatter" and tr.name in ("BTP", "PPAM")]
    assert len({tr.yaxis for tr in lines}) == 2
    assert any(tr.text and "s" in tr.text for tr in fig.data if tr.yaxis == lines[1].yaxis and tr is not lines[1])
