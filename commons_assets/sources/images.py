"""Image collections: `records.jsonl` describing each image, the files under `files/`
(DESIGN.md §3). Every file is decoded once with Pillow under a pixel limit, so a record only
goes on when its image really is an image of sane size."""

from __future__ import annotations

import json
import warnings
from importlib.metadata import version
from typing import Any

from PIL import Image, UnidentifiedImageError
from upath import UPath

from commons_assets import __version__
from commons_assets.records import PartitionRead, Record, record_id, sha256_hex, steps
from commons_assets.settings import DEFAULT_MAX_IMAGE_PIXELS
from commons_assets.sources.jsonl import jsonl_objects, string_field, too_large
from commons_assets.sources.layout import within
from commons_assets.sources.limits import DEFAULT_LIMITS, SourceLimits

SOURCE_KIND = "images"
RECORDS_FILE = "records.jsonl"
FILES_FOLDER = "files"


class ImageRejected(Exception):
    """An image file that cannot go on; `reason` is the quarantine reason."""

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(detail)
        self.reason = reason


def inspect_image(path: UPath, max_pixels: int = DEFAULT_MAX_IMAGE_PIXELS) -> dict[str, Any]:
    """Decode an image fully and describe it; raises ImageRejected with a reason otherwise.
    The pixel limit is checked on the header before any pixel is decoded."""
    with warnings.catch_warnings():
        # Pillow warns above its own limit; ours is the one that decides.
        warnings.simplefilter("ignore", Image.DecompressionBombWarning)
        try:
            with path.open("rb") as handle, Image.open(handle) as image:
                width, height = image.size
                if width * height > max_pixels:
                    raise ImageRejected(
                        "pixel_limit_exceeded",
                        f"{width}x{height} = {width * height} px > limit {max_pixels}",
                    )
                image.load()
                return {
                    "width": width,
                    "height": height,
                    "format": image.format,
                    "mode": image.mode,
                }
        except Image.DecompressionBombError as error:
            raise ImageRejected("pixel_limit_exceeded", str(error)) from error
        except UnidentifiedImageError as error:
            raise ImageRejected(
                "not_an_image", "Pillow cannot identify the file as an image"
            ) from error
        except (OSError, SyntaxError, ValueError) as error:
            raise ImageRejected("image_undecodable", f"{type(error).__name__}: {error}") from error


def _image_path(folder: UPath, relative: str) -> UPath | None:
    """The file a record names, inside the collection folder, or None if it would escape it."""
    base = folder.resolve()
    for candidate in (folder / relative, folder / FILES_FOLDER / relative):
        resolved = candidate.resolve()
        if not resolved.is_relative_to(base):
            return None
        if resolved.exists():
            return resolved
    return (folder / relative).resolve()


def _image_record(
    obj: dict[str, Any],
    source_id: str | None,
    seen: set[str],
    folder: UPath,
    root: UPath,
    limits: SourceLimits,
) -> Record:
    """One line of `records.jsonl` as a record (without provenance); raises ImageRejected."""
    relative = string_field(obj.get("file"))
    url = string_field(obj.get("url"))
    if source_id is None:
        raise ImageRejected("missing_id", "no usable `id`")
    if source_id in seen:
        raise ImageRejected("duplicate_id", "`id` already used in this collection")
    if relative is None and url is None:
        raise ImageRejected("missing_image", "neither `file` nor `url` is given")
    image: dict[str, Any] = {"file": None, "url": url}
    if relative is not None:
        if "\x00" in relative:
            raise ImageRejected("invalid_file_name", "`file` holds a NUL character")
        path = _image_path(folder, relative)
        if path is None:
            raise ImageRejected(
                "file_outside_collection", f"`file` {relative!r} leaves the collection folder"
            )
        if not path.is_file():
            raise ImageRejected("image_file_missing", f"no file at {relative!r}")
        if (size := path.stat().st_size) > limits.max_image_bytes:
            limit = limits.max_image_bytes
            raise ImageRejected(
                "image_too_large", f"{size} bytes > limit {limit} (max_image_bytes)"
            )
        image |= inspect_image(path, limits.max_image_pixels)
        data = path.read_bytes()
        image |= {"file": path.relative_to(root.resolve()).as_posix(), "bytes": len(data)}
        content_sha = sha256_hex(data)
    else:
        # A remote image is not fetched here (no network at build time); its identity is the URL.
        content_sha = sha256_hex(f"url:{url}")
    partition = folder.name
    return {
        "id": record_id(SOURCE_KIND, f"{partition}/{source_id}", content_sha),
        "source_id": source_id,
        "source_uri": string_field(obj.get("source_url")) or url,
        "record_role": "image",
        "title": string_field(obj.get("title")),
        "caption": string_field(obj.get("caption")) or string_field(obj.get("title")),
        "image": image,
        "language": string_field(obj.get("language")),
        "date": string_field(obj.get("date")),
        "licence_raw": string_field(obj.get("licence", obj.get("license")))
        or string_field(obj.get("rights")),
        "attribution": string_field(obj.get("creator")),
        "consent": [],
        "sha256": content_sha,
    }


def read_image_collection(
    folder: UPath,
    partition: str,
    root: UPath,
    limits: SourceLimits = DEFAULT_LIMITS,
    result: PartitionRead | None = None,
) -> PartitionRead:
    """Read `records.jsonl` of one image collection and verify each image it names."""
    result = result if result is not None else PartitionRead(SOURCE_KIND, partition)
    records_path = folder / RECORDS_FILE
    if not records_path.exists():
        result.quarantine(
            folder.relative_to(root).as_posix(), "no_records_file", f"{RECORDS_FILE} is missing"
        )
        return result
    source_file = records_path.relative_to(root).as_posix()
    if not within(records_path, root / "sources"):
        result.quarantine(source_file, "outside_data_root", "a link outside the data root")
        return result
    reader_steps = steps(("read_images", f"commons {__version__}; pillow {version('pillow')}"))
    seen: set[str] = set()
    if too_large(records_path, source_file, result, limits):
        return result
    for line, obj in jsonl_objects(records_path, source_file, result, limits.max_line_bytes):
        source_id = string_field(obj.get("id"))
        try:
            record = _image_record(obj, source_id, seen, folder, root, limits)
        except ImageRejected as rejected:
            result.quarantine(
                source_file,
                rejected.reason,
                str(rejected),
                line=line,
                source_id=source_id,
                raw=json.dumps(obj, ensure_ascii=False),
            )
            continue
        seen.add(record["source_id"])
        record["provenance"] = {"source_file": source_file, "line": line, "steps": reader_steps}
        if record["source_uri"] is None:
            record["source_uri"] = f"{source_file}:{line}"
        result.keep(record)
    return result
