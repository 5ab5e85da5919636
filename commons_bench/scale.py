"""`commons bench scale`: Commons against datatrove's FineWeb-style pipeline on generated crawls
of growing size, in the same invocation; pages per CPU-second, wall time, peak RSS per step and
how time grows with size.

Each crawl (commons_bench/crawl.py) is written once and given to both pipelines. Commons runs
as `commons build` does, one step per process, forked from this process with its modules
imported (as Dagster's multiprocess executor runs steps with a forkserver and preloaded
modules); datatrove runs its five stages one per process the same way
(commons_bench/datatrove_fineweb.py). Each process's CPU time (user + system) and peak RSS are
the kernel's own figures for it (`os.wait4`); neither side pays for importing its libraries in
every step. The slope is that of log(CPU time) against log(pages) between the smallest and the
largest crawl: 1.0 is linear.
"""

from __future__ import annotations

import contextlib
import math
import multiprocessing
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
import traceback
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from functools import partial
from pathlib import Path

from commons_bench.crawl import CrawlFacts, generate_crawl
from commons_bench.datatrove_fineweb import STAGES

REPO = Path(__file__).resolve().parents[1]
MB = 1024 * 1024
GOAL_WITH_OPT_OUTS = 4.0
GOAL_WITHOUT = 3.0
GOAL_RSS_MB = 1536
GOAL_SLOPE = 1.05
GOAL_WORKERS = 1.7
# What the forkserver imports before forking each step (both pipelines' libraries).
# A module that is not installed (datatrove without the bench extra) is skipped by the server.
PRELOAD = [
    "commons_bench.step",
    # What a Dagster step process otherwise imports on its first run (measured: 475 modules,
    # 0.5 CPU-s of every step): a deployment's forkserver preloads them the same way.
    "dagster._core.execution.execute_in_process",
    "dagster._core.executor.in_process",
    "dagster._core.instance.factory",
    "dagster._core.remote_representation",
    "dagster._core.snap",
    "dagster._core.storage.event_log.sqlite",
    "dagster._core.storage.runs.sqlite",
    "dagster._core.storage.schedules.sqlite",
    "alembic",
    "polars",
    "sqlalchemy",
    "upath",
    "datatrove.executor",
    "datatrove.pipeline.dedup",
    "datatrove.pipeline.extractors",
    "datatrove.pipeline.filters",
    "datatrove.pipeline.readers",
    "datatrove.pipeline.writers",
]


@dataclass(frozen=True)
class Step:
    label: str
    cpu: float  # user + system seconds, its children included
    wall: float
    peak_rss_mb: float
    ok: bool


@dataclass(frozen=True)
class Run:
    name: str
    steps: list[Step]

    @property
    def cpu(self) -> float:
        return sum(step.cpu for step in self.steps)

    @property
    def wall(self) -> float:
        return sum(step.wall for step in self.steps)

    @property
    def ok(self) -> bool:
        return all(step.ok for step in self.steps)

    def peak(self) -> Step:
        return max(self.steps, key=lambda step: step.peak_rss_mb)


def _reap_children() -> None:
    """End and wait for every process the step left (datatrove's extraction sandbox is one):
    a child's CPU time counts only once it has been waited for."""
    for child in multiprocessing.active_children():
        child.terminate()
        child.join(timeout=10)
    with contextlib.suppress(ChildProcessError):
        while os.waitpid(-1, os.WNOHANG)[0]:
            pass


def _in_child(
    work: Callable[[], bool], env: dict[str, str], log: Path
) -> tuple[bool, float, float]:
    """In a process forked from the forkserver: run `work`, and return whether it succeeded,
    the CPU seconds it took (this process and the processes it waited for) and this process's
    peak RSS in MB."""
    os.environ.update(env)
    with log.open("ab") as out:
        os.dup2(out.fileno(), 1)
        os.dup2(out.fileno(), 2)
    try:
        ok = work()
    except Exception:
        traceback.print_exc()
        ok = False
    sys.stdout.flush()
    sys.stderr.flush()
    _reap_children()
    own = resource.getrusage(resource.RUSAGE_SELF)
    waited = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = own.ru_utime + own.ru_stime + waited.ru_utime + waited.ru_stime
    return ok, cpu, own.ru_maxrss / 1024  # KiB on Linux


def forked(label: str, work: Callable[[], bool], env: dict[str, str], log: Path) -> Step:
    """Run `work` in a process of its own, forked from a forkserver that imported Commons and
    datatrove first (as Dagster's multiprocess executor runs steps with `start_method:
    forkserver` and preloaded modules): a step neither pays for the imports nor inherits
    another step's state or threads (Polars' thread pool does not survive a fork)."""
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(PRELOAD)
    started = time.perf_counter()
    with ProcessPoolExecutor(max_workers=1, mp_context=context, max_tasks_per_child=1) as pool:
        try:
            ok, cpu, peak = pool.submit(_in_child, work, env, log).result()
        except BrokenProcessPool:  # killed (out of memory, a signal): a failed step
            ok, cpu, peak = False, 0.0, 0.0
    return Step(label, cpu, time.perf_counter() - started, peak, ok)


def run_commons(root: Path, log: Path) -> Run:
    """Every step of `commons build` over the data root, each in a process of its own."""
    import dagster as dg

    from commons_assets.build import dependency_order, partitions_to_build
    from commons_assets.definitions import defs
    from commons_assets.defs.sources.sensors import sync_partitions
    from commons_assets.lake import Lake
    from commons_bench.step import run_step

    home = root / "dagster_home"
    home.mkdir(exist_ok=True)
    (home / "dagster.yaml").write_text("telemetry:\n  enabled: false\n")
    env = {"DAGSTER_HOME": str(home), "COMMONS_DATA": str(root)}  # the steps' instance
    lake = Lake(root=str(root))
    assets = [a for a in defs.assets or [] if isinstance(a, dg.AssetsDefinition)]
    with dg.DagsterInstance.from_config(str(home)) as instance:
        sync_partitions(instance, lake)
        plan = [
            (asset.key.to_user_string(), partition)
            for asset in dependency_order(assets)
            for partition in partitions_to_build(asset, instance, lake)
        ]
    steps = []
    for asset, partition in plan:
        label = asset + (f"[{partition}]" if partition else "")
        steps.append(forked(label, partial(run_step, str(root), asset, partition), env, log))
    return Run("commons", steps)


def _process_tree(label: str, command: list[str], log: Path) -> Step:
    """`command` in a new process, its CPU time counted with every process it started and
    waited for (the kernel's figures, `wait4`): datatrove extracts in a sandbox process whose
    time a step's own rusage misses when it ends unwaited."""
    started = time.perf_counter()
    with log.open("ab") as out:
        process = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT)
        _, status, usage = os.wait4(process.pid, 0)
    return Step(
        label,
        usage.ru_utime + usage.ru_stime,
        time.perf_counter() - started,
        usage.ru_maxrss / 1024,  # KiB on Linux
        os.waitstatus_to_exitcode(status) == 0,
    )


def run_datatrove(warcs: Path, work: Path, log: Path) -> Run:
    """datatrove's stages, each a process of its own; the CPU time of importing datatrove
    (measured once here, in a process that only imports it) is taken off each stage, as
    Commons' steps start with their modules imported."""
    python = [sys.executable, "-m"]
    start_up = _process_tree(
        "imports",
        [sys.executable, "-c", "import commons_bench.datatrove_fineweb as d; d.imports()"],
        log,
    )
    steps = []
    for stage in STAGES:
        command = [*python, "commons_bench.datatrove_fineweb", "--warcs", str(warcs)]
        step = _process_tree(stage, [*command, "--work", str(work), stage], log)
        steps.append(
            Step(
                step.label, max(step.cpu - start_up.cpu, 0.0), step.wall, step.peak_rss_mb, step.ok
            )
        )
    return Run("datatrove", steps)


def _steps_into(log: Path, crawl: str, run: Run) -> None:
    """Every step's figures, in the log (where a run's time goes)."""
    with log.open("a") as out:
        out.write(f"\n== {run.name} on {crawl}: step, cpu s, wall s, peak RSS MB\n")
        for step in run.steps:
            out.write(
                f"{step.label:50s} {step.cpu:8.2f} {step.wall:8.2f} {step.peak_rss_mb:7.0f}"
                f"{'' if step.ok else '  FAILED'}\n"
            )


def run_distributed(root: Path, workers: Sequence[int], log: Path) -> dict[int, float]:
    """Wall seconds of the whole build of `root`'s sources on the production profile (every
    run a Ray task, this process the driver as `commons build --ray`; PostgreSQL instance) with
    a Ray head of N CPUs, for each N."""
    from commons_assets.lake import Lake
    from commons_assets.scale_out import drive_build
    from commons_bench.cluster import fresh_database, ray_head

    seconds = {}
    for count in workers:
        data = root.parent / f"{root.name}-ray{count}"
        shutil.rmtree(data, ignore_errors=True)
        for part in ("sources", "policy"):
            shutil.copytree(root / part, data / part)
        home = data / "dagster_home"
        home.mkdir()
        shutil.copy(REPO / "deploy" / "ray" / "dagster.yaml", home / "dagster.yaml")
        with ray_head(count) as head, fresh_database() as database:
            os.environ.update(
                DAGSTER_HOME=str(home),
                DAGSTER_PG_URL=database,
                COMMONS_DATA=str(data),
                COMMONS_RAY_ADDRESS=head.jobs,
                RAY_ADDRESS=head.gcs,
            )
            started = time.perf_counter()
            with log.open("a") as out:
                ok = drive_build(
                    Lake(root=str(data)), echo=lambda line: print(line, file=out, flush=True)
                )
            seconds[count] = time.perf_counter() - started
        print(
            f"  distributed profile, {count} worker(s): {'ok' if ok else 'FAILED'} "
            f"wall {seconds[count]:.1f} s",
            flush=True,
        )
    return seconds


def datatrove_available() -> str | None:
    try:
        import datatrove  # noqa: F401
        import magic  # noqa: F401
        import orjson  # noqa: F401
    except ImportError as error:
        return f"{error} (pip install -e '.[bench]'; Debian: libmagic1)"
    return None


def _line(run: Run, pages: int) -> str:
    failed = [step.label for step in run.steps if not step.ok]
    if failed:
        print(f"  {run.name}: failed steps {', '.join(failed)} (the log says why)")
    peak = run.peak()
    rate = pages / run.cpu if run.cpu else 0.0
    return (
        f"  {run.name:10s} {'ok' if run.ok else 'FAILED':6s} steps {len(run.steps):3d}  "
        f"cpu {run.cpu:8.1f} s  wall {run.wall:8.1f} s  {rate:6.1f} pages/cpu-s  "
        f"peak RSS {peak.peak_rss_mb:6.0f} MB ({peak.label})"
    )


def copy_policy(root: Path) -> None:
    """The sample's steward settings (licence policy, limits): a crawl is audited as any data."""
    shutil.copytree(REPO / "data" / "policy", root / "policy")


def run(
    corpora: Path | None,
    sizes: Sequence[int] = (10_000, 50_000),
    partition_pages: Sequence[int] = (2_000, 20_000),
    opt_out_shares: Sequence[float] = (0.3, 0.0),
    duplicate_share: float = 0.1,
    work: Path | None = None,
    with_datatrove: bool = True,
    ray_workers: Sequence[int] = (),
    rounds: int = 1,
) -> int:
    """Print every figure; 0 when every run succeeded (the goals are printed, not asserted).
    With `rounds` > 1 each crawl is built again that many times, Commons then datatrove in
    turn, and the run with the least CPU time of each side counts: the machine's speed drifts
    by 10-20 % over minutes here, and a slow spell during one side's run moves the ratio."""
    missing = datatrove_available() if with_datatrove else "not asked for"
    if missing:
        print(f"datatrove skipped: {missing}")
    if corpora is None or not corpora.is_dir():
        print("../shared/corpora not found: templates and texts from the bundled sample")
        corpora = None
    base = Path(work or tempfile.mkdtemp(prefix="commons-scale-"))
    print(f"work folder: {base} (logs: {base / 'steps.log'})")
    log = base / "steps.log"
    results: dict[tuple[float, int, int], tuple[CrawlFacts, Run, Run | None]] = {}
    failed = False
    for share in opt_out_shares:
        for per_partition in partition_pages:
            for size in sizes:
                if per_partition > size:
                    continue
                root = base / f"optout{int(share * 100)}-p{per_partition}-n{size}"
                shutil.rmtree(root, ignore_errors=True)
                warcs = root / "sources" / "archives"
                facts = generate_crawl(warcs, size, per_partition, share, duplicate_share, corpora)
                copy_policy(root)
                print(
                    f"\ncrawl: {facts.pages} pages in {facts.partitions} partition(s) of "
                    f"{per_partition}, {facts.sites} sites ({facts.opted_out_sites} opting out: "
                    f"{facts.opted_out_pages} pages), {facts.duplicate_pages} duplicates, "
                    f"{facts.bytes / MB:.0f} MB"
                )
                commons: Run | None = None
                theirs: Run | None = None
                for round_number in range(1, rounds + 1):
                    if round_number > 1:
                        print(f"  round {round_number}:")
                        fresh_build(root)
                    ours = run_commons(root, log)
                    _steps_into(log, root.name, ours)
                    print(_line(ours, facts.pages), flush=True)
                    failed |= not ours.ok
                    commons = ours if commons is None or ours.cpu < commons.cpu else commons
                    if not missing:
                        other = run_datatrove(warcs, root / "datatrove", log)
                        _steps_into(log, root.name, other)
                        print(_line(other, facts.pages))
                        failed |= not other.ok
                        theirs = other if theirs is None or other.cpu < theirs.cpu else theirs
                        if rounds > 1:
                            print(f"  this round's ratio: {_ratio(other, ours):.2f}x")
                assert commons is not None
                if theirs is not None:
                    goal = GOAL_WITH_OPT_OUTS if share else GOAL_WITHOUT
                    best = f" (best of {rounds} rounds each)" if rounds > 1 else ""
                    print(
                        f"  commons / datatrove, pages per cpu-second: "
                        f"{_ratio(theirs, commons):.2f}x{best} "
                        f"(goal >= {goal:.0f}x {'with' if share else 'without'} opt-outs)",
                        flush=True,
                    )
                results[(share, per_partition, size)] = (facts, commons, theirs)
    _summary(results, sizes, partition_pages, opt_out_shares)
    if ray_workers:
        share, per_partition, size = opt_out_shares[0], min(partition_pages), min(sizes)
        root = base / f"optout{int(share * 100)}-p{per_partition}-n{size}"
        print(f"\ndistributed profile on {root.name} (Ray head on localhost, PostgreSQL):")
        # Rounds as above: the worker counts in turn, each round's ratio, then the best (least
        # wall time) of each count.
        fastest: dict[int, float] = {}
        for round_number in range(1, rounds + 1):
            if rounds > 1:
                print(f"  round {round_number}:")
            try:
                seconds = run_distributed(root, ray_workers, log)
            except Exception as error:
                print(f"  distributed profile skipped: {type(error).__name__}: {error}")
                return 1 if failed else 0
            fastest = {n: min(seconds[n], fastest.get(n, seconds[n])) for n in seconds}
            if rounds > 1 and 1 in seconds and 2 in seconds:
                print(f"  this round: 2 workers vs 1: {seconds[1] / seconds[2]:.2f}x faster")
        if 1 in fastest and 2 in fastest:
            each = f" (best of {rounds} rounds each)" if rounds > 1 else ""
            print(
                f"  2 workers vs 1: {fastest[1] / fastest[2]:.2f}x faster{each} "
                f"(goal >= {GOAL_WORKERS}x on 2 cores)"
            )
    return 1 if failed else 0


def _ratio(theirs: Run, commons: Run) -> float:
    """How many times Commons' pages per CPU-second datatrove's are (the same pages)."""
    return theirs.cpu / commons.cpu if commons.cpu else 0.0


def fresh_build(root: Path) -> None:
    """A crawl's data root as before its first build: its sources and settings only."""
    for entry in root.iterdir():
        if entry.name in ("sources", "policy"):
            continue
        if entry.is_dir():
            shutil.rmtree(entry)
        else:
            entry.unlink()


def slope(small: tuple[int, float], large: tuple[int, float]) -> float:
    """log-log slope of time against size: 1.0 when time grows as the size does."""
    return math.log(large[1] / small[1]) / math.log(large[0] / small[0])


def _summary(
    results: dict[tuple[float, int, int], tuple[CrawlFacts, Run, Run | None]],
    sizes: Sequence[int],
    partition_pages: Sequence[int],
    opt_out_shares: Sequence[float],
) -> None:
    print("\nsummary")
    for (share, per_partition, size), (_facts, commons, _) in sorted(results.items()):
        biggest = max(
            (s for s in commons.steps if "[" in s.label), key=lambda s: s.peak_rss_mb, default=None
        )
        if biggest is not None and per_partition == max(partition_pages):
            print(
                f"  peak RSS per step, partitions of {per_partition} pages ({size} pages, "
                f"{share:.0%} opt-out): {biggest.peak_rss_mb:.0f} MB in {biggest.label} "
                f"(goal <= {GOAL_RSS_MB} MB)"
            )
    small, large = min(sizes), max(sizes)
    for share in opt_out_shares:
        for per_partition in partition_pages:
            first, last = (
                results.get((share, per_partition, small)),
                results.get((share, per_partition, large)),
            )
            if first is None or last is None or small == large:
                continue
            ours = slope((small, first[1].cpu), (large, last[1].cpu))
            line = (
                f"  slope of cpu time, {small} -> {large} pages (partitions of {per_partition}, "
                f"{share:.0%} opt-out): commons {ours:.3f}"
            )
            if first[2] is not None and last[2] is not None:
                line += f", datatrove {slope((small, first[2].cpu), (large, last[2].cpu)):.3f}"
            print(line + f" (goal <= {GOAL_SLOPE})")
