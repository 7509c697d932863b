"""INSEE « populations légales » by commune (donnees_communes.csv, or the xlsx « Communes » sheet).

CSV layout: REG;Région;DEP;CODARR;CODCAN;CODCOM;COM;Commune;PMUN;PCAP;PTOT (COM is the full
INSEE code, CODCOM its last 3 digits). The workbook has title rows above a labelled header
(« Code département », « Code commune », « Population municipale », ...). The file carries no
year: the millésime is read from the file name (populations_legales_2023.csv -> 2023).
Loaded as `population` facts (population municipale).
"""
from __future__ import annotations

import re
from pathlib import Path

import duckdb

from ..validate import Problem, refuse, sql_number
from .common import Staged, _norm, find_column, read_table, year_from_name

KIND = "populations_legales"
LIBELLE = "INSEE, populations légales (population municipale)"
PRODUCTEUR = "INSEE"
LICENCE = "Licence Ouverte 2.0 (Etalab)"

_PMUN = ("PMUN", "Population municipale")
_COM = ("COM", "DEPCOM", "CODGEO")
_DEP = ("DEP", "Code département")
_CODCOM = ("CODCOM", "Code commune")


def detect(header: list[str]) -> bool:
    norm = {_norm(h) for h in header}
    has_pop = any(_norm(c) in norm for c in _PMUN)
    has_code = any(_norm(c) in norm for c in _COM) or ({"dep", "codcom"} <= norm) or ({"codedepartement", "codecommune"} <= norm)
    return has_pop and has_code and not any(re.match(r"^p\d\dpop$", h) for h in norm)


def stage(con: duckdb.DuckDBPyConnection, path: Path) -> Staged:
    path = Path(path)
    name = path.name
    header, n = read_table(con, path, detect, "Population municipale")
    year = year_from_name(path)
    if year is None:
        refuse(path, "millésime introuvable : le fichier des populations légales ne contient pas son année ; "
                     "renommez-le avec l'année du millésime (par exemple populations_legales_2023.csv)")
    i_pop = find_column(header, *_PMUN, required="PMUN (population municipale)", path=path)
    i_com = find_column(header, *_COM)
    if i_com is not None:
        code = f"trim(c{i_com})"
        code_col = header[i_com]
    else:
        i_dep = find_column(header, *_DEP, required="COM (ou DEP et CODCOM)", path=path)
        i_cc = find_column(header, *_CODCOM, required="CODCOM", path=path)
        code = f"(trim(c{i_dep}) || lpad(trim(c{i_cc}), 3, '0'))"
        code_col = header[i_cc]
    problems: list[Problem] = []
    for ligne, c in con.execute(f"""SELECT ligne, {code} FROM stg_raw
                                    WHERE NOT regexp_full_match(coalesce({code}, ''), '[0-9]{{4,5}}|2[AB][0-9]{{3}}')
                                    ORDER BY ligne LIMIT 20""").fetchall():
        problems.append(Problem(name, ligne, code_col, f"code commune INSEE attendu (5 caractères), trouvé « {(c or '')[:20]} »"))
    for ligne, v in con.execute(f"""SELECT ligne, c{i_pop} FROM stg_raw
                                    WHERE {sql_number(f'c{i_pop}')} IS NULL OR {sql_number(f'c{i_pop}')} < 0
                                    ORDER BY ligne LIMIT 20""").fetchall():
        problems.append(Problem(name, ligne, header[i_pop], f"nombre d'habitants attendu, trouvé « {(v or '')[:20]} »"))
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE stg_facts AS
        SELECT ligne, lpad({code}, 5, '0') AS territoire_code, 'commune' AS niveau, {int(year)} AS annee,
               'population' AS mesure, '_T' AS naf_code, 'total' AS naf_niveau, {sql_number(f'c{i_pop}')} AS valeur, 'ok' AS statut
        FROM stg_raw
    """)
    for first, second, c in con.execute("""SELECT min(ligne), max(ligne), territoire_code FROM stg_facts
                                           GROUP BY territoire_code HAVING count(*) > 1 ORDER BY 2 LIMIT 10""").fetchall():
        problems.append(Problem(name, second, code_col, f"doublon : la commune {c} figure déjà ligne {first}"))
    return Staged(KIND, LIBELLE, PRODUCTEUR, LICENCE, year, n, facts_table="stg_facts", problems=problems)
