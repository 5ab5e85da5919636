"""The `commons` command line."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from commons_assets.settings import DATA_ROOT_ENV

# Evaluation corpora live beside a checkout, not in it (see ../shared/corpora/MANIFEST.md).
DEFAULT_CORPORA = Path("..") / "shared" / "corpora"


def _instance() -> dg.DagsterInstance:  # noqa: F821 (dagster is imported lazily)
    import dagster as dg

    home = os.environ.get("DAGSTER_HOME")
    if not home and Path("dagster.yaml").exists():
        # From the repository root, record runs in the same instance `dagster dev` shows.
        home = str(Path.cwd())
        os.environ["DAGSTER_HOME"] = home
    if home:
        print(f"instance: {home}/dagster.yaml")
        return dg.DagsterInstance.get()
    print("instance: ephemeral (set DAGSTER_HOME to keep run history)")
    return dg.DagsterInstance.ephemeral()


def build_command(args: argparse.Namespace) -> int:
    if args.data:
        os.environ[DATA_ROOT_ENV] = str(Path(args.data).resolve())
    # Imported after COMMONS_DATA is set: partitions that derive from the data root read it.
    from commons_assets.build import build
    from commons_assets.definitions import defs
    from commons_assets.lake import Lake

    lake = Lake()
    if not lake.sources.is_dir():
        print(f"no sources folder at {lake.sources}", file=sys.stderr)
        return 2
    print(f"data root: {lake.root_path.resolve()}")
    with _instance() as instance:
        ok = build(
            defs,
            lake,
            instance,
            echo=lambda line: print(line, flush=True),
            log_level="DEBUG" if args.verbose else "ERROR",
        )
    print(f"lake: {(lake.root_path / 'lake').resolve()}")
    return 0 if ok else 1


def bench_command(args: argparse.Namespace) -> int:
    if args.benchmark == "extraction":
        from commons_assets.bench.extraction import run

        return run(Path(args.corpus or DEFAULT_CORPORA / "extraction"), rounds=args.rounds)
    if args.benchmark == "robots":
        from commons_assets.bench.robots import run as run_robots

        return run_robots(Path(args.corpus or DEFAULT_CORPORA / "optout" / "robotstxt_google"))
    if args.benchmark == "dedupe":
        from commons_assets.bench.dedupe import run as run_dedupe

        return run_dedupe(Path(args.corpus or DEFAULT_CORPORA), rounds=args.rounds)
    raise AssertionError(args.benchmark)


def trace_command(args: argparse.Namespace) -> int:
    if args.data:
        os.environ[DATA_ROOT_ENV] = str(Path(args.data).resolve())
    from commons_assets.publish.trace import trace
    from commons_assets.settings import data_root

    report = trace(data_root(), args.record)
    print(report)
    return 1 if report.startswith("no audited record") else 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="commons", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    build = commands.add_parser(
        "build", help="materialize every partition of every asset, headless"
    )
    build.add_argument("--data", help=f"data root (default: ${DATA_ROOT_ENV} or ./data)")
    build.add_argument("--verbose", action="store_true", help="show Dagster's run logs")
    build.set_defaults(run=build_command)
    bench = commands.add_parser(
        "bench", help="benchmarks that print ratios against a baseline run in the same process"
    )
    bench.add_argument("benchmark", choices=["extraction", "robots", "dedupe"])
    bench.add_argument("--corpus", help="corpus folder (default: ../shared/corpora/<name>)")
    bench.add_argument("--rounds", type=int, default=2, help="alternating rounds; best counts")
    bench.set_defaults(run=bench_command)
    tracer = commands.add_parser(
        "trace", help="where a record came from, why it was admitted or not, which releases"
    )
    tracer.add_argument("record", help="record id, source id (JSONL id, post URI) or URL")
    tracer.add_argument("--data", help=f"data root (default: ${DATA_ROOT_ENV} or ./data)")
    tracer.set_defaults(run=trace_command)
    args = parser.parse_args(argv)
    return args.run(args)


if __name__ == "__main__":
    sys.exit(main())
