"""Writing the warehouse: staging -> facts -> marts, with lineage, atomically.

Every write goes to a new file next to the warehouse which then replaces it with
`os.replace`: readers keep the old snapshot, a failure or a kill leaves the old
warehouse untouched.
"""
from __future__ import annotations

import contextlib
import glob
import hashlib
import os
import shutil
import time
import uuid
from datetime import datetime
from pathlib import Path
from typing import Callable

import duckdb

from . import plan_store, sources
from .base import REFERENCE_DIR, csv_sql as _csv, reference_dir
from .lineage import _DEPARTEMENT, FileReport, departements_label as _departements_label, next_source_id as _next_source_id
from .lineage import record
from .marts import FIRM_MEASURES, REGISTER_KINDS, build_marts
from .nomenclature import NAF2025, upgrade_nomenclatures
from .perimeter import DEFAULT_TI, Perimeter, resolve
from .reference import load_reference
from .schema import DDL
from .validate import LoadError, Problem, duplicate_problems

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_WAREHOUSE = ROOT / "data" / "warehouse.duckdb"
DEMO_DIR = ROOT / "data" / "demo"
# Real open data shipped with the repository (scripts/build_default_data.py), loaded by every build.
DEFAULT_DATA_DIR = ROOT / "data" / "default"

Progress = Callable[[str], None]



def sha256_of(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(1024 * 1024):
            h.update(chunk)
    return h.hexdigest()


@contextlib.contextmanager
def _writer_lock(warehouse: Path):
    """One writer at a time: concurrent refreshes queue instead of racing on os.replace."""
    warehouse.parent.mkdir(parents=True, exist_ok=True)
    lock_path = warehouse.with_name(warehouse.name + ".lock")
    with open(lock_path, "a+") as fh:
        try:
            import fcntl
            fcntl.flock(fh, fcntl.LOCK_EX)
        except ImportError:  # Windows: msvcrt locks a byte range
            import msvcrt
            while True:
                try:
                    msvcrt.locking(fh.fileno(), msvcrt.LK_LOCK, 1)
                    break
                except OSError:
                    time.sleep(0.1)
        _remove_stale(warehouse)
        yield


def _remove_stale(warehouse: Path) -> None:
    """Delete what a killed writer left (its new file, WAL, spill directory): only writers make them,
    and the caller holds the writer lock, so none of them is in use."""
    for stale in warehouse.parent.glob(glob.escape(warehouse.name) + ".tmp-*"):
        with contextlib.suppress(OSError):
            if stale.is_dir() and not stale.is_symlink():
                shutil.rmtree(stale)
            else:
                stale.unlink()


def _fsync_dir(directory: Path) -> None:
    """Make a rename durable (POSIX); a no-op where directories cannot be opened (Windows)."""
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


@contextlib.contextmanager
def _new_version(warehouse: Path, copy_from: Path | None):
    """Yield a connection on a fresh file that replaces `warehouse` only if the block succeeds."""
    tmp = warehouse.with_name(f"{warehouse.name}.tmp-{os.getpid()}-{uuid.uuid4().hex[:8]}")
    try:
        if copy_from is not None:
            shutil.copyfile(copy_from, tmp)
        con = duckdb.connect(str(tmp))
    except BaseException:  # a full disk, or a warehouse that is not a DuckDB file: leave nothing behind
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
        raise
    try:
        yield con
        con.execute("CHECKPOINT")
        con.close()
        with open(tmp, "rb") as f:
            os.fsync(f.fileno())
        os.replace(tmp, warehouse)
        _fsync_dir(warehouse.parent)
    except BaseException:
        with contextlib.suppress(Exception):
            con.close()
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
        raise
    finally:
        with contextlib.suppress(FileNotFoundError):
            Path(str(tmp) + ".wal").unlink()


def _init(con: duckdb.DuckDBPyConnection, perimeter: Perimeter | None = None, contours: bool = True) -> None:
    con.execute(DDL)
    load_reference(con, perimeter, contours)
    _register_reference_source(con)


def _register_reference_source(con: duckdb.DuckDBPyConnection) -> None:
    """Population and area of the reference communes, as a source like any other."""
    sha = hashlib.sha256((reference_dir() / "communes.csv").read_bytes()).hexdigest()
    year = con.execute("SELECT max(annee_population) FROM ref_communes").fetchall()[0][0]
    con.execute("DELETE FROM facts WHERE source_id IN (SELECT source_id FROM sources WHERE kind = 'reference')")
    con.execute("DELETE FROM source_couverture WHERE source_id IN (SELECT source_id FROM sources WHERE kind = 'reference')")
    con.execute("DELETE FROM sources WHERE kind = 'reference'")
    sid = _next_source_id(con)
    n = con.execute("SELECT count(*) FROM ref_communes").fetchall()[0][0]
    record(con, sid, "reference", f"INSEE, populations légales {year} ; IGN Admin Express (superficie)",
           "data/reference/communes.csv", sha, str(year), str(year), "INSEE, IGN", "Licence Ouverte 2.0 (Etalab)",
           _departements_label(con, "SELECT code FROM ref_communes"), False, n, n, [])
    con.execute("""
        INSERT INTO facts (source_id, territoire_code, niveau, annee, mesure, naf_code, naf_niveau, valeur, statut)
        SELECT ?, code, 'commune', annee_population, 'population', '_T', 'total', population, 'ok' FROM ref_communes
        UNION ALL
        SELECT ?, code, 'commune', annee_population, 'superficie_km2', '_T', 'total', superficie_km2, 'ok' FROM ref_communes
    """, [sid, sid])
    con.execute("INSERT INTO source_couverture SELECT ?, code FROM ref_communes", [sid])



def _apply(con: duckdb.DuckDBPyConnection, staged: sources.Staged, path: Path, sha: str, demo: bool) -> FileReport:
    """Move a staged file into facts/firmes: communes mapped, perimeter kept, older vintage replaced."""
    if hasattr(staged, "apply"):  # sources with their own tables (plan d'actions), not facts/firmes
        return staged.apply(con, path, sha, demo)
    name = path.name
    report = FileReport(name, staged.kind, "chargé", staged.lignes_lues, problems=list(staged.problems))
    table = staged.facts_table or staged.firms_table
    code_col = "territoire_code" if staged.facts_table else "commune"
    level_filter = "niveau = 'commune'" if staged.facts_table else "true"
    # The communes the file names, with their row counts: the checks below read this small table
    # instead of the staged rows (millions for a national file).
    terr_sql = f"CREATE OR REPLACE TEMP TABLE stg_terr AS SELECT {code_col} AS code, count(*) AS n FROM {table} WHERE {level_filter} GROUP BY ALL"
    con.execute(terr_sql)
    # Communes merged since the file's vintage: mapped to the current commune.
    merged = con.execute("""
        SELECT count(DISTINCT t.code) FROM stg_terr t JOIN ref_communes_changements c ON t.code = c.ancien_code
        WHERE t.code NOT IN (SELECT code FROM ref_communes) AND c.nouveau_code IN (SELECT code FROM ref_communes)""").fetchall()[0][0]
    if merged:
        con.execute(f"""
            UPDATE {table} t SET {code_col} = c.nouveau_code
            FROM ref_communes_changements c
            WHERE {level_filter.replace('niveau', 't.niveau')} AND t.{code_col} = c.ancien_code
              AND t.{code_col} NOT IN (SELECT code FROM ref_communes)""")
        con.execute(terr_sql)
        report.problems.append(Problem(name, None, None, f"{merged} code(s) de communes fusionnées depuis le millésime du fichier "
                                       "rattaché(s) à leur commune nouvelle (table des changements du COG)", grave=False))
    outside = con.execute("""
        SELECT coalesce(sum(n), 0), count(*) FROM stg_terr WHERE code NOT IN (SELECT code FROM ref_communes)""").fetchall()[0]
    if outside[0]:
        report.problems.append(Problem(name, None, None, f"{outside[0]} ligne(s) de {outside[1]} commune(s) hors du périmètre "
                                       f"({perimeter_label(con)}) : ignorées", grave=False))
    sid = _next_source_id(con)
    # The communes of the départements the file mentions: the reach of a newer vintage of the same kind, and the
    # coverage of a chamber file (its export lists every firm of its area: a commune without a row has none).
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE stg_dep_communes AS SELECT DISTINCT r.code AS commune FROM ref_communes r
        WHERE r.departement IN (SELECT DISTINCT {_DEPARTEMENT.format(c='code')} FROM stg_terr)
    """)
    # Only a real file replaces demo figures; a demo file never competes with a real one.
    real = "" if demo else " AND NOT s.demo"
    if staged.facts_table and demo and staged.kind == "sirene":
        # The demo stock gives the flows (creations, closures, the stock on 1 January behind their rates), never
        # the stock of establishments: that is the embedded real base comparateur's, which a later demo year
        # would shadow.
        con.execute(f"DELETE FROM {staged.facts_table} WHERE mesure IN ('etablissements', 'etablissements_avec_salaries')")
    if staged.facts_table:
        perimeter = "(niveau <> 'commune' OR territoire_code IN (SELECT code FROM ref_communes))"
        keys = "territoire_code, niveau, annee, mesure, naf_code, naf_niveau"
        as_is = staged.unique_keys and not merged
        if as_is:
            # One fact per key already: taken as they are (no regrouping, no copy before the insert).
            kept = f"SELECT {keys}, valeur, statut FROM {table} WHERE {perimeter}"
        else:
            kept = f"""SELECT {keys},
                              CASE WHEN bool_or(statut = 'secret') THEN NULL ELSE sum(valeur) END AS valeur,
                              CASE WHEN bool_or(statut = 'secret') THEN 'secret' ELSE 'ok' END AS statut
                       FROM {table} WHERE {perimeter} GROUP BY ALL"""
        # A newer file of the same kind replaces the older one for the years and measures it covers;
        # an older vintage loaded after a newer one does not overwrite it.
        mil = staged.millesime or "9999"
        newer = con.execute(f"SELECT count(*) FROM sources s WHERE kind = ? AND coalesce(millesime, '9999') > ?{real}",
                            [staged.kind, mil]).fetchall()[0][0]
        if newer:
            kept = f"""SELECT * FROM ({kept}) k WHERE NOT EXISTS (
                           SELECT 1 FROM facts f JOIN sources s USING (source_id)
                           WHERE s.kind = '{staged.kind}' AND coalesce(s.millesime, '9999') > ?{real} AND f.annee = k.annee
                             AND f.mesure = k.mesure AND f.territoire_code = k.territoire_code AND f.niveau = k.niveau)"""
        if newer or not as_is:
            con.execute(f"CREATE OR REPLACE TEMP TABLE stg_keep AS {kept}", [mil] if newer else [])
            kept = "SELECT * FROM stg_keep"
        # Years and measures kept, with their fact counts: one small table for the replacement and the report.
        con.execute(f"CREATE OR REPLACE TEMP TABLE stg_keys AS SELECT annee, mesure, count(*) AS n FROM ({kept}) GROUP BY ALL")
        if con.execute("SELECT count(*) FROM stg_keys").fetchall()[0][0] == 0:
            report.problems.append(Problem(name, None, None, f"millésime {staged.millesime} plus ancien que celui déjà chargé pour "
                                           "les mêmes années : aucune valeur remplacée", grave=False))
        # Totals above the commune (région, France…) are replaced only for the territories the file gives:
        # a file of one département does not remove the région / France totals of a national one.
        # Real beats demo: the demo facts of this kind for the territories and years the file gives (none to look
        # for when no demo file of the kind is loaded: a national file would pay a pass over its facts for nothing).
        if not demo and con.execute("SELECT count(*) FROM sources WHERE demo AND kind = ?", [staged.kind]).fetchall()[0][0]:
            con.execute(f"""CREATE OR REPLACE TEMP TABLE stg_cover AS
                            SELECT DISTINCT niveau, territoire_code, annee, mesure FROM ({kept})""")
            report.remplacements = _replace_demo_facts(con, staged)
        con.execute(f"""
            DELETE FROM facts f USING sources s
            WHERE f.source_id = s.source_id AND s.kind = ?{real} AND (f.annee, f.mesure) IN (SELECT annee, mesure FROM stg_keys)
              AND (f.territoire_code IN (SELECT commune FROM stg_dep_communes) AND f.niveau = 'commune'
                   OR f.niveau <> 'commune' AND (f.niveau, f.territoire_code) IN (
                       SELECT DISTINCT niveau, territoire_code FROM ({kept}) WHERE niveau <> 'commune'))
        """, [staged.kind])
        con.execute(f"INSERT INTO facts (source_id, {keys}, valeur, statut, nomenclature) "
                    f"SELECT ?, {keys}, valeur, statut, ? FROM ({kept})", [sid, staged.nomenclature])
        # A file covers the communes it has rows for (the mart counts them year by year), a register those
        # of its départements (etl/marts.py REGISTER_KINDS).
        if staged.kind in REGISTER_KINDS:
            con.execute("INSERT INTO source_couverture SELECT ?, commune FROM stg_dep_communes", [sid])
        else:
            con.execute("INSERT INTO source_couverture SELECT DISTINCT ?, territoire_code FROM facts "
                        "WHERE source_id = ? AND niveau = 'commune'", [sid, sid])
        # The measures the file gives, and those of the other sources of its kind: their coverage (counted per
        # source and year over all its measures) changes when part of their facts is replaced.
        report.mesures = frozenset(r[0] for r in con.execute(
            "SELECT mesure FROM stg_keys UNION SELECT DISTINCT f.mesure FROM facts f JOIN sources s USING (source_id) "
            "WHERE s.kind = ?", [staged.kind]).fetchall())
        if staged.lignes_gardees is not None:
            report.lignes_gardees = staged.lignes_gardees
        else:
            report.lignes_gardees = con.execute(f"SELECT count(DISTINCT ligne) FROM {table} WHERE {perimeter}").fetchall()[0][0]
        years = con.execute("SELECT min(annee), max(annee) FROM stg_keys").fetchall()[0]
    else:
        con.execute(f"""
            CREATE OR REPLACE TEMP TABLE stg_keep AS
            SELECT siret, siren, raison_sociale, naf_code, commune, tranche_effectif, annee, ca_eur
            FROM {table} WHERE commune IN (SELECT code FROM ref_communes) AND annee IS NOT NULL
        """)
        # The file's rows of every commune of the reference, for the secret (decided on the file, not the perimeter).
        con.execute(f"""
            CREATE OR REPLACE TEMP TABLE stg_file AS
            SELECT siret, siren, naf_code, commune, annee, ca_eur FROM {table}
            WHERE annee IS NOT NULL AND commune IN (SELECT code_insee FROM {_csv('communes.csv')})
        """)
        if not demo:
            report.remplacements = _replace_demo_firms(con, staged)
        con.execute("DELETE FROM firmes_fichier WHERE (siret, annee) IN (SELECT siret, annee FROM stg_file)")
        con.execute("INSERT INTO firmes_fichier SELECT ?, * FROM stg_file", [sid])
        con.execute("DROP TABLE stg_file")
        con.execute("DELETE FROM firmes WHERE (siret, annee) IN (SELECT siret, annee FROM stg_keep)")
        con.execute("INSERT INTO source_couverture SELECT ?, commune FROM stg_dep_communes", [sid])
        con.execute("INSERT INTO firmes (source_id, siret, siren, raison_sociale, naf_code, commune, tranche_effectif, annee, "
                    "ca_eur, nomenclature) SELECT ?, *, ? FROM stg_keep", [sid, staged.nomenclature])
        report.mesures = frozenset(FIRM_MEASURES)
        report.lignes_gardees = con.execute(
            f"SELECT count(DISTINCT ligne) FROM {table} WHERE commune IN (SELECT code FROM ref_communes)").fetchall()[0][0]
        years = con.execute("SELECT min(annee), max(annee) FROM stg_keep").fetchall()[0]
    if report.lignes_lues == 0:
        raise LoadError([Problem(name, None, None, "le fichier ne contient aucune ligne de données (seulement l'en-tête)")])
    if report.lignes_gardees == 0:
        deps = _departements_label(con, "SELECT code FROM stg_terr")
        raise LoadError([Problem(name, None, None, "aucune ligne du fichier ne concerne le périmètre du tableau de bord "
                                 f"({perimeter_label(con)})"
                                 + (f" : le fichier porte sur le(s) département(s) {deps}" if deps else ""))])
    annees = None if years[0] is None else (str(years[0]) if years[0] == years[1] else f"{years[0]}-{years[1]}")
    libelle = staged.libelle + (" (données de démonstration)" if demo else "")
    if staged.nomenclature == NAF2025:  # which nomenclature the figures of this source use, said under charts
        libelle += ", codes NAF 2025"
    record(con, sid, staged.kind, libelle, name, sha, staged.millesime, annees, staged.producteur,
           DEMO_LICENCE if demo else staged.licence, _departements_label(con, "SELECT code FROM stg_terr"), demo,
           report.lignes_lues, report.lignes_gardees, report.problems)
    if staged.nomenclature:
        con.execute("INSERT INTO source_nomenclature VALUES (?, ?)", [sid, staged.nomenclature])
    # Sources whose every row was replaced by a newer vintage leave the lineage.
    con.execute("""
        DELETE FROM sources s WHERE kind NOT IN ('reference', 'plan_actions', 'sites_economiques') AND source_id <> ?
          AND NOT EXISTS (SELECT 1 FROM facts f WHERE f.source_id = s.source_id)
          AND NOT EXISTS (SELECT 1 FROM firmes f WHERE f.source_id = s.source_id)
          AND NOT EXISTS (SELECT 1 FROM firmes_fichier f WHERE f.source_id = s.source_id)""", [sid])
    con.execute("DELETE FROM source_couverture WHERE source_id NOT IN (SELECT source_id FROM sources)")
    con.execute("DELETE FROM problemes WHERE source_id NOT IN (SELECT source_id FROM sources)")
    con.execute("DELETE FROM source_nomenclature WHERE source_id NOT IN (SELECT source_id FROM sources)")
    return report


# The licence of a demo file: none of a producer's, its figures are invented.
DEMO_LICENCE = "aucune (données inventées par le logiciel)"


def _replaced_text(staged, rows) -> list[str]:
    """« données de démonstration URSSAF remplacées pour 2015-2022 (12 communes) », or nothing."""
    first, last, n = rows[0]
    if first is None:
        return []
    years = str(first) if first == last else f"{first}-{last}"
    where = f" ({n} commune{'s' if n > 1 else ''})" if n else ""
    return [f"données de démonstration {staged.producteur} remplacées pour {years}{where}"]


def _replace_demo_facts(con, staged) -> list[str]:
    """Delete the demo facts of the file's kind for every (territory, year, measure) the file gives (stg_cover):
    what the file covers is real from now on; the demo stays for the other communes and years."""
    match = """FROM facts f JOIN sources s USING (source_id)
               WHERE s.demo AND s.kind = ? AND (f.niveau, f.territoire_code, f.annee, f.mesure) IN (SELECT * FROM stg_cover)"""
    rows = con.execute(f"SELECT min(f.annee), max(f.annee), count(DISTINCT f.territoire_code) FILTER (WHERE f.niveau = 'commune') "
                       f"{match}", [staged.kind]).fetchall()
    con.execute("""DELETE FROM facts f USING sources s WHERE f.source_id = s.source_id AND s.demo AND s.kind = ?
                   AND (f.niveau, f.territoire_code, f.annee, f.mesure) IN (SELECT * FROM stg_cover)""", [staged.kind])
    _demo_years(con, staged.kind)
    return _replaced_text(staged, rows)


def _replace_demo_firms(con, staged) -> list[str]:
    """A real chamber file replaces the demo firms of the communes it covers (its départements), for its years."""
    demo_sources = "SELECT source_id FROM sources WHERE demo AND kind = ?"
    rows = con.execute(f"""SELECT min(annee), max(annee), count(DISTINCT commune) FROM firmes
                           WHERE source_id IN ({demo_sources}) AND commune IN (SELECT commune FROM stg_dep_communes)
                             AND annee IN (SELECT DISTINCT annee FROM stg_keep)""", [staged.kind]).fetchall()
    file_deps = f"SELECT DISTINCT {_DEPARTEMENT.format(c='commune')} FROM stg_file"
    for table, communes, years in (
            ("firmes", "commune IN (SELECT commune FROM stg_dep_communes)", "stg_keep"),
            ("firmes_fichier", f"{_DEPARTEMENT.format(c='commune')} IN ({file_deps})", "stg_file")):
        con.execute(f"""DELETE FROM {table} WHERE source_id IN ({demo_sources}) AND {communes}
                        AND annee IN (SELECT DISTINCT annee FROM {years})""", [staged.kind])
    _demo_years(con, staged.kind)
    return _replaced_text(staged, rows)


def _demo_years(con, kind: str) -> None:
    """The years the demo sources of a kind still give, once a real file replaced part of them."""
    con.execute("""
        UPDATE sources s SET annees = CASE WHEN y.a = y.b THEN y.a::VARCHAR ELSE y.a || '-' || y.b END
        FROM (SELECT source_id, min(annee) AS a, max(annee) AS b FROM (
                  SELECT source_id, annee FROM facts UNION ALL SELECT source_id, annee FROM firmes) GROUP BY ALL) y
        WHERE s.source_id = y.source_id AND s.demo AND s.kind = ?""", [kind])


def _stage_checked(con, path: Path, kind: str | None) -> sources.Staged:
    module = sources.detect(path, kind)
    staged = module.stage(con, path)
    if staged.hard:
        raise LoadError(staged.hard)
    # A key repeated on two lines is refused, whatever the source (one shared check, etl/validate.py). Facts a
    # loader guarantees one per key (`unique_keys`, checked on the file's lines) cannot repeat: not searched again.
    repeated = duplicate_problems(con, path.name, None if staged.unique_keys else staged.facts_table, staged.firms_table,
                                  staged.key_column, key_lines=staged.key_lines)
    if repeated:
        raise LoadError(repeated)
    return staged


def _stage_and_apply(con, path: Path, kind: str | None, sha: str, demo: bool) -> FileReport:
    """Stage then apply one file; any failure becomes a French LoadError naming the file."""
    try:
        staged = _stage_checked(con, path, kind)
        return _apply(con, staged, path, sha, demo)
    except LoadError:
        raise
    except UnicodeError as exc:
        raise LoadError([Problem(path.name, None, None, f"encodage des caractères illisible ({exc.reason})")]) from None
    except (duckdb.Error, OSError, ValueError) as exc:
        detail = str(exc).splitlines()[0][:200] if str(exc) else type(exc).__name__
        raise LoadError([Problem(path.name, None, None, f"lecture impossible : {detail}")]) from None


def _ingest(con, paths: list[Path], kind: str | None, demo: bool, progress: Progress) -> list[FileReport]:
    """Every file is read and checked; if one is refused, all problems are reported and nothing is kept."""
    reports, refused = [], []
    known = {r[0] for r in con.execute("SELECT sha256 FROM sources").fetchall()}
    for path in paths:
        path = Path(path)
        if not path.is_file():
            refused.append(Problem(path.name, None, None, "fichier introuvable"))
            continue
        sha = sha256_of(path)
        if sha in known:
            progress(f"  {path.name} : déjà chargé (même contenu), rien à faire")
            reports.append(FileReport(path.name, statut="déjà chargé"))
            continue
        progress(f"  {path.name} : lecture et contrôles…")
        try:
            report = _stage_and_apply(con, path, kind, sha, demo)
        except LoadError as exc:
            refused.extend(exc.problems)
            continue
        known.add(sha)
        progress(f"  {path.name} : {report.lignes_gardees} ligne(s) gardée(s) sur {report.lignes_lues} ({report.kind})")
        for text in report.remplacements:
            progress(f"  {path.name} : {text}")
        reports.append(report)
    if refused:
        raise LoadError(refused)
    return reports


def _finish(con, progress: Progress, mesures: frozenset[str] | None = None) -> None:
    """Marts (all of them, or only the rows of `mesures`), then a new data version."""
    if mesures is None or mesures:  # nothing to do when only the action plan changed (its tables are read as they are)
        progress("Calcul des agrégats (EPCI, département, niveaux NAF, filières)…")
        build_marts(con, mesures)
    con.execute("INSERT OR REPLACE INTO meta VALUES ('version', ?), ('construit_le', ?)",
                [uuid.uuid4().hex, datetime.now().isoformat(timespec="seconds")])


def system_user() -> str:
    import getpass

    try:
        return getpass.getuser() or "système"
    except Exception:  # no user name in the environment (some containers)
        return "système"


def _seed_store(store, con, qui: str) -> None:
    from .sources.plan_actions import seed_store

    seed_store(store, con, qui)


def _apply_plans(warehouse: Path, reports: list[FileReport], qui: str, only_if_empty: bool,
                 progress: Progress) -> None:
    """The workbooks of a build/load, applied to the plan store as changes (after the warehouse is written)."""
    plans = [r.plan for r in reports if r.plan is not None]
    if not plans:
        return
    store = plan_store.connect(plan_store.path_for(warehouse))
    try:
        if only_if_empty and not plan_store.is_empty(store):
            n = store.execute("SELECT count(*) FROM historique").fetchone()[0]
            progress(f"Plan d'actions : suivi conservé ({plan_store.path_for(warehouse).name}, {n} modification(s) "
                     "à l'historique) ; le classeur n'est pas réimporté (« python -m etl load » l'importe comme des changements)")
            return
        for p in plans:
            changes = plan_store.apply_import(store, p.actions, p.binomes if p.has_binomes else None, p.present, qui,
                                              p.lineage)
            progress(f"Plan d'actions : {len(changes)} changement(s) appliqué(s) au suivi (par {qui})")
            for c in changes[:200] if not only_if_empty else []:
                progress("  " + plan_store.describe(c))
    finally:
        store.close()


def build(warehouse: Path = DEFAULT_WAREHOUSE, demo: bool = True, progress: Progress = print,
          perimeter: Perimeter | None = None, embedded: bool = True, par: str | None = None) -> list[FileReport]:
    """Rebuild the warehouse for a perimeter (default: the default TI) from the reference data, the embedded
    open data of data/default/ (unless `embedded` is false: reference tables only) and the demo files.
    The plan store next to it is kept: the committed workbook only fills an empty one."""
    from . import demo as demo_data

    warehouse = Path(warehouse)
    t0 = time.perf_counter()
    with _writer_lock(warehouse), _new_version(warehouse, None) as con:
        perimeter = perimeter or resolve()
        progress(f"Tables de référence (Territoire d'industrie {perimeter.ti_nom}, communes, EPCI, NAF, filières)…")
        _init(con, perimeter)
        reports = []
        # Real open data embedded in the repository: loaded for every perimeter (its région and France
        # totals serve any TI; its communes are those of the default one).
        files = sorted(DEFAULT_DATA_DIR.glob("*.csv")) if embedded else []
        if files:
            progress("Données ouvertes embarquées (extrait de la base comparateur de territoires, INSEE)…")
            reports += _ingest(con, files, None, False, progress)
        if demo:
            progress("Données de démonstration…")
            files = demo_data.ensure(DEMO_DIR, progress, perimeter)
            reports += _ingest(con, files, None, True, progress)
        # The action plan shipped belongs to the default TI, not to another one.
        plan = ROOT / "data" / "plan_actions.xlsx"
        if plan.exists() and reference_dir() == REFERENCE_DIR and perimeter.ti_code == DEFAULT_TI:
            reports += _ingest(con, [plan], None, False, progress)
        _finish(con, progress)
    _apply_plans(warehouse, reports, par or system_user(), True, progress)
    progress(f"Entrepôt écrit : {warehouse} ({time.perf_counter() - t0:.1f} s)")
    return reports


def load(paths: list[Path], warehouse: Path = DEFAULT_WAREHOUSE, kind: str | None = None,
         progress: Progress = print, par: str | None = None) -> list[FileReport]:
    """Add files to the warehouse (created with the reference data if missing). All or nothing.
    An action-plan workbook is applied to the plan store as changes by `par` (default: the system user)."""
    warehouse = Path(warehouse)
    try:   # the author of the plan's changes is checked before anything is written
        qui = plan_store._author(par or system_user())
    except plan_store.PlanError as exc:
        raise LoadError([Problem("--par", None, None, str(exc))]) from None
    try:
        with _writer_lock(warehouse):
            existing = warehouse if warehouse.exists() else None
            with _new_version(warehouse, existing) as con:
                # A warehouse of an earlier version, built before the perimeter was stored: its reference
                # tables are rebuilt for the default TI (the files loaded stay) and its whole mart recomputed.
                # (Read on the copy: resolving the perimeter itself would read the reference CSVs for nothing.)
                upgrade = existing is not None and not _has_perimeter(con)
                if existing is None or upgrade:
                    _init(con)
                else:  # a warehouse built before NAF 2025: its columns and NAF tables first
                    upgrade_nomenclatures(con, DDL)
                reports = _ingest(con, [Path(p) for p in paths], kind, False, progress)
                if all(r.statut == "déjà chargé" for r in reports) and not upgrade:
                    raise _NothingToDo(reports)  # leaves the warehouse file as it was
                if existing is not None:   # the plan store starts from the warehouse's plan when it is empty
                    store = plan_store.connect(plan_store.path_for(warehouse))   # (only once the files are accepted)
                    try:
                        _seed_store(store, con, qui)
                    finally:
                        store.close()
                # A new warehouse gets its whole mart; otherwise only the measures the files touched.
                _finish(con, progress, None if existing is None or upgrade else frozenset().union(*(r.mesures for r in reports)))
            _apply_plans(warehouse, reports, qui, False, progress)
    except _NothingToDo as nothing:
        return nothing.reports
    return reports


class _NothingToDo(Exception):
    def __init__(self, reports):
        self.reports = reports


def check(paths: list[Path], kind: str | None = None, warehouse: Path | None = None) -> list[FileReport]:
    """Validate files without touching any warehouse (against the perimeter of `warehouse` when it exists).
    An action-plan workbook also gets the changes it would make to the plan store of `warehouse`
    (`FileReport.changes`)."""
    reports = []
    perimeter = stored_perimeter(warehouse)
    for path in paths:
        path = Path(path)
        con = duckdb.connect()
        try:
            _init(con, perimeter, contours=False)
            # The whole load runs on a throw-away in-memory warehouse: the report is the one `load` would give.
            try:
                if not path.is_file():
                    raise LoadError([Problem(path.name, None, None, "fichier introuvable")])
                report = _stage_and_apply(con, path, kind, "", False)
                report.statut = "vérifié"
                if report.plan is not None:
                    report.changes = _plan_changes(report.plan, warehouse)
                reports.append(report)
            except LoadError as exc:
                reports.append(FileReport(path.name, None, "refusé", problems=exc.problems))
        finally:
            con.close()
    return reports


def _plan_changes(p, warehouse: Path | None) -> list:
    """The changes a workbook would make to the plan store of `warehouse` (read only: an empty or missing
    store is compared through the warehouse's copy of the last workbook)."""
    import sqlite3

    store = sqlite3.connect(":memory:")
    store.executescript(plan_store.SCHEMA)
    try:
        path = plan_store.path_for(warehouse) if warehouse else None
        if path is not None and path.exists():
            src = sqlite3.connect(f"file:{path.as_posix()}?mode=ro", uri=True)
            try:
                src.backup(store)
            finally:
                src.close()
        if warehouse and Path(warehouse).exists() and plan_store.is_empty(store):
            con = duckdb.connect(str(warehouse), read_only=True)
            try:
                _seed_store(store, con, "système")
            finally:
                con.close()
        return plan_store.diff(store, p.actions, p.binomes if p.has_binomes else None, p.present)
    finally:
        store.close()


def _has_perimeter(con: duckdb.DuckDBPyConnection) -> bool:
    """Whether the warehouse open on `con` stores the perimeter it was built for (see stored_perimeter)."""
    try:
        return bool(con.execute("SELECT count(*) FROM meta WHERE cle = 'territoire_spec'").fetchall()[0][0])
    except duckdb.Error:
        return False


def stored_perimeter(warehouse: Path | None) -> Perimeter | None:
    """The perimeter a warehouse was built for (None: no warehouse there, or one built before it was stored)."""
    if warehouse is None or not Path(warehouse).exists():
        return None
    try:
        con = duckdb.connect(str(warehouse), read_only=True)
    except duckdb.Error:
        return None
    try:
        row = con.execute("SELECT valeur FROM meta WHERE cle = 'territoire_spec'").fetchall()
    except duckdb.Error:
        row = []
    finally:
        con.close()
    return resolve(row[0][0]) if row else None


def perimeter_label(con: duckdb.DuckDBPyConnection) -> str:
    """What the warehouse holds, in words, for messages: « Territoire d'industrie X, ses références et voisins »."""
    row = con.execute("SELECT valeur FROM meta WHERE cle = 'territoire_nom'").fetchall()
    name = f"Territoire d'industrie {row[0][0]}" if row else "territoire du tableau de bord"
    return f"{name}, ses départements de référence et les EPCI voisins"
