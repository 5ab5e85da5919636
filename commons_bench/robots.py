"""`commons bench robots`: agreement of Commons' RFC 9309 matcher with Google's reference
parser on the expectations of its test suite, against protego and Python's
urllib.robotparser on the same cases in the same run."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from urllib.robotparser import RobotFileParser

from commons_assets.rights.robots import RobotsTxt

Case = dict


def commons(case: Case) -> bool:
    return RobotsTxt.from_response(200, case["robots_txt"]).can_fetch(
        case["user_agent"], case["url"] or "/"
    )


def stdlib(case: Case) -> bool:
    parser = RobotFileParser()
    parser.parse(case["robots_txt"].splitlines())
    return parser.can_fetch(case["user_agent"], case["url"] or "/")


def protego(case: Case) -> bool | None:
    try:
        from protego import Protego
    except ImportError:
        return None
    return Protego.parse(case["robots_txt"]).can_fetch(case["url"] or "/", case["user_agent"])


def agreement(cases: list[Case], matcher: Callable[[Case], bool | None]) -> tuple[int, list[str]]:
    agreed, disagreed = 0, []
    for case in cases:
        if matcher(case) == case["expected_allowed"]:
            agreed += 1
        else:
            disagreed.append(case["id"])
    return agreed, disagreed


def run(corpus: Path) -> int:
    path = corpus / "cases.json"
    if not path.exists():
        print(f"robots.txt cases not found at {path} (../shared/corpora/optout/robotstxt_google)")
        return 2
    cases = json.loads(path.read_text(encoding="utf-8"))["cases"]
    print(f"robots.txt benchmark: {len(cases)} expectations of google/robotstxt's tests")
    results = {}
    for name, matcher in (
        ("commons", commons),
        ("protego", protego),
        ("urllib.robotparser", stdlib),
    ):
        if name == "protego" and protego(cases[0]) is None:
            print("  protego not installed (pip install -e .[bench]); skipped")
            continue
        agreed, disagreed = agreement(cases, matcher)
        results[name] = agreed
        print(
            f"  {name:20s} {agreed:3d}/{len(cases)} agree ({agreed / len(cases):.1%})"
            + (f"; differs on {', '.join(disagreed[:8])}" if disagreed else "")
        )
    for baseline in ("protego", "urllib.robotparser"):
        if results.get(baseline):
            print(f"  ratio commons / {baseline}: {results['commons'] / results[baseline]:.2f}x")
    return 0
