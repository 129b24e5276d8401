"""Keyed pseudonyms for students: ``pid = HMAC-SHA256(key, normalised 学籍号)``.

Unkeyed hashing of an 18-digit national number is brute-forceable offline
(ENISA; docs/privacy.md §4), so the pseudonym is a MAC whose key lives in
a file outside the repository and the database. One key per project makes
extracts of different projects unlinkable. The pid keeps 128 bits (32 hex
characters).
"""

from __future__ import annotations

import hashlib
import os
import secrets
import unicodedata
from collections.abc import Iterable
from pathlib import Path

KEY_BYTES = 32
PID_HEX_CHARS = 32


def normalise_student_number(number: str) -> str:
    """Canonical form of a 学籍号 (or 工号): what a spreadsheet or a keyboard adds, taken away.

    NFKC (full-width letters and digits → ASCII), no spaces, no zero-width or
    control characters (a NUL or ``\\x01`` after the number), no leading
    apostrophe (Excel's mark for "keep as text"), upper case. Leading zeros are
    kept: ``00123`` and ``123`` are different numbers (the importer refuses a
    number that has lost them when the database knows it with them).

    >>> normalise_student_number(" ｇ３２０４０２２０１２０１０１００１２ ")
    'G320402201201010012'
    >>> normalise_student_number("'g12\\u200b3\\x01"), normalise_student_number("00123")
    ('G123', '00123')
    """
    text = unicodedata.normalize("NFKC", number)
    text = "".join(ch for ch in text if not ch.isspace() and unicodedata.category(ch) not in ("Cf", "Cc"))
    text = text.lstrip("'‘’`")
    if not text:
        raise ValueError("empty student number")
    return text.upper()


def _all_canonical(numbers: list[str]) -> bool:
    """True when :func:`normalise_student_number` would return every number unchanged.

    Checked once on the numbers joined: ASCII letters and digits with no lower-case
    letter, in non-empty numbers, is what every number must be on its own (no space,
    control character or apostrophe can be in it).
    """
    joined = "".join(numbers)
    return all(numbers) and joined.isascii() and joined.isalnum() and joined == joined.upper()


def pseudonymise(numbers: Iterable[str], key: bytes) -> list[str]:
    """Pseudonyms of student numbers under ``key`` (same number + key → same pid).

    HMAC-SHA256 (RFC 2104) with the padded-key states hashed once for the whole
    batch rather than once per number (a million numbers in about a second);
    a batch already in canonical form (checked once, joined) skips normalisation. The test suite checks
    it against :func:`hmac.digest`.

    >>> a, b = pseudonymise(["G1", "ｇ1 "], b"k" * 32)
    >>> a == b, len(a)
    (True, 32)
    >>> pseudonymise(["G1"], b"k" * 32) == pseudonymise(["G1"], b"j" * 32)
    False
    """
    if len(key) < 16:
        raise ValueError("pseudonym key must have at least 16 bytes")
    block = (key if len(key) <= 64 else hashlib.sha256(key).digest()).ljust(64, b"\0")
    inner = hashlib.sha256(bytes(b ^ 0x36 for b in block))
    outer = hashlib.sha256(bytes(b ^ 0x5C for b in block))

    numbers = list(numbers)
    if not _all_canonical(numbers):
        numbers = [normalise_student_number(number) for number in numbers]
    pids = []
    for number in numbers:
        i = inner.copy()
        i.update(number.encode())
        o = outer.copy()
        o.update(i.digest())
        pids.append(o.hexdigest()[:PID_HEX_CHARS])
    return pids


def key_fingerprint(key: bytes) -> str:
    """A short public fingerprint of ``key``: HMAC of a fixed label, never the key itself.

    Stored with the database so that an import under another key (a mistyped
    ``--key-file``) is refused instead of splitting every student in two.

    >>> key_fingerprint(b"k" * 32) == key_fingerprint(b"k" * 32) != key_fingerprint(b"j" * 32)
    True
    """
    return pseudonymise(["PSYCHANALYTICSKEYFINGERPRINTV1"], key)[0][:16]


def load_or_create_key(path: str | Path) -> bytes:
    """Read the pseudonym key at ``path``; create it (mode 0600) on first use.

    The key must stay outside the repository and the database: losing it
    means new imports no longer link to earlier ones.
    """
    path = Path(path).expanduser()
    if path.exists():
        key = path.read_bytes()
        if len(key) < 16:
            raise ValueError(f"pseudonym key file {path} holds {len(key)} bytes; at least 16 are needed")
        return key
    path.parent.mkdir(parents=True, exist_ok=True)
    key = secrets.token_bytes(KEY_BYTES)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(key)
    return key
