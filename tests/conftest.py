"""Shared fixtures: real DuckDB warehouses built once per test session, the real public files
next to the repository (../shared/real/, never copied into it)."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import duckdb
import pytest

ROOT = REPO_ROOT = Path(__file__).resolve().parents[1]
# Protections computed by the tests are kept apart from the checkout's (data/cache/secret), for this run only;
# the CLI runs the tests start inherit it.
os.environ["TI_SECRET_CACHE"] = tempfile.mkdtemp(prefix="ti-secret-")
# Real published files (INSEE, DGCL, URSSAF, IGN), kept outside the repository: ../shared/real/.
SHARED_REAL = ROOT.parent / "shared" / "real"


def real_file(name: str) -> Path:
    path = SHARED_REAL / name
    if not path.exists():
        pytest.skip(f"fichier réel absent ({name}) : ces tests lisent ../shared/real/ à côté du dépôt")
    return path


def quiet(_message: str) -> None:
    pass


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(config, items):
    """`--dist loadgroup` (pytest.ini) keeps the tests of one xdist_group on one worker by suffixing their node
    id with « @group »: say so when that did not happen (pytest-xdist 3.8 with pytest 9.2, pytest-xdist issue
    1386) rather than let the groups run concurrently unnoticed."""
    if not getattr(config.option, "loadgroup", False):
        return
    lost = [i.nodeid for i in items if i.get_closest_marker("xdist_group") and "@" not in i.nodeid.rpartition("]")[2]]
    if lost:
        config.issue_config_time_warning(pytest.PytestWarning(
            f"xdist_group ignored for {len(lost)} tests (e.g. {lost[0]}): they may run concurrently; pytest 9.2 "
            "breaks pytest-xdist 3.8's loadgroup, requirements-dev.txt pins pytest 9.1"), stacklevel=1)


def in_ci() -> bool:
    return os.environ.get("CI", "").lower() in ("1", "true", "yes")


@pytest.fixture(scope="session", autouse=True)
def no_default_warehouse(tmp_path_factory):
    """The app and `python -m indicators` read TI_WAREHOUSE, else data/warehouse.duckdb: the user's, built for
    any territory. For the whole session it names a file that does not exist, so that no test reads the user's
    warehouse by default (a test points at its own with `use_warehouse` or --warehouse)."""
    mp = pytest.MonkeyPatch()
    mp.setenv("TI_WAREHOUSE", str(tmp_path_factory.mktemp("no_default") / "absent.duckdb"))
    yield
    mp.undo()


@pytest.fixture(scope="session")
def demo_warehouse(tmp_path_factory) -> Path:
    """The demo warehouse, as `python -m etl build` writes it (shared: do not modify)."""
    from etl.load import build

    path = tmp_path_factory.mktemp("wh") / "demo.duckdb"
    build(path, demo=True, progress=quiet)
    return path


@pytest.fixture(scope="session")
def reference_warehouse(tmp_path_factory) -> Path:
    """Reference tables only (shared: do not modify): `python -m etl build --no-demo` without the embedded
    open data of data/default/, so that a test sees only the files it loads."""
    from etl.load import build

    path = tmp_path_factory.mktemp("wh") / "reference.duckdb"
    build(path, demo=False, progress=quiet, embedded=False)
    return path


@pytest.fixture
def warehouse(reference_warehouse, tmp_path) -> Path:
    """A fresh copy of the reference-only warehouse a test may load files into."""
    path = tmp_path / "warehouse.duckdb"
    shutil.copyfile(reference_warehouse, path)
    return path


@pytest.fixture()
def demo_copy(demo_warehouse, tmp_path) -> Path:
    """A private copy of the demo warehouse a test may modify."""
    dst = tmp_path / "copy.duckdb"
    shutil.copyfile(demo_warehouse, dst)
    return dst


@pytest.fixture()
def snap(demo_warehouse):
    from indicators.db import get_warehouse

    return get_warehouse(demo_warehouse).snapshot()


@pytest.fixture()
def use_warehouse(monkeypatch):
    """Point the dashboard (AppTest runs it in this process) at a warehouse file."""
    def _use(path: Path):
        monkeypatch.setenv("TI_WAREHOUSE", str(path))
    return _use


def query(warehouse: Path, sql: str, params: list | None = None) -> list[tuple]:
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        return con.execute(sql, params or []).fetchall()
    finally:
        con.close()


def run_cli(*args: str, cwd: Path = REPO_ROOT) -> subprocess.CompletedProcess:
    from etl_runner import named_warehouse

    named_warehouse(args)
    return subprocess.run([sys.executable, "-m", "etl", *map(str, args)], cwd=cwd, capture_output=True, text=True, timeout=120)
