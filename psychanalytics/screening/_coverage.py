"""Coverage of a wave (screened / enrolled) and its invalid-sheet share, carried beside every result."""

from __future__ import annotations

import numbers
from collections.abc import Sequence

import numpy as np
import pandas as pd

from psychanalytics.screening._frames import check_counts, check_not_above, keys, plain, require
from psychanalytics.screening._prevalence import sum_by

COVERAGE_COLUMNS = (
    "enrolled",
    "screened",
    "invalid",
    "coverage",
    "invalid_share",
    "low_coverage",
    "high_invalid",
)
"""The columns :func:`coverage` returns beside the keys, and every result with ``coverage=`` carries."""


def _share(value, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not 0 <= value <= 1:
        raise ValueError(f"{name} must be a share between 0 and 1, got {value!r}")
    return float(value)


def _flag(values: np.ndarray, known: np.ndarray) -> pd.arrays.BooleanArray:
    """A nullable boolean: ``values`` where ``known``, ``<NA>`` elsewhere."""
    return pd.arrays.BooleanArray(np.where(known, values, False), ~known)


def coverage(
    counts: pd.DataFrame,
    *,
    by: str | Sequence[str] | None = None,
    min_coverage: float = 0.9,
    max_invalid: float = 0.1,
) -> pd.DataFrame:
    """Share of enrolled students screened, and share of their sheets that were invalid, per group.

    Parameters
    ----------
    counts : pandas.DataFrame
        Group keys and ``enrolled`` (students enrolled in the grades screened),
        ``screened`` (students with a sheet, valid or not) and ``invalid``
        (sheets scored invalid: lie scale, unscoreable, platform 无效), as from
        :func:`psychanalytics.store.queries.screening.coverage_counts`. Not
        modified.
    by : str or sequence of str, optional
        Keys to sum to (e.g. ``("wave",)`` from a school table); default every
        column that is not a count.
    min_coverage : float
        ``low_coverage`` marks groups where ``screened / enrolled`` is below
        this (default 0.9): the students not screened may differ from those
        screened, so a low rate there is not evidence of a healthy school.
    max_invalid : float
        ``high_invalid`` marks groups where ``invalid / screened`` is above this
        (default 0.1).

    Returns
    -------
    pandas.DataFrame
        One row per group, in key order: the keys, ``enrolled``, ``screened``,
        ``invalid``, ``coverage`` (``screened / enrolled``, missing when nobody
        was enrolled; above 1 when students were screened in grades or
        schools that did not enrol them — shown, never clipped),
        ``invalid_share`` (``invalid / screened``), ``low_coverage`` and
        ``high_invalid`` (nullable booleans, ``<NA>`` when their share is).

    Examples
    --------
    >>> import pandas as pd
    >>> from psychanalytics.screening import coverage
    >>> counts = pd.DataFrame({"school": ["A", "B", "C"], "enrolled": [400, 380, 0],
    ...                        "screened": [392, 250, 3], "invalid": [12, 40, 0]})
    >>> coverage(counts).drop(columns=["enrolled", "screened", "invalid"]).round(3)
      school  coverage  invalid_share  low_coverage  high_invalid
    0      A     0.980          0.031         False         False
    1      B     0.658          0.160          True          True
    2      C       NaN          0.000          <NA>         False
    """
    require(counts, ["enrolled", "screened", "invalid"], what="counts")
    by = (
        keys(by)
        if by is not None
        else tuple(c for c in counts.columns if c not in ("enrolled", "screened", "invalid"))
    )
    require(counts, list(by), what="counts")
    min_coverage, max_invalid = _share(min_coverage, "min_coverage"), _share(max_invalid, "max_invalid")
    check_counts(counts, ["enrolled", "screened", "invalid"], what="counts")
    check_not_above(counts, "invalid", "screened", what="counts")
    out = sum_by(counts, by, ["enrolled", "screened", "invalid"])
    enrolled, screened, invalid = (out[c].to_numpy(dtype=float) for c in ("enrolled", "screened", "invalid"))
    with np.errstate(divide="ignore", invalid="ignore"):
        share = np.where(enrolled > 0, screened / enrolled, np.nan)
        invalid_share = np.where(screened > 0, invalid / screened, np.nan)
    return out.assign(
        coverage=share,
        invalid_share=invalid_share,
        low_coverage=_flag(share < min_coverage, ~np.isnan(share)),
        high_invalid=_flag(invalid_share > max_invalid, ~np.isnan(invalid_share)),
    )


def with_coverage(result: pd.DataFrame, coverage_table: pd.DataFrame | None) -> pd.DataFrame:
    """``result`` with the coverage columns of its group beside every row.

    Parameters
    ----------
    result : pandas.DataFrame
        Any result with group keys (a table of rates, means, band shares, a
        funnel's units). Not modified.
    coverage_table : pandas.DataFrame or None
        The output of :func:`coverage`; its keys (every column but
        :data:`COVERAGE_COLUMNS`) must be columns of ``result``, one row per
        key. ``None`` when coverage is unknown: the columns are added as
        missing, so a reader sees that it was not checked.

    Returns
    -------
    pandas.DataFrame
        ``result`` (rows and order kept) with :data:`COVERAGE_COLUMNS`
        appended; a group missing from ``coverage_table`` gets missing values.

    Examples
    --------
    >>> import pandas as pd
    >>> from psychanalytics.screening import coverage, with_coverage
    >>> rates = pd.DataFrame({"school": ["A", "B"], "proportion": [0.12, 0.04]})
    >>> cover = coverage(pd.DataFrame({"school": ["A", "B"], "enrolled": [400, 380],
    ...                                "screened": [392, 250], "invalid": [12, 40]}))
    >>> with_coverage(rates, cover)[["school", "proportion", "coverage", "low_coverage"]].round(3)
      school  proportion  coverage  low_coverage
    0      A        0.12     0.980         False
    1      B        0.04     0.658          True
    """
    if not isinstance(result, pd.DataFrame):
        raise TypeError(f"result: expected a pandas DataFrame, got {type(result).__name__}")
    clash = [c for c in COVERAGE_COLUMNS if c in result.columns]
    if clash:
        raise ValueError(f"result already has coverage column(s) {clash}; drop them or attach coverage once")
    if coverage_table is None:
        blank = {c: pd.array([pd.NA] * len(result), dtype="Int64") for c in COVERAGE_COLUMNS[:3]}
        blank |= {c: np.full(len(result), np.nan) for c in COVERAGE_COLUMNS[3:5]}
        blank |= {c: pd.array([pd.NA] * len(result), dtype="boolean") for c in COVERAGE_COLUMNS[5:]}
        return result.assign(**blank)
    require(coverage_table, list(COVERAGE_COLUMNS), what="coverage_table")
    on = [c for c in coverage_table.columns if c not in COVERAGE_COLUMNS]
    require(result, on, what="result (the coverage table's keys)")
    repeated = coverage_table.duplicated(on, keep=False)
    if repeated.any():
        row = coverage_table.index[repeated][0]
        raise ValueError(
            f"coverage_table: several rows for one group ({ {c: plain(coverage_table.at[row, c]) for c in on} })"
        )
    if on:
        merged = result.merge(coverage_table, on=on, how="left", validate="many_to_one")
    else:
        merged = result.merge(coverage_table, how="cross")
    merged.index = result.index
    return merged
