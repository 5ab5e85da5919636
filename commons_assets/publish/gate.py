"""The release gate of write-audit-publish (DESIGN.md §5): a staged candidate is verified from
its own files before it may become a release. Every row of every shard is re-verified from its
own evidence (`rights.verify.problems`, which does not trust the `decision` column) against the
takedowns in force, and the manifest must match the files byte for byte. Pure functions over a
folder; the `release` asset reports them as its blocking checks and promotes only on a pass."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

import polars as pl
from upath import UPath

from commons_assets.batches import BatchSize, StoredTable
from commons_assets.publish.release import content_fingerprint, file_sha256
from commons_assets.rights import verify
from commons_assets.rights.audit import OPEN_TIER, SiteFiles, Takedown
from commons_assets.rights.policy import RightsPolicy
from commons_assets.rights.reviews import Review

CONFIGS = ("text", "image_text")
# The site files governing each row of a batch of release rows (None: not a page).
SiteFilesOf = Callable[[pl.DataFrame], list[SiteFiles | None]]
# Rows read and turned into dicts at a time (and at most a row group of the shard): memory
# bounded by this, not by a shard.
ROWS_PER_BATCH = 10_000


def tier_folders(release: UPath) -> dict[str, UPath]:
    """Each tier's folder in a release: the open tier at its root, the others beside it."""
    folders = {OPEN_TIER: release}
    for child in sorted(release.iterdir()) if release.is_dir() else []:
        if child.is_dir() and child.name not in CONFIGS:
            folders[child.name] = child
    return folders


def shards(release: UPath) -> Iterator[tuple[str, str, UPath]]:
    """(tier, config, shard path) of every shard in the release."""
    for tier, folder in tier_folders(release).items():
        for config in CONFIGS:
            for shard in sorted((folder / config).glob("*.parquet")):
                yield tier, config, shard


@dataclass(frozen=True)
class RowCheck:
    checked: int  # rows verified
    violating: int  # rows that must not be published
    shown: list[dict[str, Any]]  # the first of them (all, unless a number was kept)


def row_violations(
    release: UPath,
    takedowns: Iterable[Takedown],
    policy: RightsPolicy | None = None,
    reviews: list[Review] | None = None,
    site_files: SiteFilesOf | None = None,
    keep: int | None = None,
) -> RowCheck:
    """Every row verified; each row that must not be published counted, and the first `keep`
    kept with their problems (a release whose every row violates holds no entry per row)."""
    takedowns = list(takedowns)
    checked, violating = 0, 0
    shown: list[dict[str, Any]] = []
    for tier, config, shard in shards(release):
        for batch in StoredTable(shard).batches(BatchSize(rows=ROWS_PER_BATCH)):
            sites = site_files(batch) if site_files is not None else [None] * batch.height
            for row, site in zip(batch.to_dicts(), sites, strict=True):
                checked += 1
                found = verify.problems(row, takedowns, tier, policy, reviews, site)
                found += image_problems(row)
                if not found:
                    continue
                violating += 1
                if keep is None or len(shown) < keep:
                    shown.append(
                        {
                            "tier": tier,
                            "config": config,
                            "id": row["id"],
                            "source_id": row["source_id"],
                            "problems": "; ".join(found),
                        }
                    )
    return RowCheck(checked, violating, shown)


def image_problems(row: dict[str, Any]) -> list[str]:
    """A shipped image must be the bytes its record was admitted with."""
    data = row.get("image_data")
    if not data or data.get("bytes") is None:
        return []
    if hashlib.sha256(data["bytes"]).hexdigest() != row["sha256"]:
        return ["image bytes do not match the row's sha256"]
    return []


def in_id_order(files: list[UPath], name: str, unordered: list[str]) -> Iterator[pl.DataFrame]:
    """The (id, sha256) of `files` a batch at a time; `name` goes to `unordered` if their ids
    are not in order (a release's rows are: the fingerprint reads them as they lie)."""
    last: str | None = None
    for path in files:
        for batch in StoredTable(path).batches(BatchSize(rows=ROWS_PER_BATCH), ["id", "sha256"]):
            ids = batch["id"]
            if batch.height:
                late = last is not None and ids[0] < last
                if (late or not ids.is_sorted()) and name not in unordered:
                    unordered.append(name)
                last = ids[-1]
            yield batch


def manifest_problems(release: UPath) -> list[str]:
    """How MANIFEST.json and the release's files disagree (empty when they match)."""
    path = release / "MANIFEST.json"
    try:
        manifest = json.loads(path.read_text())
    except (OSError, ValueError) as error:
        return [f"MANIFEST.json unreadable: {error}"]
    found = []
    listed = {entry["path"]: entry for entry in manifest.get("files", [])}
    present = {
        p.relative_to(release).as_posix() for p in release.rglob("*") if p.is_file() and p != path
    }
    found += [
        f"{name}: in the folder, not in the manifest" for name in sorted(present - set(listed))
    ]
    found += [f"{name}: in the manifest, missing" for name in sorted(set(listed) - present)]
    for name in sorted(set(listed) & present):
        entry, file = listed[name], release / name
        if file.stat().st_size != entry["bytes"] or file_sha256(file) != entry["sha256"]:
            found.append(f"{name}: bytes differ from the manifest's sha256")
    # A config's shards count as one table, read back a batch at a time.
    by_config: dict[str, list[UPath]] = {}
    for tier, config, shard in shards(release):
        by_config.setdefault(f"{tier}/{config}", []).append(shard)
    unordered: list[str] = []
    parts = ((name, in_id_order(by_config[name], name, unordered)) for name in sorted(by_config))
    if content_fingerprint(parts) != manifest.get("content_fingerprint"):
        found.append("the rows' ids and hashes do not give the manifest's content_fingerprint")
    found += [f"{name}: rows are not in id order" for name in unordered]
    return found
