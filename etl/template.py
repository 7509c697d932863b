"""The documented import template for chamber (CCI / CMA) files: data/modele_import_chambre.xlsx.

Generated from this module (python -m etl template) so that it stays in step with the chamber
loader: the column headers are names the loader recognises, and tests load a filled copy.
"""
from __future__ import annotations

import csv
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_PATH = ROOT / "data" / "modele_import_chambre.xlsx"
CA_YEARS = [2022, 2023, 2024]

# (header, required, format, example, note) — headers are names etl/sources/chambre.py matches.
COLUMNS = [
    ("N° SIRET", "oui", "14 chiffres, texte", "12345678200010",
     "Numéro SIRET de l'établissement (9 chiffres du SIREN + 5 du NIC). La clé de contrôle (Luhn) est vérifiée. "
     "Les espaces sont acceptés (123 456 782 00010)."),
    ("Raison sociale", "non", "texte", "Menuiserie des Écrins",
     "Nom de l'entreprise ; ne sort jamais de l'entrepôt."),
    ("Code NAF", "oui", "4 chiffres + 1 lettre", "16.23Z",
     "Activité principale (code APE / NAF rév. 2), avec ou sans le point (16.23Z ou 1623Z)."),
    ("Code commune INSEE", "oui*", "5 caractères, texte", "05061",
     "Code officiel géographique de la commune (et non le code postal). Garder le zéro initial : "
     "mettre la colonne au format Texte. *À défaut, deux colonnes « Code postal » et « Commune » (nom) sont acceptées."),
    ("Commune", "non", "texte", "Gap", "Nom de la commune, pour la lecture ; le code INSEE fait foi."),
    ("Tranche effectif", "non", "code ou libellé Sirene", "11 (ou « 10 à 19 salariés »)",
     "Tranche d'effectif salarié : code Sirene (NN, 00, 01, 02, 03, 11, 12, 21, 22, 31, 32, 41…) ou son libellé "
     "(voir l'onglet « Tranches d'effectif »)."),
] + [(f"CA {y} (k€)", "non", "nombre", "1 250,5",
      f"Chiffre d'affaires {y} en milliers d'euros. L'unité est lue dans l'en-tête : « CA {y} (€) », "
      f"« CA {y} (k€) » ou « CA {y} (M€) ». Virgule décimale et espaces de milliers acceptés. "
      "Cellule vide = chiffre inconnu (jamais 0 à la place).") for y in CA_YEARS]

GUIDE = [
    "Modèle d'import des fichiers d'entreprises des chambres consulaires (CCI, CMA)",
    "",
    "À quoi sert ce fichier : transmettre au tableau de bord des Territoires d'industrie les chiffres "
    "d'affaires des établissements, pour calculer les chiffres d'affaires par secteur et par filière.",
    "Une ligne par établissement (SIRET) ; une colonne de chiffre d'affaires par année. Ajouter des colonnes "
    "« CA AAAA (k€) » pour d'autres années si besoin ; supprimer celles qui ne servent pas.",
    "Forme longue acceptée aussi : une ligne par établissement et par année, avec les colonnes « annee » et "
    "« chiffre_affaires (k€) » à la place des colonnes « CA AAAA ».",
    "Formats acceptés : ce classeur (.xlsx), ou un CSV séparé par « ; » ou « , », encodé en UTF-8 ou Windows (cp1252).",
    "Secret statistique : les données individuelles restent dans l'entrepôt ; le tableau de bord ne publie que des "
    "agrégats qui respectent les règles du secret (nombre minimal d'entreprises, poids de la plus grande).",
    "Contrôle avant chargement : python -m etl check fichier.xlsx (rapport en français, ligne et colonne de chaque erreur).",
    "Chargement : python -m etl load fichier.xlsx (tout ou rien : l'entrepôt reste inchangé si une erreur est trouvée).",
    "Recharger un fichier corrigé remplace les chiffres des mêmes SIRET et années ; recharger le même fichier ne change rien.",
    "",
    "Colonnes",
]


def _tranches() -> list[tuple[str, str]]:
    with open(ROOT / "data" / "reference" / "tranches_effectifs.csv", encoding="utf-8", newline="") as f:
        return [(r["code"], r["libelle"]) for r in csv.DictReader(f)]


def write(path: Path = DEFAULT_PATH) -> Path:
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.worksheet.datavalidation import DataValidation

    path = Path(path)
    wb = Workbook()
    ws = wb.active
    ws.title = "Entreprises"
    bold = Font(bold=True, color="FFFFFF")
    fill = PatternFill("solid", fgColor="1F4E79")
    for j, (header, required, fmt, _, _) in enumerate(COLUMNS, start=1):
        cell = ws.cell(row=1, column=j, value=header)
        cell.font, cell.fill = bold, fill
        cell.alignment = Alignment(wrap_text=True, vertical="center")
        letter = cell.column_letter
        ws.column_dimensions[letter].width = 22 if "CA" not in header else 16
        if "texte" in fmt:
            for row in range(2, 2001):
                ws.cell(row=row, column=j).number_format = "@"
    ws.freeze_panes = "A2"
    tranches = _tranches()
    dv = DataValidation(type="list", formula1="='Tranches d''effectif'!$B$2:$B$" + str(len(tranches) + 1), allow_blank=True,
                        showErrorMessage=False)
    ws.add_data_validation(dv)
    dv.add("F2:F2000")
    guide = wb.create_sheet("Mode d'emploi")
    for i, line in enumerate(GUIDE, start=1):
        guide.cell(row=i, column=1, value=line).font = Font(bold=(i in (1, len(GUIDE))), size=13 if i == 1 else 11)
    start = len(GUIDE) + 1
    for j, h in enumerate(("Colonne", "Obligatoire", "Format", "Exemple", "Remarques"), start=1):
        c = guide.cell(row=start, column=j, value=h)
        c.font, c.fill = bold, fill
    for i, col in enumerate(COLUMNS, start=start + 1):
        for j, v in enumerate(col, start=1):
            guide.cell(row=i, column=j, value=v).alignment = Alignment(wrap_text=True, vertical="top")
    for letter, width in zip("ABCDE", (22, 12, 22, 24, 90)):
        guide.column_dimensions[letter].width = width
    tr = wb.create_sheet("Tranches d'effectif")
    tr.append(["Code", "Libellé"])
    for code, label in tranches:
        tr.append([code, label])
    tr.column_dimensions["B"].width = 60
    wb.properties.creator = "Tableau de bord des Territoires d'industrie"
    wb.properties.title = "Modèle d'import des fichiers des chambres consulaires"
    path.parent.mkdir(parents=True, exist_ok=True)
    wb.save(path)
    return path


if __name__ == "__main__":
    print(write())
