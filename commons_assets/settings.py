"""Where the data lives and the few knobs every stage shares."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

DATA_ROOT_ENV = "COMMONS_DATA"
DEFAULT_DATA_ROOT = "data"

# Pillow refuses images above ~89.5 Mpx by default (Image.MAX_IMAGE_PIXELS) and calls 2x that a
# decompression bomb. Training images are rarely above 50 Mpx; anything larger is quarantined
# before its pixels are decoded, so a forged header cannot exhaust memory.
DEFAULT_MAX_IMAGE_PIXELS = 50_000_000


def data_root() -> Path:
    """The data root: `$COMMONS_DATA`, else `./data`, as an absolute path (run workers may start
    in another directory than the process that loaded the definitions)."""
    return Path(os.environ.get(DATA_ROOT_ENV, DEFAULT_DATA_ROOT)).expanduser().resolve()


def wrong_types(instance: object, values: dict[str, Any]) -> list[str]:
    """`key must be …, not …` for each value whose type differs from the dataclass default it
    replaces: a settings file's `"50"` or `"no"` fails at once instead of deep in a run."""
    problems = []
    for key, value in values.items():
        default = getattr(instance, key, None)
        if default is None:
            continue
        if isinstance(default, bool):
            ok, wanted = isinstance(value, bool), "true or false"
        elif isinstance(default, int):
            ok, wanted = isinstance(value, int) and not isinstance(value, bool), "an integer"
        elif isinstance(default, float):
            ok = isinstance(value, int | float) and not isinstance(value, bool)
            wanted = "a number"
        elif isinstance(default, str):
            ok, wanted = isinstance(value, str), "a string"
        elif isinstance(default, tuple):
            ok, wanted = isinstance(value, list), "an array"
        else:
            continue
        if not ok:
            problems.append(f"{key} must be {wanted}, not {value!r}")
    return problems
