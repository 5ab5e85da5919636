"""Metadata that the Dagster UI renders for a materialization: counts, tables, previews."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import dagster as dg
import polars as pl
from polars._typing import PolarsDataType

from commons_assets.records import COLUMN_DESCRIPTIONS, Schema

PREVIEW_ROWS = 5
QUARANTINE_ROWS = 50
CELL_CHARS = 90
PREVIEW_CHARS = 300

_DAGSTER_TYPES: dict[PolarsDataType, str] = {
    pl.String: "string",
    pl.Int64: "int",
    pl.Int32: "int",
    pl.Float64: "float",
    pl.Boolean: "bool",
}


def type_name(dtype: PolarsDataType) -> str:
    """A short type name for the UI: `string`, `list<struct>`, `struct`…"""
    if isinstance(dtype, pl.List):
        return f"list<{type_name(dtype.inner)}>"
    if isinstance(dtype, pl.Struct):
        return "struct"
    return _DAGSTER_TYPES.get(dtype.base_type(), str(dtype).lower())


def column_schema(schema: Schema, described_here: Mapping[str, str] = {}) -> dg.TableSchema:
    """`dagster/column_schema` for a Polars schema; nested columns list their fields. A table
    whose columns mean something of their own describes them in `described_here`."""
    columns = []
    for name, dtype in schema.items():
        inner = dtype.inner if isinstance(dtype, pl.List) else dtype
        fields = ", ".join(f.name for f in inner.fields) if isinstance(inner, pl.Struct) else ""
        described = described_here.get(name) or COLUMN_DESCRIPTIONS.get(name)
        if described and fields:
            described = f"{described} Fields: {fields}."
        columns.append(
            dg.TableColumn(name, type_name(dtype), description=described or fields or None)
        )
    return dg.TableSchema(columns=columns)


_TAG = re.compile(r"<(script|style)\b.*?</\1>|<[^>]+>", re.IGNORECASE | re.DOTALL)


def visible_text(html: str) -> str:
    """Roughly the visible text of an HTML page, for a preview cell only (cleaning proper is
    trafilatura's job in the clean stage)."""
    return " ".join(_TAG.sub(" ", html).split())


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


def preview(rows: Iterable[dict[str, Any]], text: str, facts: Sequence[str]) -> dg.MetadataValue:
    """Records to read, as Markdown: each record's facts on one line, then the start of its
    text as a quote. (A table put the text in a column beside a URL, which the UI does not
    wrap, and squeezed the text to a sliver.)"""
    blocks = []
    for row in rows:
        shown = [md(row[f]) for f in facts if row.get(f) not in (None, "")]
        body = " ".join(str(row.get(text) or "").split())
        if len(body) > PREVIEW_CHARS:
            body = body[: PREVIEW_CHARS - 1] + "…"
        blocks.append(f"**{' · '.join(shown) or 'record'}**\n\n> {md(body) or '(empty)'}")
    return dg.MetadataValue.md("\n\n".join(blocks) or "none")


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


# Characters that make Markdown or HTML out of text: escaped wherever an input string (a licence
# statement, a title, a reason, a file's line) is written into Markdown.
_MARKDOWN_SPECIAL = re.compile(r"([\\`*_\[\]()!|~])")
# What starts a block (heading, quote, list item, rule) when it opens a line.
_BLOCK_START = re.compile(r"^(\d*)([#+=.)-])")


def md(text: object) -> str:
    """An input string as inert Markdown text on one line: HTML is shown, not rendered (`<`,
    `>`, `&` as entities), Markdown syntax is escaped (no image, link, heading, emphasis, table
    cell or code), and line breaks become spaces (no new block can start)."""
    value = " ".join(str(text).split())
    value = value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    value = _MARKDOWN_SPECIAL.sub(r"\\\1", value)
    return _BLOCK_START.sub(r"\1\\\2", value)


def md_list(items: Iterable[object]) -> str:
    return "\n".join(f"- {md(item)}" for item in items)
