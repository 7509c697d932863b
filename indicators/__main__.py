"""Command line of the read side (messages in French).

    python -m indicators list
    python -m indicators perimetre [--format csv|table] [--warehouse PATH]
    python -m indicators show NAME [--niveau ...] [--annee YYYY] [--tous] [--warehouse PATH] [--format csv|table]
    python -m indicators show plan_actions|plan_binomes [--warehouse PATH] [--format csv|table]
    python -m indicators deck  --out FILE.pptx [--epci SIREN ...] [--annee YYYY] [--template FILE.pptx] [--warehouse PATH]
    python -m indicators annex --out FILE.xlsx [--epci SIREN ...] [--annee YYYY] [--warehouse PATH]
    python -m indicators hash-password      (line of .streamlit/secrets.toml for the import page)
    python -m indicators plan-export --out FILE.xlsx|FILE.csv [--warehouse PATH]
    python -m indicators comite creer --nom NOM [--date AAAA-MM-JJ] [--par NOM] [--warehouse PATH]
    python -m indicators comite liste [--warehouse PATH]
    python -m indicators comite ecarts [--depuis NOM] [--format csv|table] [--warehouse PATH]
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
    if args.name in ("plan_actions", "plan_binomes"):  # the action plan (not a catalogue indicator)
        from . import plan, suivi
        df = plan.for_people(suivi.plan_actions(snap)) if args.name == "plan_actions" else plan.binomes_for_people(suivi.binomes(snap))
    else:
        codes = None if args.tous or args.niveau not in query.NIVEAUX else query.perimeter(snap, args.niveau)
        df = query.get(snap, args.name, niveau=args.niveau, annee=args.annee, definition=args.definition, territoires=codes)
    if args.format == "csv":
        sys.stdout.write(to_csv_text(df))
    else:
        import pandas as pd
        with pd.option_context("display.max_rows", None, "display.width", 200, "display.max_colwidth", 60):
            print(df.to_string(index=False))
    return 0


def _perimeter(args) -> int:
    from . import perimeter

    snap = get_warehouse(args.warehouse).snapshot()
    per = perimeter.load(snap)
    df = per.rows()
    if args.format == "csv":
        sys.stdout.write(to_csv_text(df))
    else:
        import pandas as pd
        print(per.label)
        with pd.option_context("display.max_rows", None, "display.width", 200):
            print(df.to_string(index=False))
    return 0


def _selection(args):
    from .export.slides import Selection

    return Selection(epcis=tuple(args.epci) if args.epci else None, annee=args.annee, focus=args.territoire,
                     annee_base=args.annee_base, filiere_mesure=args.filiere, definition=args.definition)


def _write(out: Path, data: bytes) -> None:
    """Write next to the target then rename: an interrupted export never leaves half a file."""
    out = Path(out)
    if out.parent and not out.parent.exists():
        raise ValueError(f"dossier introuvable : {out.parent}")
    tmp = out.with_name(out.name + ".partiel")
    tmp.write_bytes(data)
    tmp.replace(out)


def _export(args) -> int:
    import time

    snap = get_warehouse(args.warehouse).snapshot()
    t0 = time.perf_counter()
    if args.cmd == "deck":
        from .export.deck import build_deck

        data = build_deck(snap, _selection(args), template=args.template)
        what = "présentation"
    else:
        from .export.annex import build_annex

        data = build_annex(snap, _selection(args))
        what = "annexe"
    _write(args.out, data)
    print(f"{what.capitalize()} écrite : {args.out} ({len(data) // 1024} Ko, {time.perf_counter() - t0:.1f} s)")
    return 0


def _export_args(p, suffix: str) -> None:
    p.add_argument("--out", type=Path, required=True, help=f"fichier à écrire ({suffix})")
    p.add_argument("--epci", nargs="+", metavar="SIREN", help="EPCI retenus (SIREN) ; par défaut les EPCI membres du Territoire d'industrie")
    p.add_argument("--annee", type=int, help="année des indicateurs (à défaut, la dernière disponible avant)")
    p.add_argument("--annee-base", type=int, dest="annee_base", help="année de comparaison du chiffre d'affaires")
    p.add_argument("--territoire", help="territoire des diapositives à un seul territoire : identifiant du TI (ti-XXXX) ou SIREN d'EPCI")
    p.add_argument("--filiere", default="etablissements_filiere",
                   choices=["etablissements_filiere", "effectifs_filiere", "ca_filiere"], help="mesure des filières")
    p.add_argument("--definition", default="coeur", choices=["coeur", "elargi"], help="périmètre des filières")
    p.add_argument("--warehouse", type=Path)


def _hash_password() -> int:
    """Ask the password twice (not echoed) and print the [admin] section of .streamlit/secrets.toml."""
    import getpass

    from . import auth

    if sys.stdin.isatty():
        first = getpass.getpass("Mot de passe administrateur : ")
        second = getpass.getpass("Confirmation : ")
    else:  # piped: the first two lines
        lines = sys.stdin.read().splitlines() + ["", ""]
        first, second = lines[0], lines[1] if lines[1] else lines[0]
    if first != second:
        print("Les deux saisies diffèrent : rien n'est écrit.", file=sys.stderr)
        return 2
    weak = auth.check_strength(first)
    if weak:
        print(f"{weak.capitalize()}.", file=sys.stderr)
        return 2
    print("# À copier dans .streamlit/secrets.toml (fichier à ne pas versionner) :")
    print(auth.secrets_snippet(auth.hash_password(first)), end="")
    return 0


def _plan_export(args) -> int:
    from . import plan, suivi

    snap = get_warehouse(args.warehouse).snapshot()
    actions = suivi.plan_actions(snap)
    suffix = Path(args.out).suffix.lower()
    if suffix not in (".xlsx", ".csv"):
        raise ValueError(f"{Path(args.out).name} : extension .xlsx ou .csv attendue")
    data = plan.to_xlsx(actions, suivi.binomes(snap), suivi.producer(snap)) if suffix == ".xlsx" else plan.to_csv(actions)
    _write(args.out, data)
    print(f"Plan d'actions exporté : {args.out} ({len(actions)} actions). Pour réimporter après modification : "
          f"python -m etl check {args.out} puis python -m etl load {args.out} --par VOTRE_NOM")
    return 0


def _comite(args) -> int:
    import pandas as pd

    from etl.load import system_user

    from . import suivi
    from .content import registry

    snap = get_warehouse(args.warehouse).snapshot()
    figures = lambda: registry.deck_figures(snap)  # noqa: E731 (computed once an edition is known to exist)
    if args.action == "creer":
        ed = suivi.create_edition(snap, args.nom, args.date, args.par or system_user(), figures)
        print(f"Édition « {ed['nom']} » créée (comité du {ed['date_comite'][8:10]}/{ed['date_comite'][5:7]}/"
              f"{ed['date_comite'][:4]}) : {len(ed['plan']['actions'])} actions et {len(ed['chiffres'])} chiffres de la "
              f"présentation figés, version des données {str(ed['version_donnees'])[:8]}. Une édition est immuable.")
        return 0
    if args.action == "liste":
        eds = suivi.editions(snap)
        if not eds:
            print("Aucune édition de comité. Créez-en une : python -m indicators comite creer --nom NOM")
            return 0
        print(f"{'nom':<30} {'comité':<10}  {'créée le':<19} {'par':<24} {'actions':>7} {'chiffres':>8}  données")
        for e in eds:
            d = e["date_comite"]
            print(f"{e['nom'][:30]:<30} {d[8:10]}/{d[5:7]}/{d[:4]}  {e['cree_le'].replace('T', ' '):<19} {e['par'][:24]:<24} "
                  f"{e['actions']:>7} {e['chiffres']:>8}  {str(e['version_donnees'])[:8]}")
        return 0
    e = suivi.ecarts(snap, args.depuis, figures)
    if e is None:
        print(suivi.summary(None) + " Créez-en une : python -m indicators comite creer --nom NOM")
        return 0
    table = suivi.ecarts_table(e, suivi.labels(snap))
    if args.format == "csv":
        sys.stdout.write(to_csv_text(table))
        return 0
    _, whole, _ = suivi.whole_territory(snap)
    print(suivi.summary(e, whole))
    print(f"Données : version {str(e.version_avant)[:8]} au comité, {str(e.version_apres)[:8]} aujourd'hui.")
    if table.empty:
        return 0
    with pd.option_context("display.max_rows", None, "display.width", 220, "display.max_colwidth", 50):
        print(table.to_string(index=False))
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m indicators", description="Indicateurs de l'entrepôt")
    sub = parser.add_subparsers(dest="cmd", required=True)
    sub.add_parser("list", help="lister les indicateurs")
    p = sub.add_parser("show", help="afficher un indicateur")
    p.add_argument("name")
    p.add_argument("--niveau", default="epci", choices=query.NIVEAUX + ["site"], help="« site » : indicateurs du foncier économique")
    p.add_argument("--annee", type=int)
    p.add_argument("--definition", default="coeur", choices=["coeur", "elargi"], help="périmètre des filières")
    p.add_argument("--tous", action="store_true",
                   help="tous les territoires de l'entrepôt à ce niveau (défaut : le Territoire d'industrie, ses membres "
                        "et ses références)")
    p.add_argument("--warehouse", type=Path)
    p.add_argument("--format", default="table", choices=["table", "csv"])
    p = sub.add_parser("deck", help="présentation PowerPoint du comité (graphiques natifs modifiables)")
    _export_args(p, ".pptx")
    p.add_argument("--template", type=Path, help="modèle PowerPoint (.pptx) de l'Agence : dispositions et polices")
    p = sub.add_parser("annex", help="annexe Excel : les chiffres de chaque diapositive")
    _export_args(p, ".xlsx")
    p = sub.add_parser("perimetre", help="le périmètre de l'entrepôt : membres, références, voisins")
    p.add_argument("--warehouse", type=Path)
    p.add_argument("--format", default="table", choices=["table", "csv"])
    sub.add_parser("hash-password", help="empreinte du mot de passe administrateur (page « Importer des données »)")
    p = sub.add_parser("plan-export", help="exporter le plan d'actions tel qu'il est suivi (xlsx ou csv, réimportable)")
    p.add_argument("--out", type=Path, required=True)
    p.add_argument("--warehouse", type=Path)
    p = sub.add_parser("comite", help="éditions de comité : créer, lister, écarts depuis une édition")
    csub = p.add_subparsers(dest="action", required=True)
    c = csub.add_parser("creer", help="figer le plan et les chiffres de la présentation (édition immuable)")
    c.add_argument("--nom", required=True)
    c.add_argument("--date", help="date du comité (AAAA-MM-JJ ; défaut : aujourd'hui)")
    c.add_argument("--par", help="auteur (défaut : l'utilisateur du système)")
    c.add_argument("--warehouse", type=Path)
    c = csub.add_parser("liste", help="lister les éditions")
    c.add_argument("--warehouse", type=Path)
    c = csub.add_parser("ecarts", help="ce qui a changé depuis une édition (défaut : la dernière)")
    c.add_argument("--depuis", help="nom de l'édition")
    c.add_argument("--format", default="table", choices=["table", "csv"])
    c.add_argument("--warehouse", type=Path)
    args = parser.parse_args(argv)
    if args.cmd == "hash-password":
        return _hash_password()
    try:
        if args.cmd in ("deck", "annex"):
            return _export(args)
        if args.cmd == "comite":
            return _comite(args)
        if args.cmd == "plan-export":
            return _plan_export(args)
        if args.cmd == "perimetre":
            return _perimeter(args)
        return _list() if args.cmd == "list" else _show(args)
    except WarehouseMissing as exc:
        print(f"{exc} : lancez d'abord « python -m etl build ».", file=sys.stderr)
        return 1
    except (KeyError, ValueError, OSError) as exc:   # PlanError is a ValueError: French message
        print(str(exc).strip("'\""), file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
