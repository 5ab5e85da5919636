"""Rebuild commons_assets/rights/ai_crawlers.json from ../shared/specs/ai-robots.json.

The source is the ai-robots-txt/ai.robots.txt list (robots.json, commit 738c80df, 2026-08-22,
MIT licence). Names and classifications are facts; we keep the token, operator, function and
whether its function is AI training or bulk data collection (CONSENT_AND_LICENCES.md §4.2 and
specs/README.md: "AI Data Scrapers", "LLM training." and the spec's named list).
"""

from __future__ import annotations

import json
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SOURCE = ROOT.parent / "shared" / "specs" / "ai-robots.json"
TARGET = ROOT / "commons_assets" / "rights" / "ai_crawlers.json"
NAMED_TRAINING_TOKENS = [
    "GPTBot",
    "CCBot",
    "Google-Extended",
    "ClaudeBot",
    "anthropic-ai",
    "Applebot-Extended",
    "meta-externalagent",
    "Bytespider",
    "cohere-ai",
    "AI2Bot",
]
TRAINING_FUNCTION = re.compile(r"train|data scraper", re.IGNORECASE)


def main() -> None:
    crawlers = json.loads(SOURCE.read_text(encoding="utf-8"))
    tokens = {
        token: {
            "operator": entry.get("operator"),
            "function": entry.get("function"),
            "training": token in NAMED_TRAINING_TOKENS
            or bool(TRAINING_FUNCTION.search(entry.get("function") or "")),
        }
        for token, entry in sorted(crawlers.items(), key=lambda item: item[0].lower())
    }
    for token in NAMED_TRAINING_TOKENS:
        tokens.setdefault(
            token, {"operator": None, "function": "named in the spec", "training": True}
        )
    document = {
        "source": "ai-robots-txt/ai.robots.txt robots.json @ 738c80df (2026-08-22), MIT",
        "rule": "training = named in CONSENT_AND_LICENCES.md §(a) gate 2, or function mentions "
        "training or data scraping",
        "tokens": tokens,
    }
    TARGET.write_text(json.dumps(document, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"{TARGET}: {len(tokens)} tokens, {sum(t['training'] for t in tokens.values())} training")


if __name__ == "__main__":
    main()
