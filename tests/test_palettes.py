"""Colours and formats of the charts: palettes told apart under colour-vision deficiencies, French ticks."""
from __future__ import annotations

from indicators import chart_kit, palettes
from indicators.content import FILIERE_COLOURS, SECTOR_COLOURS


def test_each_palette_is_told_apart_with_deuteranopia_and_protanopia():
    for name, colours in palettes.PALETTES.items():
        for vision in palettes.VISIONS:
            d, a, b = palettes.closest_pair(colours, vision)
            assert d >= palettes.MIN_DISTANCE, f"{name}, vision {vision} : {a} et {b} à ΔE {d:.1f}"


def test_the_simulation_merges_red_and_green():
    # the simulation itself: a red and a green of the same lightness look alike to a deuteranope
    assert palettes.distance("#CC3333", "#669933", "normale") > 80
    assert palettes.distance("#CC3333", "#669933", "deuteranopie") < palettes.MIN_DISTANCE


def test_no_hue_means_two_things():
    kinds = {"territoires": palettes.TERRITORIES + [palettes.FOCUS], "secteurs": SECTOR_COLOURS.values(),
             "filieres": FILIERE_COLOURS.values(), "statuts": palettes.PLAN_STATUSES.values(),
             "signes": palettes.SIGNS.values()}
    seen = {}
    for kind, colours in kinds.items():
        for c in colours:
            c = c.upper()
            assert seen.setdefault(c, kind) == kind, f"{c} sert à la fois pour {seen[c]} et {kind}"
    # and no two kinds are near-identical either (outside greys, which mean « other »)
    flat = [(k, c) for k, cs in kinds.items() for c in cs]
    for i, (k1, c1) in enumerate(flat):
        for k2, c2 in flat[i + 1:]:
            if k1 != k2:
                assert palettes.distance(c1, c2) > 8, (k1, c1, k2, c2)


def test_french_ticks():
    nb = "\u202f"
    assert chart_kit.french_axis(0, 1700, "eur")["ticktext"] == ["0", f"0,5{nb}Md€", f"1,0{nb}Md€", f"1,5{nb}Md€"]
    assert chart_kit.french_axis(0, 480, "eur")["ticktext"][-1] == f"400{nb}M€"
    assert chart_kit.french_axis(0, 0.082, "part")["ticktext"] == ["0", f"2,5{nb}%", f"5,0{nb}%", f"7,5{nb}%"]
    ev = chart_kit.french_axis(-0.03, 0.16, "evolution")["ticktext"]
    assert ev[0] == f"\u22125{nb}%" and f"+15{nb}%" in ev
    assert chart_kit.french_axis(0, 42000, "count")["ticktext"] == ["0", f"20{nb}000", f"40{nb}000"]
