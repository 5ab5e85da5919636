"""Where the data lives and the few knobs every stage shares."""

from __future__ import annotations

import os
from pathlib import Path

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
