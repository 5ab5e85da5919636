from __future__ import annotations

import re
from pathlib import Path

import pytest

from commons_assets import cli
from commons_tests.builders import ALICE


@pytest.fixture(autouse=True)
def ephemeral_instance(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DAGSTER_HOME", raising=False)
    monkeypatch.chdir(tmp_path)


def test_trace_an_included_and_an_excluded_record(
    data_root: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli.main(["build", "--data", str(data_root)]) == 0
    capsys.readouterr()
    assert cli.main(["trace", "e1", "--data", str(data_root)]) == 0
    included = capsys.readouterr().out
    assert "source     texts / essays: e1" in included
    assert "location   sources/texts/essays/part-1.jsonl line 1" in included
    assert "read_texts" in included and "language" in included
    assert "decision   INCLUDE_ATTRIB by gate licence" in included
    release = (data_root / "releases" / "LATEST").read_text().strip()
    assert f"releases   {release}" in included

    post = "at://did:plc:testbob/app.bsky.feed.post/1"
    assert cli.main(["trace", post, "--data", str(data_root)]) == 0
    excluded = capsys.readouterr().out
    assert "decision   EXCLUDE by gate default" in excluded
    assert "releases   none" in excluded
    # Readable as text: a post states no licence, and no placeholder or escape stands for it.
    assert "licence    none stated" in excluded
    for output in (included, excluded):
        assert "None" not in output and "\\u" not in output

    assert cli.main(["trace", "https://nowhere.example/", "--data", str(data_root)]) == 1


def test_trace_finds_records_that_stopped_before_the_audit(
    data_root: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli.main(["build", "--data", str(data_root)]) == 0
    capsys.readouterr()
    # The test crawl's pages are too short for the clean stage: dropped, with the rule.
    assert cli.main(["trace", "https://a.example/one", "--data", str(data_root)]) == 0
    dropped = capsys.readouterr().out
    assert "dropped    by the clean stage" in dropped and "rule " in dropped
    assert re.search(r"rule \w+: measured [\d.]+ [<>=] limit [\d.]+", dropped), dropped
    assert "releases   none (never audited)" in dropped
    # Its TDM header excluded the other page before extraction: audited, with its evidence.
    assert cli.main(["trace", "https://a.example/two", "--data", str(data_root)]) == 0
    excluded = capsys.readouterr().out
    assert "not extracted: excluded before it (opt-out" in excluded, excluded
    assert "reserved (from http-header)" in excluded and "releases   none" in excluded
    # A cut-off JSON line, named by its file and line.
    where = "sources/texts/essays/part-1.jsonl:2"
    assert cli.main(["trace", where, "--data", str(data_root)]) == 0
    quarantined = capsys.readouterr().out
    assert "quarantined input sources/texts/essays/part-1.jsonl line 2" in quarantined
    assert "reason     invalid_json" in quarantined
    # A post its author deleted is not carried by the reader: found, with the reason.
    assert cli.main(["trace", f"at://{ALICE}/app.bsky.feed.post/2", "--data", str(data_root)]) == 0
    skipped = capsys.readouterr().out
    assert "reason     post deleted by its author" in skipped and "line 2" in skipped
    assert cli.main(["trace", "nothing-like-this", "--data", str(data_root)]) == 1


def test_trace_values_keep_their_characters() -> None:
    from commons_assets.publish.trace import _licence_line, _quoted

    assert _quoted("© 2024 Tate") == '"© 2024 Tate"'
    assert _quoted(None) == "none"
    assert _licence_line({"licence_raw": "CC BY", "licence": None}) == '"CC BY" → not recognised'
    assert _licence_line({"licence_raw": None, "licence": None, "licence_class": None}) == (
        "none stated"
    )
