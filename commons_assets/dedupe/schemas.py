"""The columns of the signature files (one per partition) and of the index's records, which
holds the union of both kinds: text files have no pHash, image files no MinHash signature."""

import polars as pl

from commons_assets.records import Schema

SIGNATURE_SCHEMA: Schema = {
    "id": pl.String,
    "source_kind": pl.String,
    "source_partition": pl.String,
    "source_id": pl.String,
    "sha256": pl.String,
    "decision": pl.String,
    "tier": pl.String,
    "licence_class": pl.String,
    "date": pl.String,
    "evidence_count": pl.Int64,
    "withdrawn": pl.Boolean,
    "signature": pl.List(pl.UInt32),
    "band_keys": pl.List(pl.UInt64),
}
IMAGE_SIGNATURE_SCHEMA: Schema = {
    **{k: v for k, v in SIGNATURE_SCHEMA.items() if k not in ("signature", "band_keys")},
    "image_pixels": pl.Int64,
    "phash": pl.String,
    "band_keys": pl.List(pl.UInt64),
}
# An indexed record: which signature file it came from, and every column of either kind.
RECORD_SCHEMA: Schema = {
    "file": pl.String,
    **SIGNATURE_SCHEMA,
    **IMAGE_SIGNATURE_SCHEMA,
}
