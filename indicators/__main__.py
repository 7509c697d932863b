"""Command line of the read side (messages in French).

    python -m indicators list
    python -m indicators show NAME [--niveau ...] [--annee YYYY] [--warehouse PATH] [--format csv|table]
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from . import query
from .catalog import CATALOG
from .db import WarehouseMissing, get_warehouse
from .export.tables import to_csv_text


def _list() -> int:
    print(f"{'nom':<42} {'unité':<14} {'titre'}")
    for ind in CATALOG.values():
        print(f"{ind.name:<42} {ind.unite:<14} {ind.titre}")
        print(f"{'':<42} {'':<14} source : {ind.source_hint}")
    return 0


def _show(args) -> int:
    snap = get_warehouse(args.warehouse).snapshot()
    df = query.get(snap, args.name, niveau=args.niveau, annee=args.annee, definition=args.definition)
    if args.format == "csv":
        sys.stdout.write(to_csv_text(df))
    else:
        import pandas as pd
        with pd.option_context("display.max_rows", None, "display.width", 200, "display.max_colwidth", 60):
            print(df.to_string(index=False))
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m indicators", description="Indicateurs de l'entrepôt")
    sub = parser.add_subparsers(dest="cmd", required=True)
    sub.add_parser("list", help="lister les indicateurs")
    p = sub.add_parser("show", help="afficher un indicateur")
    p.add_argument("name")
    p.add_argument("--niveau", default="epci", choices=query.NIVEAUX)
    p.add_argument("--annee", type=int)
    p.add_argument("--definition", default="coeur", choices=["coeur", "elargi"], help="périmètre des filières")
    p.add_argument("--warehouse", type=Path)
    p.add_argument("--format", default="table", choices=["table", "csv"])
    args = parser.parse_args(argv)
    try:
        return _list() if args.cmd == "list" else _show(args)
    except WarehouseMissing as exc:
        print(f"{exc} : lancez d'abord « python -m etl build ».", file=sys.stderr)
        return 1
    except (KeyError, ValueError) as exc:
        print(str(exc).strip("'\""), file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
