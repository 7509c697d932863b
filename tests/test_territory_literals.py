"""No territory code or name is written in code: the perimeter module and the reference data hold them all."""
from __future__ import annotations

import csv
import io
import re
import tokenize
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# The two modules allowed to name a territory (the default TI, the France code), and what is not product code.
ALLOWED = {ROOT / "etl" / "perimeter.py", ROOT / "indicators" / "perimeter.py"}
SKIPPED_DIRS = {"tests", "bench", "scripts", ".git", "data"}
# A line may carry this comment when a code is part of a file format or a nomenclature rule, not a choice
# of territory (Corsican postcodes, the France level of a published layout).
MARKER = "# territory-literal: format"


def _product_files() -> list[Path]:
    return [p for p in ROOT.rglob("*.py")
            if p not in ALLOWED and not (set(p.relative_to(ROOT).parts[:-1]) & SKIPPED_DIRS)]


def _strings(path: Path) -> list[tuple[int, str]]:
    """Every string literal of a file (f-string parts included), with its line."""
    out = []
    for tok in tokenize.generate_tokens(io.StringIO(path.read_text(encoding="utf-8")).readline):
        if tok.type == tokenize.STRING:
            out.append((tok.start[0], tok.string))
        elif tok.type == getattr(tokenize, "FSTRING_MIDDLE", -1):
            out.append((tok.start[0], tok.string))
    return out


def _reference_names() -> tuple[set[str], set[str]]:
    """Territory codes (less the Sirene workforce band codes, "31" is also a band) and the compound names of
    départements, régions and TI (a one-word name such as « Somme » or « Var » is also a French word)."""
    ref = ROOT / "data" / "reference"
    with open(ref / "territoires.csv", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    with open(ref / "tranches_effectifs.csv", encoding="utf-8") as f:
        bands = {r["code"] for r in csv.DictReader(f)}
    with open(ref / "territoires_industrie.csv", encoding="utf-8") as f:
        tis = [r["nom"] for r in csv.DictReader(f)]
    codes = {r["code"] for r in rows} - bands
    names = {n for n in [r["nom"] for r in rows if r["niveau"] in ("departement", "region")] + tis
             if re.search(r"[- ]", n)}
    return codes, names


def _violations(paths: list[Path]) -> list[str]:
    codes, names = _reference_names()
    # A literal that IS a territory code ("05", '93', "FR", "2A") or holds a département/région name.
    name_re = re.compile("|".join(re.escape(n) for n in sorted(names, key=len, reverse=True)))
    # ... or names one inside a file name or key (« territoire_industrie_05_comite.pptx »).
    in_name_re = re.compile(r"_(%s)[_.]" % "|".join(re.escape(c) for c in sorted(codes, key=len, reverse=True)))
    found = []
    for path in paths:
        where = path.relative_to(ROOT) if path.is_relative_to(ROOT) else path.name
        lines = path.read_text(encoding="utf-8").splitlines()
        for line, text in _strings(path):
            body = text.lstrip("rbfuRBFU")[1:-1].strip("'\"") if text[:1] in "'\"rbfuRBFU" else text
            if MARKER in lines[line - 1]:
                continue
            if body in codes:
                found.append(f"{where}:{line}: code {body!r}")
            elif in_name_re.search(body):
                found.append(f"{where}:{line}: code {in_name_re.search(body).group(1)!r} dans {body!r}")
            m = name_re.search(text)
            if m:
                found.append(f"{where}:{line}: nom « {m.group(0)} »")
    return found


def test_no_territory_code_or_name_in_code():
    found = _violations(_product_files())
    assert not found, "codes ou noms de territoire écrits dans le code :\n" + "\n".join(found)


def test_the_check_can_fail(tmp_path):
    """The scan sees a literal département code and a name (a check that cannot fail proves nothing)."""
    probe = tmp_path / "probe.py"
    probe.write_text('DEP = "05"\nREG = \'93\'\nlabel = f"Limite des {x} Hautes-Alpes"\nok = "0,5"\n'
                     'out = f"territoire_industrie_05_{page}.pptx"\nok = "2024_05"\n', encoding="utf-8")
    found = _violations([probe])
    said = [f.split(": ", 1)[1] for f in found]
    assert said[:3] == ["code '05'", "code '93'", "nom « Hautes-Alpes »"] and len(said) == 4
    assert said[3].startswith("code '05' dans 'territoire_industrie_05_")     # not the date « 2024_05 »
