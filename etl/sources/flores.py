"""INSEE Flores (« fichier localisé des rémunérations et de l'emploi salarié »), long layout.

Current Melodi layout (DS_FLORES_A38_* / DS_FLORES_A88_*), one row per figure:
GEO;GEO_OBJECT;ACTIVITY;NUMBER_EMPL;LEGAL_FORM_WITH_PUBLIC;FLORES_MEASURE;OBS_STATUS;TIME_PERIOD;OBS_VALUE,
latin-1 or UTF-8. Measures UNIT_LOC (establishments) and EMPL3112 (salaried jobs at 31/12);
OBS_STATUS = K is statistical secret (value NULL, statut secret). Only the totals over size
bands (NUMBER_EMPL = _T) and legal forms (_T, or 1T9X7 where _T is not published) are kept;
the activity level of the file (A38 or A88) is kept with the all-activity total.

NAF 2025: A38 and A88 codes are the same in both nomenclatures (NACE Rév. 2.1 keeps the division
numbers); a file is taken as NAF 2025 when its name or a column says so (« NAF2025 », « NACE21 »,
« NAF25 ») or when its figures reach 2027, as NAF rév. 2 otherwise. Division 45 (trade and repair of motor vehicles) no longer exists in
NAF 2025: a file said to be NAF 2025 that has it is refused, naming its lines.
"""
from __future__ import annotations

from pathlib import Path

import duckdb
import pandas as pd

from ..nomenclature import LABELS, NAF2008, NAF2025, NAF2025_FIRST_YEAR
from ..validate import Problem, sql_number
from .common import Staged, find_column, read_table, year_from_name

KIND = "flores"
LIBELLE = "INSEE, Flores (établissements et postes salariés au 31/12)"
PRODUCTEUR = "INSEE"
LICENCE = "Licence Ouverte 2.0 (Etalab)"

_COLUMNS = ["GEO", "GEO_OBJECT", "ACTIVITY", "NUMBER_EMPL", "LEGAL_FORM_WITH_PUBLIC", "FLORES_MEASURE",
            "OBS_STATUS", "TIME_PERIOD", "OBS_VALUE"]
MEASURES = pd.DataFrame([("UNIT_LOC", "etablissements"), ("EMPL3112", "effectifs_salaries")], columns=["code", "mesure"])
GEO_LEVELS = pd.DataFrame([("COM", "commune"), ("ARM", "commune"), ("EPCI", "epci"), ("DEP", "departement"),
                           ("REG", "region"), ("FRANCE", "france"), ("FR", "france"), ("PAYS", "france")],  # territory-literal: format
                          columns=["code", "niveau"])


def detect(header: list[str]) -> bool:
    up = {h.strip().upper() for h in header}
    return {"GEO", "FLORES_MEASURE", "TIME_PERIOD", "OBS_VALUE"} <= up


def stage(con: duckdb.DuckDBPyConnection, path: Path) -> Staged:
    path = Path(path)
    name = path.name
    header, n = read_table(con, path)
    idx = {c: find_column(header, c, required=c if c not in ("OBS_STATUS", "LEGAL_FORM_WITH_PUBLIC", "NUMBER_EMPL") else None,
                          path=path) for c in _COLUMNS}
    col = {c: (f"trim(c{i})" if i is not None else "NULL") for c, i in idx.items()}
    con.register("flores_measures", MEASURES)
    con.register("flores_geo", GEO_LEVELS)
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE stg_fl AS
        SELECT r.ligne, {col['GEO']} AS geo, upper({col['GEO_OBJECT']}) AS geo_object, upper({col['ACTIVITY']}) AS activity,
               coalesce(upper({col['NUMBER_EMPL']}), '_T') AS number_empl, coalesce(upper({col['LEGAL_FORM_WITH_PUBLIC']}), '_T') AS legal_form,
               upper({col['FLORES_MEASURE']}) AS measure, upper(coalesce({col['OBS_STATUS']}, '')) AS obs_status,
               {col['TIME_PERIOD']} AS period, {col['OBS_VALUE']} AS texte
        FROM stg_raw r
    """)
    problems: list[Problem] = []
    for ligne, p in con.execute("""SELECT ligne, period FROM stg_fl WHERE NOT regexp_full_match(coalesce(period, ''), '(19|20)[0-9]{2}')
                                   ORDER BY ligne LIMIT 20""").fetchall():
        problems.append(Problem(name, ligne, header[idx["TIME_PERIOD"]], f"année attendue (4 chiffres), trouvé « {(p or '')[:20]} »"))
    for ligne, t in con.execute(f"""SELECT ligne, texte FROM stg_fl WHERE obs_status <> 'K' AND trim(coalesce(texte, '')) <> ''
                                    AND ({sql_number('texte')} IS NULL OR {sql_number('texte')} < 0) ORDER BY ligne LIMIT 20""").fetchall():
        problems.append(Problem(name, ligne, header[idx["OBS_VALUE"]], f"nombre positif attendu, trouvé « {t[:40]} »"))
    # Activity level of the file: A88 (2 digits) or A38 (2 letters); the other codes are aggregates.
    has_a88 = con.execute("SELECT count(*) > 0 FROM stg_fl WHERE regexp_full_match(activity, '[0-9]{2}')").fetchall()[0][0]
    level = "a88" if has_a88 else "a38"
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE stg_fl_kept AS
        SELECT f.*, g.niveau, m.mesure,
               CASE WHEN g.niveau = 'france' THEN 'FR'
                    WHEN g.niveau = 'commune' AND length(f.geo) = 4 THEN lpad(f.geo, 5, '0') ELSE f.geo END AS territoire_code,
               CASE WHEN f.activity IN ('_T', 'TOTAL') THEN '_T' ELSE f.activity END AS naf_code,
               CASE WHEN f.activity IN ('_T', 'TOTAL') THEN 'total' ELSE '{level}' END AS naf_niveau,
               max(f.legal_form = '_T') OVER (PARTITION BY f.geo, f.geo_object, f.activity, f.measure, f.period) AS has_total_lf
        FROM stg_fl f JOIN flores_geo g ON g.code = f.geo_object JOIN flores_measures m ON m.code = f.measure
        WHERE f.number_empl = '_T' AND f.legal_form IN ('_T', '1T9X7')
          AND (f.activity IN ('_T', 'TOTAL') OR f.activity IN (SELECT DISTINCT {level} FROM ref_naf))
    """)
    con.execute("DELETE FROM stg_fl_kept WHERE legal_form = '1T9X7' AND has_total_lf")
    # Territories above the commune: only those of the dashboard (its EPCIs, 05, région 93, France).
    con.execute("""DELETE FROM stg_fl_kept k WHERE niveau <> 'commune'
                   AND NOT EXISTS (SELECT 1 FROM ref_territoires t WHERE t.niveau = k.niveau AND t.code = k.territoire_code)""")
    con.unregister("flores_measures")
    con.unregister("flores_geo")
    dropped = con.execute("""SELECT count(*) FROM stg_fl f WHERE NOT EXISTS (SELECT 1 FROM stg_fl_kept k WHERE k.ligne = f.ligne)
                             AND f.number_empl = '_T'""").fetchall()[0][0]
    if dropped:
        problems.append(Problem(name, None, None, f"{dropped} ligne(s) hors du champ chargé (autres territoires que ceux du tableau de bord, "
                                "autres niveaux d'activité ou formes juridiques, autres mesures) : ignorée(s)", grave=False))
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE stg_facts AS
        SELECT ligne, territoire_code, niveau, CAST(period AS INTEGER) AS annee, mesure, naf_code, naf_niveau,
               CASE WHEN obs_status = 'K' OR trim(coalesce(texte, '')) = '' THEN NULL ELSE {sql_number('texte')} END AS valeur,
               CASE WHEN obs_status = 'K' OR trim(coalesce(texte, '')) = '' THEN 'secret' ELSE 'ok' END AS statut
        FROM stg_fl_kept WHERE regexp_full_match(coalesce(period, ''), '(19|20)[0-9]{{2}}')
    """)
    for first, second, code, annee, mesure, naf in con.execute("""
            SELECT min(ligne), max(ligne), territoire_code, annee, mesure, naf_code FROM stg_facts
            GROUP BY territoire_code, niveau, annee, mesure, naf_code HAVING count(*) > 1 ORDER BY 2 LIMIT 10""").fetchall():
        problems.append(Problem(name, second, header[idx["GEO"]],
                                f"doublon : {code}, {annee}, {mesure}, activité {naf} figure déjà ligne {first}"))
    last = con.execute("SELECT max(annee) FROM stg_facts").fetchall()[0][0]
    nomenclature = _nomenclature(path, header, last)
    if nomenclature == NAF2025 and level == "a88":
        bad = con.execute("SELECT count(*), list(ligne ORDER BY ligne)[1:5] FROM stg_facts WHERE naf_code = '45'").fetchall()[0]
        if bad[0]:
            problems.append(Problem(name, bad[1][0], header[idx["ACTIVITY"]],
                                    f"le fichier se dit codé en {LABELS[NAF2025]} mais {bad[0]} ligne(s) portent la division 45 de la "
                                    f"{LABELS[NAF2008]} (lignes {', '.join(map(str, bad[1]))}) : il mélange les deux nomenclatures"))
    years = [r[0] for r in con.execute("SELECT DISTINCT annee FROM stg_facts ORDER BY 1").fetchall()]
    millesime = year_from_name(path) or (str(max(years)) if years else None)
    return Staged(KIND, LIBELLE, PRODUCTEUR, LICENCE, millesime, n, facts_table="stg_facts", problems=problems,
                  nomenclature=nomenclature)


def _nomenclature(path: Path, header: list[str], last_year: int | None) -> str:
    """NAF 2025 when the file's name or one of its column names says so, or when its figures reach 2027 (APE
    codes are NAF 2025 from then); NAF rév. 2 otherwise."""
    import re

    marks = re.compile(r"NAF[ _-]?2025|NAF[ _-]?25(?!\d)|NACE[ _-]?(REV[ _.-]?)?2[._]?1", re.IGNORECASE)
    said = marks.search(path.name) or any(marks.search(h) for h in header)
    return NAF2025 if said or (last_year or 0) >= NAF2025_FIRST_YEAR else NAF2008
