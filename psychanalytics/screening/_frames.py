"""Checks for the small frames of counts the screening functions take: clear errors, nothing coerced."""

from __future__ import annotations

import numbers
from collections.abc import Sequence

import numpy as np
import pandas as pd


def keys(by: str | Sequence[str], *, name: str = "by") -> tuple[str, ...]:
    """``by`` as a tuple of column names (a single name is one key); no repeats."""
    out = (by,) if isinstance(by, str) else tuple(by)
    if not all(isinstance(k, str) for k in out):
        raise TypeError(f"{name}: column names must be strings, got {out!r}")
    if len(set(out)) != len(out):
        raise ValueError(f"{name}: repeated column in {out!r}")
    return out


def require(frame: pd.DataFrame, columns: Sequence[str], *, what: str) -> None:
    """Raise naming the columns of ``columns`` that ``frame`` lacks."""
    if not isinstance(frame, pd.DataFrame):
        raise TypeError(f"{what}: expected a pandas DataFrame, got {type(frame).__name__}")
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise KeyError(f"{what}: missing column(s) {missing}; columns present: {list(frame.columns)}")


def plain(value):
    """``value`` without NumPy's type wrapper, for messages (``10``, not ``np.int64(10)``)."""
    return value.item() if isinstance(value, np.generic) else value


def cell(row: pd.Series, columns: Sequence[str]) -> dict:
    """The values of ``columns`` in ``row`` as a plain dict, for messages."""
    return {c: plain(row[c]) for c in columns}


def _bad_value(value, *, whole: bool) -> str | None:
    """Why ``value`` is not a count (or a non-negative real when ``whole`` is False), else None."""
    if value is None or value is pd.NA or (isinstance(value, float) and np.isnan(value)):
        return "is missing"
    if isinstance(value, bool | np.bool_) or not isinstance(value, numbers.Real):
        return "is not a number"
    if not np.isfinite(value):
        return "is not finite"
    if value < 0:
        return "is negative"
    if whole and not float(value).is_integer():
        return "is not a whole number"
    return None


def check_counts(frame: pd.DataFrame, columns: Sequence[str], *, what: str, whole: bool = True) -> None:
    """Every value of ``columns`` is a whole number >= 0 (a finite real >= 0 unless ``whole``).

    The error names the row (index label), the column and the value.
    """
    for column in columns:
        values = frame[column]
        if values.dtype.kind in "iu" and (values.to_numpy() >= 0).all():
            continue
        for row, value in values.items():
            reason = _bad_value(value, whole=whole)
            if reason is not None:
                raise ValueError(
                    f"{what}: row {plain(row)!r}, column {column!r}: value {plain(value)!r} {reason}"
                )


def check_not_above(frame: pd.DataFrame, part: str, whole: str, *, what: str) -> None:
    """``frame[part] <= frame[whole]`` in every row; the error names the first row that breaks it."""
    over = frame[part].to_numpy(dtype=float) > frame[whole].to_numpy(dtype=float)
    if over.any():
        row = frame.index[over][0]
        raise ValueError(
            f"{what}: row {plain(row)!r}: {part} = {plain(frame.at[row, part])!r} is larger than "
            f"{whole} = {plain(frame.at[row, whole])!r}"
        )


def check_level(ci: float) -> None:
    """A confidence level strictly between 0 and 1."""
    if isinstance(ci, bool) or not isinstance(ci, numbers.Real) or not 0 < ci < 1:
        raise ValueError(f"ci must be a confidence level between 0 and 1 (e.g. 0.95), got {ci!r}")


def choice(value, options: Sequence, *, name: str) -> None:
    """``value`` is one of ``options``."""
    if value not in options:
        raise ValueError(f"{name} must be one of {list(options)}, got {value!r}")
