"""The install is reproducible: the lock pins every dependency, the Dagster family stays on one
release train, and an optional test dependency that cannot be imported skips (or, where CI
requires it, fails) instead of erroring at collection."""

from __future__ import annotations

import re
import tomllib
from itertools import chain

import pytest
from packaging.requirements import Requirement
from packaging.version import Version

from commons_tests.optional import import_or_skip
from commons_tests.server import REPO

PYPROJECT = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
REQUIREMENTS = [
    Requirement(line)
    for line in chain(PYPROJECT["dependencies"], *PYPROJECT["optional-dependencies"].values())
]


def canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def locked() -> dict[str, set[Version]]:
    """name -> pinned versions (more than one where the lock forks by Python version)."""
    pins: dict[str, set[Version]] = {}
    for line in (REPO / "constraints.txt").read_text().splitlines():
        if match := re.match(r"^([A-Za-z0-9._-]+)==([^\s;]+)", line):
            pins.setdefault(canonical(match.group(1)), set()).add(Version(match.group(2)))
    return pins


def test_the_lock_pins_every_dependency_within_its_range() -> None:
    pins = locked()
    for requirement in REQUIREMENTS:
        name = canonical(requirement.name)
        assert name in pins, f"{name} is not in constraints.txt: python scripts/deps.py lock"
        for version in pins[name]:
            assert requirement.specifier.contains(version), f"{name}=={version} vs {requirement}"


# Community integrations released on their own numbering, outside Dagster's train: each
# declares the Dagster versions it supports, and pyproject bounds it to one minor series.
OWN_NUMBERING = {"dagster-ray"}  # by its maintainers, "dagster>=1.12" in 0.4.8


def test_the_dagster_family_is_on_one_release_train() -> None:
    pins = locked()
    core = {
        name: versions
        for name, versions in pins.items()
        if name.startswith("dagster") and name not in OWN_NUMBERING
    }
    assert {"dagster", "dagster-webserver", "dagster-graphql", "dagster-pipes"} <= set(core)
    (release,) = core["dagster"]
    for name, (version,) in core.items():
        # Integrations are numbered 0.(minor + 16).patch: dagster 1.13.27 <-> 0.29.27.
        integration = Version(f"0.{release.minor + 16}.{release.micro}")
        assert version in (release, integration), f"{name}=={version} with dagster {release}"
    # pyproject keeps pip inside the train even without the lock.
    for requirement in REQUIREMENTS:
        if canonical(requirement.name).startswith("dagster"):
            uppers = [s for s in requirement.specifier if s.operator == "<"]
            assert uppers, f"{requirement} has no upper bound"
            upper = Version(uppers[0].version)
            lower = min(Version(s.version) for s in requirement.specifier if s.operator == ">=")
            assert (upper.major, upper.minor) == (lower.major, lower.minor + 1), requirement


def test_an_optional_dependency_that_fails_to_import_skips_or_fails_as_required(
    tmp_path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # What psycopg2 2.8 does on a new Python: not an ImportError, which importorskip would miss.
    (tmp_path / "broken_dependency.py").write_text(
        "raise SystemError('initialization of _psycopg raised unreported exception')\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delenv("COMMONS_REQUIRE_BROKEN", raising=False)
    with pytest.raises(pytest.skip.Exception, match="SystemError: initialization of _psycopg"):
        import_or_skip("broken_dependency", required_by="COMMONS_REQUIRE_BROKEN")
    monkeypatch.setenv("COMMONS_REQUIRE_BROKEN", "1")
    with pytest.raises(pytest.fail.Exception, match="COMMONS_REQUIRE_BROKEN is set"):
        import_or_skip("broken_dependency", required_by="COMMONS_REQUIRE_BROKEN")
    assert import_or_skip("json", required_by="COMMONS_REQUIRE_BROKEN").dumps([]) == "[]"
