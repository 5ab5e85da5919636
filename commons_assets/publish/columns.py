"""The columns of a release's shards (DESIGN.md §4), one list per config, and the scalar ones
that Croissant describes as fields (nested columns stay in the Parquet files)."""

IDENTITY = ["id", "source_kind", "source_partition", "source_id", "source_uri", "title"]
RIGHTS = [
    "language",
    "licence",
    "licence_raw",
    "licence_class",
    "pd_jurisdiction",
    "attribution",
]
# What the release gate re-verifies each row from (publish/gate.py): the consent and opt-out
# signals, the licence statements, and the fingerprint of the policy that decided the row.
EVIDENCE = ["consent", "licence_evidence", "decision", "policy"]
COLUMNS = {
    "text": [*IDENTITY, "text", *RIGHTS, *EVIDENCE, "sha256", "provenance"],
    "image_text": [
        *IDENTITY,
        "caption",
        "image",
        "image_data",  # the image's bytes and its name in the release (publish/images.py)
        "phash",
        *RIGHTS,
        *EVIDENCE,
        "sha256",
        "provenance",
    ],
}
NESTED = {"consent", "licence_evidence", "provenance", "image", "image_data"}
SCALAR_COLUMNS = {
    name: [column for column in columns if column not in NESTED]
    for name, columns in COLUMNS.items()
}
