"""Building one release directory (DESIGN.md §5) from the audited, deduplicated records.

Pure functions over frames and a target folder; the `release` asset wires them to the lake.
A release is immutable and published write-audit-publish (DESIGN.md §5): the candidate is
written whole to releases/.staging/<version>/ (`stage_release`), the release asset verifies
every staged row and the manifest, and only a verified candidate is renamed into place with
`LATEST` moved last (`promote`). Identical input gives byte-identical shards (rows sorted by
id, fixed Parquet settings), and a build whose rows equal the latest release's makes no new
version.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import hashlib
import json
import re
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import Any, TextIO

import polars as pl
import yaml
from upath import UPath

from commons_assets.batches import BatchSize, StoredTable
from commons_assets.lake import (
    is_remote,
    move_folder,
    remove_tree,
    replace_text,
    write_parquet,
)
from commons_assets.publish.columns import COLUMNS
from commons_assets.publish.croissant import croissant, licence_link, write_croissant
from commons_assets.publish.images import image_batches, with_image_data, write_image_shard
from commons_assets.publish.ledger import Ledger, TierFacts
from commons_assets.publish.rows import SortedRows
from commons_assets.reporting import md

SHARD_ROWS = 50_000  # ~100-250 MB of text per shard at web-page sizes: easy to stream
ROW_GROUP_ROWS = 5_000
# What a release folder holds for the same rows; a new layout (2: image bytes in the shards)
# makes the next build cut a new version even when no row changed, so an upgrade reaches users.
RELEASE_LAYOUT = 2
DEFAULT_BATCH = BatchSize()
CHANGES_LISTED = 500  # record ids listed in CHANGES.md; more go to CHANGES_TABLE beside it
CHANGES_TABLE = "CHANGES.parquet"
# Our normalised licences → Hugging Face Hub licence ids for the card's front matter.
HUB_LICENCES = {
    "CC0-1.0": "cc0-1.0",
    "https://creativecommons.org/publicdomain/zero/1.0/": "cc0-1.0",
    "https://creativecommons.org/licenses/by/4.0/": "cc-by-4.0",
    "CC-BY-4.0": "cc-by-4.0",
    "https://creativecommons.org/licenses/by-sa/4.0/": "cc-by-sa-4.0",
    "CC-BY-SA-4.0": "cc-by-sa-4.0",
    "PDDL-1.0": "pddl",
    "ODC-By-1.0": "odc-by",
}


def _write_shards(
    rows: SortedRows, tier: str, config: str, folder: UPath, root: UPath | None = None
) -> list[UPath]:
    """Shards of at most SHARD_ROWS rows, each streamed from the sorted rows (one slice held
    by Polars' streaming engine at a time); `image_text` shards also carry their images' bytes
    (read from under `root`) and are cut by IMAGE_SHARD_BYTES (publish/images.py)."""
    folder.mkdir(parents=True, exist_ok=True)
    columns = COLUMNS[config]
    with_images = "image_data" in columns
    stream = rows.stream(tier, config).select([c for c in columns if c != "image_data"])
    count = rows.rows(tier, config)
    paths: list[UPath] = []
    for start in range(0, max(count, 1), SHARD_ROWS):
        piece = stream.slice(start, SHARD_ROWS)
        if not with_images:
            paths.append(folder / f"part-{len(paths):05d}.parquet")
            write_parquet(piece, paths[-1], row_group_size=ROW_GROUP_ROWS)
            continue
        for part in image_batches(piece.collect()):
            paths.append(folder / f"part-{len(paths):05d}.parquet")
            write_image_shard(with_image_data(part, root or UPath(".")), paths[-1])
    return paths


def file_sha256(path: UPath) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def content_fingerprint(parts: Iterable[tuple[str, Iterable[pl.DataFrame]]]) -> str:
    """Ids and content hashes of every published row, and the release layout they are written
    in: equal fingerprints, equal releases. `parts` are ("tier/config", batches of (id, sha256)
    in id order), in name order: streamed, never held whole."""
    digest = hashlib.sha256(f"layout {RELEASE_LAYOUT}\n".encode())
    for name, batches in parts:
        for batch in batches:
            for record_id, sha in batch.select("id", "sha256").iter_rows():
                digest.update(f"{name}\t{record_id}\t{sha}\n".encode())
    return digest.hexdigest()


def ledger_fingerprint(ledger: Ledger, tiers: dict[str, list[str]]) -> str:
    """The content fingerprint of the rows in the ledger."""
    names = sorted((f"{tier}/{config}", tier, config) for tier in tiers for config in tiers[tier])
    return content_fingerprint((name, ledger.ids_and_hashes(t, c)) for name, t, c in names)


def next_version(releases: UPath, today: dt.date) -> str:
    taken = {p.name for p in releases.iterdir()} if releases.is_dir() else set()
    number = 1
    while f"{today.isoformat()}.{number}" in taken:
        number += 1
    return f"{today.isoformat()}.{number}"


def _fingerprint_of(folder: UPath) -> str | None:
    try:
        return json.loads((folder / "MANIFEST.json").read_text()).get("content_fingerprint")
    except (OSError, ValueError):
        return None


def _version_key(name: str) -> tuple[str, int]:
    day, _, number = name.rpartition(".")
    return day, int(number) if number.isdigit() else -1


def unpointed_version(releases: UPath) -> str | None:
    """The newest release folder when it is newer than LATEST (a run was killed between the
    rename into releases/ and the move of LATEST), else None."""
    if not releases.is_dir():
        return None
    versions = [
        p.name
        for p in releases.iterdir()
        if p.is_dir() and not p.name.startswith(".") and (p / "MANIFEST.json").exists()
    ]
    if not versions:
        return None
    newest = max(versions, key=_version_key)
    current = latest(releases)
    if current is None or _version_key(newest) > _version_key(current):
        return newest
    return None


def latest(releases: UPath) -> str | None:
    pointer = releases / "LATEST"
    return pointer.read_text().strip() if pointer.exists() else None


def _hub_licences(facts: TierFacts) -> list[str]:
    found = {HUB_LICENCES.get(v, "other") for v, _ in facts.licences if v is not None}
    return sorted(found) or ["other"]


# A BCP 47 language tag as the Hub's `language:` takes it (ISO 639 code, optional subtags).
LANGUAGE_TAG = re.compile(r"[a-z]{2,3}(-[A-Za-z0-9]{2,8}){0,3}")


def _fenced(text: str, info: str) -> list[str]:
    """A code block whose fence is longer than any backtick run in the text (no escape)."""
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    fence = "`" * max(3, longest + 1)
    return [f"{fence}{info}", text, fence]


def _size_category(rows: int) -> str:
    for limit, name in (
        (1_000, "n<1K"),
        (10_000, "1K<n<10K"),
        (100_000, "10K<n<100K"),
        (1_000_000, "100K<n<1M"),
    ):
        if rows < limit:
            return name
    return "n>1M"


def _card(
    version: str,
    tier: str,
    facts: TierFacts,
    policy: dict[str, Any],
    dedupe: dict[str, int],
    changes: dict[str, int],
    filters: dict[str, int] | None = None,
) -> str:
    languages = [language for language in facts.languages if LANGUAGE_TAG.fullmatch(language)]
    # Built by a YAML serializer from checked values: a record's declared language can neither
    # add keys nor break the card's front matter.
    hub_licences = _hub_licences(facts)
    front = {
        "pretty_name": f"Commons release {version} ({tier} tier)",
        "license": hub_licences,
        # The Hub's convention for licences it has no id for: `other` named and linked.
        **(
            {"license_name": "commons-per-record", "license_link": "README.md#licences"}
            if "other" in hub_licences
            else {}
        ),
        "language": languages,
        "size_categories": [_size_category(facts.rows)],
        "configs": [
            {"config_name": name, "data_files": f"{name}/*.parquet"} for name in facts.configs
        ],
    }
    front_matter = [
        "---",
        yaml.safe_dump(front, sort_keys=False, allow_unicode=True).strip(),
        "---",
    ]
    terms = {
        "consented": "Records in this tier are published because their authors consented to "
        "generative training and bulk redistribution (user intents); they carry no licence. "
        "Use them only as the consent allows, honour later revocations (each release re-applies "
        "them), and do not redistribute them outside this tier.",
        "gated": "Records in this tier come from collections their steward gated: access is "
        "granted on request, under the collection's terms. Do not redistribute them.",
    }.get(
        tier,
        "Every record carries its own licence (`licence`, `licence_class`) and, where the "
        "licence requires it, its attribution; see ATTRIBUTION.md.",
    )
    body = [
        f"# Commons release {version} — {tier} tier",
        "",
        "Built by Commons from openly licensed collections. Every row carries its source, "
        "licence, consent evidence and processing history (`provenance`).",
        "",
        "## Terms",
        terms,
        "",
        "## Sources",
        *[f"- {kind}: {count} records" for kind, count in facts.by_source],
        "",
        "## Licence mix",
        *[f"- {cls or 'none (consent)'}: {count}" for cls, count in facts.by_class],
        "",
        "## Licences",
        "Each record's licence is in its `licence` column; the licences in this tier:",
        *_licence_lines(facts),
        "",
        *_image_lines(facts),
        "## Policy in force",
        *_fenced(json.dumps(policy, indent=1, sort_keys=True, default=str), "json"),
        "",
        "## Filters and their counts",
        *(
            [f"- {name}: {count}" for name, count in sorted((filters or {}).items())]
            or ["- none recorded"]
        ),
        "",
        "## Deduplication",
        f"- clusters: {dedupe.get('clusters', 0)}; copies left out: {dedupe.get('removed', 0)}",
        "",
        "## Changes since the previous release",
        f"- added {changes.get('added', 0)}, removed {changes.get('removed', 0)} (CHANGES.md)",
        "",
        "## Known gaps",
        "- Public-domain status is recorded per jurisdiction where the source says so "
        "(`pd_jurisdiction` = `US` for public domain in the United States only); elsewhere "
        "it is as stated by the source.",
        "- Consent signals are those present when the source was captured or built.",
    ]
    return "\n".join([*front_matter, "", *body]) + "\n"


def _licence_lines(facts: TierFacts) -> list[str]:
    lines = []
    for licence, count in facts.licences:
        if licence is None:
            lines.append(f"- no licence (published by its authors' consent): {count}")
            continue
        link = licence_link(licence)
        name = f"[{md(licence)}]({link})" if link else md(licence)
        lines.append(f"- {name}: {count} (Hub id {HUB_LICENCES.get(licence, 'other')})")
    return lines


def _image_lines(facts: TierFacts) -> list[str]:
    """The card's account of the images: shipped bytes, or a remote URL only."""
    if facts.images is None:
        return []
    shipped, remote = facts.images
    return [
        "## Images",
        f"- {shipped} image(s) shipped in `image_text/` as bytes in "
        "`image_data` (`{bytes, path}`: the `datasets` Image feature; a BLOB in DuckDB), each "
        "the file its record was admitted with (`sha256` is the SHA-256 of the bytes);",
        f"- {remote} remote-only image(s): `image.url` only, not fetched, so no bytes and no "
        "verified hash.",
        "- `image` holds width, height, format, mode and size; `phash` the perceptual hash.",
        "",
    ]


ATTRIBUTION_HEADER = [
    "# Attribution",
    "",
    "Credits owed under the licences of the records in this release (BY / BY-SA and "
    "other attribution licences), grouped by source.",
    "",
]


def write_attribution(ledger: Ledger, out: TextIO) -> None:
    """ATTRIBUTION.md of the open tier: every row whose licence asks for credit, by config,
    source kind and partition; streamed from the ledger a batch at a time."""
    out.write("\n".join(ATTRIBUTION_HEADER) + "\n")
    owed = ledger.stream(
        "SELECT config, source_kind, source_partition, title, source_id, attribution, licence, "
        "licence_raw, source_uri FROM summary WHERE tier = 'open' AND decision = 'INCLUDE_ATTRIB' "
        "ORDER BY config, source_kind NULLS FIRST, source_partition NULLS FIRST, id"
    )
    group, credits = None, 0
    for batch in owed:
        lines: list[str] = []
        for row in batch.iter_rows(named=True):
            key = (row["config"], row["source_kind"], row["source_partition"])
            if key != group:
                lines += [""] if group is not None else []
                lines += [f"## {row['source_kind']} / {md(row['source_partition'])}", ""]
                group = key
            what = row["title"] or row["source_id"]
            who = row["attribution"] or "the rights holder named at the source"
            lines.append(
                f"- {md(what)} — {md(who)} — {md(row['licence'] or row['licence_raw'])} — "
                f"{md(row['source_uri'])}"
            )
            credits += 1
        if lines:
            out.write("\n".join(lines) + "\n")
    if group is not None:
        out.write("\n")
    if not credits:
        out.write("No record in this release requires attribution under its licence.\n")


def _changes(
    ledger: Ledger,
    version: str,
    previous_version: str | None,
    takedowns: list[dict[str, Any]],
    table: UPath,
    reviews: list[dict[str, Any]] | None = None,
) -> tuple[str, dict[str, int]]:
    """CHANGES.md and the counts; one row (config, change, id, reason) per record id added
    to or removed from the open tier since the previous release (whose ids are the ledger's
    `previous`) is listed in the file up to CHANGES_LISTED, else written to `table`. Ids are
    compared by joins in the ledger, never as sets of Python strings."""
    lines = [f"# Changes in {version}", ""]
    if previous_version is None:
        lines.append("First release.")
        added = ledger.scalar(
            "SELECT count(DISTINCT (config, id)) FROM summary WHERE tier = 'open'"
        )
        counts = {"added": int(added), "removed": 0}
        lines += review_lines(reviews) + takedown_lines(takedowns)
        return "\n".join(lines) + "\n", counts
    lines.append(f"Compared with {previous_version}.")
    # As separate statements, each of which DuckDB spills on its own.
    for statement in (
        "CREATE OR REPLACE TABLE now AS SELECT DISTINCT config, id FROM summary "
        "WHERE tier = 'open'",
        "CREATE OR REPLACE TABLE before AS SELECT DISTINCT config, id FROM previous",
        "CREATE OR REPLACE TABLE removed AS SELECT * FROM before ANTI JOIN now USING (config, id)",
        f"CREATE OR REPLACE TABLE why AS {ledger.reasons_sql('SELECT id FROM removed')}",
        "CREATE OR REPLACE TABLE changes AS "
        "SELECT config, 'added' AS change, id, '' AS reason FROM now "
        "ANTI JOIN before USING (config, id) UNION ALL "
        "SELECT config, 'removed', id, coalesce(why.reason, 'source removed or content changed') "
        "FROM removed LEFT JOIN why USING (id)",
    ):
        ledger.connection.execute(statement)
    counts = {"added": 0, "removed": 0}
    changed = {
        (config, change): int(n)
        for config, change, n in ledger.rows(
            "SELECT config, change, count(*) FROM changes GROUP BY ALL"
        )
    }
    configs = [
        c
        for (c,) in ledger.rows(
            "SELECT config FROM summary WHERE tier = 'open' UNION SELECT config FROM previous "
            "ORDER BY config"
        )
    ]
    for name in configs:
        added, removed = changed.get((name, "added"), 0), changed.get((name, "removed"), 0)
        counts["added"] += added
        counts["removed"] += removed
        lines += ["", f"## {name}", f"- added: {added}", f"- removed: {removed}"]
        counted = ledger.rows(
            "SELECT reason, count(*) FROM changes WHERE config = ? AND change = 'removed' "
            "GROUP BY reason ORDER BY reason",
            [name],
        )
        lines += [f"  - {count}: {md(reason)}" for reason, count in counted]
    listed = sum(changed.values())
    in_order = "SELECT config, change, id, reason FROM changes ORDER BY config, change, id"
    if listed > CHANGES_LISTED:
        # Streamed by Polars from DuckDB's copy: the bytes the lake's writer gives the rows.
        write_parquet(pl.scan_parquet(ledger.to_parquet(in_order, "changes")), table)
        lines += ["", f"The {listed} record ids added and removed are in {CHANGES_TABLE}."]
    elif listed:
        lines += ["", "## Records added and removed", "", "| config | change | id | reason |"]
        lines += ["| --- | --- | --- | --- |"]
        lines += [
            f"| {config} | {change} | {record_id} | {md(reason)} |"
            for batch in ledger.stream(in_order)
            for config, change, record_id, reason in batch.iter_rows()
        ]
    lines += review_lines(reviews) + takedown_lines(takedowns)
    return "\n".join(lines) + "\n", counts


def review_lines(reviews: list[dict[str, Any]] | None) -> list[str]:
    if not reviews:
        return []
    return ["", "## Steward reviews applied"] + [
        f"- {md(r['source'])}: {md(r['verdict'])} — {r['records']} record(s)" for r in reviews
    ]


def takedown_lines(takedowns: list[dict[str, Any]]) -> list[str]:
    """CHANGES.md sections: the requests applied, the lines that could not be applied, and the
    requests that matched no record."""
    lines = []
    if applied := [t for t in takedowns if t["records"]]:
        lines += ["", "## Takedown requests applied"]
        lines += [
            f"- {md(t['source'])}: {t['match']}={md(t['value'])} ({t['scope']}): "
            f"{t['records']} record(s) left out — {md(t['reason'])}"
            for t in applied
        ]
    if unusable := [t for t in takedowns if t.get("problem")]:
        lines += ["", "## Takedown lines that could not be applied"]
        lines += [f"- {md(t['problem'])}" for t in unusable]
    if unmatched := [t for t in takedowns if not t["records"] and not t.get("problem")]:
        lines += ["", "## Takedown requests that matched no record"]
        lines += [
            f"- {md(t['source'])}: {t['match']}={md(t['value'])} — {md(t['reason'])}"
            for t in unmatched
        ]
    return lines


def add_previous(ledger: Ledger, folder: UPath, size: BatchSize) -> None:
    """Each config's record ids in the open tier of the release in `folder`, into the ledger's
    `previous`, a batch at a time."""
    for name in ("text", "image_text"):
        for shard in sorted((folder / name).glob("*.parquet")):
            for batch in StoredTable(shard).batches(size, columns=["id"]):
                ledger.add("previous", batch.with_columns(pl.lit(name).alias("config")))


# The Dagster concurrency pools of the steps that write one shared object of the lake: releases/
# and the duplicate index (a limit of 1 in a deployment whose workers share no file locks).
RELEASE_POOL = "commons_release"
INDEX_POOL = "commons_dedupe_index"

STAGING = ".staging"  # releases/.staging/<version>/: a candidate, not yet a release


def staging_folder(releases: UPath) -> UPath:
    return releases / STAGING


def stage_release(
    releases: UPath,
    rows: SortedRows,
    ledger: Ledger,
    policy: dict[str, Any],
    dedupe: dict[str, int],
    takedowns: list[dict[str, Any]],
    today: dt.date,
    filters: dict[str, int] | None = None,
    reviews: list[dict[str, Any]] | None = None,
    size: BatchSize = DEFAULT_BATCH,
) -> tuple[str, UPath | None]:
    """Write the candidate release to releases/.staging/<version>/, complete with its manifest,
    unless its content equals LATEST's: the shards streamed from `rows`, the rest from the
    ledger's summary of them (`Ledger.summarise`). Returns (version, staged folder), or
    (LATEST, None) when nothing changed. Nothing here moves LATEST: `promote` does, once the
    candidate is verified. An earlier candidate that was refused is replaced."""
    releases.mkdir(parents=True, exist_ok=True)
    tiers = ledger.tiers()
    fingerprint = ledger_fingerprint(ledger, tiers)
    previous_version = latest(releases)
    for candidate in (previous_version, unpointed_version(releases)):
        # An unpointed version is one a killed run promoted but did not name in LATEST yet:
        # with the same content it is this release (verified again, then named), not a twin.
        if candidate and _fingerprint_of(releases / candidate) == fingerprint:
            return candidate, None
    remove_tree(staging_folder(releases))
    version = next_version(releases, today)
    staged = staging_folder(releases) / version
    if previous_version:
        add_previous(ledger, releases / previous_version, size)
    counts: dict[str, int] = {}
    for tier, configs in tiers.items():
        folder = staged if tier == "open" else staged / tier
        for name in configs:
            _write_shards(rows, tier, name, folder / name, releases.parent)
        folder.mkdir(parents=True, exist_ok=True)
        if tier == "open":
            changes, counts = _changes(
                ledger,
                version,
                previous_version,
                takedowns,
                folder / CHANGES_TABLE,
                reviews,
            )
            (folder / "CHANGES.md").write_text(changes)
            with (folder / "ATTRIBUTION.md").open("w", encoding="utf-8") as out:
                write_attribution(ledger, out)
        facts = ledger.tier_facts(tier)
        (folder / "README.md").write_text(
            _card(version, tier, facts, policy, dedupe, counts, filters)
        )
        write_croissant(
            folder,
            croissant(version, tier, facts, today, f"fingerprint {policy.get('fingerprint')}"),
        )
    files = sorted(p for p in staged.rglob("*") if p.is_file())
    manifest = {
        "version": version,
        "content_fingerprint": fingerprint,
        "files": [
            {
                "path": p.relative_to(staged).as_posix(),
                "bytes": p.stat().st_size,
                "sha256": file_sha256(p),
            }
            for p in files
        ],
    }
    (staged / "MANIFEST.json").write_text(json.dumps(manifest, indent=1) + "\n")
    return version, staged


def promote(releases: UPath, staged: UPath) -> str:
    """Make a verified candidate the newest release: rename it into releases/ (atomic; fails if
    the version exists, releases are immutable), then move LATEST."""
    version = staged.name
    move_folder(staged, releases / version)
    point_latest(releases, version)
    with contextlib.suppress(OSError):  # gone, or still holding a refused candidate
        staged.parent.rmdir()
    return version


def point_latest(releases: UPath, version: str) -> None:
    """Name `version` in LATEST, atomically (a reader sees the old name or the new one)."""
    replace_text(releases / "LATEST", version + "\n")


@contextmanager
def releases_locked(releases: UPath) -> Iterator[None]:
    """One writer at a time: two builds publishing at once (a rebuild after a takedown while a
    backfill's release runs) would otherwise pick the same version number. On an object store
    (no file locks) the instance holds it: the release asset is in the pool RELEASE_POOL,
    limited to one step at a time across runs (deploy/ray/dagster.yaml: concurrency.pools)."""
    if is_remote(releases):
        yield
        return
    releases.mkdir(parents=True, exist_ok=True)
    # Beside the folder, not in it: the release layout is a contract other tools read.
    with (releases.parent / f".{releases.name}.lock").open("w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
