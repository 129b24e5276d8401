"""Input checks shared by the psychometric functions: clear errors, nothing coerced."""

from __future__ import annotations

import numbers

import numpy as np
import pandas as pd


def label(value) -> str:
    """``repr`` of an index label or value without NumPy's type wrapper (``0``, not ``np.int64(0)``)."""
    return repr(value.item() if isinstance(value, np.generic) else value)


def _first_bad(values: pd.Series, *, check_float: bool = True):
    """Index label of the first value that is neither a finite real number nor missing, else None."""
    if values.dtype.kind in "iu" or (values.dtype.kind == "f" and not check_float):
        return None
    if values.dtype.kind == "f":
        bad = np.isinf(values.to_numpy())
        return values.index[bad][0] if bad.any() else None
    for label, value in values.items():
        if value is None or value is pd.NA or (isinstance(value, float) and np.isnan(value)):
            continue
        if (
            isinstance(value, bool | np.bool_)
            or not isinstance(value, numbers.Real)
            or not np.isfinite(value)
        ):
            return label
    return None


def item_frame(items, *, min_items: int = 2, min_rows: int = 2, check_float: bool = True) -> pd.DataFrame:
    """Return ``items`` as a float DataFrame (NaN = missing).

    Anything that is not a finite real number or missing is refused; the error
    names the first offending row (index label), column and value. With
    ``check_float=False`` float columns are not scanned for infinities: the caller
    does it (see :func:`refuse_infinite`), e.g. only when a column sum is not finite.
    """
    if isinstance(items, pd.DataFrame):
        frame = items
    else:
        array = np.asarray(items)
        if array.ndim != 2:
            raise ValueError(
                f"items must be a 2-D table (respondents x items), got {array.ndim} dimension(s)"
            )
        frame = pd.DataFrame(array, columns=[f"q{i + 1}" for i in range(array.shape[1])])
    kinds = {dtype.kind for dtype in frame.dtypes}
    skip = kinds <= {"i", "u"} or (not check_float and kinds <= {"i", "u", "f"})
    for column in [] if skip else frame.columns:
        row = _first_bad(frame[column], check_float=check_float)
        if row is not None:
            raise ValueError(
                f"row {label(row)}, column {label(column)}: value {label(frame[column][row])} is not a finite number"
            )
    if frame.shape[1] < min_items:
        raise ValueError(f"at least {min_items} item columns are required, got {frame.shape[1]}")
    if frame.shape[0] < min_rows:
        raise ValueError(f"at least {min_rows} respondents are required, got {frame.shape[0]}")
    return frame.astype(float)


def refuse_infinite(frame: pd.DataFrame) -> None:
    """Raise naming the first infinite value of a float DataFrame, if there is one."""
    for column in frame.columns:
        row = _first_bad(frame[column])
        if row is not None:
            raise ValueError(
                f"row {label(row)}, column {label(column)}: value {label(frame[column][row])} is not a finite number"
            )
