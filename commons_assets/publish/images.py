"""The image bytes of a release's `image_text` shards, so that a release copied anywhere still
has its images (issue "A release a user can take away").

Each row whose image is a local file carries the file's verified bytes in `image_data`, a
`{bytes, path}` struct that Hugging Face `datasets` reads as its `Image` feature (the shard's
schema says so in its `huggingface` metadata, as `datasets` writes it) and DuckDB reads as a
BLOB; `path` is `<sha256>.<format>`, the name the image has inside the release. The bytes are
checked against the row's `sha256`, the SHA-256 the source reader took of the same file: a
file changed since it was read is not shipped under the old hash. A remote-only image (a
`url`, no file) ships without bytes: its URL, and no hash, as the card says.

Shards of `image_text` are cut by bytes as well as rows (`IMAGE_SHARD_BYTES`), so a shard, and
the memory that writes or verifies it, stays bounded whatever the image sizes.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator

import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq
from upath import UPath

IMAGE_SHARD_BYTES = 256 * 1024 * 1024  # image bytes per image_text shard
IMAGE_ROW_GROUP_ROWS = 100
IMAGE_DATA = pa.struct([("bytes", pa.binary()), ("path", pa.string())])  # datasets' Image
# What `datasets` reads to give `image_data` its Image feature (the other columns it infers).
HF_FEATURES = json.dumps({"info": {"features": {"image_data": {"_type": "Image"}}}})


class ImageChanged(ValueError):
    """An image file's bytes no longer match the hash its record was admitted with."""


def release_name(row: dict) -> str:
    image = row.get("image") or {}
    extension = (image.get("format") or "bin").lower()
    return f"{row['sha256']}.{extension}"


def image_bytes(row: dict, root: UPath) -> bytes | None:
    """The verified bytes of a row's local image file, or None for a remote-only image."""
    image = row.get("image") or {}
    if not image.get("file"):
        return None
    data = (root / image["file"]).read_bytes()
    if hashlib.sha256(data).hexdigest() != row["sha256"]:
        raise ImageChanged(
            f"{image['file']}: bytes changed since the record was read (sha256 differs)"
        )
    return data


def image_batches(
    frame: pl.DataFrame, max_bytes: int = IMAGE_SHARD_BYTES
) -> Iterator[pl.DataFrame]:
    """Consecutive slices of `frame` whose images add up to at most `max_bytes` (one row alone
    may exceed it: an image is never split)."""
    sizes = frame["image"].struct.field("bytes").fill_null(0).to_list()
    start = total = 0
    for index, size in enumerate(sizes):
        if index > start and total + size > max_bytes:
            yield frame.slice(start, index - start)
            start, total = index, 0
        total += size
    if start < frame.height or frame.height == 0:
        yield frame.slice(start)


def with_image_data(frame: pl.DataFrame, root: UPath) -> pa.Table:
    """The frame as an Arrow table with `image_data` filled from the files, and `image.file`
    naming the image inside the release instead of a path under the source tree."""
    rows = frame.to_dicts()
    data, names = [], []
    for row in rows:
        payload = image_bytes(row, root)
        name = release_name(row) if payload is not None else None
        data.append({"bytes": payload, "path": name} if payload is not None else None)
        names.append(name)
    table = (
        frame.with_columns(pl.Series("_in_release", names, pl.String))
        .with_columns(pl.col("image").struct.with_fields(pl.col("_in_release").alias("file")))
        .drop("_in_release")
        .to_arrow()
    )
    table = table.append_column("image_data", pa.array(data, type=IMAGE_DATA))
    return table


def write_image_shard(table: pa.Table, path: UPath) -> None:
    """One shard with `datasets`' feature metadata, written by pyarrow: Polars writes binary
    columns as large_binary, which `datasets` would not read as an Image."""
    metadata = dict(table.schema.metadata or {})
    metadata[b"huggingface"] = HF_FEATURES.encode()
    with path.open("wb") as handle:  # a local file or an object of the store alike
        pq.write_table(
            table.replace_schema_metadata(metadata),
            handle,
            compression="zstd",
            row_group_size=IMAGE_ROW_GROUP_ROWS,
            write_statistics=True,
        )
