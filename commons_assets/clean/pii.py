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
PLACEHOLDERS = {"email": "<EMAIL>", "phone": "<PHONE>", "ip": "<IP_ADDRESS>"}
# Text right before a dotted quad that makes it a version, not an address.
VERSION_CONTEXT = re.compile(r"(?:\bv|version|release|build)\s*$", re.IGNORECASE)


def _public_ip(match: re.Match[str]) -> bool:
    try:
        address = ipaddress.ip_address(match.group(0))
    except ValueError:
        return False
    before = match.string[max(0, match.start() - 12) : match.start()]
    return address.is_global and not VERSION_CONTEXT.search(before)


def redact_pii(text: str) -> tuple[str, Counter[str]]:
    """Text with PII replaced by placeholders, and the count of each kind replaced."""
    counts: Counter[str] = Counter()

    def replace(kind: str, keep: object = None):
        def substitute(match: re.Match[str]) -> str:
            if callable(keep) and not keep(match):
                return match.group(0)
            counts[kind] += 1
            return PLACEHOLDERS[kind]

        return substitute

    text = EMAIL.sub(replace("email"), text)
    text = IPV4.sub(replace("ip", _public_ip), text)
    text = PHONE.sub(replace("phone"), text)
    return text, counts
