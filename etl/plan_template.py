"""The action-plan workbook (data/plan_actions.xlsx): generated once from the candidature, then edited by hand.

    python -m etl.plan_template [--output data/plan_actions.xlsx] [--force]

The four axes and every fiche action are transcribed as written in the candidature
of the default TI (etl/perimeter.py) for 2023-2027 (wording and porteurs in parentheses).
The fields the agency fills in (EPCI, filière, montant, financements, statut, dates,
indicateur de suivi, notes) are left blank, except a few EPCI / filière values the
wording itself names, marked "à confirmer" in the notes. The binômes table lists the
nine EPCIs with blank élu and industriel, as in the candidature.

The script refuses to overwrite an existing workbook (the agency's edits) without --force.
"""
from __future__ import annotations

import argparse
import csv
import sys
from datetime import datetime
from pathlib import Path

from .base import PLAN_STATUTS, REFERENCE_DIR

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_OUTPUT = ROOT / "data" / "plan_actions.xlsx"

SHEET_ACTIONS = "Actions"
SHEET_BINOMES = "Binômes"
SHEET_README = "Lisez-moi"
SHEET_LISTS = "Listes"

STATUTS = PLAN_STATUTS


def _ti_name() -> str:
    from .perimeter import resolve

    return resolve().ti_nom


# How the workbook says « the whole territory » in the EPCI column (the loader also reads older workbooks'
# « <département> (tout le département) »).
TOUT_DEPARTEMENT = f"{_ti_name()} (tout le territoire)"

AXES = {
    1: "Axe 1. Foncier et attractivité",
    2: "Axe 2. Transition écologique et gestion des ressources",
    3: "Axe 3. Innovation et R&D",
    4: "Axe 4. Compétences et formations",
}

_CONFIRM = "EPCI / filière proposés d'après l'intitulé de la candidature : à confirmer par l'Agence."

# (axe, intitulé as written, porteurs as written, proposed EPCI, proposed filières, note)
ACTIONS: list[tuple[int, str, str, str, str, str]] = [
    (1, "Requalifier les zones d'activités et l'immobilier d'entreprises", "EPCI", "", "", ""),
    (1, "Créer une société de développement d'immobilier d'entreprises", "CCI", "", "", ""),
    (1, "Promouvoir nos filières clés et notre territoire, à l'international en particulier", "Agence", "", "", ""),
    (2, "Développer la production d'énergie renouvelable autoconsommée", "SEM Energies", "",
     "Énergies renouvelables", _CONFIRM),
    (2, "Décarboner les filières, la filière aéronautique en particulier", "Agence, SAFE", "", "Aéronautique", _CONFIRM),
    (2, "Gérer et valoriser des déchets industriels", "SAB", "", "", ""),
    (3, "Développer une unité de valorisation du lait de montagne", "Fromagerie de la Durance, Bleu du Queyras", "",
     "Agroalimentaire", _CONFIRM),
    (3, "Développer les Tourtons du Champsaur", "", "Champsaur-Valgaudemar", "Agroalimentaire",
     "Porteur non précisé dans la candidature. " + _CONFIRM),
    (3, "Créer une unité de production « viande et pâtes »", "Gourmeton", "", "Agroalimentaire", _CONFIRM),
    (3, "Créer et développer une chaîne de fabrication d'habitat modulaire en bois", "Dautremer", "", "BTP", _CONFIRM),
    (3, "Monter d'une coopérative d'achat pour les entreprises de la construction bois", "ORCAB", "", "BTP", _CONFIRM),
    (3, "Créer un site de préfabrication de câblages électriques", "Alp Médelec", "", "", ""),
    (3, "Faire certifier un service de « rétrofit » d'aéronef avec des turbines nouvelle génération", "Icarius", "",
     "Aéronautique", _CONFIRM),
    (3, "Créer un centre d'excellence drones de montagne", "Patrolair, Les Orres", "Serre-Ponçon", "Aéronautique",
     "EPCI de la commune des Orres. " + _CONFIRM),
    (3, "Développer des bio-intrants pour l'agriculture", "OvinAlp", "", "", ""),
    (3, "Développer une unité d'éco-extraction végétale pour la cosmétique et l'agronomie", "Acanthis, OvinAlp", "",
     "Plantes à parfum, aromatiques et médicinales", _CONFIRM),
    (3, "Coopérer pour structurer la filière PPAM", "Agence de Développement, acteurs de la filière", "",
     "Plantes à parfum, aromatiques et médicinales", _CONFIRM),
    (4, "Promouvoir les métiers de l'industrie", "Agence, CCI, CMA, UPE, Fédération BTP", "", "", ""),
    (4, "Créer une Haute École du Bois et de la Forêt", "CCPE, CCSP", "Pays des Écrins ; Serre-Ponçon", "BTP",
     "CCPE : CC du Pays des Écrins ; CCSP : CC Serre-Ponçon. " + _CONFIRM),
    (4, "Mettre en place une formation soudure",
     "DDETSPP, OPCO2I, fédération des métalliers et RD Technologies", "", "", ""),
    (4, "Créer des contenus de formation pour décarboner la filière aéronautique et former des mécaniciens",
     "Hélicoptères de France, PMH, Polyaéro", "", "Aéronautique", _CONFIRM),
    (4, "Mutualiser les postes qualifiés dans l'industrie agroalimentaire", "7 fromageries", "", "Agroalimentaire",
     _CONFIRM),
]

# Column header, width, documentation (Lisez-moi). The loader finds columns by these headers.
ACTION_COLUMNS = [
    ("N°", 7, "Identifiant de l'action, unique : numéro de l'axe, point, rang dans l'axe (ex. 3.1). Obligatoire."),
    ("Axe", 34, "Axe du plan d'actions, tel qu'écrit dans la candidature (« Axe 1. Foncier et attractivité », …). "
                "Obligatoire. Un nouvel axe peut être ajouté : il doit commencer par « Axe N. »."),
    ("Intitulé de l'action", 60, "Intitulé de la fiche action, tel qu'écrit dans la candidature. Obligatoire."),
    ("Porteur(s)", 34, "Porteur(s) de l'action, séparés par des virgules, tels qu'écrits dans la candidature."),
    ("EPCI", 28, "Intercommunalité(s) où l'action se déroule : nom court (liste déroulante) ou SIREN ; plusieurs EPCI "
                 f"séparés par « ; ». « {TOUT_DEPARTEMENT} » pour une action de tout le territoire. Vide : non renseigné."),
    ("Filière(s)", 28, "Filière(s) stratégique(s) concernée(s) : libellé (liste déroulante) ou code (agroalimentaire, "
                       "ppam, aeronautique, energies_renouvelables, btp) ; plusieurs filières séparées par « ; »."),
    ("Montant estimé (€)", 16, "Coût estimé du projet, en euros (nombre positif ; « 1,5 M€ » ou « 200 k€ » sont "
                               "acceptés). Vide : non renseigné (jamais 0 pour « inconnu »)."),
    ("Financements", 30, "Financements sollicités ou obtenus (texte libre : État, Région, fonds européens, …)."),
    ("Statut", 12, "Avancement : " + ", ".join(f"« {s} »" for s in STATUTS) + ". Obligatoire."),
    ("Date de début", 13, "Date de début (prévue ou réelle) : date Excel, JJ/MM/AAAA ou MM/AAAA. Facultative."),
    ("Date de fin", 13, "Date de fin (prévue ou réelle), postérieure à la date de début. Facultative."),
    ("Indicateur de suivi", 30, "Indicateur qui mesure l'avancement ou l'effet de l'action (texte libre : emplois "
                                "créés, m² requalifiés, tonnes de CO₂ évitées, …)."),
    ("Notes", 40, "Remarques libres."),
]
BINOME_COLUMNS = [
    ("EPCI", 32, "Intercommunalité (nom court de la liste déroulante ou SIREN). Obligatoire, une ligne par EPCI."),
    ("Élu(e)", 32, "Élu(e) du binôme élu-industriel de l'EPCI (vide : à désigner)."),
    ("Industriel(le)", 32, "Chef(fe) d'entreprise industrielle du binôme (vide : à désigner)."),
]
# The candidature's order of the binômes table.
BINOMES_ORDER = ["Briançonnais", "Pays des Écrins", "Guillestrois-Queyras", "Champsaur-Valgaudemar", "Serre-Ponçon",
                 "Buëch-Dévoluy", "Gap-Tallard-Durance", "Serre-Ponçon Val d'Avance", "Sisteronais-Buëch"]

MAX_ROWS = 300  # rows covered by the drop-down lists and checks in Excel


def _reference() -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    with open(REFERENCE_DIR / "epci.csv", encoding="utf-8", newline="") as f:
        epci = [(r["nom_court"], r["epci_siren"]) for r in csv.DictReader(f)]
    with open(REFERENCE_DIR / "filieres.csv", encoding="utf-8", newline="") as f:
        seen: dict[str, str] = {}
        for r in csv.DictReader(f):
            seen.setdefault(r["filiere"], r["filiere_libelle"])
    return epci, [(label, code) for code, label in seen.items()]


def action_rows() -> list[list]:
    """The actions with their numbers (axe.rank), in the candidature's order."""
    rows, rank = [], {}
    for axe, intitule, porteurs, epci, filieres, note in ACTIONS:
        rank[axe] = rank.get(axe, 0) + 1
        rows.append([f"{axe}.{rank[axe]}", AXES[axe], intitule, porteurs, epci or None, filieres or None, None, None,
                     "à lancer", None, None, None, note or None])
    return rows


def write(path: Path = DEFAULT_OUTPUT) -> Path:
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.worksheet.datavalidation import DataValidation

    epci, filieres = _reference()
    order = {n: i for i, n in enumerate(BINOMES_ORDER)}
    # The candidature's EPCIs (the reference lists every EPCI of France).
    epci_sorted = sorted((e for e in epci if e[0] in order), key=lambda e: order[e[0]])
    head_font = Font(bold=True, color="FFFFFF")
    head_fill = PatternFill("solid", fgColor="332288")
    wrap = Alignment(wrap_text=True, vertical="top")

    wb = Workbook()
    ws = wb.active
    ws.title = SHEET_ACTIONS
    ws.append([c[0] for c in ACTION_COLUMNS])
    for row in action_rows():
        ws.append(row)
    binomes = wb.create_sheet(SHEET_BINOMES)
    binomes.append([c[0] for c in BINOME_COLUMNS])
    for name, _ in epci_sorted:
        binomes.append([name, None, None])
    for sheet, columns in ((ws, ACTION_COLUMNS), (binomes, BINOME_COLUMNS)):
        for j, (_, width, _) in enumerate(columns, start=1):
            cell = sheet.cell(row=1, column=j)
            cell.font, cell.fill, cell.alignment = head_font, head_fill, Alignment(wrap_text=True, vertical="center")
            sheet.column_dimensions[cell.column_letter].width = width
        for row in sheet.iter_rows(min_row=2):
            for cell in row:
                cell.alignment = wrap
        sheet.freeze_panes = "A2"
        sheet.auto_filter.ref = sheet.dimensions

    amount_col = "G"
    for r in range(2, MAX_ROWS + 2):
        ws[f"{amount_col}{r}"].number_format = '#,##0 "€"'
        ws[f"J{r}"].number_format = ws[f"K{r}"].number_format = "DD/MM/YYYY"

    lists = wb.create_sheet(SHEET_LISTS)
    lists.append(["Statut", "EPCI (nom court)", "SIREN de l'EPCI", "Filière (libellé)", "Code de la filière", "Axe"])
    n = max(len(STATUTS), len(epci_sorted) + 1, len(filieres), len(AXES))
    epci_list = [(e, s) for e, s in epci_sorted] + [(TOUT_DEPARTEMENT, None)]  # the whole territory: no SIREN
    for i in range(n):
        lists.append([
            STATUTS[i] if i < len(STATUTS) else None,
            epci_list[i][0] if i < len(epci_list) else None, epci_list[i][1] if i < len(epci_list) else None,
            filieres[i][0] if i < len(filieres) else None, filieres[i][1] if i < len(filieres) else None,
            list(AXES.values())[i] if i < len(AXES) else None])
    for j, width in enumerate([14, 36, 14, 44, 24, 52], start=1):
        lists.column_dimensions[lists.cell(row=1, column=j).column_letter].width = width
        lists.cell(row=1, column=j).font = Font(bold=True)

    def validation(ref: str, strict: bool, prompt: str) -> DataValidation:
        dv = DataValidation(type="list", formula1=ref, allow_blank=True, showDropDown=False,
                            errorStyle="stop" if strict else "warning", showErrorMessage=True)
        dv.errorTitle = "Valeur hors liste"
        dv.error = prompt
        return dv

    rows = f"2:{MAX_ROWS + 1}"
    last = 1 + len(epci_list)
    dv_statut = validation(f"={SHEET_LISTS}!$A$2:$A${1 + len(STATUTS)}", True,
                           "Statut attendu : " + ", ".join(STATUTS) + ".")
    dv_epci = validation(f"={SHEET_LISTS}!$B$2:$B${last}", False,
                         "EPCI hors liste : pour plusieurs EPCI, séparez les noms par « ; » (le chargement vérifie chaque nom).")
    dv_fil = validation(f"={SHEET_LISTS}!$D$2:$D${1 + len(filieres)}", False,
                        "Filière hors liste : pour plusieurs filières, séparez-les par « ; » (le chargement vérifie chaque nom).")
    dv_axe = validation(f"={SHEET_LISTS}!$F$2:$F${1 + len(AXES)}", False,
                        "Axe hors liste : un nouvel axe doit commencer par « Axe N. ».")
    dv_amount = DataValidation(type="decimal", operator="greaterThanOrEqual", formula1="0", allow_blank=True,
                               errorStyle="stop", showErrorMessage=True, errorTitle="Montant",
                               error="Montant en euros attendu : un nombre positif.")
    dv_date = DataValidation(type="date", operator="greaterThan", formula1="1", allow_blank=True, errorStyle="warning",
                             showErrorMessage=True, errorTitle="Date", error="Date attendue (JJ/MM/AAAA).")
    for dv, col in ((dv_statut, "I"), (dv_epci, "E"), (dv_fil, "F"), (dv_axe, "B"), (dv_amount, "G")):
        a, b = rows.split(":")
        dv.add(f"{col}{a}:{col}{b}")
        ws.add_data_validation(dv)
    dv_date.add(f"J2:K{MAX_ROWS + 1}")
    ws.add_data_validation(dv_date)
    dv_bin = validation(f"={SHEET_LISTS}!$B$2:$B${last - 1}", True, "EPCI attendu : un nom de la liste.")
    dv_bin.add("A2:A40")
    binomes.add_data_validation(dv_bin)

    readme = wb.create_sheet(SHEET_README, 2)
    readme.column_dimensions["A"].width = 26
    readme.column_dimensions["B"].width = 110
    lines: list[tuple[str, str]] = [
        (f"Plan d'actions du Territoire d'industrie {_ti_name()}", ""),
        ("", "Classeur de suivi des fiches actions de la candidature « Territoires d'industrie 2023-2027 » et des "
             "binômes élu-industriel. Les intitulés et porteurs sont repris tels qu'écrits dans la candidature ; "
             "l'Agence complète et met à jour les autres colonnes."),
        ("Mettre à jour", "1. Modifier les feuilles « Actions » et « Binômes » (une ligne par action, une ligne par EPCI) "
                          "sans renommer les feuilles ni les en-têtes.\n2. Enregistrer au format .xlsx.\n"
                          "3. Lancer « python -m etl load data/plan_actions.xlsx » (ou « python -m etl build »).\n"
                          "Un classeur qui contient une erreur (statut, EPCI ou filière inconnus, montant ou date "
                          "illisibles…) est refusé avec un message qui donne la feuille, la ligne et la colonne : "
                          "le plan déjà chargé reste affiché."),
        ("", ""),
        ("Feuille « Actions »", ""),
    ]
    lines += [(name, doc) for name, _, doc in ACTION_COLUMNS]
    lines += [("", ""), ("Feuille « Binômes »", "")]
    lines += [(name, doc) for name, _, doc in BINOME_COLUMNS]
    lines += [("", ""), ("Feuille « Listes »", "Valeurs admises (statuts, EPCI et leur SIREN, filières et leur code, axes) : "
                                                "elles alimentent les listes déroulantes. Ne pas modifier."),
              ("Valeurs admises : statut", " ; ".join(STATUTS)),
              ("Valeurs admises : EPCI", " ; ".join(f"{e} ({s})" for e, s in epci_sorted) + f" ; {TOUT_DEPARTEMENT}"),
              ("Valeurs admises : filière", " ; ".join(f"{label} ({code})" for label, code in filieres)),
              ("", ""),
              ("Source", f"Candidature du Territoire d'industrie {_ti_name()} à la labellisation à la phase 2 de Territoires d'industrie "
                         "2023-2027 (Agence Départementale de Développement Économique), partie « Les fiches actions » "
                         "et « Les binômes élus - industriels ». Montants : la candidature estime la vingtaine de projets "
                         "matures à près de 50 M€ au total, sans détail par action.")]
    for i, (a, b) in enumerate(lines, start=1):
        readme.cell(row=i, column=1, value=a or None).font = Font(bold=True, size=14 if i == 1 else 11)
        readme.cell(row=i, column=2, value=b or None).alignment = Alignment(wrap_text=True, vertical="top")
        readme.cell(row=i, column=1).alignment = Alignment(wrap_text=True, vertical="top")
    wb.active = 0  # open on the actions (first sheet: its header identifies the workbook)

    wb.properties.creator = f"Agence de développement économique du Territoire d'industrie {_ti_name()}"
    wb.properties.title = f"Plan d'actions du Territoire d'industrie {_ti_name()}"
    wb.properties.created = datetime(2023, 9, 22)  # the candidature's filing date
    path.parent.mkdir(parents=True, exist_ok=True)
    wb.save(path)
    return path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m etl.plan_template",
                                     description="Générer le classeur du plan d'actions à partir de la candidature")
    parser.add_argument("--output", type=Path, default=DEFAULT_OUTPUT)
    parser.add_argument("--force", action="store_true", help="remplacer un classeur existant (les saisies seront perdues)")
    args = parser.parse_args(argv)
    if args.output.exists() and not args.force:
        print(f"{args.output.name} existe déjà : il contient peut-être les saisies de l'Agence. "
              "Ajoutez --force pour le remplacer.", file=sys.stderr)
        return 1
    write(args.output)
    print(f"Classeur écrit : {args.output} ({len(ACTIONS)} actions, {len(BINOMES_ORDER)} binômes)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
