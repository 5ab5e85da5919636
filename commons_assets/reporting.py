"""Metadata that the Dagster UI renders for a materialization: counts, tables, previews."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import dagster as dg
import polars as pl

PREVIEW_ROWS = 5
QUARANTINE_ROWS = 50
CELL_CHARS = 120

_DAGSTER_TYPES = {
    pl.String: "string",
    pl.Int64: "int",
    pl.Int32: "int",
    pl.Float64: "float",
    pl.Boolean: "bool",
}


def column_schema(schema: dict[str, pl.DataType]) -> dg.TableSchema:
    """`dagster/column_schema` for a Polars schema."""
    return dg.TableSchema(
        columns=[
            dg.TableColumn(name, _DAGSTER_TYPES.get(dtype.base_type(), str(dtype)))
            for name, dtype in schema.items()
        ]
    )


def _cell(value: Any) -> str | int | float | bool | None:
    if value is None or isinstance(value, bool | int | float):
        return value
    text = str(value).replace("\n", " ")
    return text if len(text) <= CELL_CHARS else text[: CELL_CHARS - 1] + "…"


def table(rows: Iterable[dict[str, Any]], columns: Sequence[str]) -> dg.MetadataValue:
    """A metadata table of the given columns; long values are shortened for display."""
    return dg.MetadataValue.table(
        records=[dg.TableRecord({c: _cell(row.get(c)) for c in columns}) for row in rows],
        schema=dg.TableSchema(columns=[dg.TableColumn(c, "string") for c in columns]),
    )


def outcome_table(outcomes: Sequence[tuple[str, str, int]]) -> dg.MetadataValue:
    return dg.MetadataValue.table(
        records=[
            dg.TableRecord({"outcome": outcome, "reason": reason, "count": count})
            for outcome, reason, count in outcomes
        ],
        schema=dg.TableSchema(
            columns=[
                dg.TableColumn("outcome", "string"),
                dg.TableColumn("reason", "string"),
                dg.TableColumn("count", "int"),
            ]
        ),
    )
