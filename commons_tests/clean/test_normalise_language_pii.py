from __future__ import annotations

import socket

import pytest

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
