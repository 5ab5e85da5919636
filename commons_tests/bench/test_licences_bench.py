"""`commons bench licences` on a tiny corpus made here: per-provider shares, statements that are
not hand-checked, and a statement classified more permissively than its checked outcome."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from commons_bench.licences import EXPECTED, expected_outcomes, run


def corpus(root: Path, wikimedia: list[dict]) -> Path:
    folder = root / "images" / "openverse_provider_responses"
    (folder / "wikimedia").mkdir(parents=True)
    (folder / "wikimedia" / "page.json").write_text(json.dumps({"pages": wikimedia}))
    (folder / "flickr").mkdir()
    (folder / "flickr" / "photos.json").write_text(json.dumps({"photo": [{"license": "4"}]}))
    book = root / "texts" / "gutenberg" / "pg1"
    book.mkdir(parents=True)
    (book / "metadata.yaml").write_text(
        "rights: Public domain in the USA.\nrights_url: http://creativecommons.org/about/pdm\n"
        "subjects:\n- !lcsh 'Humor'\n"
    )
    return root


def checked(tmp_path: Path, rows: dict[str, str]) -> Path:
    path = tmp_path / "expected.tsv"
    path.write_text(
        "# hand-checked\nstatement\texpected_outcome\n"
        + "".join(f"{s}\t{o}\n" for s, o in rows.items())
    )
    return path


def test_the_bench_prints_each_providers_recognised_share(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = corpus(
        tmp_path / "c",
        [{"extmetadata": {"LicenseShortName": {"value": "CC BY-SA 4.0"}}}, {"License": "pd"}],
    )
    expected = checked(
        tmp_path,
        {
            "CC BY-SA 4.0": "INCLUDE_ATTRIB",
            "pd": "INCLUDE",
            # Flickr's licence id 4 is CC BY 2.0 (flickr.photos.licenses)
            "https://creativecommons.org/licenses/by/2.0/": "INCLUDE_ATTRIB",
            "Public domain in the USA.": "INCLUDE",
            "http://creativecommons.org/about/pdm": "INCLUDE",
        },
    )
    assert run(root, expected) == 0
    out = capsys.readouterr().out
    assert "wikimedia                             2        2     100.0%  0" in out
    assert "gutenberg                             2        2     100.0%  0" in out
    assert "flickr                                1        1     100.0%  0" in out


def test_the_bench_fails_on_a_too_permissive_or_unchecked_statement(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = corpus(tmp_path / "c", [{"License": "pd"}, {"License": "Own work, all rights mine"}])
    # A checker who says "pd" must be held: Commons includes it, which is too permissive.
    expected = checked(tmp_path, {"pd": "HOLD"})
    assert run(root, expected) == 1
    out = capsys.readouterr().out
    assert "TOO PERMISSIVE wikimedia: 'pd' -> INCLUDE" in out
    assert "(check it by hand): 'Own work, all rights mine'" in out
    assert run(tmp_path / "empty", expected) == 2


def test_the_shipped_table_is_well_formed() -> None:
    outcomes = expected_outcomes(EXPECTED)
    assert len(outcomes) >= 40
    assert set(outcomes.values()) <= {"INCLUDE", "INCLUDE_ATTRIB", "HOLD", "EXCLUDE"}
