"""Running the ETL command line as a user would, with bounded time and memory, for the reliability tests."""
from __future__ import annotations

import hashlib
import json
import os
import queue
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import duckdb

REPO = Path(__file__).resolve().parents[1]
MEMORY_LIMIT = 3 * 1024**3      # address space of one ETL run (RLIMIT_AS; imports alone reserve ~1.5 GB)
TIME_LIMIT = 60                 # seconds of one ETL run


@dataclass
class Run:
    args: list[str]
    returncode: int
    stdout: str
    stderr: str
    seconds: float

    @property
    def output(self) -> str:
        return self.stdout + self.stderr


def limit_memory() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_LIMIT, MEMORY_LIMIT))


def etl_env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = str(REPO) + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    env["PYTHONIOENCODING"] = "utf-8"
    env["MALLOC_ARENA_MAX"] = "2"   # glibc reserves 64 MB of address space per thread arena otherwise
    return env


# The ETL commands that take --warehouse (default data/warehouse.duckdb: the user's, of any territory).
WAREHOUSE_COMMANDS = {"build", "load", "check", "backup", "restore", "status"}


def named_warehouse(args) -> None:
    """A test names the warehouse of every ETL command that has one: what data/ holds is the user's business."""
    words = [str(a) for a in args]
    if words and words[0] in WAREHOUSE_COMMANDS and "--warehouse" not in words:
        raise ValueError(f"`python -m etl {words[0]}` in a test needs --warehouse (the default is the user's "
                         "data/warehouse.duckdb, built for any territory)")


def etl_command(*args: str | Path) -> list[str]:
    named_warehouse(args)
    return [sys.executable, "-m", "etl", *map(str, args)]


def run_etl(*args: str | Path, timeout: float = TIME_LIMIT, bounded: bool = True) -> Run:
    """`python -m etl ARGS` in a subprocess (address space and time bounded)."""
    cmd = etl_command(*args)
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, cwd=REPO, env=etl_env(), capture_output=True, timeout=timeout,
                          preexec_fn=limit_memory if bounded else None)
    return Run([str(a) for a in args], proc.returncode, proc.stdout.decode("utf-8", "replace"),
               proc.stderr.decode("utf-8", "replace"), time.perf_counter() - t0)


class ForkedEtl:
    """`run_etl` for many runs: `workers` processes with the ETL imported (tests/etl_zygote.py) fork one child per
    run, which then does what `python -m etl ARGS` does, without the interpreter's start (~1.7 s of imports).
    Thread-safe: up to `workers` runs at once."""

    def __init__(self, workers: int):
        self._free: queue.Queue = queue.Queue()
        self._procs = [subprocess.Popen([sys.executable, str(REPO / "tests" / "etl_zygote.py")], cwd=REPO,
                                        env=etl_env(), stdin=subprocess.PIPE,
                                        stdout=subprocess.PIPE, text=True) for _ in range(workers)]
        for p in self._procs:
            self._free.put(p)
        self._tmp = tempfile.TemporaryDirectory()

    def run(self, *args: str | Path, timeout: float = TIME_LIMIT) -> Run:
        named_warehouse(args)
        proc = self._free.get()
        try:
            out, err = (Path(self._tmp.name) / f"{proc.pid}.{n}" for n in ("out", "err"))
            t0 = time.perf_counter()
            proc.stdin.write(json.dumps({"args": [str(a) for a in args], "cwd": str(REPO), "stdout": str(out),
                                         "stderr": str(err), "memory": MEMORY_LIMIT, "seconds": timeout}) + "\n")
            proc.stdin.flush()
            answer = proc.stdout.readline()
            if not answer:
                raise RuntimeError("le processus ETL préchargé s'est arrêté")
            return Run([str(a) for a in args], json.loads(answer)["returncode"],
                       out.read_bytes().decode("utf-8", "replace"), err.read_bytes().decode("utf-8", "replace"),
                       time.perf_counter() - t0)
        finally:
            self._free.put(proc)

    def close(self) -> None:
        for p in self._procs:
            p.stdin.close()
            p.wait(30)
        self._tmp.cleanup()

    def __enter__(self) -> "ForkedEtl":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(1 << 20):
            h.update(chunk)
    return h.hexdigest()


def copy_warehouse(src: Path, dest_dir: Path) -> Path:
    dest_dir.mkdir(parents=True, exist_ok=True)
    dest = dest_dir / "warehouse.duckdb"
    shutil.copyfile(src, dest)
    return dest


# Tables whose content defines a warehouse vintage (timestamps and version ids left out).
_CANONICAL = {
    "sources": "SELECT source_id, kind, libelle, fichier, sha256, millesime, annees, producteur, licence, couverture, "
               "demo, lignes_lues, lignes_gardees, lignes_rejetees FROM sources",
    "problemes": "SELECT * FROM problemes",
    "facts": "SELECT source_id, territoire_code, niveau, annee, mesure, naf_code, naf_niveau, round(valeur, 4), statut FROM facts",
    "firmes": "SELECT * FROM firmes",
    "source_couverture": "SELECT * FROM source_couverture",
    "mart": "SELECT niveau, code, annee, mesure, groupement, groupe_code, round(valeur, 4), statut, source_id, "
            "nb_contrib, round(max_contrib, 4), n_couvertes, n_membres FROM mart",
}


def fingerprint(con: duckdb.DuckDBPyConnection) -> dict[str, str]:
    """sha256 of every content table, rows sorted (one snapshot: pass one connection)."""
    out = {}
    for table, sql in _CANONICAL.items():
        h = hashlib.sha256()
        for row in con.execute(f"SELECT * FROM ({sql}) ORDER BY ALL").fetchall():
            h.update(repr(row).encode())
        out[table] = h.hexdigest()
    return out


def open_snapshot(path: Path) -> duckdb.DuckDBPyConnection:
    """A read-only connection on the file as it is now, the way the dashboard opens it.

    DuckDB caches database instances by path within a process: while a connection to a
    path is open, `duckdb.connect(path)` returns that old snapshot even after the file was
    replaced. ATTACHing into a fresh in-memory instance always reads the current file.
    """
    con = duckdb.connect()
    con.execute(f"ATTACH '{Path(path).as_posix().replace(chr(39), chr(39) * 2)}' AS wh (READ_ONLY)")
    con.execute("USE wh")
    return con


def read_snapshot(path: Path) -> tuple[str, dict[str, str]]:
    """(meta version, fingerprint) of a warehouse file, read through one read-only connection."""
    con = open_snapshot(path)
    try:
        version = con.execute("SELECT valeur FROM meta WHERE cle = 'version'").fetchall()[0][0]
        return version, fingerprint(con)
    finally:
        con.close()
