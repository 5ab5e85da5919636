"""Bytes to text for web payloads whose encoding is declared badly, late, or not at all."""

from __future__ import annotations

import codecs
import re

from charset_normalizer import from_bytes

_CHARSET_PARAM = re.compile(rb"charset\s*=\s*[\"']?\s*([A-Za-z0-9_.:-]+)", re.IGNORECASE)
# The HTML standard's prescan looks at the first 1024 bytes for <meta charset> or http-equiv.
_META_PRESCAN_BYTES = 1024
_BOMS = (
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)


def _codec(name: str | bytes | None) -> str | None:
    if not name:
        return None
    text = name.decode("ascii", errors="ignore") if isinstance(name, bytes) else name
    try:
        return codecs.lookup(text.strip()).name
    except LookupError:
        return None


def declared_charset(content_type: str | None, body: bytes) -> str | None:
    """The charset a byte-order mark, the Content-Type header or an early <meta> declares."""
    for bom, name in _BOMS:
        if body.startswith(bom):
            return name
    if content_type:
        match = _CHARSET_PARAM.search(content_type.encode("latin-1", errors="ignore"))
        if match and (codec := _codec(match.group(1))):
            return codec
    head = body[:_META_PRESCAN_BYTES]
    if b"<meta" in head.lower():
        match = _CHARSET_PARAM.search(head)
        if match and (codec := _codec(match.group(1))):
            return codec
    return None


def decode_body(body: bytes, content_type: str | None = None) -> tuple[str, str]:
    """Decode a payload; returns (text, encoding used). Never raises: the last resort is
    cp1252 with replacement characters, and the encoding says so."""
    declared = declared_charset(content_type, body)
    for candidate in (declared, "utf-8"):
        if candidate:
            try:
                return body.decode(candidate), candidate
            except (UnicodeDecodeError, LookupError):
                pass
    guess = from_bytes(body).best()
    if guess is not None and guess.encoding:
        return str(guess), _codec(guess.encoding) or guess.encoding
    return body.decode("cp1252", errors="replace"), "cp1252+replace"
