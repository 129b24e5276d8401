"""Packing item responses into ``response.items`` bytes and back.

One respondent's answers to one instrument are stored as signed 8-bit codes,
item 1 first, with :data:`MISSING_CODE` for a missing answer.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

MISSING_CODE = -1
"""Byte code for a missing item answer inside ``response.items``."""


def pack_items(values) -> bytes:
    """Pack one respondent's item codes (NaN = missing) into the ``response.items`` bytes.

    Codes must be whole numbers in 0..127; validation with row and column
    names happens earlier, in scoring and import.
    """
    return pack_matrix(np.asarray(values, dtype=float)[None, :])[0]


def pack_matrix(matrix) -> list[bytes]:
    """Pack a respondents × items matrix (float with NaN, or integers with -1) row by row.

    Codes must be whole numbers in 0..127 (or missing): anything else raises
    :class:`ValueError` rather than being rounded or wrapped.

    >>> pack_matrix([[1.0, float("nan")]])
    [b'\\x01\\xff']
    >>> pack_matrix([[1.5, 255.0]])
    Traceback (most recent call last):
    ...
    ValueError: 2 item code(s) cannot be stored as whole numbers 0-127, e.g. row 0, item 1: 1.5
    """
    matrix = np.asarray(matrix)
    if matrix.dtype.kind == "f":
        present = ~np.isnan(matrix)
        bad = present & ((matrix != np.round(matrix)) | (matrix < 0) | (matrix > 127))
        _refuse_codes(matrix, bad)
        codes = np.where(present, matrix, MISSING_CODE).astype(np.int8)
    elif matrix.dtype == np.int8:
        _refuse_codes(matrix, matrix < MISSING_CODE)
        codes = matrix
    else:
        _refuse_codes(matrix, (matrix < MISSING_CODE) | (matrix > 127))
        codes = matrix.astype(np.int8)
    codes = np.ascontiguousarray(codes)
    width = codes.shape[1]
    flat = codes.tobytes()
    return [flat[i : i + width] for i in range(0, len(flat), width)]


def _refuse_codes(matrix: np.ndarray, bad: np.ndarray) -> None:
    """Item codes are stored as they are or not at all: never rounded or wrapped."""
    if bad.any():
        row, col = np.argwhere(bad)[0]
        raise ValueError(
            f"{int(bad.sum())} item code(s) cannot be stored as whole numbers 0-127, e.g. row {row}, "
            f"item {col + 1}: {matrix[row, col].item()!r}"
        )


def unpack_items(blobs: Iterable[bytes], n_items: int, *, missing=np.nan) -> np.ndarray:
    """Unpack ``response.items`` bytes into a float matrix (``missing`` where -1).

    Every blob must hold exactly ``n_items`` codes.
    """
    joined = b"".join(blobs)
    if len(joined) % n_items:
        raise ValueError(f"item blobs do not all hold {n_items} items")
    return codes_as_float(np.frombuffer(joined, dtype=np.int8).reshape(-1, n_items), missing=missing)


def codes_as_float(codes: np.ndarray, *, missing=np.nan) -> np.ndarray:
    """A respondents × items ``int8`` code matrix as floats, ``missing`` where the code is -1.

    >>> codes_as_float(np.array([[1, -1]], dtype=np.int8))
    array([[ 1., nan]])
    """
    out = codes.astype(float)
    out[codes == MISSING_CODE] = missing
    return out
