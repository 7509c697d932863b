#!/usr/bin/env python3
"""Build the NAF 2025 reference tables of data/reference/ (beside NAF rév. 2, which stays in naf.csv).

Inputs (public INSEE data, Licence Ouverte), read from ``../shared/reference/`` or ``--source DIR``:

* ``naf2025_sous_classes.csv``: the 747 NAF 2025 (NACE Rév. 2.1) sous-classes with their classe,
  groupe, division and section;
* ``naf2008_naf2025_correspondance.csv``: INSEE's correspondence NAF rév. 2 -> NAF 2025 (1 223 pairs,
  type Unique / Multiple);

and the project's own NAF rév. 2 tables in data/reference/ (``naf.csv``, ``filieres.csv``,
``secteurs_candidature.csv``). Writes into data/reference/:

* ``naf2025.csv``: every NAF 2025 sous-classe with its native levels (classe, groupe, division,
  section A-V) and the comparable aggregates (A88, section in NAF rév. 2 letters, A10, A17, A38), derived
  from the division: NACE Rév. 2.1 keeps the numbering of the divisions (45 is removed, none is
  added), so each NAF 2025 division takes the aggregates of the NAF rév. 2 division of the same number.
* ``naf2008_naf2025.csv``: the correspondence with INSEE's type and its cardinality.
* ``secteurs_candidature_naf2025.csv``: the candidature's turnover sectors by NACE Rév. 2.1 section.
* ``filieres_naf2025.csv``: the filières in NAF 2025, proposed from the correspondence: a NAF 2025
  sous-classe all of whose antecedents belong to the filière is carried over (``reprise``); one that
  also receives activities from outside the filière is listed for a human decision (``a_arbitrer``);
  decisions taken are kept in ``filieres_naf2025_decisions.csv`` (filiere, naf_sous_classe, perimetre) and
  applied at each run (``decidee``).
* ``naf_ruptures.csv``: for every category of every grouping the product shows, whether its content is
  the same in both nomenclatures (``identique``) or changes (``modifie``), with the sous-classes
  leaving and entering it and the note shown under charts.

Usage: ``python scripts/build_naf2025.py [--source DIR] [--out DIR]``. Deterministic (same bytes at each run);
pandas only. Editorial choices (section labels, sector of each section) are in this file.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
REF = ROOT / "data" / "reference"
DEFAULT_SOURCE = ROOT.parent / "shared" / "reference"

# French titles of the 22 sections of NAF 2025 (NACE Rév. 2.1), as INSEE publishes them.
SECTIONS_2025 = {
    "A": "Agriculture, sylviculture et pêche",
    "B": "Industries extractives",
    "C": "Industrie manufacturière",
    "D": "Production et distribution d'électricité, de gaz, de vapeur et d'air conditionné",
    "E": "Production et distribution d'eau ; assainissement, gestion des déchets et dépollution",
    "F": "Construction",
    "G": "Commerce de gros et de détail",
    "H": "Transports et entreposage",
    "I": "Hébergement et restauration",
    "J": "Édition, diffusion, production et distribution de contenus",
    "K": "Télécommunications, programmation informatique, conseil, infrastructure informatique et autres services d'information",
    "L": "Activités financières et d'assurance",
    "M": "Activités immobilières",
    "N": "Activités spécialisées, scientifiques et techniques",
    "O": "Activités de services administratifs et de soutien",
    "P": "Administration publique et défense ; sécurité sociale obligatoire",
    "Q": "Enseignement",
    "R": "Santé humaine et action sociale",
    "S": "Arts, sports et activités récréatives",
    "T": "Autres activités de services",
    "U": "Activités des ménages en tant qu'employeurs ; activités indifférenciées des ménages en tant que producteurs "
         "de biens et services pour usage propre",
    "V": "Activités extraterritoriales",
}
A5_FROM_A10 = {"AZ": "AZ", "BE": "BE", "FZ": "FZ", "OQ": "OQ",
               "GI": "GU", "JZ": "GU", "KZ": "GU", "LZ": "GU", "MN": "GU", "RU": "GU"}
A5_LABELS = {"AZ": "Agriculture, sylviculture et pêche", "BE": "Industrie", "FZ": "Construction",
             "GU": "Commerce, transports et services divers",
             "OQ": "Administration publique, enseignement, santé, action sociale"}
LEVELS = ["a5", "a10", "a17", "a38", "a88", "section"]
LEVEL_LABELS = {"a5": "A5 (grands secteurs)", "a10": "A10", "a17": "A17", "a38": "A38", "a88": "A88 (divisions)",
                "section": "Section", "secteur": "Secteur de la candidature", "champ": "Champ marchand",
                "filiere_coeur": "Filière (cœur)", "filiere_elargi": "Filière (périmètre élargi)"}
AGG_COLUMNS = ["a88", "libelle_a88", "section", "libelle_section", "a10", "libelle_a10", "a17", "libelle_a17",
               "a38", "libelle_a38"]


def read(path: Path) -> pd.DataFrame:
    return pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8")


OUT = REF


def write(df: pd.DataFrame, name: str) -> None:
    df.to_csv(OUT / name, index=False, encoding="utf-8", lineterminator="\n")
    print(f"  {name} : {len(df)} lignes")


def nomenclature_2025(src: Path, naf08: pd.DataFrame) -> pd.DataFrame:
    n25 = read(src / "naf2025_sous_classes.csv")
    assert len(n25) == 747 and n25.code_naf2025.is_unique, "747 sous-classes NAF 2025 attendues"
    assert sorted(n25.section_nace_rev21.unique()) == sorted(SECTIONS_2025), "22 sections A à V attendues"
    # The comparable aggregates of each division, from NAF rév. 2 (one value per division, checked).
    by_div = naf08.drop_duplicates("a88").set_index("a88")
    for col in ["section", "a10", "a17", "a38"]:
        assert naf08.groupby("a88")[col].nunique().max() == 1, col
    missing = set(n25.code_division) - set(by_div.index)
    assert not missing, f"divisions NAF 2025 sans équivalent NAF rév. 2 : {sorted(missing)}"
    out = pd.DataFrame({
        "naf_sous_classe": n25.code_naf2025, "libelle": n25.libelle_naf2025, "classe": n25.code_classe_nace_rev21,
        "groupe": n25.code_groupe, "division": n25.code_division, "section_naf2025": n25.section_nace_rev21,
        "libelle_section_naf2025": n25.section_nace_rev21.map(SECTIONS_2025),
        "subdivision_francaise": n25.subdivision_francaise,
    })
    agg = by_div.loc[n25.code_division, ["libelle_a88", "section", "libelle_section", "a10", "libelle_a10", "a17",
                                        "libelle_a17", "a38", "libelle_a38"]].reset_index(drop=True)
    out = pd.concat([out.reset_index(drop=True), agg], axis=1)
    out.insert(8, "a88", out.division)
    # Each NACE Rév. 2.1 section falls in one NAF rév. 2 section (by its divisions): checked here.
    assert out.groupby("section_naf2025").section.nunique().max() == 1
    return out[["naf_sous_classe", "libelle", "classe", "groupe", "division", "section_naf2025", "libelle_section_naf2025",
                "subdivision_francaise", *AGG_COLUMNS]].sort_values("naf_sous_classe").reset_index(drop=True)


def correspondence(src: Path, naf08: pd.DataFrame, naf25: pd.DataFrame) -> pd.DataFrame:
    c = read(src / "naf2008_naf2025_correspondance.csv")
    assert set(c.code_naf2008) == set(naf08.naf_sous_classe), "chaque code NAF rév. 2 doit avoir une correspondance"
    assert set(c.code_naf2025) <= set(naf25.naf_sous_classe)
    assert not c.duplicated(["code_naf2008", "code_naf2025"]).any()
    out = c.rename(columns={"type_correspondance_insee": "type_correspondance"})[
        ["code_naf2008", "code_naf2025", "type_correspondance", "nb_cibles_naf2025", "nb_sources_naf2008", "typologie_cardinalite"]]
    return out.sort_values(["code_naf2008", "code_naf2025"]).reset_index(drop=True)


def sectors_2025(naf25: pd.DataFrame, secteurs: pd.DataFrame) -> pd.DataFrame:
    sec = naf25.drop_duplicates("section_naf2025")[["section_naf2025", "libelle_section_naf2025", "section"]]
    sec = sec.merge(secteurs, on="section", how="left")
    assert sec.secteur.notna().all()
    out = sec.rename(columns={"section_naf2025": "section", "libelle_section_naf2025": "libelle_section",
                              "section": "section_naf_rev2"})
    return out[["section", "libelle_section", "secteur", "secteur_libelle", "ordre", "section_naf_rev2"]].sort_values(
        "section").reset_index(drop=True)


def _labelled(codes, labels: dict) -> str:
    return " ; ".join(f"{c} {labels[c]}" for c in sorted(codes))


def filieres_2025(filieres: pd.DataFrame, corr: pd.DataFrame, lab08: dict, lab25: dict) -> pd.DataFrame:
    """Each filière in NAF 2025: targets of its NAF rév. 2 codes, carried over or listed for a decision."""
    sources_of = corr.groupby("code_naf2025").code_naf2008.apply(set).to_dict()
    types = corr.groupby("code_naf2008").type_correspondance.first().to_dict()
    rows = []
    for filiere, f in filieres.groupby("filiere", sort=False):
        coeur = set(f.naf_sous_classe[f.perimetre == "coeur"])
        tous = set(f.naf_sous_classe)
        targets = sorted(set(corr.code_naf2025[corr.code_naf2008.isin(tous)]))
        for b in targets:
            src = sources_of[b]
            inside, outside = src & tous, src - tous
            full_coeur, full = src <= coeur, src <= tous
            if full_coeur:
                perimetre, decision = "coeur", "reprise"
                why = "toutes ses activités d'origine sont dans le cœur de la filière"
            elif full:
                perimetre = "elargi"
                decision = "a_arbitrer" if inside & coeur else "reprise"
                why = ("regroupe des activités du cœur et du périmètre élargi : classée élargie, à arbitrer pour le cœur"
                       if inside & coeur else "toutes ses activités d'origine sont dans le périmètre élargi")
            elif any(a[:5] == b[:5] for a in inside):
                # Same classe as one of its filière antecedents: the activity continues; kept in the wide perimeter.
                perimetre, decision = "elargi", "a_arbitrer"
                why = ("reçoit aussi des activités hors filière : proposée dans le seul périmètre élargi (même classe qu'une "
                       "activité de la filière), jamais dans le cœur, en attendant une décision")
            else:
                perimetre, decision = "", "a_arbitrer"
                why = ("reçoit surtout des activités d'une autre classe, hors filière : non retenue tant qu'aucune décision "
                       "n'est prise")
            multiple = sorted(a for a in inside if types[a] == "Multiple")
            rows.append({
                "filiere": filiere, "filiere_libelle": f.filiere_libelle.iat[0], "naf_sous_classe": b,
                "libelle_naf2025": lab25[b], "perimetre": perimetre, "decision": decision,
                "codes_naf2008_filiere": _labelled(inside, lab08),
                "codes_naf2008_hors_filiere": _labelled(outside, lab08),
                "correspondance_multiple": _labelled(multiple, lab08) and "oui" or "non",
                "note": why[0].upper() + why[1:] + ".",
            })
    out = pd.DataFrame(rows)
    # Decisions taken by hand (filiere, naf_sous_classe, perimetre: coeur, elargi or empty) override the proposal.
    decided = REF / "filieres_naf2025_decisions.csv"
    if decided.exists():
        d = read(decided).set_index(["filiere", "naf_sous_classe"]).perimetre.to_dict()
        unknown = set(d) - set(zip(out.filiere, out.naf_sous_classe))
        assert not unknown, f"décisions sur des couples absents de la proposition : {sorted(unknown)}"
        for i, key in enumerate(zip(out.filiere, out.naf_sous_classe)):
            if key in d:
                out.loc[i, ["perimetre", "decision"]] = [d[key], "decidee"]
    return out


def _membership(level: str, naf08: pd.DataFrame, naf25: pd.DataFrame, secteurs: pd.DataFrame,
                fil08: pd.DataFrame, fil25: pd.DataFrame) -> tuple[dict, dict, dict]:
    """(code08 -> set of categories, code25 -> set of categories, category -> label) for one grouping."""
    def agg(df: pd.DataFrame, col: str) -> dict:
        return {k: {v} for k, v in zip(df.naf_sous_classe, df[col])}

    if level == "a5":
        n08 = naf08.assign(a5=naf08.a10.map(A5_FROM_A10))
        n25 = naf25.assign(a5=naf25.a10.map(A5_FROM_A10))
        return agg(n08, "a5"), agg(n25, "a5"), A5_LABELS
    if level in ("a10", "a17", "a38", "a88", "section"):
        return agg(naf08, level), agg(naf25, level), dict(zip(naf08[level], naf08[f"libelle_{level}"]))
    if level in ("secteur", "champ"):
        s = dict(zip(secteurs.section, secteurs.secteur))
        lab = dict(zip(secteurs.secteur, secteurs.secteur_libelle))
        if level == "champ":
            s = {k: ("CHAMP" if v != "hors_champ" else "hors_champ") for k, v in s.items()}
            lab = {"CHAMP": "Champ marchand non agricole et non financier"}
        return ({k: {s[v]} for k, v in zip(naf08.naf_sous_classe, naf08.section)},
                {k: {s[v]} for k, v in zip(naf25.naf_sous_classe, naf25.section)}, lab)
    # filières: a code may belong to none, one or two filières
    keep = (lambda d: d[d.perimetre == "coeur"]) if level == "filiere_coeur" else (lambda d: d[d.perimetre != ""])
    m08, m25 = {}, {}
    for d, m in ((keep(fil08), m08), (keep(fil25), m25)):
        for code, filiere in zip(d.naf_sous_classe, d.filiere):
            m.setdefault(code, set()).add(filiere)
    return m08, m25, dict(zip(fil08.filiere, fil08.filiere_libelle))


def ruptures(naf08, naf25, corr, secteurs, fil08, fil25, lab08, lab25) -> pd.DataFrame:
    rows = []
    for level in [*LEVELS, "secteur", "champ", "filiere_coeur", "filiere_elargi"]:
        m08, m25, labels = _membership(level, naf08, naf25, secteurs, fil08, fil25)
        for g in sorted(labels):
            if g == "hors_champ":
                continue
            out_, in_ = set(), set()
            for a, b in zip(corr.code_naf2008, corr.code_naf2025):
                ina, inb = g in m08.get(a, set()), g in m25.get(b, set())
                if ina and not inb:
                    out_.add(a)
                elif inb and not ina:
                    in_.add(b)
            changed = bool(out_ or in_)
            if changed:
                parts = []
                if out_:
                    parts.append(f"{len(out_)} sous-classe(s) NAF rév. 2 en partie classée(s) ailleurs en NAF 2025 "
                                 f"(ex. {_labelled(sorted(out_)[:2], lab08)})")
                if in_:
                    parts.append(f"{len(in_)} sous-classe(s) NAF 2025 recevant des activités classées ailleurs en NAF rév. 2 "
                                 f"(ex. {_labelled(sorted(in_)[:2], lab25)})")
                note = ("Rupture de série au passage à la NAF 2025 : " + labels[g] + " n'a pas le même contenu dans les "
                        "deux nomenclatures (" + " ; ".join(parts) + ")")
            else:
                note = ""
            rows.append({"groupement": level, "groupe_code": g, "libelle": labels[g],
                         "statut": "modifie" if changed else "identique",
                         "n_naf2008_sortants": len(out_), "n_naf2025_entrants": len(in_),
                         "naf2008_sortants": " ".join(sorted(out_)), "naf2025_entrants": " ".join(sorted(in_)),
                         "note": note})
    return pd.DataFrame(rows)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--source", type=Path, default=DEFAULT_SOURCE, help="dossier des deux fichiers INSEE NAF 2025")
    p.add_argument("--out", type=Path, default=REF, help="dossier où écrire les tables (par défaut data/reference)")
    args = p.parse_args(argv)
    global OUT
    OUT = args.out
    for f in ("naf2025_sous_classes.csv", "naf2008_naf2025_correspondance.csv"):
        if not (args.source / f).exists():
            print(f"fichier introuvable : {args.source / f}", file=sys.stderr)
            return 2
    naf08 = read(REF / "naf.csv")
    secteurs = read(REF / "secteurs_candidature.csv")
    fil08 = read(REF / "filieres.csv")
    naf25 = nomenclature_2025(args.source, naf08)
    corr = correspondence(args.source, naf08, naf25)
    lab08 = dict(zip(naf08.naf_sous_classe, naf08.libelle))
    lab25 = dict(zip(naf25.naf_sous_classe, naf25.libelle))
    sec25 = sectors_2025(naf25, secteurs)
    fil25 = filieres_2025(fil08, corr, lab08, lab25)
    rup = ruptures(naf08, naf25, corr, secteurs, fil08, fil25, lab08, lab25)
    write(naf25, "naf2025.csv")
    write(corr, "naf2008_naf2025.csv")
    write(sec25, "secteurs_candidature_naf2025.csv")
    write(fil25, "filieres_naf2025.csv")
    write(rup, "naf_ruptures.csv")
    summary = rup.groupby(["groupement", "statut"]).size().unstack(fill_value=0)
    print(summary.to_string())
    print(fil25.groupby(["filiere", "decision"]).size().unstack(fill_value=0).to_string())
    return 0


if __name__ == "__main__":
    sys.exit(main())
