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

# What each column holds, for the card and Croissant (the README's "The record" says more).
DESCRIPTIONS = {
    "id": "Stable, content-addressed record id (SHA-256 of source kind, source id and content).",
    "source_kind": "Kind of source collection: archives, texts, images or social.",
    "source_partition": "The source partition (WARC file, collection folder or day) it came from.",
    "source_id": "The identifier the source gave the record (JSONL id, post URI, WARC URI).",
    "source_uri": "Where the record can be found at its source (URL, or file path and line).",
    "title": "Title stated by the source or the page, if any.",
    "text": "The cleaned main text (extracted, normalised, filtered, PII redacted).",
    "caption": "The image's cleaned caption (or its title when it has no caption).",
    "image": "Image facts checked when the record was read: its name in this release (file), "
    "source URL, width, height, format, mode and size in bytes.",
    "image_data": "The image itself: its bytes (SHA-256 in `sha256`) and its name in this "
    "release; empty for a remote-only image, which is its `image.url`.",
    "phash": "64-bit perceptual hash of the image (DCT pHash, 16 hex digits).",
    "language": "Language of the text or caption (ISO 639 code; fastText lid.176).",
    "licence": "Licence, normalised: an SPDX id or a canonical licence URI.",
    "licence_raw": "The licence statement exactly as the source gave it.",
    "licence_class": "public-domain, permissive, share-alike, …; empty when admitted by consent.",
    "pd_jurisdiction": "Where the record is public domain when that is one country only "
    "(US: rightsstatements.org NoC-US and similar); empty otherwise.",
    "attribution": "Who must be credited, when the licence requires it.",
    "consent": "Consent and opt-out signals seen (channel, raw value, verdict, location).",
    "licence_evidence": "Licence statements found (channel, raw value, verdict, location).",
    "decision": "The rights audit's decision: INCLUDE or INCLUDE_ATTRIB.",
    "policy": "Fingerprint of the licence policy (and reviews) the decision was made under.",
    "sha256": "SHA-256 of the text, or of the image file's bytes.",
    "provenance": "Source file, offset or line, and every processing step with its version.",
}
