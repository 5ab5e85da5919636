"""The release's ledger: what the release step knows of every record at once, in a DuckDB
database that holds at most `[limits] ledger_memory_bytes` in memory and spills the rest to the
scratch disk, so that its bookkeeping is bounded by a setting whatever the size of the lake
(issue #17).

Before, the step held it in Polars columns: each audit row's decision (about 150 bytes), each
published row's narrow columns for the card, CHANGES, ATTRIBUTION, Croissant, the manifest's
fingerprint and the asset's metadata (about 450 bytes), the cluster table and the previous
release's ids: a few GB for ten million records. Here every one of those is a table, filled a
batch at a time, and everything the release says of them is a query whose answer is a few rows
(counts, distinct licences) or is streamed a batch at a time (attributions, changes, ids and
hashes in id order).

Tables (all text columns VARCHAR; `seq` is the order rows were added in, for "the last one
wins" where a record appears twice):
- `decisions`: every current audit row's id, kind, decision, gate, reason and fetch time;
- `applied`: the evidence entries by which takedowns and steward reviews applied;
- `clusters`: the cluster table's record id, role, match and survivor;
- `summary`: every published row's narrow columns, its tier, config and tokens (a view over
  the release's sorted rows, publish/rows.py, read in place: nothing is copied);
- `previous`: the ids of the previous release's open tier, by config.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq
from upath import UPath

from commons_assets.batches import BatchSize, StoredTable
from commons_assets.publish.rows import ADMITTED, TIERS

NOT_ADMITTED = f"decision NOT IN ({', '.join(repr(d) for d in ADMITTED)})"
TOKENS = "tokens"  # whitespace-separated words of a row's text or caption
# Rows fetched from DuckDB at a time when a query's answer is streamed.
FETCH_ROWS = 10_000

TABLES: dict[str, dict[str, str]] = {
    "decisions": {
        "seq": "BIGINT",
        "id": "VARCHAR",
        "source_kind": "VARCHAR",
        "decision": "VARCHAR",
        "gate": "VARCHAR",
        "decision_reason": "VARCHAR",
        "fetched_at": "VARCHAR",
    },
    "applied": {
        "channel": "VARCHAR",
        "raw": "VARCHAR",
        "location": "VARCHAR",
        "verdict": "VARCHAR",
    },
    "clusters": {
        "seq": "BIGINT",
        "record_id": "VARCHAR",
        "role": "VARCHAR",
        "match": "VARCHAR",
        "survivor_id": "VARCHAR",
    },
    "previous": {"config": "VARCHAR", "id": "VARCHAR"},
}
SUMMARY: dict[str, str] = {
    "tier": "VARCHAR",
    "config": "VARCHAR",
    "id": "VARCHAR",
    "sha256": "VARCHAR",
    "source_kind": "VARCHAR",
    "source_partition": "VARCHAR",
    "source_id": "VARCHAR",
    "source_uri": "VARCHAR",
    "language": "VARCHAR",
    "licence": "VARCHAR",
    "licence_raw": "VARCHAR",
    "licence_class": "VARCHAR",
    "decision": "VARCHAR",
    "policy": "VARCHAR",
    "title": "VARCHAR",
    "attribution": "VARCHAR",
    "remote_image": "BOOLEAN",  # an image row with a URL only (no file, so no bytes)
    "tokens": "BIGINT",
}
POLARS_TYPES = {"BIGINT": pl.Int64, "VARCHAR": pl.String, "BOOLEAN": pl.Boolean}


@dataclass(frozen=True)
class TierFacts:
    """What a tier's card and Croissant file say of its rows: a few rows whatever its size."""

    configs: list[str]  # the configs that hold rows, sorted
    languages: list[str]  # declared languages, distinct, sorted
    licences: list[tuple[str | None, int]]  # rows per licence, sorted, no licence last
    by_source: list[tuple[str, int]]  # rows per source kind, sorted
    by_class: list[tuple[str | None, int]]  # rows per licence class, sorted, none first
    images: tuple[int, int] | None  # image_text rows (shipped bytes, remote only), if any

    @property
    def rows(self) -> int:
        return sum(count for _, count in self.by_source)

    @property
    def unlicensed(self) -> bool:
        return any(licence is None for licence, _ in self.licences)


def conform(frame: pl.DataFrame, table: str) -> pl.DataFrame:
    """`frame`'s columns as the ledger table holds them: missing ones null, text as strings
    (the way Polars formats a value), extra ones dropped."""
    columns = []
    for name, kind in TABLES[table].items():
        wanted = POLARS_TYPES[kind]
        column = pl.col(name) if name in frame.columns else pl.lit(None)
        columns.append(column.cast(wanted).alias(name))
    return frame.select(columns)


class Ledger:
    """One release step's ledger (see the module); made by `release_ledger`."""

    def __init__(self, connection: duckdb.DuckDBPyConnection, folder: Path):
        self.connection, self.folder = connection, folder
        self._seq = 0
        self._files: dict[tuple[str, str], Path] = {}
        for table, columns in TABLES.items():
            typed = ", ".join(f"{name} {kind}" for name, kind in columns.items())
            connection.execute(f"CREATE TABLE {table} ({typed})")

    # Filling it, a batch at a time.

    def add(self, table: str, frame: pl.DataFrame) -> None:
        """Append a batch's rows to `table` (conformed to its columns)."""
        if not frame.height:
            return
        if "seq" in TABLES[table]:
            frame = frame.with_columns(
                pl.int_range(self._seq, self._seq + frame.height).alias("seq")
            )
            self._seq += frame.height
        incoming = conform(frame, table).to_arrow()
        self.connection.register("incoming", incoming)
        try:
            self.connection.execute(f"INSERT INTO {table} SELECT * FROM incoming")
        finally:
            self.connection.unregister("incoming")

    def summarise(self, files: Mapping[tuple[str, str], Path]) -> None:
        """`summary`: the published rows of each (tier, config) file, their SUMMARY columns
        read in place by DuckDB (only the columns a query asks for; the texts only for the
        token count). Valid while the files are."""
        self._files = dict(files)
        parts = [_summary_of(tier, config, path) for (tier, config), path in sorted(files.items())]
        if not parts:  # no row: the columns all the same
            typed = ", ".join(f"NULL::{kind} AS {name}" for name, kind in SUMMARY.items())
            parts = [f"SELECT {typed} WHERE false"]
        self.connection.execute(f"CREATE OR REPLACE VIEW summary AS {' UNION ALL '.join(parts)}")

    def add_clusters(self, clusters: StoredTable | None, size: BatchSize) -> None:
        """The cluster table, a batch at a time (none yet, or one without roles: no clusters)."""
        if clusters is None or "role" not in clusters.columns:
            self.clusters_added()
            return
        wanted = [c for c in TABLES["clusters"] if c in clusters.columns]
        for batch in clusters.batches(size, columns=wanted):
            self.add("clusters", batch)
        self.clusters_added()

    # Answers: a few rows, or streamed.

    def rows(self, sql: str, parameters: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        """A query whose answer is a few rows (counts, distinct values)."""
        return self.connection.execute(sql, list(parameters)).fetchall()

    def scalar(self, sql: str, parameters: Sequence[Any] = ()) -> Any:
        return self.rows(sql, parameters)[0][0]

    def stream(self, sql: str, parameters: Sequence[Any] = ()) -> Iterator[pl.DataFrame]:
        """A query's answer, at most FETCH_ROWS rows at a time."""
        reader = self.connection.sql(sql, params=list(parameters)).to_arrow_reader(FETCH_ROWS)
        for batch in reader:
            frame = pl.from_arrow(pa.Table.from_batches([batch]))
            assert isinstance(frame, pl.DataFrame)
            yield frame

    def to_parquet(self, sql: str, name: str) -> Path:
        """A query's answer written by DuckDB to a Parquet file in the ledger's folder."""
        path = self.folder / f"{name}.parquet"
        self.connection.execute(f"COPY ({sql}) TO {_literal(str(path))} (FORMAT parquet)")
        return path

    def looked_up(self, ids: pl.Series, sql: str, parameters: Sequence[Any] = ()) -> pl.DataFrame:
        """One answer row per id of `ids`, in their order: `sql` selects from `ids_in(pos, id)`
        (the ids) and must keep `pos`; a small frame (a batch's ids)."""
        wanted = pl.DataFrame({"pos": pl.int_range(0, ids.len(), eager=True), "id": ids})
        self.connection.register("ids_in", wanted.to_arrow())
        try:
            query = f"SELECT * FROM ({sql}) ORDER BY pos"
            found = self.connection.sql(query, params=list(parameters)).pl()
        finally:
            self.connection.unregister("ids_in")
        return found

    # What dedupe leaves out.

    def clusters_added(self) -> None:
        """`gone`: the ids dedupe leaves out (a duplicate or a withdrawn copy), once each."""
        self.connection.execute(
            "CREATE OR REPLACE TABLE gone AS SELECT DISTINCT record_id AS id FROM clusters "
            "WHERE role IN ('duplicate', 'withdrawn')"
        )

    def left_out(self, ids: pl.Series) -> pl.Series:
        """Whether dedupe leaves out each of `ids` (call `clusters_added` first)."""
        found = self.looked_up(
            ids.cast(pl.String),
            "SELECT pos, g.id IS NOT NULL AS gone FROM ids_in LEFT JOIN gone g ON g.id = ids_in.id",
        )
        return found["gone"]

    def left_out_count(self) -> int:
        return int(self.scalar("SELECT count(*) FROM gone"))

    def cluster_count(self) -> int:
        return int(
            self.scalar(
                "SELECT count(*) FROM clusters WHERE role <> 'duplicate' AND match = 'self'"
            )
        )

    # The audits.

    @property
    def audited(self) -> int:
        return int(self.scalar("SELECT count(*) FROM decisions"))

    def decision_counts(self) -> dict[str | None, int]:
        return dict(self.rows("SELECT decision, count(*) FROM decisions GROUP BY decision"))

    def held_counts(self) -> list[tuple[str | None, str | None, int]]:
        """Records not admitted by the audit, by decision and gate."""
        return self.rows(
            "SELECT decision, gate, count(*) FROM decisions "
            f"WHERE {NOT_ADMITTED} GROUP BY decision, gate"
        )

    def reasons_sql(self, ids: str | None = None) -> str:
        """(id, reason) of every record the release leaves out (of those the query `ids`
        selects, if given): the audit's decision, or dedupe's word where the record is a
        duplicate or a withdrawn copy (it comes later in the journey); the last word said of
        an id wins."""
        among = f"AND id IN ({ids})" if ids else ""
        among_clusters = f"AND record_id IN ({ids})" if ids else ""

        def said(column: str) -> str:  # as Python formats a missing value
            return f"coalesce({column}, 'None')"

        audit_word = (
            f"{said('decision')} || ' (' || {said('gate')} || '): ' || {said('decision_reason')}"
        )
        dedupe_word = (
            "CASE WHEN role = 'withdrawn' THEN 'withdrawn with its work (takedown, scope work)' "
            f"ELSE 'duplicate (' || {said('match')} || ') of ' || {said('survivor_id')} END"
        )
        return (
            "SELECT id, arg_max(reason, said_at) AS reason FROM ("
            f"SELECT id, {audit_word} AS reason, seq AS said_at FROM decisions "
            f"WHERE {NOT_ADMITTED} {among} UNION ALL "
            f"SELECT record_id, {dedupe_word}, seq + (1::BIGINT << 50) FROM clusters "
            f"WHERE role <> 'survivor' {among_clusters}) GROUP BY id"
        )

    def applied_counts(self) -> list[tuple[str, str | None, str | None, str | None, int]]:
        """(channel, raw, location, verdict, records) of each takedown or review applied."""
        return self.rows(
            "SELECT channel, raw, location, verdict, count(*) FROM applied "
            "GROUP BY ALL ORDER BY ALL"
        )

    def fetch_times(self) -> None:
        """`page_times`: each page's fetch time by id (its last audit row), sorted by id so that
        a batch of ids in one range reads a few of its row groups."""
        self.connection.execute(
            "CREATE OR REPLACE TABLE page_times AS SELECT id, "
            "arg_max_null(fetched_at, seq) AS fetched_at FROM decisions "
            "WHERE source_kind = 'archives' GROUP BY id ORDER BY id"
        )

    def has_pages(self) -> bool:
        return bool(
            self.scalar("SELECT count(*) > 0 FROM decisions WHERE source_kind = 'archives'")
        )

    def fetched_at(self, ids: pl.Series) -> pl.Series:
        """Each of `ids`'s page fetch time (None: not a page of the audits)."""
        if not ids.len():
            return pl.Series("fetched_at", [], pl.String)
        ids = ids.cast(pl.String)
        found = self.looked_up(
            ids,
            "SELECT pos, t.fetched_at FROM ids_in LEFT JOIN "
            "(SELECT * FROM page_times WHERE id BETWEEN ? AND ?) t ON t.id = ids_in.id",
            [ids.min(), ids.max()],
        )
        return found["fetched_at"]

    # The published rows.

    def tiers(self) -> dict[str, list[str]]:
        """The configs with rows of each tier that holds rows, and always `open`."""
        found: dict[str, list[str]] = {}
        for tier, config in self.rows("SELECT DISTINCT tier, config FROM summary ORDER BY ALL"):
            found.setdefault(tier, []).append(config)
        return {tier: found.get(tier, []) for tier in TIERS if tier in found or tier == "open"}

    def tier_facts(self, tier: str) -> TierFacts:
        where = "WHERE tier = ?"

        def counted(column: str, nulls: str) -> list[tuple[Any, int]]:
            return [
                (value, int(count))
                for value, count in self.rows(
                    f"SELECT {column}, count(*) FROM summary {where} GROUP BY {column} "
                    f"ORDER BY {column} {nulls}",
                    [tier],
                )
            ]

        configs = [c for (c,) in self.rows(f"SELECT DISTINCT config FROM summary {where}", [tier])]
        languages = self.rows(
            f"SELECT DISTINCT language FROM summary {where} AND language IS NOT NULL "
            "ORDER BY language",
            [tier],
        )
        images = None
        if "image_text" in configs:
            shipped, remote = self.rows(
                "SELECT count(*) FILTER (NOT coalesce(remote_image, false)), "
                "count(*) FILTER (remote_image) FROM summary WHERE tier = ? "
                "AND config = 'image_text'",
                [tier],
            )[0]
            images = (int(shipped), int(remote))
        return TierFacts(
            configs=sorted(configs),
            languages=[language for (language,) in languages],
            licences=counted("licence", "NULLS LAST"),
            by_source=counted("source_kind", "NULLS FIRST"),
            by_class=counted("licence_class", "NULLS FIRST"),
            images=images,
        )

    def ids_and_hashes(self, tier: str, config: str) -> Iterator[pl.DataFrame]:
        """One tier's rows of one config as (id, sha256), in id order: read from its sorted
        file as it lies (the order its shards have), not sorted again."""
        if (tier, config) not in self._files:
            return iter(())
        return StoredTable(UPath(self._files[(tier, config)])).batches(
            BatchSize(rows=FETCH_ROWS), columns=["id", "sha256"]
        )

    def policies(self) -> list[str]:
        """The policy fingerprints recorded on the published rows, sorted."""
        return [
            p
            for (p,) in self.rows(
                "SELECT DISTINCT policy FROM summary WHERE policy IS NOT NULL ORDER BY policy"
            )
        ]

    def counted(self, *by: str) -> list[dict[str, Any]]:
        """The published rows counted by the columns `by`, sorted by them (no value first)."""
        columns = ", ".join(by)
        order = ", ".join(f"{c} NULLS FIRST" for c in by)
        found = self.connection.execute(
            f"SELECT {columns}, count(*) AS len FROM summary GROUP BY {columns} ORDER BY {order}"
        ).fetchall()
        return [dict(zip([*by, "len"], row, strict=True)) for row in found]


def _summary_of(tier: str, config: str, path: Path) -> str:
    """The SELECT of one sorted file's SUMMARY columns (absent ones null)."""
    schema = pq.read_schema(path)
    present = set(schema.names)
    content = [c for c in ("text", "caption") if c in present]
    image = schema.field("image").type if "image" in present else None
    columns = []
    for name, kind in SUMMARY.items():
        if name in ("tier", "config"):
            value = _literal(tier if name == "tier" else config)
        elif name == "tokens":  # as Polars splits: "" is one token, "a  b" three
            text = f"coalesce({', '.join(content)}, '')" if content else None
            value = f"len(string_split({text}, ' '))" if text else "0"
        elif name == "remote_image":
            has_file = isinstance(image, pa.StructType) and image.get_field_index("file") >= 0
            value = "image.file IS NULL" if has_file else "NULL"
        else:
            value = name if name in present else "NULL"
        columns.append(f"CAST({value} AS {kind}) AS {name}")
    return f"SELECT {', '.join(columns)} FROM read_parquet({_literal(str(path))})"


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


@contextmanager
def release_ledger(scratch: Path, memory_bytes: int) -> Iterator[Ledger]:
    """A new ledger in a folder under `scratch` (removed on exit), holding at most
    `memory_bytes` in memory."""
    scratch.mkdir(parents=True, exist_ok=True)
    folder = Path(tempfile.mkdtemp(prefix="release-ledger.", dir=scratch))
    connection = duckdb.connect()  # in memory, spilling to temp_directory: no WAL to write
    try:
        connection.execute(f"SET memory_limit = '{int(memory_bytes)}B'")
        connection.execute(f"SET temp_directory = '{folder / 'spill'}'")
        # Every answer that needs an order says it (ORDER BY): DuckDB may then stream the rest.
        connection.execute("SET preserve_insertion_order = false")
        # One thread: DuckDB's own advice under a tight limit (with two, a sort of 27 MB of ids
        # ran out of 32 MiB here: each thread pins blocks of its own).
        connection.execute("SET threads = 1")
        yield Ledger(connection, folder)
    finally:
        connection.close()
        shutil.rmtree(folder, ignore_errors=True)
