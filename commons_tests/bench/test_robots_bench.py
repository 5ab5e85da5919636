from __future__ import annotations

import json
from pathlib import Path

import pytest

from commons_bench.robots import run


def test_robots_bench_prints_agreement_for_each_matcher(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cases = [
        {
            "id": "t1",
            "robots_txt": "User-agent: *\nDisallow: /a\nAllow: /a/b\n",
            "user_agent": "FooBot",
            "url": "http://x.example/a/b/c",
            "expected_allowed": True,
        },
        {
            "id": "t2",
            "robots_txt": "User-agent: *\nDisallow: /*.pdf$\n",
            "user_agent": "FooBot",
            "url": "http://x.example/x/a.pdf",
            "expected_allowed": False,
        },
    ]
    (tmp_path / "cases.json").write_text(json.dumps({"cases": cases}))
    assert run(tmp_path) == 0
    out = capsys.readouterr().out
    assert "commons                2/2 agree" in out
    assert "urllib.robotparser     0/2 agree" in out  # first match; no wildcards
    assert run(tmp_path / "missing") == 2
