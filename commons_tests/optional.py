"""Optional test dependencies that skip with their reason, or fail where CI requires them.

`pytest.importorskip` skips only on ImportError; a broken install raises anything else at import
(psycopg2 2.8 on a new Python: "SystemError: initialization of _psycopg raised unreported
exception") and turned a skip into a collection error. Here any failure to import skips with the
exception named, unless the environment variable that makes the dependency required is set, as
.ci/run does: then the import error fails the test module loudly.
"""

from __future__ import annotations

import importlib
import os
from types import ModuleType

import pytest


def import_or_skip(module: str, required_by: str) -> ModuleType:
    """The module; when it cannot be imported, a module-level skip with the reason, or, where
    the environment variable `required_by` is set, a failure."""
    try:
        return importlib.import_module(module)
    except Exception as error:  # any failure to import: missing, broken build, ABI mismatch
        reason = f"{module} cannot be imported: {type(error).__name__}: {error}"
        if os.environ.get(required_by):
            pytest.fail(f"{reason} ({required_by} is set: it is required here)", pytrace=False)
        pytest.skip(f"{reason} (set {required_by}=1 to require it)", allow_module_level=True)
