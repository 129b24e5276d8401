"""Input checks shared by the outcome functions: clear errors naming what and where, nothing coerced.

One rule for missing values across the package: a function that needs a value
refuses a missing one, naming the column, how many and the first rows. Callers
drop incomplete rows themselves (:func:`psychanalytics.outcomes.attrition`
says who they are), so nothing leaves an analysis unseen.
"""

from __future__ import annotations

import numbers

import numpy as np
import pandas as pd

from psychanalytics.psychometrics._validate import label

_SHOWN = 5  # row labels quoted in an error


def _first_labels(index: pd.Index, mask: np.ndarray) -> str:
    labels = [label(value) for value in index[mask][:_SHOWN]]
    more = ", …" if mask.sum() > _SHOWN else ""
    return ", ".join(labels) + more


def _refuse_non_numbers(values: pd.Series, name: str) -> None:
    """Raise naming the first value of an object or boolean Series that is not a real number."""
    if values.dtype.kind == "b":
        raise ValueError(f"{name} holds booleans, not scores")
    for row, value in values.items():
        if value is None or value is pd.NA or (isinstance(value, float) and np.isnan(value)):
            continue
        if isinstance(value, bool | np.bool_) or not isinstance(value, numbers.Real):
            raise ValueError(f"{name}, row {label(row)}: value {label(value)} is not a number")


def numbers_of(values: pd.Series, name: str) -> np.ndarray:
    """``values`` as float64, refusing text, booleans, infinities and missing values."""
    if values.dtype.kind not in "iuf":
        _refuse_non_numbers(values, name)
    # float64 columns are read without a copy; others (integers, nullable types) are converted
    array = values.to_numpy() if values.dtype == np.float64 else values.to_numpy(dtype=float, na_value=np.nan)
    finite = np.isfinite(array)
    if not finite.all():
        missing = np.isnan(array)
        if missing.any():
            raise ValueError(
                f"{name} has {int(missing.sum())} missing value(s) (rows {_first_labels(values.index, missing)}): "
                "drop incomplete rows explicitly first (outcomes.attrition lists who has no post score)"
            )
        bad = ~finite
        raise ValueError(f"{name} has infinite value(s) at rows {_first_labels(values.index, bad)}")
    return array


def series(values, name: str) -> pd.Series:
    """A one-dimensional array-like as a Series (keeping a Series' index; 0 … n-1 otherwise)."""
    if isinstance(values, pd.Series):
        return values
    array = np.asarray(values)
    if array.ndim != 1:
        raise ValueError(f"{name} must be one-dimensional, got {array.ndim} dimension(s)")
    return pd.Series(array)


def paired(x, y, names: tuple[str, str], *, min_n: int = 2) -> tuple[np.ndarray, np.ndarray, pd.Index]:
    """Two paired score vectors as float arrays, with the rows' index.

    Series must share their index (a pre score is never paired with another
    student's post score by position).
    """
    sx, sy = series(x, names[0]), series(y, names[1])
    if len(sx) != len(sy):
        raise ValueError(f"{names[0]} and {names[1]} differ in length: {len(sx)} and {len(sy)}")
    if isinstance(x, pd.Series) and isinstance(y, pd.Series) and not sx.index.equals(sy.index):
        raise ValueError(
            f"{names[0]} and {names[1]} are indexed differently: align them on the student first"
        )
    if len(sx) < min_n:
        raise ValueError(f"at least {min_n} pairs are required, got {len(sx)}")
    return numbers_of(sx, names[0]), numbers_of(sy, names[1]), sx.index


def columns(frame: pd.DataFrame, names, *, where: str) -> None:
    """Raise if ``frame`` is not a DataFrame or lacks any of ``names``."""
    if not isinstance(frame, pd.DataFrame):
        raise TypeError(f"{where}: expected a pandas DataFrame, got {type(frame).__name__}")
    absent = [name for name in names if name not in frame.columns]
    if absent:
        raise ValueError(f"{where}: column(s) {absent} not in the frame (it has {list(frame.columns)})")


def complete(frame: pd.DataFrame, names, *, where: str) -> None:
    """Raise naming the first column of ``names`` with a missing value, how many and where."""
    for name in names:
        missing = frame[name].isna().to_numpy()
        if missing.any():
            raise ValueError(
                f"{where}: column {name!r} has {int(missing.sum())} missing value(s) "
                f"(rows {_first_labels(frame.index, missing)}); drop or fill them explicitly first"
            )


def two_arms(values: pd.Series, treatment, *, where: str) -> np.ndarray:
    """A boolean array: the rows of the treatment arm, checking there is exactly one other arm."""
    arms = pd.unique(values)
    if treatment not in set(arms):
        raise ValueError(f"{where}: no row has arm {treatment!r} (arms present: {sorted(map(str, arms))})")
    if len(arms) != 2:
        raise ValueError(
            f"{where}: need exactly two arms, the treatment {treatment!r} and one comparison; "
            f"got {sorted(map(str, arms))}"
        )
    return (values == treatment).to_numpy()


def confidence(level: float) -> float:
    """A confidence level strictly between 0 and 1."""
    if not 0 < level < 1:
        raise ValueError(f"ci must be between 0 and 1 (e.g. 0.95), got {level!r}")
    return float(level)
