#!/usr/bin/env python3
"""Write the embedded default data: an extract of INSEE's national « base comparateur de territoires ».

    python scripts/build_default_data.py [--source FILE] [--territoire ti-XXXX] [--output FILE]

The extract (data/default/base_cc_comparateur_2022_extrait.csv) keeps INSEE's layout (`;`, CRLF, ASCII,
secret = empty cell, the cells of the national file copied as they are) with:
- one row per line of the national file whose commune (mapped to the current COG through the reference's
  former codes) is held by the warehouse of the default perimeter (`etl.perimeter.resolve()`:
  the TI's communes, its reference départements, neighbours and the other TI of its régions);
- one row per région and one for France with their totals over ALL the communes of the national file,
  computed by the loader itself (etl/france.py: a région only when the file covers it, `partiel` when a
  commune's value is secret).
Two columns say which row is which: NIVGEO (COM, REG or FRANCE; CODGEO is then the région code or FR)
and VARS_PARTIELLES (the variables whose total is partial, space-separated). Only the variables the
dashboard reads are kept. `python -m etl build` loads this file as real open data.

Source: INSEE, base comparateur de territoires, édition 2022 (COG 2021), Licence Ouverte 2.0 (Etalab).
Default source path: ../shared/real/insee_base_cc_comparateur_2022edition_france.csv from the repository root.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import duckdb
import pandas as pd

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))

from etl import france, perimeter  # noqa: E402
from etl.sources import base_comparateur  # noqa: E402

DEFAULT_SOURCE = REPO_ROOT / ".." / "shared" / "real" / "insee_base_cc_comparateur_2022edition_france.csv"
DEFAULT_OUTPUT = REPO_ROOT / "data" / "default" / "base_cc_comparateur_2022_extrait.csv"
LEVELS = {"region": "REG", "france": "FRANCE"}


def _number(v: float) -> str:
    v = round(float(v), 6)
    return str(int(v)) if v.is_integer() else repr(v)


def build(source: Path, territoire: str | None = None) -> pd.DataFrame:
    p = perimeter.resolve(territoire)
    raw = pd.read_csv(source, sep=";", dtype=str, keep_default_na=False, encoding="ascii")
    header = list(raw.columns)
    variables, _ = base_comparateur._variables(header)
    variables = variables.dropna(subset=["annee"])
    keep = ["CODGEO", *variables.variable]

    con = duckdb.connect()
    try:
        france.create_tables(con)
        codes = dict(con.execute("SELECT code, commune FROM fr_codes").fetchall())
        # The région and France totals, as the loader computes them from the national file.
        base_comparateur.stage(con, source)
        totals = con.execute("""SELECT niveau, territoire_code, annee, mesure, naf_niveau, naf_code, valeur, statut
                                FROM stg_facts WHERE niveau IN ('region', 'france')""").fetchdf()
    finally:
        con.close()

    rows = raw[raw["CODGEO"].map(codes).isin(p.communes)][keep].copy()
    rows.insert(0, "NIVGEO", "COM")
    rows["VARS_PARTIELLES"] = ""

    key = ["mesure", "annee", "naf_niveau", "naf_code"]
    totals = totals.merge(variables[["variable", *key]].astype({"annee": "int64"}), on=key)
    out = []
    for (niveau, code), t in totals.groupby(["niveau", "territoire_code"], sort=False):
        row = {"NIVGEO": LEVELS[niveau], "CODGEO": code}
        for r in t.itertuples():
            row[r.variable] = "" if r.statut == "secret" else _number(r.valeur)
        row["VARS_PARTIELLES"] = " ".join(v for v in keep if v in set(t[t.statut == "partiel"].variable))
        out.append(row)
    published = pd.DataFrame(out, columns=rows.columns).fillna("")
    order = {"REG": 0, "FRANCE": 1}
    published = published.sort_values(["NIVGEO", "CODGEO"], key=lambda s: s.map(order) if s.name == "NIVGEO" else s)
    return pd.concat([rows.sort_values("CODGEO"), published], ignore_index=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--source", type=Path, default=DEFAULT_SOURCE, help="national base comparateur (INSEE CSV)")
    parser.add_argument("--territoire", default=None, help="TI id of the default perimeter (default: etl.perimeter.DEFAULT_TI)")
    parser.add_argument("--output", type=Path, default=DEFAULT_OUTPUT)
    args = parser.parse_args(argv)
    if not args.source.exists():
        print(f"fichier source introuvable : {args.source}", file=sys.stderr)
        return 2
    df = build(args.source, args.territoire)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    df.to_csv(args.output, sep=";", index=False, encoding="ascii", lineterminator="\r\n")
    n = df["NIVGEO"].value_counts()
    print(f"wrote {args.output.relative_to(REPO_ROOT) if args.output.is_relative_to(REPO_ROOT) else args.output}: "
          f"{n.get('COM', 0)} commune rows, {n.get('REG', 0)} régions, {n.get('FRANCE', 0)} France "
          f"({args.output.stat().st_size / 1e3:.0f} kB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
