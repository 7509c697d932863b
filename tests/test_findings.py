"""The content layer: true findings (table-driven), French typography, honest years, one text for page and deck."""
from __future__ import annotations

import re

import pytest

from indicators import format as fmt
from indicators.content import Selection, SelectionError, context, french as fr, registry
from indicators.content.chiffre_affaires import Part, growth_sentence, level_sentence
from indicators.content.chiffres_cles import gap_reason
from indicators.content.filieres import lead_title
from indicators.content.industrie import Item, rank_sentence

S, M = fmt.NNBSP, fmt.MINUS
A, B, C = "Hébergement-restauration", "Commerce", "Transport et autres services"


# --- growth attributed by contribution, in euros first --------------------------------------------

GROWTH = [
    # (case, start, end, parts, total statut, expected fragments, forbidden fragments)
    ("hausse", 4261e6, 4772e6, [Part(A, 191e6), Part(B, 149e6), Part(C, 125e6), Part("Industrie", 6e6),
                                 Part("Construction", 40e6)], "ok",
     [f"(+511{S}M€, +12,0{S}%)", f"d'abord grâce à l'hébergement-restauration (+191{S}M€, 37{S}% de la hausse)",
      f"puis au commerce (+149{S}M€)"], ["porté par", "secret"]),
    ("baisse", 325e6, 295e6, [Part(A, -13.46e6), Part("Construction", -2.05e6), Part(B, -1.9e6),
                               Part("Industrie", None, "secret"), Part(C, None, "secret")], "ok",
     [f"({M}30{S}M€, {M}9,2{S}%)", "parmi les secteurs diffusables, surtout du fait du recul de l'hébergement-restauration",
      f"{M}13,5{S}M€", "de la baisse", f"puis des secteurs en secret statistique ({M}12,6{S}M€ ensemble)"],
     ["d'abord grâce", "porté"]),
    ("égalité", 100e6, 140e6, [Part(B, 20e6), Part("Industrie", 20e6)], "ok",
     ["d'abord grâce au commerce et à l'industrie", "chacun"], ["puis"]),
    ("contre-courant", 100e6, 130e6, [Part(B, 40e6), Part("Construction", -10e6)], "ok",
     ["d'abord grâce au commerce", f"malgré le recul de la construction ({M}10{S}M€)"], []),
    ("partiel", 100e6, 120e6, [Part(B, 15e6, "partiel"), Part("Industrie", 5e6)], "partiel",
     ["valeur partielle", "parmi les secteurs diffusables", f"+15{S}M€, partiel"], []),
    ("secret total", 100e6, None, [Part(B, 15e6)], "secret", ["non diffusable"], ["grâce"]),
    ("stable", 100e6, 100.2e6, [Part(B, 0.2e6)], "ok", ["stable"], ["grâce", "recul"]),
]


@pytest.mark.parametrize("case,start,end,parts,statut,expected,forbidden", GROWTH, ids=[g[0] for g in GROWTH])
def test_growth_sentence(case, start, end, parts, statut, expected, forbidden):
    text = growth_sentence("X", 2021, 2022, start, end, parts, statut)
    for e in expected:
        assert e in text, (case, text)
    for f in forbidden:
        assert f not in text, (case, text)
    assert "-" not in re.sub(r"[A-Za-zé]-[a-zé]", "", text), "hyphen-minus used as a minus sign"


LEVELS = [
    # secret sectors together weigh more than the first published one (one of them could be larger): no rank
    ("secret", 295e6, [Part(B, 81e6), Part("Construction", 39e6), Part(A, 22e6), Part("Industrie", None, "secret"),
                       Part(C, None, "secret")],
     [f"2 secteurs en secret statistique pèsent 153{S}M€", f"2 secteurs en secret (« s ») : ensemble 153{S}M€"],
     ["en tête", "premier"]),
    # the secret sum is unknown (partial total): the first diffusable sector, named as such
    ("secret inconnu", None, [Part(B, 81e6), Part("Industrie", None, "secret")], ["premier secteur diffusable"], []),
    # the secret sum is smaller than the leader: the rank is sure even with a secret cell
    ("secret petit", 300e6, [Part(B, 200e6), Part("Industrie", 90e6), Part(A, None, "secret")],
     ["le commerce, premier secteur du chiffre"], ["diffusable"]),
    ("complet", 300e6, [Part(B, 200e6), Part("Industrie", 100e6)], ["le commerce, premier secteur du chiffre"],
     ["diffusable", "secret"]),
    ("partiel", 300e6, [Part(B, 200e6, "partiel"), Part("Industrie", 100e6)], ["premier secteur diffusable", "(partiel)"], []),
    ("pluriel", 300e6, [Part(C, 200e6), Part(B, 100e6)], ["les transports et autres services, premier secteur"], []),
    ("féminin", 300e6, [Part("Industrie", 200e6), Part(B, 100e6)], ["l'industrie, premier secteur"], ["première"]),
]


@pytest.mark.parametrize("case,total,parts,expected,forbidden", LEVELS, ids=[c[0] for c in LEVELS])
def test_level_sentence(case, total, parts, expected, forbidden):
    titre, phrase = level_sentence("X", 2020, total, parts)
    text = titre + " " + phrase
    assert "2020" in titre
    for e in expected:
        assert e in text, (case, text)
    for f in forbidden:
        assert f not in text, (case, text)


# --- ranks and superlatives ----------------------------------------------------------------------

@pytest.mark.parametrize("name", sorted(fr.WORDINGS))
def test_each_indicator_superlative_agrees(name):
    w = fr.wording(name)
    items = [Item("A", 3.0), Item("B", 2.0), Item("C", 1.0)]
    top = rank_sentence(items, None, w, str)
    assert top.startswith(f"Parmi les 3 EPCI, A a {w.most} (3.0), C {w.short_least} (1.0)"), top
    assert rank_sentence(items, "A", w, str) == f"A a {w.most} des 3 EPCI (3.0)."
    assert rank_sentence(items, "C", w, str) == f"C a {w.least} des 3 EPCI (1.0)."
    assert rank_sentence(items, "B", w, str) == "B : 2ᵉ des 3 EPCI."
    # agreement: the feminine nouns take « la plus », the masculine « le plus », the plural « les plus »
    n = w.noun
    art = "les" if n.plural else ("la" if n.gender == "f" else "le")
    assert w.most.startswith(art + " ") or w.most.startswith("l'") or w.most.startswith("le plus grand"), w.most


def test_rank_with_secret_or_partial_is_not_claimed():
    w = fr.wording("part_industrie_effectifs")
    items = [Item("A", 0.2), Item("B", None, "secret"), Item("C", 0.1, "partiel"), Item("D", 0.05)]
    text = rank_sentence(items, None, w, fmt.percent)
    assert "diffusables sur 4" in text and "2 valeurs en secret ou partielles" in text
    assert "Rang non établi" in rank_sentence(items, "A", w, fmt.percent)
    assert "valeur partielle" in rank_sentence(items, "C", w, fmt.percent)
    ties = rank_sentence([Item("A", 1.0), Item("B", 1.0), Item("C", 0.5)], None, w, str)
    assert "A et B ont" in ties


def test_first_filiere_is_diffusable_when_a_value_is_secret():
    parts = [("Agroalimentaire", 105, "ok"), ("BTP", None, "secret"), ("Aéronautique", 9, "ok")]
    assert "l'agroalimentaire, première filière diffusable" in lead_title("X", 2024, parts, "établissements", str)
    parts = [("BTP", 822, "ok"), ("Aéronautique", 9, "ok")]
    assert lead_title("X", 2024, parts, "établissements", str) == "X : le BTP, première filière en établissements en 2024 (822)"


# --- French toolkit ---------------------------------------------------------------------------------

@pytest.mark.parametrize("got,expected", [
    (fr.noun("Commerce").le(), "le commerce"), (fr.noun("Industrie").le(), "l'industrie"),
    (fr.noun("Transport et autres services").le(), "les transports et autres services"),
    (fr.noun("Construction").de(), "de la construction"), (fr.noun("Hébergement-restauration").a(), "à l'hébergement-restauration"),
    (fr.noun("BTP").le(), "le BTP"), (fr.noun("BTP").de(), "du BTP"), (fr.noun("Énergies renouvelables").a(), "aux énergies renouvelables"),
    (fr.lower_first("TPE et PME"), "TPE et PME"), (fmt.ordinal(1), "1ᵉʳ"), (fmt.ordinal(1, "f"), "1ʳᵉ"), (fmt.ordinal(2), "2ᵉ"),
    (fmt.number(-3), f"{M}3"), (fmt.number(14866), f"14{S}866"), (fmt.number(-0.0001, 1), "0,0"),
    (fmt.percent(0.123, 1, sign=True), f"+12,3{S}%"), (fmt.percent(-0.021, 1, sign=True), f"{M}2,1{S}%"),
    (fmt.euros(191.4e6, sign=True), f"+191{S}M€"), (fmt.euros(-13.46e6, sign=True), f"{M}13,5{S}M€"),
    (fmt.euros(4772e6), f"4{S}772{S}M€"), (fmt.euros(12.5e9), f"12,5{S}Md€"), (fmt.euros(850e3), f"850{S}k€"),
    (fmt.count(1, "année"), "1 année"), (fmt.count(2, "année"), "2 années"), (fmt.count(0, "valeur"), "0 valeur"),
    (fmt.change(8, 9, noun_singular="établissement"), "8 → 9 établissements"),
    (fmt.change(19, 25, noun_singular="établissement"), "19 → 25 établissements"),
    (fmt.change(100, 112, noun_singular="établissement"), f"+12{S}%"),
    (fmt.years_text([2022, 2021]), "2021 et 2022"), (fmt.years_text([2018, 2020, 2019]), "2018 à 2020"),
    (fmt.typeset("Source : a ; b ? c ! 12 % à 12:30, https://x"), f"Source{S}: a{S}; b{S}? c{S}! 12{S}% à 12:30, https://x"),
])
def test_french(got, expected):
    assert got == expected


def test_candidature_gap_needs_a_true_reason():
    assert gap_reason(0.10, 0.1278, "part", "10 %", "", "") == "écart non expliqué"
    assert gap_reason(0.12, 0.1201, "evolution", "+12 %", "source", "x").startswith("identique")
    assert gap_reason(5549, 5689, "km2", "5 549 km²", "definition", "Cadastre.").startswith("définition : Cadastre")


# --- on the demo warehouse: years, territory, page = deck --------------------------------------------

def _all(snap, sel):
    ctx = context(snap, sel)
    return ctx, [f for p in registry.PAGES if p.build and not p.whole_deck for f in registry.build(ctx, p.key)]


def test_no_later_year_no_degenerate_growth_and_titles_carry_years(snap):
    for annee in (2018, 2021):
        ctx, found = _all(snap, Selection(annee=annee))
        for f in found:
            assert all(y <= annee for y in f.years) or f.key == "candidature" and f.table.empty, (f.key, f.years)
            assert re.search(r"\d{4}", f.titre), f"title without its year: {f.titre}"
            assert not re.search(r"entre (\d{4}) et \1", f.titre + f.phrase), f.titre
            for text in (f.titre, f.phrase, f.source, *f.notes):
                assert not re.search(r" [:;%?!]", text), text       # narrow no-break space before : ; % ? !
    ctx, found = _all(snap, Selection(annee=2018))
    growth = next(f for f in found if f.key == "ca_croissance")
    assert growth.spec is None and "pas d'évolution" in growth.phrase
    ctx, found = _all(snap, Selection(annee=2015))
    ca = next(f for f in found if f.key == "ca_secteurs")
    assert "pas de donnée en 2015" in ca.titre and "2018 à 2022" in ca.phrase


def test_chosen_epci_drives_titles_and_is_highlighted(snap):
    gq = "200067452"
    ctx, found = _all(snap, Selection(focus=gq, annee=2020))
    name = ctx.focus.nom_court
    # The plan and the sources are the TI's whatever the territory chosen; Comparer's small charts rank all EPCIs.
    whole = set(registry.page("plan_actions").findings) | set(registry.page("sources").findings)
    for f in found:
        if f.key.startswith("comparer_") or f.key in whole or not f.spec:
            continue
        assert f.titre.startswith(name), f.titre
    ind = next(f for f in found if f.key == "industrie")
    colours = ind.spec.colours
    assert colours[name] != colours[next(t for t in ind.table.territoire if t not in (name, ctx.home_name))]
    # Guillestrois-Queyras is the least industrial EPCI of the demo: the sentence says so, never « le plus industriel »
    n = len(ctx.per.members)
    assert f"la plus faible des {n} EPCI" in ind.phrase and "plus industriel" not in ind.titre
    figures = next(f for f in found if f.key == "chiffres_cles")
    assert "du Territoire d'industrie" in figures.phrase and figures.extra["shares"]


def test_secret_filieres_are_named_together_not_followed_by_s(snap):
    """« les plantes à parfum… s » reads as a typo: the sentence names the secret filières after the others."""
    seen = 0
    for focus in [None] + [t.code for t in context(snap, Selection()).per.members]:
        ctx = context(snap, Selection(focus=focus, annee=2020, filiere_mesure="ca_filiere"))
        f = next(f for f in registry.build(ctx, "filieres") if f.key == "filieres")
        mine = f.table[(f.table.code == ctx.focus.code) & (f.table.niveau == ctx.focus.niveau)]
        secret = sorted(set(mine.categorie[mine.statut == "secret"]))
        assert not re.search(r"[a-zé] s[,;. ]", f.phrase), f.phrase
        if secret:
            seen += 1
            named = f.phrase.split("secret statistique pour ", 1)[1]
            assert all(fr.noun(c).le() in named for c in secret), (secret, f.phrase)
    assert seen >= 2


def test_unknown_year_or_territory_is_refused_in_french(snap, demo_warehouse, tmp_path, capsys):
    with pytest.raises(SelectionError, match="année 1990 absente"):
        context(snap, Selection(annee=1990))
    from indicators.__main__ import main
    out = tmp_path / "x.pptx"
    assert main(["deck", "--out", str(out), "--warehouse", str(demo_warehouse), "--annee", "1990"]) == 2
    assert main(["deck", "--out", str(out), "--warehouse", str(demo_warehouse), "--territoire", "123"]) == 2
    err = capsys.readouterr().err
    assert "année 1990 absente de l'entrepôt : années disponibles" in err and "territoire inconnu : 123" in err
    assert not out.exists()


@pytest.mark.parametrize("focus", [None, "200067452"])
def test_page_titles_and_sentences_are_the_decks(focus, demo_warehouse, use_warehouse, snap):
    """Each page of the registry with findings (AppTest) shows exactly the titles and sentences of its slides
    in the deck for the same selection, and each slide names the annex sheet the registry gives it."""
    from streamlit.testing.v1 import AppTest

    from indicators.export import slides
    from tests.conftest import ROOT

    use_warehouse(demo_warehouse)
    sel = Selection(focus=focus)
    deck = {s.key: s for s in slides.build(snap, sel)}
    # A slide the whole deck leaves out as a repeat (the Carte page's default map is Industrie's): its page's own.
    missing = [k for p in registry.PAGES if p.build and not p.whole_deck for k in p.slides if k not in deck]
    deck.update({s.key: s for s in slides.build(snap, sel, keys=missing)} if missing else {})
    for page in [p for p in registry.PAGES if p.build and not p.whole_deck]:
        at = AppTest.from_file(str(ROOT / "dashboard.py"), default_timeout=120)
        if focus:
            at.query_params["territoire"] = focus
        at.run()
        at.switch_page(page.script).run()
        assert not at.exception, [e.value for e in at.exception]
        # The page's Markdown as people read it: the plan's findings escape their text (markup.escape)
        subheaders = [re.sub(r"\\(.)", r"\1", s.value) for s in at.subheader]
        markdown = re.sub(r"\\(.)", r"\1", " ".join(m.value for m in at.markdown))
        assert list(page.slides) == list(page.findings), page.key    # what the page shows is what its slides say
        for key in page.slides:
            s = deck[key]
            assert s.sheet == page.sheets[key], (key, s.sheet)
            assert s.titre in subheaders, (page, s.titre, subheaders)
            if s.phrase:
                assert s.phrase in markdown, (page, s.phrase)


def test_table_for_people_has_french_headers_and_marks(snap):
    """The page tables and their CSV: French headers through the toolkit, « s » for secret, shares in %."""
    from indicators.content import people_table
    from indicators.export.tables import to_csv_text

    ctx, found = _all(snap, Selection(focus="200067452", annee=2020))
    f = next(f for f in found if f.key == "ca_secteurs")
    t = people_table(f.table)
    assert list(t.columns)[:4] == ["Territoire", "Catégorie", "Année", "Indicateur"] and "Unité" in t and "Statut" in t
    assert (t.Statut == "s").any() and t[t.Statut == "s"].Valeur.isna().all()
    share = people_table(next(f for f in found if f.key == "industrie").table)
    assert share.Unité.eq("%").all() and share.Valeur.dropna().between(0, 100).all() and share.Valeur.max() > 1
    assert to_csv_text(t).splitlines()[0].startswith("Territoire;Catégorie;Année;")
