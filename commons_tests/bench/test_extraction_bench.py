"""The extraction benchmark's machinery on a two-page corpus made here (the real corpus lives in
the shared evaluation folder beside a checkout, which tests never read)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from commons_bench.extraction import Page, load_pages, run, score

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


def aeb_corpus(root: Path) -> Path:
    """Two article pages with their expected bodies, in the article-body set's layout."""
    import gzip

    (root / "html").mkdir(parents=True)
    truth = {}
    for name in ("a1", "b2"):
        page = (
            f"<html><body><nav>Menu Home</nav><article><h1>Mill {name}</h1><p>{BODY}</p>"
            "</article><footer>Footer links</footer></body></html>"
        )
        (root / "html" / f"{name}.html.gz").write_bytes(gzip.compress(page.encode()))
        truth[name] = {"articleBody": BODY}
    (root / "ground-truth.json").write_text(json.dumps(truth))
    return root


def test_shingle_scores_and_halves() -> None:
    from commons_bench.extraction import halves, shingle_scores

    assert shingle_scores("a b c d e", "a b c d e") == (1.0, 1.0, 1.0)
    precision, recall, _ = shingle_scores("a b c d e f g h", "a b c d e")
    assert precision == pytest.approx(2 / 5) and recall == 1.0
    assert shingle_scores("", "a b c d") == (0.0, 0.0, 0.0)
    assert halves([0, 1, 2, 3, 4]) == {"tuning": [0, 2, 4], "reporting": [1, 3]}


def test_both_corpora_are_reported_by_half_and_clean_step(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from commons_bench.extraction import RULE_SETS, SYSTEMS, run_both

    corpus(tmp_path / "extraction")
    aeb_corpus(tmp_path / "extraction_aeb")
    assert run_both(tmp_path) == 0
    out = capsys.readouterr().out
    assert "article bodies (extraction_aeb): 2 pages, 1 tuning / 1 reporting" in out
    assert "snippets (extraction): 1 pages" in out
    for system in SYSTEMS:
        assert out.count(f"  {system} ") == 2  # a row in each table
    for rule_set in RULE_SETS:
        assert out.count(f"dropped, {rule_set} rules: tuning") == 2  # in each corpus
    assert "throughput: trafilatura" in out
    assert run_both(tmp_path / "nowhere") == 2
