"""Shared fixtures: real DuckDB warehouses built once per test session."""
from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SHARED_REAL = ROOT.parent / "shared" / "real"


def _quiet(_msg: str) -> None:
    pass


@pytest.fixture(scope="session")
def demo_warehouse(tmp_path_factory) -> Path:
    """The demo warehouse, as `python -m etl build` writes it."""
    from etl.load import build

    path = tmp_path_factory.mktemp("wh") / "demo.duckdb"
    build(path, demo=True, progress=_quiet)
    return path


@pytest.fixture(scope="session")
def reference_warehouse(tmp_path_factory) -> Path:
    """Reference data only (`python -m etl build --no-demo`)."""
    from etl.load import build

    path = tmp_path_factory.mktemp("wh") / "reference.duckdb"
    build(path, demo=False, progress=_quiet)
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


def shared_real(name: str) -> Path:
    path = SHARED_REAL / name
    if not path.exists():
        pytest.skip(f"fichiers réels absents ({SHARED_REAL} introuvable) : test sauté")
    return path


def in_ci() -> bool:
    return os.environ.get("CI", "").lower() in ("1", "true", "yes")
