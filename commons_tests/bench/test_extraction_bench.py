"""The extraction benchmark's machinery on a two-page corpus made here (the real corpus lives in
the shared evaluation folder beside a checkout, which tests never read)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from commons_assets.bench.extraction import Page, load_pages, run, score

BODY = " ".join(f"Paragraph sentence {i} tells the story of the old mill." for i in range(12))


def corpus(tmp_path: Path) -> Path:
    html = tmp_path / "html"
    html.mkdir(parents=True)
    (html / "a.html").write_text(
        f"<html><body><nav>Menu Home Contact</nav><article><p>{BODY}</p></article>"
        "<footer>All rights reserved footer text</footer></body></html>"
    )
    evaluation = {
        "https://a.example/": {
            "file": "a.html",
            "with": ["Paragraph sentence 3 tells"],
            "without": ["All rights reserved footer text"],
        },
        "https://missing.example/": {"file": "missing.html", "with": ["x"], "without": []},
    }
    (tmp_path / "evaldata.json").write_text(json.dumps(evaluation))
    return tmp_path


def test_score_counts_expected_and_unexpected_snippets() -> None:
    page = Page("u", "", expected=("a", "b"), unexpected=("c",))
    assert score([page], lambda p: "a and c").accuracy == pytest.approx(1 / 3)
    assert score([page], lambda p: "a b").accuracy == 1.0


def test_run_prints_baseline_commons_and_ratios(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = corpus(tmp_path)
    assert [p.url for p in load_pages(root)] == ["https://a.example/"]
    assert run(root, rounds=1) == 0
    out = capsys.readouterr().out
    assert "baseline  trafilatura.extract()" in out and "accuracy 1.0000" in out
    assert "commons   extract_page()" in out and "ratios: accuracy 1.000x" in out


def test_absent_corpus_is_reported(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(tmp_path / "nowhere") == 2
    assert "not found" in capsys.readouterr().out
