"""Which partitions the files under `sources/` define (DESIGN.md §3). Pure functions of the
folder tree, so the sensor, `commons build` and the tests agree on the keys."""

from __future__ import annotations

import re
from datetime import date

from upath import UPath

ARCHIVE_SUFFIXES = (".warc.gz", ".warc")
# Dagster partition keys are free text, but keys end up in file names and run tags: keep them to
# a safe alphabet and leave anything else out (the sensor logs it).
SAFE_KEY = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,199}$")
DAY_KEY = re.compile(r"^\d{4}-\d{2}-\d{2}$")

ARCHIVES = "archives"
TEXTS = "texts"
IMAGES = "images"
SOCIAL = "social"


def within(path: UPath, base: UPath) -> bool:
    """Whether `path`, with every symbolic link followed, stays inside `base`: Commons reads
    nothing outside the data root, whatever a link in it points to."""
    try:
        return path.resolve().is_relative_to(base.resolve())
    except (OSError, ValueError, RuntimeError):  # a loop of links, a NUL byte
        return False


def archive_key(path: UPath) -> str | None:
    for suffix in ARCHIVE_SUFFIXES:
        if path.name.endswith(suffix):
            return path.name[: -len(suffix)]
    return None


def archive_files(sources: UPath) -> dict[str, UPath]:
    """Partition key -> WARC file. `x.warc.gz` wins over a plain `x.warc` of the same name."""
    found: dict[str, UPath] = {}
    folder = sources / ARCHIVES
    if not folder.is_dir():
        return found
    for path in sorted(folder.iterdir(), key=lambda p: (p.name.endswith(".warc"), p.name)):
        key = archive_key(path)
        if key is None or not (SAFE_KEY.match(key) and path.is_file() and within(path, sources)):
            continue
        if key not in found:
            found[key] = path
    return dict(sorted(found.items()))


def collection_folders(sources: UPath, kind: str) -> dict[str, UPath]:
    """Partition key -> collection folder, for `texts` and `images`."""
    folder = sources / kind
    if not folder.is_dir():
        return {}
    return {
        path.name: path
        for path in sorted(folder.iterdir())
        if path.is_dir() and SAFE_KEY.match(path.name) and within(path, sources)
    }


def social_days(sources: UPath) -> dict[str, UPath]:
    """Day (YYYY-MM-DD) -> day folder."""
    folder = sources / SOCIAL
    if not folder.is_dir():
        return {}
    days = {}
    for path in sorted(folder.iterdir()):
        if path.is_dir() and DAY_KEY.match(path.name) and within(path, sources):
            try:
                date.fromisoformat(path.name)
            except ValueError:
                continue
            days[path.name] = path
    return days


def unusable_names(sources: UPath) -> list[str]:
    """Entries under sources/ that define no partition, each with the reason, so that the
    sensor and `commons build` say what they leave out."""
    usable = {
        *archive_files(sources).values(),
        *collection_folders(sources, TEXTS).values(),
        *collection_folders(sources, IMAGES).values(),
        *social_days(sources).values(),
    }
    names = []
    for kind in (ARCHIVES, TEXTS, IMAGES, SOCIAL):
        folder = sources / kind
        if folder.is_dir():
            names += [
                f"{p.relative_to(sources).as_posix()}: {_why_unusable(p, kind, sources)}"
                for p in sorted(folder.iterdir())
                if p not in usable and not p.name.startswith(".")
            ]
    return names


def _why_unusable(path: UPath, kind: str, sources: UPath) -> str:
    if not within(path, sources):
        return "a symbolic link to outside the data root"
    if kind == ARCHIVES:
        key = archive_key(path)
        if key is None or not path.is_file():
            return "not a .warc or .warc.gz file"
        if not SAFE_KEY.match(key):
            return "name not usable as a partition key (letters, digits, '.', '_', '-' only)"
        return "a .warc.gz of the same name is read instead"
    if not path.is_dir():
        return "not a folder"
    if kind == SOCIAL:
        return "not a day folder (YYYY-MM-DD)"
    return "name not usable as a partition key (letters, digits, '.', '_', '-' only)"
