"""Size limits of the source readers, per line, record, file and image: settings in
`policy/sources.toml` (`[limits]`), with the defaults below. Whatever is over a limit is
quarantined with the limit in its reason, and the rest of the partition goes on; nothing over a
limit is held in memory whole (a line or a WARC body is read only up to the limit)."""

from __future__ import annotations

import dataclasses
import tomllib
from dataclasses import dataclass
from pathlib import Path

from commons_assets.settings import DEFAULT_MAX_IMAGE_PIXELS, wrong_types

LIMITS_FILE = Path("policy") / "sources.toml"
MIB = 1024 * 1024


class LimitsError(ValueError):
    """The limits file says something Commons cannot apply."""


@dataclass(frozen=True)
class SourceLimits:
    # A JSON Lines record is one line: 8 MiB holds a book (War and Peace is 3.2 MiB).
    max_line_bytes: int = 8 * MIB
    # One WARC record's body: Common Crawl truncates at 1 MiB; 16 MiB keeps long pages whole.
    max_record_bytes: int = 16 * MIB
    # One source file (a WARC, a JSON Lines file): a Common Crawl WARC is about 1 GiB.
    max_file_bytes: int = 64 * 1024 * MIB
    # One image file, and its decoded size (Pillow calls 2x89 Mpx a decompression bomb).
    max_image_bytes: int = 100 * MIB
    max_image_pixels: int = DEFAULT_MAX_IMAGE_PIXELS
    source: str = "defaults"

    def summary(self) -> dict[str, object]:
        return dataclasses.asdict(self)


def load_limits(root: Path) -> SourceLimits:
    """The limits in `<root>/policy/sources.toml`, or the defaults without one."""
    path = root / LIMITS_FILE
    if not path.exists():
        return SourceLimits()
    where = LIMITS_FILE.as_posix()
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as error:
        raise LimitsError(f"{where}: {error}") from error
    if set(data) - {"limits"} or not isinstance(data.get("limits", {}), dict):
        raise LimitsError(f"{where}: holds one table, [limits]")
    values = data.get("limits", {})
    known = {f.name for f in dataclasses.fields(SourceLimits)} - {"source"}
    if unknown := set(values) - known:
        raise LimitsError(f"{where}: unknown limits {sorted(unknown)}")
    if wrong := wrong_types(SourceLimits(), values):
        raise LimitsError(f"{where}: [limits] {wrong[0]}")
    if not_positive := [key for key, value in values.items() if value <= 0]:
        raise LimitsError(f"{where}: [limits] {not_positive[0]} must be above 0")
    return SourceLimits(**values, source=where)


DEFAULT_LIMITS = SourceLimits()
