"""The `commons` command line."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

from commons_assets.settings import DATA_ROOT_ENV, as_data_path

if TYPE_CHECKING:  # dagster is imported when a command needs it: `commons --help` stays quick
    from dagster import DagsterInstance
    from upath import UPath

    from commons_assets.lake import Lake

# Evaluation corpora live beside a checkout, not in it (see ../shared/corpora/MANIFEST.md).
DEFAULT_CORPORA = Path("..") / "shared" / "corpora"

T = TypeVar("T")


def _instance(root: UPath) -> DagsterInstance | None:
    """The instance that serves `root`: $DAGSTER_HOME's; else, from the repository root, the
    one `dagster dev` shows, unless it serves another data root (then an ephemeral one).
    None when $DAGSTER_HOME's instance serves another data root (the build is refused)."""
    import dagster as dg

    from commons_assets.lake import DataRootMismatch, claim_data_root

    home = os.environ.get("DAGSTER_HOME")
    chosen = bool(home)
    if not home and Path("dagster.yaml").exists():
        home = str(Path.cwd())
    if home:
        os.environ["DAGSTER_HOME"] = home
        instance = dg.DagsterInstance.get()
        try:
            claim_data_root(instance, root)
        except DataRootMismatch as error:
            instance.dispose()
            if chosen:
                print(f"refused: {error}", file=sys.stderr)
                return None
            print(f"instance: ephemeral ({home}/dagster.yaml serves another data root)")
            return dg.DagsterInstance.ephemeral()
        print(f"instance: {home}/dagster.yaml")
        return instance
    print("instance: ephemeral (set DAGSTER_HOME to keep run history)")
    return dg.DagsterInstance.ephemeral()


def _build_on_ray(lake: Lake, submit: bool) -> int:
    """`commons build --ray`: this process drives the build on the Ray cluster it is a node of,
    every run a task on its workers; with --submit, the driver is a Ray job on the cluster at
    COMMONS_RAY_ADDRESS (docs/scale-out.md)."""
    if not os.environ.get("DAGSTER_HOME"):
        print(
            "commons build --ray needs a persistent instance that the cluster's steps share: "
            "DAGSTER_HOME=$PWD/deploy/ray (with DAGSTER_PG_URL), see docs/scale-out.md",
            file=sys.stderr,
        )
        return 2
    from commons_assets.ray_build import interrupt_on_sigterm
    from commons_assets.scale_out import NoCluster, drive_build, submit_build

    echo = lambda line: print(line, flush=True)  # noqa: E731 - the one echo of both paths
    if submit:
        return 0 if submit_build(lake, echo) else 1
    interrupt_on_sigterm()  # this process drives the runs: stopped, it cancels them first
    try:
        return 0 if drive_build(lake, echo) else 1
    except KeyboardInterrupt:
        return 130
    except NoCluster as error:
        print(
            f"no Ray cluster to drive the build from here: {error}\n"
            "start one (ray start --head) or join one, set RAY_ADDRESS to its head "
            "(<head>:<port of ray start --head>), or submit the build from outside: "
            "commons build --ray --submit "
            "(COMMONS_RAY_ADDRESS=http://<head>:8265)",
            file=sys.stderr,
        )
        return 2


def build_command(args: argparse.Namespace) -> int:
    if args.submit and not args.ray:
        print("--submit goes with --ray: commons build --ray --submit", file=sys.stderr)
        return 2
    if args.data:
        os.environ[DATA_ROOT_ENV] = str(as_data_path(args.data))
    # Imported after COMMONS_DATA is set: partitions that derive from the data root read it.
    from commons_assets.build import build
    from commons_assets.definitions import defs
    from commons_assets.lake import Lake

    lake = Lake()
    if not lake.sources.is_dir():
        print(f"no sources folder at {lake.sources}", file=sys.stderr)
        return 2
    print(f"data root: {lake.root_path}")
    print(f"lake: {lake.tables}")
    if args.ray:
        return _build_on_ray(lake, args.submit)
    instance = _instance(lake.root_path)
    if instance is None:
        return 2
    with instance:
        ok = build(
            defs,
            lake,
            instance,
            echo=lambda line: print(line, flush=True),
            # Without --verbose, a failure is the one line `build` prints (its innermost cause,
            # what to fix), not Dagster's log of the step with its stack trace.
            log_level="DEBUG" if args.verbose else "CRITICAL",
        )
    if not ok and not args.verbose:
        print("(commons build --verbose shows Dagster's run logs and stack traces)")
    return 0 if ok else 1


def bench_command(args: argparse.Namespace) -> int:
    if args.benchmark == "extraction":
        from commons_bench.extraction import run, run_both

        if args.corpus and (Path(args.corpus) / "evaldata.json").exists():
            return run(Path(args.corpus), rounds=args.rounds or 2)  # one snippet set, speed rounds
        return run_both(Path(args.corpus or DEFAULT_CORPORA))  # both sets, halves, clean steps
    if args.benchmark == "robots":
        from commons_bench.robots import run as run_robots

        return run_robots(Path(args.corpus or DEFAULT_CORPORA / "optout" / "robotstxt_google"))
    if args.benchmark == "dedupe":
        from commons_bench.dedupe import run as run_dedupe

        return run_dedupe(Path(args.corpus or DEFAULT_CORPORA), rounds=args.rounds or 2)
    if args.benchmark == "licences":
        from commons_bench.licences import run as run_licences

        return run_licences(Path(args.corpus or DEFAULT_CORPORA))
    if args.benchmark == "rules":
        from commons_bench.rules import run as run_rules

        return run_rules(Path(args.corpus or DEFAULT_CORPORA))
    if args.benchmark == "scale":
        from commons_bench.scale import run as run_scale

        return run_scale(
            Path(args.corpus or DEFAULT_CORPORA),
            sizes=_numbers(args.sizes, int),
            partition_pages=_numbers(args.partition_pages, int),
            opt_out_shares=_numbers(args.opt_out, float),
            work=Path(args.work) if args.work else None,
            with_datatrove=not args.no_datatrove,
            ray_workers=_numbers(args.ray_workers, int),
            rounds=args.rounds or 1,
        )
    raise AssertionError(args.benchmark)


def _numbers(listed: str, kind: type[T]) -> list[T]:
    return [kind(part) for part in listed.split(",") if part.strip()]  # type: ignore[call-arg]


def trace_command(args: argparse.Namespace) -> int:
    root = _root(args)
    from commons_assets.publish.trace import trace

    report = trace(root, args.record)
    print(report)
    return 1 if report.startswith("no record") else 0


def _root(args: argparse.Namespace) -> UPath:
    if args.data:
        os.environ[DATA_ROOT_ENV] = str(as_data_path(args.data))
    from commons_assets.settings import data_root

    return data_root()


def review_command(args: argparse.Namespace) -> int:
    from commons_assets.governance import review_queue

    root = _root(args)
    if args.action == "list":
        queue = review_queue.held(root)
        print(f"{queue.height} record(s) held for review under {root}")
        for row in queue.iter_rows(named=True):
            age = f"{row['age_days']:.1f} d" if row["age_days"] is not None else "?"
            print(
                f"  {row['id'][:12]}  {age:>8}  {row['source_kind']}/{row['source_partition']}  "
                f"{row['source_id']}\n"
                f"      licence {row['licence_raw']!r}: {row['decision_reason']}"
            )
        return 0
    if args.action == "show":
        records = review_queue.find(root, args.record)
        if not records:
            print(f"no audited record has id, sha256 or source id {args.record!r}")
            return 1
        for record in records:
            print(f"record {record['id']} ({record['source_kind']}/{record['source_partition']})")
            print(f"  source id  {record['source_id']}")
            print(f"  licence    {record.get('licence_raw')!r} -> {record.get('licence')}")
            print(
                f"  decision   {record['decision']} ({record['gate']}): {record['decision_reason']}"
            )
            if record.get("held_since"):
                print(f"  held since {record['held_since']}")
            for entry in record.get("evidence") or []:
                print(f"  evidence   {entry['channel']}={entry['raw']} -> {entry['verdict']}")
        return 0
    decision = "include" if args.include else "exclude"
    try:
        if args.licence_raw is not None:
            count, where = review_queue.decide_licence_string(
                root,
                args.licence_raw,
                decision,
                args.reviewer,
                args.reason,
                args.licence,
                args.partition,
            )
            print(f"{decision}: {count} record(s) stating {args.licence_raw!r} ({where})")
        elif args.record:
            record, where = review_queue.decide_record(
                root, args.record, decision, args.reviewer, args.reason, args.licence
            )
            print(f"{decision}: record {record['id']} {record['source_id']} ({where})")
        else:
            print("name a record, or --licence-raw for a bulk decision", file=sys.stderr)
            return 2
    except (LookupError, ValueError) as error:
        print(f"not written: {error}", file=sys.stderr)
        return 1
    print("applied when its partition is audited again (the review_decisions sensor, or build)")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="commons", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    build = commands.add_parser(
        "build", help="materialize every partition of every asset, headless"
    )
    build.add_argument("--data", help=f"data root (default: ${DATA_ROOT_ENV} or ./data)")
    build.add_argument("--verbose", action="store_true", help="show Dagster's run logs")
    build.add_argument(
        "--ray",
        action="store_true",
        help="every run a task on the Ray cluster this machine is a node of ($RAY_ADDRESS, "
        "else the local head), this process the build's driver (docs/scale-out.md)",
    )
    build.add_argument(
        "--submit",
        action="store_true",
        help="with --ray: submit the build's driver as a Ray job to $COMMONS_RAY_ADDRESS "
        "(http://<head>:8265) from a machine outside the cluster, and follow its log",
    )
    build.set_defaults(run=build_command)
    bench = commands.add_parser(
        "bench", help="benchmarks that print ratios against a baseline run in the same process"
    )
    bench.add_argument(
        "benchmark", choices=["extraction", "robots", "dedupe", "licences", "rules", "scale"]
    )
    bench.add_argument("--corpus", help="corpus folder (default: ../shared/corpora/<name>)")
    bench.add_argument(
        "--rounds",
        type=int,
        help="alternating rounds, the best of each side counts (default 2; scale: 1, each "
        "round rebuilds every crawl with Commons then datatrove, and builds the distributed "
        "profile with each --ray-workers count in turn)",
    )
    scale = bench.add_argument_group("scale")
    scale.add_argument("--sizes", default="10000,50000", help="crawl sizes in pages")
    scale.add_argument(
        "--partition-pages", default="2000,20000", help="pages per partition (WARC file)"
    )
    scale.add_argument("--opt-out", default="0.3,0", help="shares of sites that opt out")
    scale.add_argument("--work", help="folder for the crawls and runs (default: a new temp one)")
    scale.add_argument("--no-datatrove", action="store_true", help="Commons only")
    scale.add_argument(
        "--ray-workers",
        default="",
        help="also build the first crawl on the production profile with these Ray worker "
        "counts, e.g. 1,2 (needs ray and a PostgreSQL server)",
    )
    bench.set_defaults(run=bench_command)
    tracer = commands.add_parser(
        "trace", help="where a record came from, why it was admitted or not, which releases"
    )
    tracer.add_argument("record", help="record id, source id (JSONL id, post URI) or URL")
    tracer.add_argument("--data", help=f"data root (default: ${DATA_ROOT_ENV} or ./data)")
    tracer.set_defaults(run=trace_command)
    review = commands.add_parser(
        "review", help="the records held for review, and a steward's decisions on them"
    )
    data = argparse.ArgumentParser(add_help=False)
    data.add_argument("--data", help=f"data root (default: ${DATA_ROOT_ENV} or ./data)")
    actions = review.add_subparsers(dest="action", required=True)
    actions.add_parser(
        "list", parents=[data], help="records held for review, the longest-waiting first"
    )
    show = actions.add_parser("show", parents=[data], help="one record with its evidence")
    show.add_argument("record", help="record id (or 8+ character prefix), sha256 or source id")
    decide = actions.add_parser(
        "decide", parents=[data], help="include or exclude a record (or in bulk)"
    )
    decide.add_argument("record", nargs="?", help="record id, sha256 or source id")
    verdict = decide.add_mutually_exclusive_group(required=True)
    verdict.add_argument("--include", action="store_true")
    verdict.add_argument("--exclude", action="store_true")
    decide.add_argument("--licence", help="the licence you determined (required to include)")
    decide.add_argument("--reason", required=True, help="why: it becomes the record's evidence")
    decide.add_argument("--reviewer", required=True, help="who decides (name or e-mail)")
    decide.add_argument(
        "--licence-raw", help="bulk: every record whose licence statement is exactly this"
    )
    decide.add_argument("--partition", help="bulk: only in this source partition")
    review.set_defaults(run=review_command)
    args = parser.parse_args(argv)
    return args.run(args)


if __name__ == "__main__":
    sys.exit(main())
