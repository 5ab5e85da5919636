"""`commons build`: materialize every partition of every asset, headless, in dependency order."""

from __future__ import annotations

import graphlib
import time
from collections.abc import Callable, Iterable, Sequence
from datetime import date

import dagster as dg
from upath import UPath

from commons_assets.defs.sources.sensors import sync_partitions
from commons_assets.kinds import KINDS, SourceKind
from commons_assets.lake import Lake
from commons_assets.operations import with_upstream_sources
from commons_assets.rights.inputs import load_takedowns
from commons_assets.rights.reviews import load_reviews
from commons_assets.sources import layout
from commons_assets.steward import resources_for

RELEASE = dg.AssetKey("release")


def dependency_order(assets: Iterable[dg.AssetsDefinition]) -> list[dg.AssetsDefinition]:
    """Assets sorted so that every asset comes after the assets it depends on."""
    by_key = {key: asset for asset in assets for key in asset.keys}
    sorter: graphlib.TopologicalSorter[dg.AssetKey] = graphlib.TopologicalSorter()
    for asset in by_key.values():
        for key in asset.keys:
            sorter.add(key, *(dep for dep in asset.dependency_keys if dep in by_key))
    ordered: list[dg.AssetsDefinition] = []
    for key in sorter.static_order():
        if by_key[key] not in ordered:
            ordered.append(by_key[key])
    return ordered


def partitions_to_build(
    asset: dg.AssetsDefinition, instance: dg.DagsterInstance, lake: Lake
) -> list[str | None]:
    """Every partition with source data: all dynamic keys, and the days of the daily
    partitions that have a folder (an empty day has nothing to build). [None] if unpartitioned."""
    partitions = asset.partitions_def
    if partitions is None:
        return [None]
    if isinstance(partitions, dg.DynamicPartitionsDefinition) and partitions.name:
        return list(instance.get_dynamic_partitions(partitions.name))
    if isinstance(partitions, dg.TimeWindowPartitionsDefinition):
        valid = set(partitions.get_partition_keys(dynamic_partitions_store=instance))
        return [day for day in layout.social_days(lake.sources) if day in valid]
    return list(partitions.get_partition_keys(dynamic_partitions_store=instance))


def _summary(result: dg.ExecuteInProcessResult) -> str:
    parts = []
    for event in result.get_asset_materialization_events():
        metadata = event.materialization.metadata
        for label in ("kept", "quarantined", "dropped", "not_carried"):
            if label in metadata:
                parts.append(f"{metadata[label].value} {label.replace('_', ' ')}")
        decisions = [
            f"{metadata[key].value} {key.split('/', 1)[1].lower()}"
            for key in sorted(metadata)
            if key.startswith("decision/") and metadata[key].value
        ]
        parts += decisions
        if "version" in metadata and "created" in metadata:
            state = "published" if metadata["created"].value else "unchanged, LATEST stays"
            parts.append(f"release {metadata['version'].value} {state}")
        if "duplicates_removed" in metadata:
            parts.append(
                f"{metadata['clusters'].value} clusters, "
                f"{metadata['duplicates_removed'].value} duplicates"
            )
        elif not parts and "dagster/row_count" in metadata:
            parts.append(f"{metadata['dagster/row_count'].value} rows")
    for evaluation in result.get_asset_check_evaluations():
        if not evaluation.passed:
            blocking = evaluation.severity == dg.AssetCheckSeverity.ERROR
            parts.append(f"{'check FAILED' if blocking else 'warning'}: {evaluation.check_name}")
    return ", ".join(parts)


def kept_nothing(result: dg.ExecuteInProcessResult) -> str | None:
    """Why a partition that had records kept none of them: its main reason and its share
    ("9 of 9 quarantined: missing_id"), or None when it kept something or had nothing."""
    for event in result.get_asset_materialization_events():
        metadata = event.materialization.metadata
        if "kept" not in metadata or metadata["kept"].value:
            continue
        lost = {
            label: int(metadata[label].value)  # type: ignore[arg-type]
            for label in ("quarantined", "dropped")
            if label in metadata
        }
        total = sum(lost.values())
        if not total:
            continue
        reasons: dict[tuple[str, str], int] = {}
        for label in ("outcomes", "reasons"):
            if isinstance(value := metadata.get(label), dg.TableMetadataValue):
                for record in value.records:
                    row = record.data
                    if row.get("outcome") in ("quarantined", "dropped") and row.get("count"):
                        reasons[(str(row["outcome"]), str(row["reason"]))] = int(row["count"] or 0)
        if not reasons:
            return f"kept nothing: {total} of {total} " + " / ".join(sorted(lost))
        (outcome, reason), count = max(reasons.items(), key=lambda item: item[1])
        return f"kept nothing: {count} of {total} {outcome}: {reason}"
    return None


def release_outcome(result: dg.ExecuteInProcessResult, releases: UPath) -> str | None:
    """What the release run did, as the build's last line says it."""
    for event in result.get_asset_materialization_events():
        metadata = event.materialization.metadata
        if "version" in metadata and "created" in metadata:
            version = str(metadata["version"].value)
            if metadata["created"].value:
                return f"release: new version {version} at {(releases / version).resolve()}"
            return f"release: no change since {version} (LATEST stays)"
    return None


def _violations(result: dg.ExecuteInProcessResult, shown: int = 20) -> list[str]:
    """What a failed blocking check names: the rows of its tables (a record and its problems,
    or a partition and why it did not pass)."""
    lines = []
    for evaluation in result.get_asset_check_evaluations():
        if evaluation.passed or evaluation.severity != dg.AssetCheckSeverity.ERROR:
            continue
        for value in evaluation.metadata.values():
            if isinstance(value, dg.TableMetadataValue):
                for record in value.records[:shown]:
                    named = {k: v for k, v in record.data.items() if k not in ("tier", "config")}
                    first, *rest = named.values()
                    lines.append(f"        {first}: {'; '.join(map(str, rest))}")
    return lines


def root_cause(result: dg.ExecuteInProcessResult) -> str:
    """The innermost error of the first failed step, in one line."""
    for event in result.all_events:
        if event.is_step_failure and event.step_failure_data.error is not None:
            error = event.step_failure_data.error
            while error.cause is not None:
                error = error.cause
            # The message repeats the qualified class name: keep the short name once.
            message = error.message.strip()
            prefix = f"{error.cls_name}: "
            message = message.split(prefix, 1)[-1] if prefix in message else message
            return f"{error.cls_name}: {message}"[:300]
    return "run failed"


def steward_file_problems(lake: Lake) -> list[str]:
    """Lines of the takedown and review files that cannot be applied (file:line: why)."""
    return load_takedowns(lake.root_path)[1] + load_reviews(lake.root_path)[1]


def build(
    defs: dg.Definitions,
    lake: Lake,
    instance: dg.DagsterInstance,
    echo: Callable[[str], None] = print,
    log_level: str = "CRITICAL",
    kinds: Sequence[SourceKind] = KINDS,
) -> bool:
    """Materialize everything; returns False if any partition failed (the rest still runs).
    `kinds` are the source kinds `defs` was built from (definitions.build_defs)."""
    on_disk = sync_partitions(instance, lake, kinds)
    echo(
        "partitions: "
        + ", ".join(f"{name} {len(keys)}" for name, keys in on_disk.items())
        + f", social days {len(layout.social_days(lake.sources))}"
    )
    for entry in layout.unusable_names(lake.sources):  # never left out in silence
        echo(f"  SKIP  sources/{entry}")
    assets = [a for a in defs.assets or [] if isinstance(a, dg.AssetsDefinition)]
    checks_by_asset: dict[dg.AssetKey, list[dg.AssetsDefinition]] = {}
    for check in defs.asset_checks or []:
        for check_key in check.check_keys:
            checks_by_asset.setdefault(check_key.asset_key, []).append(check)
    resources = resources_for(lake)
    succeeded = True
    started = time.perf_counter()
    # (asset, partition) pairs that failed or whose blocking check failed: the same partition
    # of what lies downstream is skipped, not built on them. Unpartitioned assets still run:
    # the release checks every audit partition itself (upstream_audits_passed).
    stopped: dict[tuple[dg.AssetKey, str | None], str] = {}
    warnings = 0
    release = "release: none cut — the release asset did not run"
    for asset in dependency_order(assets):
        name = asset.key.to_user_string()
        for partition in partitions_to_build(asset, instance, lake):
            label = f"{name}[{partition}]" if partition else name
            upstream = [
                stopped[(dep, partition)]
                for dep in asset.dependency_keys
                if partition is not None and (dep, partition) in stopped
            ]
            if upstream:
                stopped[(asset.key, partition)] = label
                echo(f"  SKIP  {label:55s} upstream {upstream[0]} did not pass")
                continue
            began = time.perf_counter()
            result = dg.materialize(
                with_upstream_sources([asset, *checks_by_asset.get(asset.key, [])], assets),
                partition_key=partition,
                instance=instance,
                resources=resources,
                raise_on_error=False,
                tags={"commons/trigger": "commons build"},
                run_config={"loggers": {"console": {"config": {"log_level": log_level}}}},
            )
            seconds = time.perf_counter() - began
            failed_checks = [
                e.check_name
                for e in result.get_asset_check_evaluations()
                if not e.passed and e.severity == dg.AssetCheckSeverity.ERROR
            ]
            if result.success and not failed_checks:
                echo(f"  ok    {label:55s} {_summary(result)} ({seconds:.1f}s)")
                if warning := kept_nothing(result):
                    warnings += 1
                    echo(f"  WARN  {label:55s} {warning}")
                if asset.key == RELEASE:
                    release = release_outcome(result, lake.releases) or release
            else:
                succeeded = False
                if partition is not None:
                    stopped[(asset.key, partition)] = label
                cause = (
                    f"blocking check failed: {', '.join(failed_checks)}"
                    if failed_checks
                    else root_cause(result)
                )
                if asset.key == RELEASE:
                    release = f"release: none cut — {cause}"
                echo(f"  FAIL  {label:55s} {cause}")
                for line in _violations(result):
                    echo(line)
    # A steward's line that cannot be applied is an error to fix, even when the rest built: the
    # exit status says so (the audits list it too, and CHANGES.md).
    for problem in steward_file_problems(lake):
        succeeded = False
        echo(f"  FAIL  {problem}")
    total = time.perf_counter() - started
    echo(
        f"{'build finished' if succeeded else 'build FAILED'} in {total:.1f}s on {date.today()}"
        + (f", {warnings} warning(s)" if warnings else "")
    )
    echo(release)
    return succeeded
