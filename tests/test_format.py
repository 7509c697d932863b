"""The one French formatter (indicators/format.py) and the grammar of labels read from the reference data."""
from __future__ import annotations

import ast
import csv

import pytest

from indicators import format as fmt
from indicators.content import french as fr
from tests.conftest import ROOT

S, M = fmt.NNBSP, fmt.MINUS


@pytest.mark.parametrize("got, expected", [
    # half up, as French statistics round (Python's round and "%.1f" give 2,1 for 2,15)
    (fmt.euros(2_150_000), f"2,2{S}M€"),
    (fmt.euros(2_150_000, sign=True), f"+2,2{S}M€"),
    (fmt.number(2.15, 1), "2,2"), (fmt.number(0.125, 2), "0,13"), (fmt.number(-2.5), f"{M}3"),
    (fmt.percent(0.0625, 2), f"6,25{S}%"), (fmt.percent(0.00125, 2), f"0,13{S}%"),
    # one rule for M€ and Md€ everywhere (the two old formatters said « 13 M€ » and « 12 500 M€ »)
    (fmt.euros(13.46e6), f"13,5{S}M€"), (fmt.euros(12.5e9), f"12,5{S}Md€"), (fmt.euros(4772e6), f"4{S}772{S}M€"),
    (fmt.euros(850e3), f"850{S}k€"), (fmt.euros(-23.5e6, sign=True), f"{M}23,5{S}M€"),
    (fmt.value(13.46e6, "€"), f"13,5{S}M€"), (fmt.value(0.191, "part"), f"19,1{S}%"), (fmt.value(None, "€"), "–"),
    (fmt.value(5, "€", "secret"), "s"), (fmt.value(7.44, "ha"), f"7,4{S}ha"),
    # signs: U+2212, no « −0 », signed changes
    (fmt.number(-0.04, 1), "0,0"), (fmt.number(-1234.5, 1), f"{M}1{S}234,5"), (fmt.growth(0.12), f"+12{S}%"),
    (fmt.growth(-0.021, 1), f"{M}2,1{S}%"), (fmt.percent(-0.0004, 1, sign=True), f"0,0{S}%"),
    (fmt.points(0.021), "2,1 points"), (fmt.points(0.005), "0,5 point"),
    (fmt.ordinal(1), "1ᵉʳ"), (fmt.ordinal(1, "f"), "1ʳᵉ"), (fmt.ordinal(3), "3ᵉ"),
    (fmt.count(1, "année"), "1 année"), (fmt.count(14866, "établissement"), f"14{S}866 établissements"),
    (fmt.typeset("Industrie : sections B à E ; 5 %"), f"Industrie{S}: sections B à E{S}; 5{S}%"),
    # axes
    (fmt.tick(0.05, "part", 0.05), f"5{S}%"), (fmt.tick(1500, "eur", 500, 1500), f"1,5{S}Md€"),
    (fmt.tick(-0.1, "evolution", 0.05), f"{M}10{S}%"),
])
def test_french_numbers(got, expected):
    assert got == expected


def test_the_rounding_of_a_table_is_the_rounding_of_its_text():
    from indicators.content import rounded, shown
    assert rounded(2_150_000, "eur") == 2.2 and shown(rounded(2_150_000, "eur"), "eur") == f"2,2{S}M€"
    assert rounded(0.0625, "part") == 0.063


def test_office_formats_put_a_narrow_space_before_units_and_percent():
    for kind, code in {**fmt.OFFICE_FORMATS, **fmt.OFFICE_AXIS_FORMATS}.items():
        if kind != "count":
            assert f'"{S}' in code and '" ' not in code, (kind, code)
            assert code.count("%") == code.count(f'{S}"%'), (kind, code)   # « 6,2 % », never « 6,2% »


def test_no_other_number_formatter_in_the_read_side():
    """Only indicators/format.py defines number, euros, percent...: no module keeps a formatter of its own."""
    names = {"number", "euros", "percent", "points", "growth", "signed", "ordinal", "value", "typeset", "round_half_up"}
    for path in [*(ROOT / "indicators").rglob("*.py"), *(ROOT / "pages").rglob("*.py")]:
        if path.name == "format.py" and path.parent.name == "indicators":
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        defined = {n.name for n in tree.body if isinstance(n, ast.FunctionDef)}
        assert not defined & names, (path, defined & names)
    assert not hasattr(fr, "LEXICON") and not hasattr(fr, "euros") and not hasattr(fr, "number")


def _grammar_rows():
    for name, label in fr.GRAMMAR_FILES:
        with open(ROOT / "data" / "reference" / name, encoding="utf-8", newline="") as f:
            yield from ((label, r) for r in csv.DictReader(f))


def test_every_sector_and_filiere_label_has_its_grammar_beside_it():
    rows = list(_grammar_rows())
    assert rows
    for label, r in rows:
        assert r["libelle_phrase"] and r["genre"] in ("m", "f") and r["nombre"] in ("singulier", "pluriel") \
            and r["elision"] in ("oui", "non"), (label, r)


@pytest.mark.parametrize("label, le, de, a", [
    ("Commerce", "le commerce", "du commerce", "au commerce"),
    ("Industrie", "l'industrie", "de l'industrie", "à l'industrie"),
    ("Transport et autres services", "les transports et autres services", "des transports et autres services",
     "aux transports et autres services"),
    ("Hébergement-restauration", "l'hébergement-restauration", "de l'hébergement-restauration",
     "à l'hébergement-restauration"),
    ("BTP", "le BTP", "du BTP", "au BTP"),
    ("Plantes à parfum, aromatiques et médicinales", "les plantes à parfum, aromatiques et médicinales",
     "des plantes à parfum, aromatiques et médicinales", "aux plantes à parfum, aromatiques et médicinales"),
])
def test_articles_come_from_the_reference_data(label, le, de, a):
    n = fr.noun(label)
    assert (n.le(), n.de(), n.a()) == (le, de, a)


def test_a_change_in_the_reference_data_changes_the_sentence(tmp_path, monkeypatch):
    """The grammar is read from the reference files, not from a lexicon in code."""
    for name, _ in fr.GRAMMAR_FILES:
        text = (ROOT / "data" / "reference" / name).read_text(encoding="utf-8")
        (tmp_path / name).write_text(text.replace("Commerce,commerce,m,singulier,non", "Commerce,commerces,m,pluriel,non"),
                                     encoding="utf-8")
    monkeypatch.setenv("TI_REFERENCE_DIR", str(tmp_path))
    assert fr.noun("Commerce").le() == "les commerces"
    monkeypatch.delenv("TI_REFERENCE_DIR")
    assert fr.noun("Commerce").le() == "le commerce"


def test_sectors_are_tied_only_when_their_amounts_read_the_same():
    """−2,3, −2,0 and −1,9 M€ read differently: no « (−2,3 M€ chacun, 8 % de la baisse chacun) »."""
    from indicators.content.chiffre_affaires import Part, growth_sentence
    parts = [Part("Transport et autres services", -2.3e6), Part("Construction", -2.0e6), Part("Commerce", -1.9e6),
             Part("Industrie", None, "secret"), Part("Hébergement-restauration", None, "secret")]
    text = growth_sentence("Guillestrois-Queyras", 2019, 2020, 325.1e6, 295.4e6, parts)
    assert "chacun" not in text, text
    # the secret sectors weigh most (−23,5 M€ of −29,7): said first, then the others with the chart's precision
    assert f"la baisse vient d'abord des secteurs en secret statistique (2 secteurs, {M}23,5{S}M€ ensemble" in text, text
    assert f"surtout du fait du recul des transports et autres services ({M}2,3{S}M€), puis de la construction ({M}2,0{S}M€)" in text, text
    tied = growth_sentence("X", 2019, 2020, 100e6, 90e6, [Part("Construction", -2.0e6), Part("Commerce", -2.0e6)])
    assert "chacun" in tied


def test_a_change_over_several_years_gives_its_annual_rate_too():
    """4 260 → 4 772 M€ between 2018 and 2022: +12,0 %, that is +2,9 % a year (compound), not read as a yearly rate."""
    from indicators.content.chiffre_affaires import Part, growth_sentence
    parts = [Part("Commerce", 512e6)]
    text = growth_sentence("X", 2018, 2022, 4260e6, 4772e6, parts)
    assert f"+12,0{S}%, soit +2,9{S}% par an en moyenne)" in text, text
    assert "par an" not in growth_sentence("X", 2021, 2022, 4260e6, 4772e6, parts)
