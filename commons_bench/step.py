"""One step of a Commons build in a process of its own, as Dagster's multiprocess executor runs
it: `python -m commons_bench.step --data ROOT ASSET [PARTITION]` (with DAGSTER_HOME set), so
that `commons bench scale` can read each step's CPU time and peak RSS from the operating system.
"""

from __future__ import annotations

import argparse
import sys

import dagster as dg

from commons_assets.build import root_cause
from commons_assets.definitions import defs
from commons_assets.lake import Lake
from commons_assets.operations import with_upstream_sources
from commons_assets.steward import resources_for


def run_step(root: str, asset_name: str, partition: str | None) -> bool:
    assets = [a for a in defs.assets or [] if isinstance(a, dg.AssetsDefinition)]
    (asset,) = [a for a in assets if a.key.to_user_string() == asset_name]
    checks = [
        check
        for check in defs.asset_checks or []
        if any(key.asset_key == asset.key for key in check.check_keys)
    ]
    with dg.DagsterInstance.get() as instance:
        result = dg.materialize(
            with_upstream_sources([asset, *checks], assets),
            partition_key=partition,
            instance=instance,
            resources=resources_for(Lake(root=root)),
            raise_on_error=False,
            tags={"commons/trigger": "commons bench scale"},
            run_config={"loggers": {"console": {"config": {"log_level": "ERROR"}}}},
        )
    if not result.success:  # into the bench's log: what failed and why
        print(f"{asset_name}[{partition}] failed: {root_cause(result)}", flush=True)
    return result.success


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m commons_bench.step")
    parser.add_argument("--data", required=True)
    parser.add_argument("asset")
    parser.add_argument("partition", nargs="?")
    args = parser.parse_args(argv)
    return 0 if run_step(args.data, args.asset, args.partition) else 1


if __name__ == "__main__":
    sys.exit(main())
