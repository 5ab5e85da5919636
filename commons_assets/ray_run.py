"""A run's Ray job (`commons build --ray`, commons_assets/scale_out.py): executes one run of
the scale-out code location on the cluster worker Ray placed the job on.

    python -m commons_assets.ray_run [--partition P] [--ray-job ID] ASSET...
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from commons_assets.scale_out import execute_run


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m commons_assets.ray_run")
    parser.add_argument("--partition", help="the run's partition (none: unpartitioned assets)")
    parser.add_argument("--ray-job", help="the Ray job's submission id, kept as a run tag")
    parser.add_argument("assets", nargs="+", help="the run's assets (their checks go with them)")
    args = parser.parse_args(argv)
    return 0 if execute_run(args.assets, args.partition, args.ray_job) else 1


if __name__ == "__main__":
    sys.exit(main())
