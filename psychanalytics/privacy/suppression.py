"""Small-cell suppression for every number a leader sees.

Rule adopted in ``privacy_security.md`` §2: a statistic resting on fewer than
``min_cell`` students (default 10, ``PSYCHANALYTICS_MIN_CELL``) is not shown.
The threshold counts zero as small (UK LLC: "10 including zero"), so an empty
cell cannot be told apart from a cell of 1-9.

This module does **primary** suppression only: cells below the threshold are
blanked and marked, never dropped. **Secondary (complementary) suppression**,
which stops a blanked cell being recovered from a shown total or from the
other cells of its row, comes with the privacy issue; until then a caller that
shows margins must not show them beside a single blanked cell.

Written by hand because primary suppression is a mask over one column;
complementary suppression is a linear-programming problem that belongs to a
dedicated tool (R ``sdcTable``, tau-ARGUS) when it comes.

Examples
--------
>>> import pandas as pd
>>> from psychanalytics.privacy.suppression import suppress_small_cells
>>> frame = pd.DataFrame({"band": ["轻度", "重度"], "n": [120, 4], "share": [0.968, 0.032]})
>>> suppress_small_cells(frame, count="n", dependent=("share",), min_cell=10)
  band     n  share  suppressed
0   轻度   120  0.968       False
1   重度  <NA>    NaN        True
"""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd

from psychanalytics.config import Settings

__all__ = ["suppress_small_cells"]


def _check_counts(values: pd.Series, count: str) -> None:
    for row, value in values.items():
        if pd.isna(value):
            raise ValueError(f"row {row!r}, column {count!r}: count is missing ({value!r})")
        if isinstance(value, bool) or not float(value).is_integer():
            raise ValueError(f"row {row!r}, column {count!r}: count must be a whole number, got {value!r}")
        if value < 0:
            raise ValueError(f"row {row!r}, column {count!r}: count must be >= 0, got {value!r}")


def suppress_small_cells(
    frame: pd.DataFrame,
    *,
    count: str = "n",
    min_cell: int | None = None,
    dependent: Sequence[str] = (),
    flag: str = "suppressed",
) -> pd.DataFrame:
    """Blank the cells that rest on fewer than ``min_cell`` units, and mark them.

    Parameters
    ----------
    frame : pandas.DataFrame
        One row per cell. Not modified.
    count : str
        Column holding the cell's count (whole numbers >= 0).
    min_cell : int, optional
        Smallest count shown; default ``Settings.from_env().min_cell`` (10).
    dependent : sequence of str
        Columns computed from the count (shares, rates, means) that are blanked
        with it.
    flag : str
        Boolean column marking suppressed rows. If ``frame`` already has it
        (a previous pass on another count column), the marks accumulate.

    Returns
    -------
    pandas.DataFrame
        A copy with the same rows and index: in rows where ``count < min_cell``
        the count becomes ``<NA>`` (nullable ``Int64``), the dependent columns
        become missing, and ``flag`` is ``True``.

    Raises
    ------
    KeyError
        If ``count`` or a dependent column is missing.
    ValueError
        If a count is missing, negative or not whole (naming row, column and
        value), or ``min_cell < 1``.

    Notes
    -----
    Checked against the worked examples of the rule it implements (CDC WONDER
    and UK LLC: suppress counts below 10, zero included); see
    ``tests/test_suppression.py``.

    Examples
    --------
    Two passes, numerator then denominator:

    >>> import pandas as pd
    >>> frame = pd.DataFrame({"wave": ["A", "B"], "n": [30, 2], "total": [400, 8]})
    >>> first = suppress_small_cells(frame, count="n", min_cell=10)
    >>> suppress_small_cells(first, count="total", dependent=("n",), min_cell=10)
      wave     n  total  suppressed
    0    A    30    400       False
    1    B  <NA>   <NA>        True
    """
    if min_cell is None:
        min_cell = Settings.from_env().min_cell
    if min_cell < 1:
        raise ValueError(f"min_cell must be >= 1, got {min_cell}")
    for column in (count, *dependent):
        if column not in frame.columns:
            raise KeyError(f"column {column!r} not in frame (columns: {list(frame.columns)})")
    out = frame.copy()
    already = out[flag].astype(bool) if flag in out.columns else pd.Series(False, index=out.index)
    counts = out[count]
    checked = ~(already & counts.isna())
    _check_counts(counts[checked], count)
    small = checked & counts.lt(min_cell).fillna(False).astype(bool)
    out[count] = counts.astype("Int64").mask(small)
    for column in dependent:
        out[column] = out[column].mask(small)
    out[flag] = already | small
    return out


def suppress_complementary(
    frame: pd.DataFrame,
    *,
    by: Sequence[str],
    count: str = "n",
    dependent: Sequence[str] = (),
    flag: str = "suppressed",
) -> pd.DataFrame:
    """Secondary suppression: no group is left with exactly one blanked cell.

    Run after :func:`suppress_small_cells`. When a group (the cells that add up
    to one shown total, e.g. the bands of one wave) has exactly one suppressed
    cell, that cell equals the total minus the cells shown; the smallest shown
    cell of the group is then blanked too, so only the sum of two cells can be
    derived (complementary suppression; privacy_security.md §2, rule 2, after
    CDC WONDER and UK LLC).

    Parameters
    ----------
    frame : pandas.DataFrame
        Output of :func:`suppress_small_cells` (has ``flag``). Not modified.
    by : sequence of str
        Columns identifying a group of cells that share a shown total.
    count, dependent, flag
        As in :func:`suppress_small_cells`.

    Examples
    --------
    >>> import pandas as pd
    >>> cells = pd.DataFrame({"wave": ["A"] * 3, "band": ["low", "mid", "high"], "n": [40, 12, 3]})
    >>> primary = suppress_small_cells(cells, min_cell=10)
    >>> suppress_complementary(primary, by=["wave"])
      wave  band     n  suppressed
    0    A   low    40       False
    1    A   mid  <NA>        True
    2    A  high  <NA>        True
    """
    out = frame.copy()
    suppressed = out[flag].astype(bool)
    lonely = suppressed.groupby([out[c] for c in by]).transform("sum").eq(1)
    shown = out.loc[lonely & ~suppressed & out[count].notna()]
    partners = shown.groupby([shown[c] for c in by])[count].idxmin()
    out.loc[partners, count] = pd.NA
    for column in dependent:
        out.loc[partners, column] = None
    out.loc[partners, flag] = True
    return out
