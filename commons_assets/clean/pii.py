"""PII redaction: e-mail addresses, phone numbers and public IP addresses become placeholders,
counted per record. Patterns are deliberately conservative: a version number, a date, an ISBN
or a private network address is not personal data and stays.

The e-mail and IP rules follow FineWeb's PII formatter (datatrove `PIIFormatter`: e-mails and
public IPs only); the phone rule is ours [policy]: an international `+` number, or a North
American (NNN) NNN-NNNN form, so that plain digit runs are never touched.
"""

from __future__ import annotations

import ipaddress
import re
from collections import Counter

EMAIL = re.compile(r"\b[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}\b")
IPV4 = re.compile(r"(?<![\w.])(?:\d{1,3}\.){3}\d{1,3}(?![\w.]|\.\d)")
PHONE = re.compile(
    r"(?<![\w+])(?:"
    r"\+\d{1,3}[\s.-]?(?:\(\d{1,4}\)[\s.-]?)?\d{1,4}(?:[\s.-]?\d{2,4}){2,4}"
    r"|\(\d{3}\)\s?\d{3}[\s.-]\d{4}"
    r"|\d{3}[.-]\d{3}[.-]\d{4}"
    r")(?!\w)"
)
# Every IPv4 address above holds a digit, a dot and a digit; every phone number a "+" or "("
# before a digit, or a digit, a dot or hyphen and a digit. One search that stops at the first
# such place tells whether either pattern can match at all (most prose has none).
NUMBER_SHAPE = re.compile(r"\d[.-]\d|[+(]\d")
PLACEHOLDERS = {
    "email": "<EMAIL>",
    "phone": "<PHONE>",
    "ip": "<IP_ADDRESS>",
    "card": "<CARD_NUMBER>",
    "iban": "<IBAN>",
}
PII_MODES = ("standard", "strict", "off")
# Strict mode only: IPv6, payment card numbers that pass the Luhn check (ISO/IEC 7812), IBANs
# whose ISO 13616 mod-97 check digits verify.
IPV6 = re.compile(
    r"(?<![\w:])(?:[0-9A-Fa-f]{1,4}:){2,7}[0-9A-Fa-f]{0,4}(?::[0-9A-Fa-f]{1,4})*(?![\w:])"
)
CARD = re.compile(r"(?<!\d)(?:\d[ -]?){12,18}\d(?!\d)")
IBAN = re.compile(r"\b[A-Z]{2}\d{2}(?: ?[A-Z0-9]{4}){2,7}(?: ?[A-Z0-9]{1,4})?\b")
# Text right before a dotted quad that makes it a version, not an address.
VERSION_CONTEXT = re.compile(r"(?:\bv|version|release|build)\s*$", re.IGNORECASE)


def _public_ip(match: re.Match[str]) -> bool:
    try:
        address = ipaddress.ip_address(match.group(0))
    except ValueError:
        return False
    before = match.string[max(0, match.start() - 12) : match.start()]
    return address.is_global and not VERSION_CONTEXT.search(before)


def _public_ipv6(match: re.Match[str]) -> bool:
    try:
        return ipaddress.IPv6Address(match.group(0)).is_global
    except ValueError:
        return False


def _luhn(match: re.Match[str]) -> bool:
    digits = [int(c) for c in match.group(0) if c.isdigit()]
    checksum = 0
    for position, digit in enumerate(reversed(digits)):
        if position % 2:
            digit = digit * 2 - 9 if digit > 4 else digit * 2
        checksum += digit
    return checksum % 10 == 0


def _iban(match: re.Match[str]) -> bool:
    compact = match.group(0).replace(" ", "")
    rearranged = compact[4:] + compact[:4]
    number = "".join(str(int(c, 36)) for c in rearranged)
    return int(number) % 97 == 1


def redact_pii(text: str, mode: str = "standard") -> tuple[str, Counter[str]]:
    """Text with PII replaced by placeholders, and the count of each kind replaced.
    `mode`: "standard" (e-mail, phone, public IPv4), "strict" (also IPv6, Luhn-valid card
    numbers, valid IBANs) or "off"."""
    counts: Counter[str] = Counter()
    if mode == "off":
        return text, counts
    if mode not in PII_MODES:
        raise ValueError(f"unknown PII mode {mode!r}; use one of {PII_MODES}")

    def replace(kind: str, keep: object = None):
        def substitute(match: re.Match[str]) -> str:
            if callable(keep) and not keep(match):
                return match.group(0)
            counts[kind] += 1
            return PLACEHOLDERS[kind]

        return substitute

    if "@" in text:  # in every address; the pattern would read the whole text to find none
        text = EMAIL.sub(replace("email"), text)
    if mode == "strict":
        text = IBAN.sub(replace("iban", _iban), text)
        text = CARD.sub(replace("card", _luhn), text)
        text = IPV6.sub(replace("ip", _public_ipv6), text)
    if NUMBER_SHAPE.search(text):
        text = IPV4.sub(replace("ip", _public_ip), text)
        text = PHONE.sub(replace("phone"), text)
    return text, counts
