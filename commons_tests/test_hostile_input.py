"""Hostile input and hostile steward files: a bad line, a symbolic link or a stray folder never
crashes a partition, never reads outside the data root and never overrides consent; each one is
quarantined or reported with its reason, and the good records around it go through."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from commons_assets import cli
from commons_assets.records import PartitionRead
from commons_assets.rights.inputs import load_takedowns, social_deletions
from commons_assets.sources import layout
from commons_assets.sources.images import read_image_collection
from commons_assets.sources.jsonl import jsonl_objects
from commons_assets.sources.social import read_social_day
from commons_assets.sources.texts import read_text_collection
from commons_tests.builders import ALICE, FIRST_ESSAY, SAMPLE_DAY, write_jsonl, write_png
from commons_tests.hostile_corpus import declaration

GOOD = {"id": "good", "text": FIRST_ESSAY, "licence": "CC0-1.0"}


def read_lines(path: Path, **limits: int) -> tuple[list[int], dict[int, str]]:
    """(line numbers kept, line number -> quarantine reason)."""
    result = PartitionRead("texts", "p")
    kept = [number for number, _ in jsonl_objects(path, "f.jsonl", result, **limits)]
    return kept, {q["line"]: q["reason"] for q in result.quarantined}


def test_one_bad_line_never_sinks_the_file(tmp_path: Path) -> None:
    path = tmp_path / "f.jsonl"
    lines = [
        json.dumps(GOOD),
        '{"id": "s", "text": "a lone \\ud800 surrogate"}',  # 2
        '{"id": "n", "n": ' + "7" * 5000 + "}",  # 3: an integer over 4,300 digits
        "[" * 100_000 + "]" * 100_000,  # 4: nested too deeply
        '{"id": "d", "licence": "CC0-1.0", "licence": "All rights reserved"}',  # 5
        '{"id": "same", "licence": "CC0-1.0", "licence": "CC0-1.0"}',  # 6: agrees: kept
        '{"id": "pair", "text": "an emoji \\ud83d\\ude00 is a surrogate pair"}',  # 7: kept
        json.dumps({"id": "big", "text": "x" * 300_000}),  # 8: over the line limit below
        "null",  # 9
        json.dumps(GOOD),  # 10
    ]
    path.write_text("\n".join(lines) + "\n")
    kept, quarantined = read_lines(path, max_line_bytes=250_000)
    assert kept == [1, 6, 7, 10]
    assert quarantined == {
        2: "invalid_unicode",
        3: "invalid_json",
        4: "invalid_json",
        5: "duplicate_key",
        8: "line_too_long",
        9: "not_an_object",
    }


def test_a_line_over_the_limit_is_skipped_without_being_held(tmp_path: Path) -> None:
    """Bounded by the setting whatever the input: a line 64 times the limit."""
    path = tmp_path / "f.jsonl"
    with path.open("w") as out:
        out.write(json.dumps({"id": "huge", "text": "y" * (64 * 1024)}) + "\n")
        out.write(json.dumps(GOOD) + "\n")
    kept, quarantined = read_lines(path, max_line_bytes=1024)
    assert kept == [2] and quarantined == {1: "line_too_long"}


def test_a_nul_byte_in_an_image_file_name_is_quarantined(tmp_path: Path) -> None:
    root = tmp_path / "data"
    folder = root / "sources" / "images" / "photos"
    write_png(folder / "files" / "red.png")
    write_jsonl(
        folder / "records.jsonl",
        [
            {"id": "nul", "file": "files/red\u0000.png", "licence": "CC0-1.0"},
            {"id": "red", "file": "files/red.png", "caption": "Red", "licence": "CC0-1.0"},
        ],
    )
    read = read_image_collection(folder, "photos", root)
    assert [r["source_id"] for r in read.records] == ["red"]
    assert [q["reason"] for q in read.quarantined] == ["invalid_file_name"]


def test_an_intents_file_outside_a_day_folder_is_not_consent(tmp_path: Path) -> None:
    root = tmp_path / "data"
    social = root / "sources" / "social"
    post = {"uri": f"at://{ALICE}/app.bsky.feed.post/1", "did": ALICE, "text": "Hello"}
    write_jsonl(social / SAMPLE_DAY / "posts.jsonl", [post])
    write_jsonl(
        social / SAMPLE_DAY / "intents.jsonl", [declaration(ALICE, False, "2026-11-01T00:00:00Z")]
    )
    # A stray folder sorting before the day, with a later "allow": not an author's declaration.
    write_jsonl(
        social / "0000-override" / "intents.jsonl",
        [declaration(ALICE, True, "2026-11-19T00:00:00Z")],
    )
    read = read_social_day(social / SAMPLE_DAY, SAMPLE_DAY, root)
    [consent] = read.records[0]["consent"]
    assert '"allow": false' in consent["raw"]
    assert "social/0000-override: not a day folder (YYYY-MM-DD)" in layout.unusable_names(
        root / "sources"
    )


@pytest.fixture
def outside(tmp_path: Path) -> Path:
    """A folder beside the data root, with files an attacker would like published."""
    folder = tmp_path / "elsewhere"
    write_jsonl(folder / "secret.jsonl", [{"id": "secret", "text": FIRST_ESSAY}])
    (folder / "passwd").write_text("root:x:0:0:root:/root:/bin/bash\n")
    return folder


def test_nothing_outside_the_data_root_is_read(tmp_path: Path, outside: Path) -> None:
    root = tmp_path / "data"
    sources = root / "sources"
    essays = sources / "texts" / "essays"
    write_jsonl(essays / "part-1.jsonl", [GOOD])
    (essays / "part-2.jsonl").symlink_to(outside / "secret.jsonl")
    (essays / "part-3.jsonl").symlink_to(outside / "passwd")
    (sources / "texts" / "linked").symlink_to(outside)  # a whole collection folder
    (sources / "archives").mkdir(parents=True)
    (sources / "archives" / "linked.warc").symlink_to(outside / "passwd")
    photos = sources / "images" / "photos"
    photos.mkdir(parents=True)
    (photos / "records.jsonl").symlink_to(outside / "secret.jsonl")

    read = read_text_collection(essays, "essays", root)
    assert [r["source_id"] for r in read.records] == ["good"]
    assert {q["source_file"]: q["reason"] for q in read.quarantined} == {
        "sources/texts/essays/part-2.jsonl": "outside_data_root",
        "sources/texts/essays/part-3.jsonl": "outside_data_root",
    }
    assert all("root:x" not in (q["excerpt"] or "") for q in read.quarantined)
    assert list(layout.collection_folders(sources, layout.TEXTS)) == ["essays"]
    assert layout.archive_files(sources) == {}
    unusable = layout.unusable_names(sources)
    assert "texts/linked: a symbolic link to outside the data root" in unusable
    assert "archives/linked.warc: a symbolic link to outside the data root" in unusable
    images = read_image_collection(photos, "photos", root)
    assert images.records == [] and images.quarantined[0]["reason"] == "outside_data_root"

    takedowns = root / "policy" / "takedowns"
    takedowns.mkdir(parents=True)
    (takedowns / "linked.jsonl").symlink_to(outside / "secret.jsonl")
    requests, problems = load_takedowns(root)
    assert requests == [] and problems == [
        "policy/takedowns/linked.jsonl: links outside the data root; not read"
    ]


def test_sources_left_out_are_each_reported_by_commons_build(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("DAGSTER_HOME", raising=False)
    monkeypatch.chdir(tmp_path)
    root = tmp_path / "data"
    write_jsonl(root / "sources" / "texts" / "essays" / "part.jsonl", [GOOD])
    write_jsonl(root / "sources" / "texts" / "my collection" / "part.jsonl", [GOOD])
    write_jsonl(root / "sources" / "texts" / "sammlung-für-alle" / "part.jsonl", [GOOD])
    write_jsonl(root / "sources" / "social" / "latest" / "posts.jsonl", [])
    assert cli.main(["build", "--data", str(root)]) == 0
    out = capsys.readouterr().out
    for entry in ("texts/my collection", "texts/sammlung-für-alle"):
        assert f"SKIP  sources/{entry}: name not usable as a partition key" in out
    assert "SKIP  sources/social/latest: not a day folder (YYYY-MM-DD)" in out


def test_bad_takedown_lines_are_reported_and_the_others_applied(tmp_path: Path) -> None:
    root = tmp_path / "data"
    folder = root / "policy" / "takedowns"
    folder.mkdir(parents=True)
    good = {"match": "id", "value": "e1", "reason": "author request"}
    (folder / "requests.jsonl").write_bytes(
        b"\n".join(
            [b"[]", b"null", b'"x"', b'{"match": "id", "value": "\xff"}', json.dumps(good).encode()]
        )
    )
    requests, problems = load_takedowns(root)
    assert [r.value for r in requests] == ["e1"]
    assert len(problems) == 4
    assert "requests.jsonl:4: not UTF-8" in problems[3]
    day = root / "sources" / "social" / SAMPLE_DAY
    day.mkdir(parents=True)
    (day / "deletions.jsonl").write_bytes(b'{"uri": "\xff"}\n{"did": "did:plc:gone"}\n')
    assert [d.value for d in social_deletions(root)] == ["did:plc:gone"]


@pytest.mark.parametrize("depth", [2_000, 200_000])
def test_deeply_nested_json_ld_does_not_fail_the_page(depth: int) -> None:
    from commons_assets.clean.extraction import extract_page

    nested = '{"a": ' * depth + "1" + "}" * depth
    licensed = '{"@type": "Article", "license": "https://creativecommons.org/licenses/by/4.0/"}'
    body = " ".join(["The keeper climbed the stairs to light the lamp every evening."] * 20)
    html = (
        f'<html><head><script type="application/ld+json">{nested}</script>'
        f'<script type="application/ld+json">{licensed}</script></head>'
        f"<body><article><h1>Lamp</h1><p>{body}</p></article></body></html>"
    )
    extracted = extract_page(html, "https://deep.example/a")
    assert "keeper climbed" in (extracted.text or "")
    assert [e["raw"] for e in extracted.licence_evidence] == [
        "https://creativecommons.org/licenses/by/4.0/"
    ]


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ('legacy_labels = "no"', "legacy_labels must be true or false, not 'no'"),
        ("bhl_allow_list = 1", "bhl_allow_list must be true or false, not 1"),
        ('extra_training_tokens = "GPTBot"', "extra_training_tokens must be a list of product"),
        ("extra_training_tokens = 5", "extra_training_tokens must be a list of product"),
        ("extra_training_tokens = [5]", "extra_training_tokens must be a list of product"),
        ('crawler_token = "Commons Bot"', "crawler_token must be a product token"),
        ('robots_unreachable = "INCLUDE"', "robots_unreachable must be one of HOLD, EXCLUDE"),
    ],
)
def test_a_wrongly_typed_policy_value_fails_at_once_naming_file_and_key(
    tmp_path: Path, line: str, expected: str
) -> None:
    from commons_assets.rights.policy import PolicyError, load_policy

    (tmp_path / "policy").mkdir()
    (tmp_path / "policy" / "licence_policy.toml").write_text(line + "\n")
    with pytest.raises(PolicyError) as raised:
        load_policy(tmp_path)
    assert str(raised.value).startswith("policy/licence_policy.toml: ")
    assert expected in str(raised.value)


@pytest.mark.parametrize(
    ("file", "text", "expected"),
    [
        ("clean.toml", '[quality.texts.gopher_quality]\nmin_doc_words = "20"\n', "must be an"),
        ("clean.toml", "[quality.social]\nmax_chars = true\n", "must be an integer"),
        ("clean.toml", "quality = 5\n", "quality must be a table, not 5"),
        ("dedupe.toml", '[clusters]\nnear_duplicate_jaccard = "high"\n', "must be a number"),
        ("dedupe.toml", "minhash = 3\n", "minhash must be a table, not 3"),
    ],
)
def test_a_wrongly_typed_stage_setting_fails_naming_its_file(
    tmp_path: Path, file: str, text: str, expected: str
) -> None:
    from commons_assets.clean.settings import load_clean_settings
    from commons_assets.dedupe.settings import load_dedupe_config

    (tmp_path / "policy").mkdir()
    (tmp_path / "policy" / file).write_text(text)
    load = load_clean_settings if file == "clean.toml" else load_dedupe_config
    with pytest.raises(ValueError) as raised:
        load(tmp_path)
    assert str(raised.value).startswith(f"policy/{file}: ") and expected in str(raised.value)


PAGE = "https://museum.example.org/articles/weaving-traditions?lang=en&view=full"


@pytest.mark.parametrize(
    "requested",
    [
        "HTTPS://MUSEUM.EXAMPLE.ORG/articles/weaving-traditions?lang=en&view=full",
        "https://museum.example.org/articles/weaving-traditions/?lang=en&view=full",
        "https://museum.example.org/articles/weaving-traditions?view=full&lang=en",
        "https://museum.example.org:443/articles/weaving-traditions?lang=en&view=full",
        "https://museum.example.org/articles/weaving-traditions?lang=en&view=full#comments",
        "  https://museum.example.org/articles/weaving-traditions?lang=en&view=full \n",
        "https://museum.example.org/articles/weaving%2Dtraditions?lang=en&view=full",
    ],
)
def test_a_takedown_url_matches_however_it_is_written(requested: str) -> None:
    from commons_assets.rights.audit import Takedown, takedown_hits

    record = {"source_uri": PAGE, "source_id": PAGE}
    assert takedown_hits(record, [Takedown("url", requested, "asked")])
    other = {"source_uri": "https://museum.example.org/articles/weaving"}
    assert not takedown_hits(other, [Takedown("url", requested, "asked")])


def test_takedowns_reach_the_release_and_unmatched_ones_are_listed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import polars as pl

    from commons_tests.conftest import copy_sample

    monkeypatch.delenv("DAGSTER_HOME", raising=False)
    monkeypatch.chdir(tmp_path)
    root = copy_sample(tmp_path / "data")
    write_jsonl(
        root / "policy" / "takedowns" / "hostile.jsonl",
        [
            {
                "match": "url",
                "value": " HTTPS://MUSEUM.EXAMPLE.ORG:443/articles/weaving-traditions/#top",
                "reason": "the weaver asked",
            },
            {"match": "url", "value": "https://nowhere.example/x", "reason": "a typo"},
        ],
    )
    assert cli.main(["build", "--data", str(root)]) == 0
    releases = root / "releases"
    release = releases / (releases / "LATEST").read_text().strip()
    published = pl.read_parquet(release / "text" / "*.parquet")["source_id"].to_list()
    assert not any("weaving-traditions" in source for source in published)
    changes = (release / "CHANGES.md").read_text()
    assert "- policy/takedowns/hostile.jsonl:1: url=" in changes.split("matched no record")[0]
    assert "## Takedown requests that matched no record" in changes
    assert "policy/takedowns/hostile.jsonl:2: url=https://nowhere.example/x — a typo" in changes


def test_input_strings_cannot_inject_into_the_card_attribution_or_changes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import yaml

    from commons_tests.builders import make_data_root

    monkeypatch.delenv("DAGSTER_HOME", raising=False)
    monkeypatch.chdir(tmp_path)
    root = make_data_root(tmp_path / "data")
    write_jsonl(
        root / "sources" / "texts" / "hostile" / "part.jsonl",
        [
            {
                "id": "h1",
                "text": (
                    "The ferry leaves the harbour at seven, and the gulls follow it out past "
                    "the breakwater. Fishermen wave from their boats as it passes the light. "
                    "On the island the baker has already opened, and the smell of bread "
                    "reaches the pier before the ferry does. Children run down to meet it."
                ),
                "licence": "CC-BY-4.0",
                "language": "en\nlicense: cc0-1.0\nextra_key: injected",
                "title": "<script>alert(1)</script> [click](javascript:alert(1))",
                "author": "# Heading ![x](https://t.example/p.png)",
                "url": "javascript:alert(1)",
            }
        ],
    )
    write_jsonl(
        root / "policy" / "takedowns" / "t.jsonl",
        [{"match": "id", "value": "<b>nobody</b>", "reason": "![pixel](https://t.example/p.png)"}],
    )
    assert cli.main(["build", "--data", str(root)]) == 0
    releases = root / "releases"
    release = releases / (releases / "LATEST").read_text().strip()
    card = (release / "README.md").read_text()
    front = yaml.safe_load(card.split("---\n")[1])
    assert set(front) == {"pretty_name", "license", "language", "size_categories", "configs"}
    assert all("\n" not in language and ":" not in language for language in front["language"])
    attribution = (release / "ATTRIBUTION.md").read_text()
    assert "alert" in attribution  # the record's credit is there…
    assert "<script>" not in attribution and "](javascript:" not in attribution  # …inert
    assert "\n# Heading" not in attribution and "![x]" not in attribution
    changes = (release / "CHANGES.md").read_text()
    assert "<b>" not in changes and "![pixel]" not in changes
    assert "&lt;b&gt;nobody&lt;/b&gt;" in changes


def test_an_expected_failure_is_one_clear_line_without_a_trace(
    data_root: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capfd: pytest.CaptureFixture
) -> None:
    monkeypatch.delenv("DAGSTER_HOME", raising=False)
    monkeypatch.chdir(tmp_path)
    (data_root / "policy").mkdir(exist_ok=True)
    (data_root / "policy" / "licence_policy.toml").write_text('legacy_labels = "no"\n')
    assert cli.main(["build", "--data", str(data_root)]) == 1
    out, err = capfd.readouterr()
    assert "Traceback" not in out + err and "Stack Trace" not in out + err
    assert (
        "FAIL  rights_texts[essays]" in out
        and "PolicyError: policy/licence_policy.toml: legacy_labels must be true or false, not 'no'"
        in out
    )
    assert "FAIL  release" in out and "no audit table exists" in out
    assert "commons build --verbose shows" in out


def test_a_release_promoted_but_not_named_in_latest_is_adopted_not_duplicated(
    data_root: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A kill between the rename into releases/ and the move of LATEST: the rerun verifies that
    version and names it, instead of writing an identical next one."""
    monkeypatch.delenv("DAGSTER_HOME", raising=False)
    monkeypatch.chdir(tmp_path)
    assert cli.main(["build", "--data", str(data_root)]) == 0
    releases = data_root / "releases"
    first = (releases / "LATEST").read_text().strip()
    write_jsonl(
        data_root / "policy" / "takedowns" / "t.jsonl",
        [{"match": "id", "value": "e3", "reason": "author request"}],
    )
    assert cli.main(["build", "--data", str(data_root)]) == 0
    second = (releases / "LATEST").read_text().strip()
    assert second != first
    (releases / "LATEST").write_text(first + "\n")  # as the kill left it
    assert cli.main(["build", "--data", str(data_root)]) == 0
    assert (releases / "LATEST").read_text().strip() == second
    assert sorted(p.name for p in releases.iterdir() if not p.name.startswith(".")) == sorted(
        ["LATEST", first, second]
    )


def test_temporary_files_left_by_a_killed_run_are_removed(tmp_path: Path) -> None:
    import os
    import time

    import polars as pl

    from commons_assets.lake import write_parquet_atomic

    target = tmp_path / "lake" / "clean_texts" / "p.parquet"
    target.parent.mkdir(parents=True)
    old = target.parent / ".p.parquet.killed.tmp"
    young = target.parent / ".p.parquet.running.tmp"  # a concurrent run's, still being written
    old.write_bytes(b"half")
    young.write_bytes(b"half")
    hours_ago = time.time() - 2 * 3600
    os.utime(old, (hours_ago, hours_ago))
    write_parquet_atomic(pl.DataFrame({"a": [1]}), target)
    assert not old.exists() and young.exists() and target.exists()


def test_every_size_limit_is_a_setting_and_over_limit_items_are_quarantined(
    tmp_path: Path,
) -> None:
    from commons_assets.sources.limits import load_limits
    from commons_assets.sources.warc import read_warc
    from commons_tests.builders import page, warc_record_bytes

    root = tmp_path / "data"
    (root / "policy").mkdir(parents=True)
    (root / "policy" / "sources.toml").write_text(
        "[limits]\nmax_line_bytes = 2000\nmax_record_bytes = 3000\nmax_file_bytes = 60000\n"
        "max_image_bytes = 500\n"
    )
    limits = load_limits(root)
    assert (limits.max_line_bytes, limits.max_record_bytes, limits.max_image_bytes) == (
        2000,
        3000,
        500,
    )
    # A WARC record whose body is over the limit (ten times it), between two good ones.
    warc = root / "sources" / "archives" / "big.warc.gz"
    warc.parent.mkdir(parents=True)
    warc.write_bytes(
        warc_record_bytes("https://a.example/1", page("One", "Small."), number=1)
        + warc_record_bytes("https://a.example/big", b"x" * 30_000, number=2)
        + warc_record_bytes("https://a.example/2", page("Two", "Small."), number=3)
    )
    read = read_warc(warc, "big", "sources/archives/big.warc.gz", limits)
    assert [r["source_id"] for r in read.records] == ["https://a.example/1", "https://a.example/2"]
    [big] = read.quarantined
    assert big["reason"] == "record_too_large" and "limit of 3000 bytes" in big["detail"]
    # A file over the per-file limit is not read at all.
    essays = root / "sources" / "texts" / "essays"
    write_jsonl(essays / "a.jsonl", [GOOD])
    write_jsonl(essays / "b.jsonl", [{"id": f"r{i}", "text": "y" * 1500} for i in range(50)])
    texts = read_text_collection(essays, "essays", root, limits)
    assert [r["source_id"] for r in texts.records] == ["good"]
    assert texts.quarantined[0]["reason"] == "file_too_large"
    assert "limit 60000 (max_file_bytes)" in texts.quarantined[0]["detail"]
    # An image file over its byte limit.
    photos = root / "sources" / "images" / "photos"
    write_png(photos / "files" / "big.png", size=(400, 400))
    write_jsonl(photos / "records.jsonl", [{"id": "big", "file": "files/big.png"}])
    images = read_image_collection(photos, "photos", root, limits)
    assert images.records == [] and images.quarantined[0]["reason"] == "image_too_large"


def test_a_limits_file_with_a_wrong_value_fails_naming_it(tmp_path: Path) -> None:
    from commons_assets.sources.limits import LimitsError, load_limits

    (tmp_path / "policy").mkdir()
    (tmp_path / "policy" / "sources.toml").write_text('[limits]\nmax_line_bytes = "8M"\n')
    expected = r"sources\.toml: limits\.max_line_bytes must be an integer, not .8M."
    with pytest.raises(LimitsError, match=expected):
        load_limits(tmp_path)
    (tmp_path / "policy" / "sources.toml").write_text("[limits]\nmax_image_pixels = 0\n")
    with pytest.raises(LimitsError, match="max_image_pixels must be above 0"):
        load_limits(tmp_path)


def test_a_preview_shows_record_text_as_inert_markdown() -> None:
    from commons_assets.reporting import PREVIEW_CHARS, preview

    rows = [
        {"source_id": "https://a.example/x", "licence_raw": None, "text": "# Not a heading " * 40},
        {"source_id": "e2", "licence_raw": "CC0", "text": "<script>alert(1)</script> [l](u)"},
    ]
    shown = preview(rows, "text", ("source_id", "licence_raw")).md_str
    first, second = shown.split("\n\n**")
    assert first.startswith("**https://a.example/x**") and "\\# Not a heading" in first
    assert len(first.split("> ", 1)[1]) <= PREVIEW_CHARS + 40  # escapes add characters
    assert "&lt;script&gt;" in second and "<script>" not in second and "\\[l\\]" in second
