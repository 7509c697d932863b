"""Shared fixtures: a reference-only warehouse per test, the real public files next to the repository."""
from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]
# Real published files (INSEE, DGCL, URSSAF, IGN), kept outside the repository: ../shared/real/.
SHARED_REAL = Path(__file__).resolve().parents[2] / "shared" / "real"


def real_file(name: str) -> Path:
    path = SHARED_REAL / name
    if not path.exists():
        pytest.skip(f"fichier réel absent ({name}) : ces tests lisent ../shared/real/ à côté du dépôt")
    return path


def quiet(_message: str) -> None:
    pass


@pytest.fixture(scope="session")
def _reference_warehouse(tmp_path_factory) -> Path:
    from etl import load

    path = tmp_path_factory.mktemp("ref") / "reference.duckdb"
    load.build(path, demo=False, progress=quiet)
    return path


@pytest.fixture
def warehouse(_reference_warehouse, tmp_path) -> Path:
    """A fresh copy of a warehouse holding the reference data only (as `etl build --no-demo`)."""
    path = tmp_path / "warehouse.duckdb"
    shutil.copyfile(_reference_warehouse, path)
    return path


def query(warehouse: Path, sql: str, params: list | None = None) -> list[tuple]:
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        return con.execute(sql, params or []).fetchall()
    finally:
        con.close()


def run_cli(*args: str, cwd: Path = REPO_ROOT) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "etl", *map(str, args)], cwd=cwd, capture_output=True, text=True, timeout=120)
