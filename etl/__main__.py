"""Command line of the ETL (messages in French).

    python -m etl build  [--territoire ti-XXXX|FILE.csv] [--warehouse PATH] [--no-demo]
    python -m etl territoires
    python -m etl load   FILE... [--warehouse PATH] [--kind KIND] [--par NOM]
    python -m etl check  FILE... [--kind KIND] [--warehouse PATH]
    python -m etl backup --out FILE [--warehouse PATH]      (the plan store: history, editions)
    python -m etl restore FILE [--warehouse PATH]
    python -m etl status [--warehouse PATH]
    python -m etl fetch  [--dest data/raw] [--only NAME...]
    python -m etl template [--output data/modele_import_chambre.xlsx]
    python -m etl template --foncier [--epci SIREN] [--output DOSSIER]
"""
from __future__ import annotations

import argparse
import contextlib
import os
import sys
import traceback
from pathlib import Path

from . import load as loader
from .validate import LoadError, format_report


def _print_reports(reports) -> bool:
    ok = True
    for r in reports:
        print(f"{r.fichier} : {r.statut}" + (f" ({r.kind}, {r.lignes_lues} lignes lues)" if r.kind else ""))
        hard = [p for p in r.problems if p.grave]
        soft = [p for p in r.problems if not p.grave]
        if hard:
            ok = False
            print("  Erreurs :\n" + format_report(hard).replace("- ", "    - "))
        if soft:
            print("  Remarques :\n" + format_report(soft).replace("- ", "    - "))
        if r.plan is not None and r.statut == "vérifié":
            from .plan_store import describe

            changes = [c for c in r.changes if not c.conflit]
            conflicts = [c for c in r.changes if c.conflit]
            print(f"  Changements du plan d'actions à l'import : {len(changes)}" + ("" if changes else " (aucun)"))
            for c in changes:
                print("    - " + describe(c))
            if conflicts:
                print(f"  Conflits, non appliqués (modifiés en ligne depuis l'export du classeur) : {len(conflicts)}")
                for c in conflicts:
                    print("    - " + describe(c))
    return ok


def _status(warehouse: Path) -> int:
    import duckdb

    if not warehouse.exists():
        print(f"Aucun entrepôt à {warehouse} : lancez « python -m etl build ».", file=sys.stderr)
        return 1
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        built = con.execute("SELECT valeur FROM meta WHERE cle = 'construit_le'").fetchall()
        built = built[0] if built else None
        print(f"Entrepôt : {warehouse} (construit le {built[0] if built else '?'})")
        rows = con.execute("""
            SELECT kind, fichier, sha256, millesime, annees, lignes_lues, lignes_gardees, lignes_rejetees,
                   strftime(charge_le, '%d/%m/%Y %H:%M'), demo, source_id
            FROM sources ORDER BY source_id""").fetchall()
        print(f"{'type':<17} {'fichier':<40} {'sha256':<12} {'millésime':<9} {'années':<10} {'lues':>8} {'gardées':>8} {'rejetées':>8}  chargé le")
        for kind, f, sha, mil, ann, lu, ga, rej, at, demo, sid in rows:
            label = f + (" (démo)" if demo else "")
            print(f"{kind:<17} {label[:40]:<40} {sha[:12]:<12} {mil or '':<9} {ann or '':<10} {lu or 0:>8} {ga or 0:>8} {rej or 0:>8}  {at}")
            for ligne, colonne, message in con.execute(
                    "SELECT ligne, colonne, message FROM problemes WHERE source_id = ? AND NOT grave", [sid]).fetchall():
                print(f"    remarque : {message}")
    finally:
        con.close()
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m etl", description="Chargement de l'entrepôt d'indicateurs")
    sub = parser.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("build", help="reconstruire l'entrepôt (référentiels + données de démonstration)")
    p.add_argument("--warehouse", type=Path, default=loader.DEFAULT_WAREHOUSE)
    p.add_argument("--no-demo", action="store_true", help="référentiels seulement, sans données de démonstration")
    p.add_argument("--territoire", default=None,
                   help="identifiant ANCT du Territoire d'industrie (ti-XXXX, défaut : le territoire par défaut) "
                        "ou fichier CSV de SIREN d'EPCI (périmètre sur mesure)")
    p.add_argument("--toute-la-france", dest="national", action="store_true",
                   help="garder toutes les communes de France (analyses nationales) ; les pages montrent toujours le "
                        "Territoire d'industrie et ses références")
    sub.add_parser("territoires", help="liste des 183 Territoires d'industrie 2023-2027 (identifiant, nom, membres)")
    p = sub.add_parser("load", help="charger des fichiers (tout ou rien)")
    p.add_argument("files", nargs="+", type=Path)
    p.add_argument("--warehouse", type=Path, default=loader.DEFAULT_WAREHOUSE)
    p.add_argument("--kind", help="type de source si la détection automatique ne suffit pas")
    p.add_argument("--par", help="auteur des changements du plan d'actions (défaut : l'utilisateur du système)")
    p = sub.add_parser("check", help="contrôler des fichiers sans rien charger")
    p.add_argument("files", nargs="+", type=Path)
    p.add_argument("--kind")
    p.add_argument("--warehouse", type=Path, default=loader.DEFAULT_WAREHOUSE,
                   help="entrepôt dont le périmètre sert au contrôle (s'il existe) et dont le plan d'actions "
                        "sert de comparaison")
    p = sub.add_parser("backup", help="sauvegarder le suivi du plan d'actions (historique, éditions de comité)")
    p.add_argument("--out", type=Path, required=True)
    p.add_argument("--warehouse", type=Path, default=loader.DEFAULT_WAREHOUSE)
    p = sub.add_parser("restore", help="restaurer le suivi du plan d'actions depuis une sauvegarde")
    p.add_argument("file", type=Path)
    p.add_argument("--warehouse", type=Path, default=loader.DEFAULT_WAREHOUSE)
    p = sub.add_parser("status", help="sources présentes dans l'entrepôt")
    p.add_argument("--warehouse", type=Path, default=loader.DEFAULT_WAREHOUSE)
    p = sub.add_parser("fetch", help="télécharger les fichiers open data officiels du périmètre (reprise possible)")
    p.add_argument("--dest", type=Path, default=None, help="dossier de destination (défaut : data/raw)")
    p.add_argument("--only", nargs="+", help="seulement ces sources (base_comparateur, populations_legales, urssaf, sirene_DD)")
    p = sub.add_parser("template", help="écrire le modèle d'import des chambres consulaires (xlsx)")
    p.add_argument("--output", type=Path, default=None)
    p.add_argument("--foncier", action="store_true",
                   help="inventaire vide des zones d'activités au standard CNIG « Sites économiques » (dossier de CSV)")
    p.add_argument("--epci", help="SIREN de l'EPCI de l'inventaire (avec --foncier)")
    args = parser.parse_args(argv)
    try:
        if args.cmd == "build":
            from .perimeter import resolve

            loader.build(args.warehouse, demo=not args.no_demo, perimeter=resolve(args.territoire, national=args.national))
            return 0
        if args.cmd == "territoires":
            from .perimeter import list_tis

            for code, nom, n in list_tis():
                print(f"{code}\t{nom}\t{n} membre{'s' if n > 1 else ''}")
            return 0
        if args.cmd in ("backup", "restore"):
            from . import plan_store

            store = plan_store.path_for(args.warehouse)
            if args.cmd == "backup":
                if not store.exists():
                    print(f"Aucun suivi du plan d'actions à sauvegarder ({store.name} absent).", file=sys.stderr)
                    return 1
                print(f"Sauvegarde écrite : {plan_store.backup(store, args.out)}")
                return 0
            try:
                counts = plan_store.restore(store, args.file)
            except plan_store.PlanError as exc:
                print(f"Restauration refusée, le suivi n'a pas été modifié : {exc}", file=sys.stderr)
                return 2
            print(f"Suivi restauré depuis {args.file.name} : {counts['actions']} action(s), "
                  f"{counts['historique']} modification(s), {counts['editions']} édition(s) de comité.")
            return 0
        if args.cmd == "load":
            reports = loader.load(args.files, args.warehouse, args.kind, par=args.par)
            _print_reports(reports)
            print("Entrepôt mis à jour." if any(r.statut == "chargé" for r in reports) else "Entrepôt inchangé.")
            return 0
        if args.cmd == "fetch":
            from . import fetch

            files = fetch.fetch(args.dest or fetch.DEFAULT_DEST, args.only)
            print("Téléchargements terminés. Pour les charger : python -m etl load " + " ".join(str(f) for f in files))
            return 0
        if args.cmd == "template" and args.foncier:
            from . import template_foncier

            try:
                print(f"Inventaire vide écrit : {template_foncier.write(args.output, args.epci)}")
            except ValueError as exc:
                print(str(exc), file=sys.stderr)
                return 2
            return 0
        if args.cmd == "template":
            from . import template

            print(f"Modèle écrit : {template.write(args.output or template.DEFAULT_PATH)}")
            return 0
        if args.cmd == "check":
            return 0 if _print_reports(loader.check(args.files, args.kind, args.warehouse)) else 2
        return _status(args.warehouse)
    except LoadError as exc:
        print("Fichier refusé, l'entrepôt n'a pas été modifié :", file=sys.stderr)
        print(format_report(exc.problems), file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("Interrompu : l'entrepôt n'a pas été modifié.", file=sys.stderr)
        return 130
    except MemoryError:
        print("Mémoire insuffisante pour traiter ce fichier. Rien n'a été écrit à moitié : "
              "l'entrepôt est resté dans son état précédent.", file=sys.stderr)
        return 3
    except Exception as exc:  # no traceback ever reaches the user; ETL_DEBUG=1 shows it
        return _unexpected(exc)


def _unexpected(exc: BaseException) -> int:
    detail = (str(exc).strip().splitlines() or [""])[0][:300]
    if isinstance(exc, OSError) and exc.strerror:
        where = f" ({exc.filename})" if exc.filename else ""
        print(f"Erreur d'accès à un fichier : {exc.strerror}{where}.", file=sys.stderr)
    else:
        print(f"Erreur inattendue ({type(exc).__name__}){' : ' + detail if detail else ''}.", file=sys.stderr)
    print("Rien n'a été écrit à moitié : l'entrepôt est soit inchangé, soit entièrement mis à jour "
          "(« python -m etl status » le montre). Relancez avec ETL_DEBUG=1 pour le détail technique.", file=sys.stderr)
    if os.environ.get("ETL_DEBUG"):
        traceback.print_exc()
    return 3


def run(argv: list[str] | None = None) -> int:
    """`main` with outputs that never fail on a console unable to print « », é or €."""
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(AttributeError, ValueError):
            stream.reconfigure(errors="replace")
    try:
        return main(argv)
    except BrokenPipeError:
        return 1


if __name__ == "__main__":
    sys.exit(run())
