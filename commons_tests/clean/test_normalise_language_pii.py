from __future__ import annotations

import re
import socket
import unicodedata
from collections.abc import Callable
from typing import Any

import ftfy
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from commons_assets.clean.language import identify_language
from commons_assets.clean.normalise import normalise_text
from commons_assets.clean.pii import redact_pii


def test_normalise_repairs_mojibake_composes_and_cleans_whitespace() -> None:
    assert normalise_text("The Mona Lisa doesnâ€™t have eyebrows.") == (
        "The Mona Lisa doesn\u2019t have eyebrows."
    )
    assert normalise_text("Cafe\u0301") == "Caf\u00e9"  # NFC
    assert normalise_text("a\x00b\u200bc\x07") == "abc"
    assert normalise_text("  one   two \r\n\r\n\r\n\r\n three\t\tfour  ") == "one two\n\nthree four"


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("The volunteers measured the river every month for five years.", "en"),
        ("Die Kraniche ziehen heute über den See, hunderte, in langen Keilen.", "de"),
        ("Le marché du samedi a enfin des tomates anciennes et du pain frais.", "fr"),
    ],
)
def test_language_of_short_samples(text: str, language: str) -> None:
    guess = identify_language(text)
    assert guess.language == language
    assert 0.5 < guess.score <= 1.0


def test_language_model_loads_without_network(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args: object, **kwargs: object) -> None:
        raise OSError("network disabled in this test")

    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    assert identify_language("Dies ist ein kurzer deutscher Satz über das Wetter.").language == "de"


def test_no_letters_no_language() -> None:
    assert identify_language("12 34 56 !!").language is None


@pytest.mark.parametrize(
    ("text", "expected", "counts"),
    [
        ("Mail ada@example.org now.", "Mail <EMAIL> now.", {"email": 1}),
        ("Call +44 20 7946 0958 today.", "Call <PHONE> today.", {"phone": 1}),
        ("Call (555) 123-4567 or 555.123.4567.", "Call <PHONE> or <PHONE>.", {"phone": 2}),
        ("The server 8.8.8.8 answered.", "The server <IP_ADDRESS> answered.", {"ip": 1}),
    ],
)
def test_pii_is_redacted_and_counted(text: str, expected: str, counts: dict[str, int]) -> None:
    redacted, found = redact_pii(text)
    assert redacted == expected
    assert dict(found) == counts


@pytest.mark.parametrize(
    "text",
    [
        "Released in version 2.3.1 on 2026-11-24.",
        "Upgrade to v10.0.0.1 before Friday.",
        "The router at 192.168.1.1 and localhost 127.0.0.1 are private.",
        "ISBN 978-3-16-148410-0, page 12345, price 1,234.56, at 10.30 am.",
        "Born 1815-12-10; died 1852-11-27.",
        "Python 3.11.7 and Dagster 1.13.27.",
    ],
)
def test_what_is_not_pii_stays(text: str) -> None:
    assert redact_pii(text) == (text, {})


def test_strict_mode_adds_cards_ibans_and_ipv6_with_checksums() -> None:
    text = (
        "Card 4111 1111 1111 1111, not 4111 1111 1111 1112; IBAN GB82 WEST 1234 5698 7654 32, "
        "not GB00 WEST 1234 5698 7654 32; host 2001:4860:4860::8888, link-local fe80::1, "
        "time 10:30:45."
    )
    redacted, found = redact_pii(text, "strict")
    assert "<CARD_NUMBER>" in redacted and "4111 1111 1111 1112" in redacted
    assert "<IBAN>" in redacted and "GB00 WEST" in redacted
    assert "2001:4860" not in redacted and "fe80::1" in redacted and "10:30:45" in redacted
    assert dict(found) == {"card": 1, "iban": 1, "ip": 1}
    assert redact_pii(text, "standard")[0] == text
    assert redact_pii("mail a@b.org", "off") == ("mail a@b.org", {})


def test_mojibake_of_other_code_pages_is_repaired() -> None:
    russian = "Привет, как дела? Это тест."
    assert normalise_text(russian.encode().decode("cp1251")) == russian


def _normalise_always_with_ftfy(text: str) -> str:
    """normalise_text without its shortcut: ftfy on every text."""
    return normalise_text(ftfy.fix_text(text, normalization="NFC", uncurl_quotes=False))


CODE_PAGES = ("cp1251", "cp1252", "latin-1", "cp1253", "cp437", "mac-roman", "cp1250", "koi8-r")
TEXT_PIECES = st.one_of(
    st.text(),
    st.text(
        alphabet=st.characters(max_codepoint=0x7F)
        | st.sampled_from("\u2018\u2019\u201c\u201d\u2013\u2014\u2026\u2022")
    ),
    st.tuples(
        st.text(
            st.characters(min_codepoint=0x400, max_codepoint=0x4FF)
            | st.sampled_from("\u03b1\u00e9\u4e2d\u2019")
        ),
        st.sampled_from(CODE_PAGES),
    ).map(lambda pair: pair[0].encode().decode(pair[1], errors="ignore")),
)


@settings(max_examples=500, deadline=None)
@given(st.lists(TEXT_PIECES, max_size=5).map(" ".join))
def test_skipping_ftfy_changes_no_output(text: str) -> None:
    # normalise_text runs ftfy only where it could change something (a third of the clean
    # steps' time on English pages); the output must be the same as with ftfy on every text.
    assert normalise_text(text) == _normalise_always_with_ftfy(text)


def _redact_without_shortcuts(text: str, mode: str) -> str:
    """redact_pii's patterns applied to every text, in its order (no '@' or number-shape test
    first)."""
    from commons_assets.clean import pii

    def keep_or_replace(kind: str, keep: Callable[[re.Match[str]], bool] | None = None) -> Any:
        return lambda m: m.group(0) if keep and not keep(m) else pii.PLACEHOLDERS[kind]

    text = pii.EMAIL.sub(keep_or_replace("email"), text)
    if mode == "strict":
        text = pii.IBAN.sub(keep_or_replace("iban", pii._iban), text)
        text = pii.CARD.sub(keep_or_replace("card", pii._luhn), text)
        text = pii.IPV6.sub(keep_or_replace("ip", pii._public_ipv6), text)
    text = pii.IPV4.sub(keep_or_replace("ip", pii._public_ip), text)
    return pii.PHONE.sub(keep_or_replace("phone"), text)


PII_PIECES = st.lists(
    st.sampled_from(
        [
            *("8.8.8.8", "192.168.1.1", "v1.2.3.4", "+44 20 7946 0958", "(212) 555-0123"),
            *("555.123.4567", "jo@example.org", "a@b", "2026-11-02", "3.5", "+", "(", ")"),
            *("-", ".", "@", " ", "\n", "1", "12", "123", "4111 1111 1111 1111", "2001:db8::1"),
            *("GB82 WEST 1234 5698 7654 32", "word", "Tel.", "x"),
        ]
    ),
    max_size=12,
).map("".join)


@settings(max_examples=500, deadline=None)
@given(PII_PIECES, st.sampled_from(["standard", "strict"]))
def test_pii_shortcuts_change_no_output(text: str, mode: str) -> None:
    # redact_pii skips a pattern where a cheap test shows it cannot match (no '@'; no digit
    # shape of an address or phone number): the output must be that of every pattern applied.
    assert redact_pii(text, mode)[0] == _redact_without_shortcuts(text, mode)


def _normalise_line_by_line(text: str) -> str:
    """normalise_text as first written: each line's whitespace runs to one space, each line
    stripped, then at most one empty line between paragraphs."""
    from commons_assets.clean import normalise

    if normalise._ftfy_could_change(text):
        text = ftfy.fix_text(text, normalization="NFC", uncurl_quotes=False)
    text = unicodedata.normalize("NFC", text.replace("\r\n", "\n").replace("\r", "\n"))
    text = normalise._CONTROL.sub("", text)
    lines = [re.sub(r"[^\S\n]+", " ", line).strip() for line in text.split("\n")]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


WHITESPACE_PIECES = st.lists(
    st.sampled_from(
        [
            *("a", "bc", " ", "  ", "\t", "\n", "\n\n\n", "\r\n", "\r", "\u00a0", "\u3000"),
            *("\x1c", "\x0b", "\u2028", "\x85", "\u200b", "caf\u00e9"),
        ]
    ),
    max_size=30,
).map("".join)


@settings(max_examples=500, deadline=None)
@given(WHITESPACE_PIECES)
def test_whitespace_rules_as_first_written(text: str) -> None:
    # Whole-text passes replaced a pass per line: the output must not change.
    assert normalise_text(text) == _normalise_line_by_line(text)
