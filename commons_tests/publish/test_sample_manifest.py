"""The bundled sample's release, byte for byte: a restructuring of the code (storage, settings,
the registry of source kinds) must publish exactly what it published before.

The golden file holds each released file's sha256. Parquet shards and ATTRIBUTION.md are
compared as they are; the card, CHANGES.md and the Croissant files name the version and the
day they were cut, so they are compared with those replaced by placeholders. When a change is
meant to alter the release (or constraints.txt moves a library named in the rows' provenance),
regenerate it (`COMMONS_GOLDEN=write python -m pytest
commons_tests/publish/test_sample_manifest.py`) and say why in the commit.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import dagster as dg

from commons_assets.lake import Lake

GOLDEN = Path(__file__).resolve().parents[1] / "golden" / "sample_manifest.json"


def dated_free_sha256(path: Path, version: str) -> str:
    """sha256 of a released file with its version and cut day replaced by placeholders."""
    data = path.read_bytes()
    day = version.rsplit(".", 1)[0]  # 2026-12-03.1 -> 2026-12-03
    croissant_version = f"{day[:4]}.{day[5:7]}{day[8:10]}."  # 2026.1203.N+...
    for value, placeholder in (
        (version, b"<VERSION>"),
        (croissant_version, b"<YYYY.MMDD.>"),
        (day, b"<DAY>"),
    ):
        data = data.replace(value.encode(), placeholder)
    return hashlib.sha256(data).hexdigest()


def released_files(lake: Lake) -> dict[str, object]:
    releases = lake.releases
    version = (releases / "LATEST").read_text().strip()
    manifest = json.loads((releases / version / "MANIFEST.json").read_text())
    return {
        "content_fingerprint": manifest["content_fingerprint"],
        "files": {
            entry["path"]: dated_free_sha256(releases / version / entry["path"], version)
            for entry in manifest["files"]
        },
    }


def test_the_sample_release_is_byte_identical_to_the_golden_manifest(
    built_sample: tuple[Lake, dg.DagsterInstance],
) -> None:
    lake, _ = built_sample
    found = released_files(lake)
    if os.environ.get("COMMONS_GOLDEN") == "write":
        GOLDEN.write_text(json.dumps(found, indent=2, sort_keys=True) + "\n")
    golden = json.loads(GOLDEN.read_text())
    assert found["content_fingerprint"] == golden["content_fingerprint"]
    assert sorted(found["files"]) == sorted(golden["files"])  # type: ignore[arg-type]
    changed = [
        path
        for path, digest in golden["files"].items()
        if found["files"][path] != digest  # type: ignore[index]
    ]
    assert not changed, f"released files differ from the golden sample release: {changed}"
