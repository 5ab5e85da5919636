"""datatrove's FineWeb-style pipeline, the baseline of `commons bench scale`, one stage per
process: `python -m commons_bench.datatrove_fineweb --warcs DIR --work DIR STAGE`.

Stages as in datatrove's `examples/fineweb.py`: `extract` (WarcReader → Trafilatura
(favour_precision) → Gopher repetition → Gopher quality → C4 without the terminal-punctuation
line rule → FineWeb quality → JSONL), then MinHash 14x8 on word 5-grams in four stages
(`signatures`, `buckets`, `clusters`, `filter`). FineWeb's URL and language filters are left
out: Commons runs no URL block list, and datatrove's language filter downloads its model.
Each stage runs one task per WARC file, one worker: the same single core Commons gets.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

STAGES = ("extract", "signatures", "buckets", "clusters", "filter")


def _config() -> Any:
    from datatrove.pipeline.dedup.minhash import MinhashConfig
    from datatrove.utils.hashing import HashConfig

    # FineWeb's setting (5-grams, 14 x 8). Its default xxhash path raises on str input in
    # datatrove 0.10.1 ("Strings must be encoded before hashing"); its sha1 path works.
    return MinhashConfig(hash_config=HashConfig(hash_fc="sha1", precision=64))


def imports() -> None:
    """What a stage imports before it works (its start-up, measured by commons bench scale)."""
    import datatrove.executor
    import datatrove.pipeline.dedup
    import datatrove.pipeline.extractors
    import datatrove.pipeline.filters
    import datatrove.pipeline.readers
    import datatrove.pipeline.writers  # noqa: F401


def run_stage(stage: str, warcs: Path, work: Path) -> None:
    from datatrove.executor import LocalPipelineExecutor
    from datatrove.pipeline.dedup import (
        MinhashDedupBuckets,
        MinhashDedupCluster,
        MinhashDedupFilter,
        MinhashDedupSignature,
    )
    from datatrove.pipeline.extractors import Trafilatura
    from datatrove.pipeline.filters import (
        C4QualityFilter,
        FineWebQualityFilter,
        GopherQualityFilter,
        GopherRepetitionFilter,
    )
    from datatrove.pipeline.readers import JsonlReader, WarcReader
    from datatrove.pipeline.writers import JsonlWriter

    files = len(list(warcs.glob("*.warc.gz")))
    config = _config()
    # Built for the stage asked only: WarcReader needs its own dependencies at construction.
    pipeline: list[object]
    if stage == "extract":
        pipeline, tasks = (
            [
                WarcReader(str(warcs), glob_pattern="*.warc.gz"),
                Trafilatura(favour_precision=True),
                GopherRepetitionFilter(),
                GopherQualityFilter(),
                C4QualityFilter(filter_no_terminal_punct=False),
                FineWebQualityFilter(),
                JsonlWriter(str(work / "filtered")),
            ],
            files,
        )
    elif stage == "signatures":
        pipeline, tasks = (
            [
                JsonlReader(str(work / "filtered")),
                MinhashDedupSignature(output_folder=str(work / "signatures"), config=config),
            ],
            files,
        )
    elif stage == "buckets":
        pipeline, tasks = (
            [
                MinhashDedupBuckets(
                    input_folder=str(work / "signatures"),
                    output_folder=str(work / "buckets"),
                    config=config,
                )
            ],
            config.num_buckets,
        )
    elif stage == "clusters":
        pipeline, tasks = (
            [
                MinhashDedupCluster(
                    input_folder=str(work / "buckets"),
                    output_folder=str(work / "remove_ids"),
                    config=config,
                )
            ],
            1,
        )
    else:
        pipeline, tasks = (
            [
                JsonlReader(str(work / "filtered")),
                MinhashDedupFilter(input_folder=str(work / "remove_ids")),
                JsonlWriter(str(work / "deduplicated")),
            ],
            files,
        )
    LocalPipelineExecutor(
        pipeline=pipeline, tasks=tasks, workers=1, logging_dir=str(work / "logs" / stage)
    ).run()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m commons_bench.datatrove_fineweb")
    parser.add_argument("--warcs", required=True, type=Path)
    parser.add_argument("--work", required=True, type=Path)
    parser.add_argument("stage", choices=STAGES)
    args = parser.parse_args(argv)
    run_stage(args.stage, args.warcs, args.work)
    return 0


if __name__ == "__main__":
    sys.exit(main())
