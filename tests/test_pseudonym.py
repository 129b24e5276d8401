"""Keyed pseudonyms: HMAC-SHA256 over the normalised 学籍号, 128 bits kept."""

from __future__ import annotations

import hmac
import stat

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from psychanalytics.privacy.pseudonym import load_or_create_key, normalise_student_number, pseudonymise


@settings(max_examples=300, deadline=None)
@given(
    numbers=st.lists(
        st.one_of(st.text(min_size=1, max_size=20), st.from_regex(r"[A-Za-z0-9]{1,19}", fullmatch=True)),
        max_size=5,
    ),
    key=st.binary(min_size=16, max_size=100),
)
def test_pseudonyms_equal_the_standard_library_hmac(numbers, key):
    """The batched HMAC equals Python's own RFC 2104 implementation on any input."""
    try:
        canonical = [normalise_student_number(n) for n in numbers]
    except ValueError:
        with pytest.raises(ValueError, match="empty student number"):
            pseudonymise(numbers, key)
        return
    expected = [hmac.digest(key, n.encode("utf-8"), "sha256").hex()[:32] for n in canonical]
    assert pseudonymise(numbers, key) == expected


def test_leading_zeros_and_width_variants():
    key = b"k" * 32
    plain, zero, full_width = pseudonymise(["123", "00123", "１２３"], key)
    assert plain != zero and plain == full_width


def test_short_key_is_refused():
    with pytest.raises(ValueError, match="at least 16 bytes"):
        pseudonymise(["G1"], b"short")


def test_key_file_is_created_once_private(tmp_path):
    path = tmp_path / "keys" / "pseudonym.key"
    first = load_or_create_key(path)
    assert len(first) == 32 and stat.S_IMODE(path.stat().st_mode) == 0o600
    assert load_or_create_key(path) == first


def test_truncated_key_file_is_an_error(tmp_path):
    path = tmp_path / "pseudonym.key"
    path.write_bytes(b"tiny")
    with pytest.raises(ValueError, match="holds 4 bytes"):
        load_or_create_key(path)
