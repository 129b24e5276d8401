"""Small-cell suppression: the two passes behind every number a leader sees.

Rule adopted in ``docs/privacy.md`` (small-cell suppression): a statistic
resting on fewer than ``min_cell`` students (default 10,
``PSYCHANALYTICS_MIN_CELL``) is not shown. The threshold counts zero as small
(UK LLC: "10 including zero"), so an empty cell cannot be told apart from a
cell of 1-9.

Two passes, both here:

* **primary** (:func:`suppress_small_cells`): cells below the threshold are
  blanked and marked, never dropped; shares computed from them are blanked too;
* **complementary** (:func:`suppress_complementary`): in a group of cells that
  add up to a shown total (the bands of one wave), the blanked cells together
  equal the total minus the cells shown. When that difference would give a
  blanked cell away (a group with exactly one blank) or is itself a small
  number (blanks that together hold fewer than ``min_cell``, zero included),
  the smallest shown cell of the group is blanked too. Suppression across
  several tables of one page (a margin shown in another chart) is not handled
  here: :func:`psychanalytics.privacy.leader_view` applies both passes and the
  headline rule to one table, and pages call it rather than these passes.

Written by hand: primary suppression is a mask over one column, and this
complementary pass needs only one partner per group because every shown cell
holds ``min_cell`` or more. Suppression over linked tables is a
linear-programming problem for a dedicated tool (R ``sdcTable``, tau-ARGUS).

Examples
--------
>>> import pandas as pd
>>> from psychanalytics.privacy.suppression import suppress_small_cells
>>> frame = pd.DataFrame({"band": ["轻度", "重度"], "count": [120, 4], "proportion": [0.968, 0.032]})
>>> suppress_small_cells(frame, dependent=("proportion",), min_cell=10)
  band  count  proportion  suppressed
0   轻度    120       0.968       False
1   重度   <NA>         NaN        True
"""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd

from psychanalytics.config import Settings

__all__ = ["suppress_complementary", "suppress_small_cells"]


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
    count: str = "count",
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
    >>> frame = pd.DataFrame({"wave": ["A", "B"], "count": [30, 2], "n": [400, 8]})
    >>> first = suppress_small_cells(frame, count="count", min_cell=10)
    >>> suppress_small_cells(first, count="n", dependent=("count",), min_cell=10)
      wave  count     n  suppressed
    0    A     30   400       False
    1    B   <NA>  <NA>        True
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
    count: str = "count",
    total: str = "n",
    min_cell: int | None = None,
    dependent: Sequence[str] = (),
    flag: str = "suppressed",
) -> pd.DataFrame:
    """Secondary suppression: the blanked cells of a group never give away a small number.

    Run after :func:`suppress_small_cells`. In a group of cells that add up to
    a shown total, ``total - sum(shown cells)`` is the sum of the blanked
    cells, shown implicitly. When a group has exactly one blanked cell (which
    that difference would equal) or blanked cells that together hold fewer
    than ``min_cell`` (a zero included: every blank would then be known to be
    small, or all zero), the smallest shown cell of the group is blanked too.
    One partner always suffices, because a shown cell holds ``min_cell`` or
    more. A group whose total is blanked is left as it is (its cells are all
    small when the counts add up to the total). This is the complementary
    suppression of CDC WONDER and of UK LLC's "at least two suppressed cells
    per row" (``docs/privacy.md``).

    Parameters
    ----------
    frame : pandas.DataFrame
        Output of :func:`suppress_small_cells` (has ``flag``), with the cells
        of each group adding up to its ``total``. Not modified.
    by : sequence of str
        Columns identifying a group of cells that share a total.
    count : str
        Column of the cells' counts.
    total : str
        Column of the group's total (the same on every row of a group).
    min_cell : int, optional
        Default ``Settings.from_env().min_cell`` (10).
    dependent, flag
        As in :func:`suppress_small_cells`.

    Examples
    --------
    >>> import pandas as pd
    >>> cells = pd.DataFrame({"wave": ["A"] * 3, "band": ["low", "mid", "high"], "count": [40, 12, 3],
    ...                       "n": [55] * 3})
    >>> primary = suppress_small_cells(cells, min_cell=10)
    >>> suppress_complementary(primary, by=["wave"], min_cell=10)
      wave  band  count   n  suppressed
    0    A   low     40  55       False
    1    A   mid   <NA>  55        True
    2    A  high   <NA>  55        True
    """
    if min_cell is None:
        min_cell = Settings.from_env().min_cell
    out = frame.copy()
    suppressed = out[flag].astype(bool)
    groups = [out[c] for c in by]
    shown_sum = out[count].where(~suppressed, 0).groupby(groups, dropna=False).transform("sum")
    hidden_sum = out[total] - shown_sum
    blanks = suppressed.groupby(groups, dropna=False).transform("sum")
    exposed = (out[total].notna() & blanks.gt(0) & (blanks.eq(1) | hidden_sum.lt(min_cell))).fillna(False)
    shown = out.loc[exposed & ~suppressed]
    partners = shown.groupby([shown[c] for c in by], dropna=False)[count].idxmin()
    out.loc[partners, count] = pd.NA
    for column in dependent:
        out.loc[partners, column] = None
    out.loc[partners, flag] = True
    return out
