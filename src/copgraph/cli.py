"""The `copgraph` command: build, validate, query, serve, stats."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from copgraph.build.pipeline import BuildError, build
from copgraph.core.config import Config
from copgraph.core.rdf_io import RdfInputError
from copgraph.query.executor import QueryRequest, describe_syntax_error, execute
from copgraph.store.export import ExportRefused, export
from copgraph.store.generations import StoreMissing, current_generation
from copgraph.store.reader import open_dataset

# Exit codes (as `copgraph validate` promises them).
OK, VIOLATIONS, BAD_INPUT = 0, 1, 2


def main(argv: list[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    config = Config.from_env(root=args.root, store=args.store, base=args.base)
    try:
        return args.run(args, config)
    except StoreMissing as error:
        print(f"copgraph: {error}", file=sys.stderr)
        return BAD_INPUT
    except ValueError as error:
        print(f"copgraph: {error}", file=sys.stderr)
        return BAD_INPUT


def _parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--root", type=Path, help="folder holding ontology/, data/, shapes/, queries/ (COPGRAPH_ROOT)")
    common.add_argument("--store", type=Path, help="store directory (COPGRAPH_STORE; default <root>/var/store)")
    common.add_argument("--base", help="canonical base IRI (COPGRAPH_BASE)")

    parser = argparse.ArgumentParser(prog="copgraph", description="Knowledge graph of FE communities of practice.")
    commands = parser.add_subparsers(required=True, metavar="COMMAND")

    p = commands.add_parser("build", parents=[common], help="validate the data and build the store")
    p.add_argument("--no-validate", action="store_true", help="skip SHACL validation (not for published builds)")
    p.add_argument("--discard-writes", action="store_true", help="drop maintainer writes not yet exported to data/")
    p.set_defaults(run=cmd_build)

    p = commands.add_parser("export", parents=[common], help="write graphs changed by maintainers back to data/")
    p.set_defaults(run=cmd_export)

    p = commands.add_parser("validate", parents=[common], help="validate RDF files against the shapes")
    p.add_argument("paths", nargs="+", type=Path, help="files or folders (Turtle, TriG, JSON-LD, N-Triples)")
    p.add_argument("--format", choices=["text", "json", "turtle"], default="text")
    p.set_defaults(run=cmd_validate)

    p = commands.add_parser("query", parents=[common], help="run a SPARQL query against the store")
    p.add_argument("query", nargs="?", help="the query text (or use -f, or standard input)")
    p.add_argument(
        "-f", "--file", type=Path, help="read the query from a file, e.g. queries/communities-per-platform.rq"
    )
    p.add_argument(
        "--format", choices=["table", "json", "csv", "tsv", "xml", "turtle", "ntriples", "jsonld"], default="table"
    )
    p.set_defaults(run=cmd_query)

    p = commands.add_parser("serve", parents=[common], help="serve the site and SPARQL endpoint")
    p.add_argument("--host", help="address to bind (COPGRAPH_HOST; default 127.0.0.1)")
    p.add_argument("--port", type=int, help="port (COPGRAPH_PORT; default 8080)")
    p.add_argument("--workers", type=int, help="worker processes (COPGRAPH_WORKERS; default 2)")
    p.add_argument("--dev", action="store_true", help="Flask's debug server instead of the production server")
    p.set_defaults(run=cmd_serve)

    p = commands.add_parser("stats", parents=[common], help="counts of what the store holds")
    p.set_defaults(run=cmd_stats)

    p = commands.add_parser("import-audit", parents=[common], help="import a sector-audit spreadsheet as observations")
    p.add_argument("file", type=Path, help="the spreadsheet, as CSV (see README: Importing an audit spreadsheet)")
    p.add_argument("--year", required=True, help="the audit year, e.g. 2021")
    p.add_argument("--mapping", help="other column names: 'name=Community Name,url=Website' or a .json file")
    p.add_argument("--source", help="the source URL of every row without its own source column")
    p.add_argument("--skip-bad", action="store_true", help="load the good rows and report the bad ones")
    p.add_argument("--dry-run", action="store_true", help="report what would be imported; write nothing")
    p.set_defaults(run=cmd_import_audit)

    p = commands.add_parser("diff", parents=[common], help="what changed between two audits, and what they published")
    p.add_argument("from_year", metavar="YEAR1")
    p.add_argument("to_year", metavar="YEAR2")
    p.add_argument("--format", choices=["text", "json"], default="text")
    p.set_defaults(run=cmd_diff)

    p = commands.add_parser("token", parents=[common], help="mint an expiring maintainer token for writes")
    p.add_argument("--expires-in", type=float, default=3600, help="seconds the token is valid (default 3600)")
    p.set_defaults(run=cmd_token)

    p = commands.add_parser("prune-pending", parents=[common], help="remove contributions reviewed over DAYS ago")
    p.add_argument(
        "--older-than",
        type=float,
        required=True,
        metavar="DAYS",
        help="days since approval or rejection; pending contributions are always kept",
    )
    p.set_defaults(run=cmd_prune_pending)
    p = commands.add_parser("backup", parents=[common], help="copy the served store into a new, empty directory")
    p.add_argument("directory", type=Path, help="where to write the backup (must not exist, or be empty)")
    p.set_defaults(run=cmd_backup)

    p = commands.add_parser("restore", parents=[common], help="serve a backup made by `copgraph backup`")
    p.add_argument("directory", type=Path, help="the backup's directory (left unchanged)")
    p.set_defaults(run=cmd_restore)
    return parser


def cmd_build(args: argparse.Namespace, config: Config) -> int:
    try:
        if config.remote_query_url:
            from copgraph.build.remote_load import load

            metadata, where = load(config, validate=not args.no_validate), config.remote_update_url
        else:
            metadata = build(config, validate=not args.no_validate, discard_writes=args.discard_writes)
            where = str(config.store_dir)
    except BuildError as error:
        print(f"copgraph build: refused: {error}", file=sys.stderr)
        if error.report is not None:
            print(error.report.to_text(), file=sys.stderr)
            return VIOLATIONS
        return BAD_INPUT
    except OSError as error:  # a full disk, an unwritable store directory: the served store is left as it was
        print(f"copgraph build: could not write the store: {error}. The served store is unchanged.", file=sys.stderr)
        return BAD_INPUT
    graphs = len(metadata.graphs)
    print(f"built {where}: {metadata.triples} triples in {graphs} graphs, version {metadata.version}")
    return OK


def cmd_export(args: argparse.Namespace, config: Config) -> int:
    if current_generation(config.store_dir) is None:
        raise StoreMissing(f"no store at {config.store_dir}: nothing to export")
    try:
        paths, refused = export(config), None
    except ExportRefused as error:
        paths, refused = error.written, error
    for path in paths:
        print(f"{'wrote' if path.exists() else 'removed'} {path.relative_to(config.root)}")
    print(f"{len(paths)} file(s) changed: review and commit them." if paths else "data/ is up to date.")
    if refused is not None:
        print(f"copgraph export: {refused}", file=sys.stderr)
        return VIOLATIONS
    return OK


def cmd_validate(args: argparse.Namespace, config: Config) -> int:
    from copgraph.build.shacl import Validator

    try:
        report = Validator(config.root).validate_files(args.paths)
    except RdfInputError as error:
        print(f"copgraph validate: cannot read {error}", file=sys.stderr)
        return BAD_INPUT
    output = {"text": report.to_text, "json": report.to_json, "turtle": report.to_turtle}[args.format]()
    print(output)
    return OK if report.conforms else VIOLATIONS


def cmd_query(args: argparse.Namespace, config: Config) -> int:
    if args.file:
        text = args.file.read_text(encoding="utf-8")
    elif args.query:
        text = args.query
    else:
        text = sys.stdin.read()
    request = QueryRequest(text, select_format=args.format, graph_format=args.format)
    try:
        outcome = execute(open_dataset(config), request, max_rows=sys.maxsize - 1)
    except SyntaxError as error:
        print(f"copgraph query: malformed query: {describe_syntax_error(error)}", file=sys.stderr)
        return BAD_INPUT
    sys.stdout.buffer.write(outcome.body)
    sys.stdout.flush()
    return OK


def cmd_serve(args: argparse.Namespace, config: Config) -> int:
    from dataclasses import replace

    config = replace(config, **{k: getattr(args, k) for k in ("host", "port", "workers") if getattr(args, k)})
    if not config.remote_query_url and current_generation(config.store_dir) is None:
        print(f"no store at {config.store_dir}: building it first", file=sys.stderr)
        if _build_in_child_process(config) != OK:
            return VIOLATIONS
    from copgraph.web.server import run

    run(config, dev=args.dev)
    return OK


def _build_in_child_process(config: Config) -> int:
    """`copgraph build` in a process of its own, never in the one that goes on to serve.

    RocksDB starts its background threads (flushes, compactions) once per process. The server forks its workers from
    this process; a fork copies RocksDB's state but not its threads, so a worker's first write would wait forever for a
    flush that no thread will run (issue 14). The serving process therefore never opens a store itself.
    """
    import os
    import subprocess

    environment = os.environ | {"COPGRAPH_ROOT": str(config.root), "COPGRAPH_STORE": str(config.store_dir)}
    environment["COPGRAPH_BASE"] = config.base
    return subprocess.run([sys.executable, "-m", "copgraph", "build"], env=environment, check=False).returncode


def cmd_prune_pending(args: argparse.Namespace, config: Config) -> int:
    from copgraph.contributions.prune import prune_pending

    removed = prune_pending(config, args.older_than)
    for path in removed:
        print(f"removed {path}")
    print(f"{len(removed)} file(s) removed from {config.pending_dir}")
    return OK


def cmd_stats(args: argparse.Namespace, config: Config) -> int:
    from copgraph.model.stats import dataset_counts, per_audit_year

    dataset = open_dataset(config)
    print(f"store: {config.store_dir} (version {dataset.version}, built {dataset.metadata.built_at})")
    for label, value in dataset_counts(dataset):
        print(f"{label.lower():<15}{value:>8}")
    print("\naudit year  published total  communities observed  themes observed")
    for row in per_audit_year(dataset):
        print(f"{row['year']:<12}{row['published_total'] or '-':>15}{row['observed']:>22}{row['themes_observed']:>17}")
    return OK


def cmd_import_audit(args: argparse.Namespace, config: Config) -> int:
    from copgraph.ingest.audit import apply_import, plan_import
    from copgraph.ingest.audit_sheet import AuditFileError, parse_mapping

    try:
        plan = plan_import(config.root, args.file, args.year, parse_mapping(args.mapping), args.source)
    except AuditFileError as error:
        print(f"copgraph import-audit: {error}", file=sys.stderr)
        return BAD_INPUT
    for problem in plan.bad_rows:
        print(f"bad {problem}", file=sys.stderr)
    for note in plan.notes:
        print(f"note: {note}", file=sys.stderr)
    if not plan.conforms:
        print("the observations do not conform to the shapes; nothing written:", file=sys.stderr)
        print(plan.report.to_text(), file=sys.stderr)
        return VIOLATIONS
    if plan.bad_rows and not args.skip_bad:
        print(f"{len(plan.bad_rows)} bad row(s): nothing written (fix them, or use --skip-bad)", file=sys.stderr)
        return VIOLATIONS
    where = plan.target.relative_to(config.root.resolve())
    if args.dry_run or not plan.observations:
        verb = "would write" if args.dry_run else "nothing to write:"
        print(f"{verb} {len(plan.observations)} observation(s) to {where}")
    else:
        apply_import(config, plan)
        print(f"wrote {len(plan.observations)} observation(s) to {where}")
    if plan.bad_rows:
        print(f"warning: {len(plan.bad_rows)} bad row(s) skipped", file=sys.stderr)
    return OK


def cmd_diff(args: argparse.Namespace, config: Config) -> int:
    from copgraph.model.audit_changes import compare

    comparison = compare(open_dataset(config), config.root, args.from_year, args.to_year)
    print(comparison.to_json() if args.format == "json" else comparison.to_text())
    return OK


def cmd_token(args: argparse.Namespace, config: Config) -> int:
    """Print a bearer token signed with COPGRAPH_MAINTAINER_TOKEN that the server accepts until it expires."""
    from copgraph.web.http.auth import mint_token

    print(mint_token(config.maintainer_token, args.expires_in))
    return OK


def cmd_backup(args: argparse.Namespace, config: Config) -> int:
    from copgraph.store.backup import BackupError, backup

    try:
        metadata = backup(config.store_dir, args.directory)
    except BackupError as error:
        print(f"copgraph backup: refused: {error}", file=sys.stderr)
        return BAD_INPUT
    print(f"backed up {config.store_dir} to {args.directory}: version {metadata.version}, {metadata.triples} triples")
    return OK


def cmd_restore(args: argparse.Namespace, config: Config) -> int:
    from copgraph.store.backup import BackupError, restore

    try:
        metadata = restore(config.store_dir, args.directory)
    except BackupError as error:
        print(f"copgraph restore: refused, nothing changed: {error}", file=sys.stderr)
        return BAD_INPUT
    print(f"restored {args.directory} into {config.store_dir}: now serving version {metadata.version}")
    return OK


if __name__ == "__main__":
    sys.exit(main())
