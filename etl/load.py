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
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Callable

import duckdb

from . import sources
from .marts import FIRM_MEASURES, build_marts
from .perimeter import DEFAULT_TI, Perimeter, resolve
from .reference import REFERENCE_DIR, load_reference, reference_dir
from .schema import DDL
from .validate import LoadError, Problem, duplicate_problems

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_WAREHOUSE = ROOT / "data" / "warehouse.duckdb"
DEMO_DIR = ROOT / "data" / "demo"

Progress = Callable[[str], None]


@dataclass
class FileReport:
    fichier: str
    kind: str | None = None
    statut: str = "refusé"          # chargé, déjà chargé, vérifié, refusé
    lignes_lues: int = 0
    lignes_gardees: int = 0
    problems: list[Problem] = field(default_factory=list)
    # Measures whose mart rows the load changed (the mart update recomputes only those).
    mesures: frozenset[str] = field(default_factory=frozenset, repr=False)


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


def _init(con: duckdb.DuckDBPyConnection, perimeter: Perimeter | None = None) -> None:
    con.execute(DDL)
    load_reference(con, perimeter)
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
    con.execute("""
        INSERT INTO sources VALUES (?, 'reference', ?, 'data/reference/communes.csv', ?, ?, ?, 'INSEE, IGN',
                                    'Licence Ouverte 2.0 (Etalab)', ?, false, ?, ?, 0, ?)""",
                [sid, f"INSEE, populations légales {year} ; IGN Admin Express (superficie)", sha, str(year), str(year),
                 _departements_label(con, "SELECT code FROM ref_communes"), n, n, datetime.now()])
    con.execute("""
        INSERT INTO facts
        SELECT ?, code, 'commune', annee_population, 'population', '_T', 'total', population, 'ok' FROM ref_communes
        UNION ALL
        SELECT ?, code, 'commune', annee_population, 'superficie_km2', '_T', 'total', superficie_km2, 'ok' FROM ref_communes
    """, [sid, sid])
    con.execute("INSERT INTO source_couverture SELECT ?, code FROM ref_communes", [sid])


def _next_source_id(con) -> int:
    return con.execute("SELECT coalesce(max(source_id), 0) + 1 FROM sources").fetchall()[0][0]


# Département of a commune code (overseas: 3 characters).
_DEPARTEMENT = "CASE WHEN {c} LIKE '97%' THEN left({c}, 3) ELSE left({c}, 2) END"


def _departements_label(con, codes_sql: str) -> str:
    deps = [r[0] for r in con.execute(
        f"SELECT DISTINCT {_DEPARTEMENT.format(c='c')} FROM ({codes_sql}) t(c) ORDER BY 1").fetchall()]
    return ", ".join(deps[:20]) + (f" … ({len(deps)} départements)" if len(deps) > 20 else "")


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
    # A file covers every commune of the départements it mentions.
    con.execute(f"""
        INSERT INTO source_couverture
        SELECT DISTINCT ?, r.code FROM ref_communes r
        WHERE r.departement IN (SELECT DISTINCT {_DEPARTEMENT.format(c='code')} FROM stg_terr)
    """, [sid])
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
        newer = con.execute("SELECT count(*) FROM sources WHERE kind = ? AND coalesce(millesime, '9999') > ?",
                            [staged.kind, mil]).fetchall()[0][0]
        if newer:
            kept = f"""SELECT * FROM ({kept}) k WHERE NOT EXISTS (
                           SELECT 1 FROM facts f JOIN sources s USING (source_id)
                           WHERE s.kind = '{staged.kind}' AND coalesce(s.millesime, '9999') > ? AND f.annee = k.annee
                             AND f.mesure = k.mesure AND f.territoire_code = k.territoire_code AND f.niveau = k.niveau)"""
        if newer or not as_is:
            con.execute(f"CREATE OR REPLACE TEMP TABLE stg_keep AS {kept}", [mil] if newer else [])
            kept = "SELECT * FROM stg_keep"
        # Years and measures kept, with their fact counts: one small table for the replacement and the report.
        con.execute(f"CREATE OR REPLACE TEMP TABLE stg_keys AS SELECT annee, mesure, count(*) AS n FROM ({kept}) GROUP BY ALL")
        if con.execute("SELECT count(*) FROM stg_keys").fetchall()[0][0] == 0:
            report.problems.append(Problem(name, None, None, f"millésime {staged.millesime} plus ancien que celui déjà chargé pour "
                                           "les mêmes années : aucune valeur remplacée", grave=False))
        con.execute("""
            DELETE FROM facts f USING sources s
            WHERE f.source_id = s.source_id AND s.kind = ? AND (f.annee, f.mesure) IN (SELECT annee, mesure FROM stg_keys)
              AND (f.niveau <> 'commune' OR f.territoire_code IN (SELECT commune FROM source_couverture WHERE source_id = ?))
        """, [staged.kind, sid])
        con.execute(f"INSERT INTO facts SELECT ?, {keys}, valeur, statut FROM ({kept})", [sid])
        report.mesures = frozenset(r[0] for r in con.execute("SELECT DISTINCT mesure FROM stg_keys").fetchall())
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
        con.execute("DELETE FROM firmes WHERE (siret, annee) IN (SELECT siret, annee FROM stg_keep)")
        con.execute("INSERT INTO firmes SELECT ?, * FROM stg_keep", [sid])
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
    con.execute("INSERT INTO sources VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", [
        sid, staged.kind, libelle, name, sha, staged.millesime, annees, staged.producteur, staged.licence,
        _departements_label(con, "SELECT code FROM stg_terr"), demo,
        report.lignes_lues, report.lignes_gardees, report.lignes_lues - report.lignes_gardees, datetime.now()])
    for p in report.problems:
        con.execute("INSERT INTO problemes VALUES (?, ?, ?, ?, ?, ?)", [sid, p.fichier, p.ligne, p.colonne, p.message, p.grave])
    # Sources whose every row was replaced by a newer vintage leave the lineage.
    con.execute("""
        DELETE FROM sources s WHERE kind NOT IN ('reference', 'plan_actions') AND source_id <> ?
          AND NOT EXISTS (SELECT 1 FROM facts f WHERE f.source_id = s.source_id)
          AND NOT EXISTS (SELECT 1 FROM firmes f WHERE f.source_id = s.source_id)""", [sid])
    con.execute("DELETE FROM source_couverture WHERE source_id NOT IN (SELECT source_id FROM sources)")
    con.execute("DELETE FROM problemes WHERE source_id NOT IN (SELECT source_id FROM sources)")
    return report


def _stage_checked(con, path: Path, kind: str | None) -> sources.Staged:
    module = sources.detect(path, kind)
    staged = module.stage(con, path)
    if staged.hard:
        raise LoadError(staged.hard)
    # A key repeated on two lines is refused, whatever the source (one shared check, etl/validate.py).
    repeated = duplicate_problems(con, path.name, staged.facts_table, staged.firms_table, staged.key_column)
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


def build(warehouse: Path = DEFAULT_WAREHOUSE, demo: bool = True, progress: Progress = print,
          perimeter: Perimeter | None = None) -> list[FileReport]:
    """Rebuild the warehouse for a perimeter (default: the default TI) from the reference data (and demo files)."""
    from . import demo as demo_data

    warehouse = Path(warehouse)
    t0 = time.perf_counter()
    with _writer_lock(warehouse), _new_version(warehouse, None) as con:
        perimeter = perimeter or resolve()
        progress(f"Tables de référence (Territoire d'industrie {perimeter.ti_nom}, communes, EPCI, NAF, filières)…")
        _init(con, perimeter)
        reports = []
        if demo:
            progress("Données de démonstration…")
            files = demo_data.ensure(DEMO_DIR, progress, perimeter)
            reports = _ingest(con, files, None, True, progress)
        # The action plan shipped belongs to the default TI, not to another one.
        plan = ROOT / "data" / "plan_actions.xlsx"
        if plan.exists() and reference_dir() == REFERENCE_DIR and perimeter.ti_code == DEFAULT_TI:
            reports += _ingest(con, [plan], None, False, progress)
        _finish(con, progress)
    progress(f"Entrepôt écrit : {warehouse} ({time.perf_counter() - t0:.1f} s)")
    return reports


def load(paths: list[Path], warehouse: Path = DEFAULT_WAREHOUSE, kind: str | None = None,
         progress: Progress = print) -> list[FileReport]:
    """Add files to the warehouse (created with the reference data if missing). All or nothing."""
    warehouse = Path(warehouse)
    try:
        with _writer_lock(warehouse):
            existing = warehouse if warehouse.exists() else None
            with _new_version(warehouse, existing) as con:
                if existing is None:
                    _init(con)
                reports = _ingest(con, [Path(p) for p in paths], kind, False, progress)
                if all(r.statut == "déjà chargé" for r in reports):
                    raise _NothingToDo(reports)  # leaves the warehouse file as it was
                # A new warehouse gets its whole mart; otherwise only the measures the files touched.
                _finish(con, progress, None if existing is None else frozenset().union(*(r.mesures for r in reports)))
    except _NothingToDo as nothing:
        return nothing.reports
    return reports


class _NothingToDo(Exception):
    def __init__(self, reports):
        self.reports = reports


def check(paths: list[Path], kind: str | None = None, warehouse: Path | None = None) -> list[FileReport]:
    """Validate files without touching any warehouse (against the perimeter of `warehouse` when it exists)."""
    reports = []
    perimeter = stored_perimeter(warehouse)
    for path in paths:
        path = Path(path)
        con = duckdb.connect()
        try:
            _init(con, perimeter)
            # The whole load runs on a throw-away in-memory warehouse: the report is the one `load` would give.
            try:
                if not path.is_file():
                    raise LoadError([Problem(path.name, None, None, "fichier introuvable")])
                report = _stage_and_apply(con, path, kind, "", False)
                report.statut = "vérifié"
                reports.append(report)
            except LoadError as exc:
                reports.append(FileReport(path.name, None, "refusé", problems=exc.problems))
        finally:
            con.close()
    return reports


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
