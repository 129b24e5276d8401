"""Norm tables: raw score -> percentile rank and normalised T score, by grade x gender."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd
from scipy.stats import norm as normal

from psychanalytics.psychometrics._validate import label


@dataclass(frozen=True)
class NormsResult:
    """A norm table and the cells that were refused.

    Attributes
    ----------
    table : pandas.DataFrame
        Tidy rows ``instrument, scale, reference_wave, <by...>, raw, n, percentile,
        t_score`` (the columns of the ``norm`` table when ``by`` is grade x gender),
        one row per observed raw score per cell.
    refused : pandas.DataFrame
        Cells with fewer than ``min_n`` respondents: ``<by...>, n, reason``.
    reference_wave : str
        Wave the norms were computed from.
    min_n : int
        Minimum cell size applied.
    """

    table: pd.DataFrame
    refused: pd.DataFrame
    reference_wave: str
    min_n: int


def _cell_norms(raw: pd.Series) -> pd.DataFrame:
    counts = raw.value_counts().sort_index()
    below = counts.cumsum() - counts
    n = int(counts.sum())
    percentile = 100 * (below + 0.5 * counts) / n
    return pd.DataFrame(
        {
            "raw": counts.index.astype(float),
            "n": n,
            "percentile": percentile.to_numpy(),
            "t_score": 50 + 10 * normal.ppf(percentile.to_numpy() / 100),
        }
    )


def norms(
    scores: pd.DataFrame,
    *,
    reference_wave: str,
    instrument: str,
    score: str = "total",
    by: tuple[str, ...] = ("grade", "gender"),
    min_n: int = 30,
) -> NormsResult:
    """Percentile ranks and normalised T scores of raw scores, per cell of ``by``, from one wave.

    Parameters
    ----------
    scores : pandas.DataFrame
        One row per respondent and wave with columns ``wave_id``, ``score`` and
        each column of ``by``. Only rows of ``reference_wave`` are used; in those
        rows a missing score or grouping value is an error (filter invalid
        protocols before, e.g. on ``valid``).
    reference_wave : str
        The wave the norms come from; it is stored in every row.
    instrument : str
        Instrument code stored in every row (``norm.instrument``).
    score : str
        Score column (``scale`` in the output).
    by : tuple of str
        Grouping columns, grade x gender by default.
    min_n : int
        Cells with fewer respondents get no norms: they are listed in
        ``refused`` with the reason (if every cell is, ``table`` is empty).

    Returns
    -------
    NormsResult

    Notes
    -----
    *Percentile* is the mid-rank percentile rank
    ``PR(x) = 100 * (F(x-) + f(x) / 2) / n`` (cumulative count below ``x`` plus
    half the count at ``x``; Crocker & Algina 1986, §19; the same definition as
    ``scipy.stats.percentileofscore(kind="mean")``), so it is never 0 or 100.
    *T* is the normalised T score ``50 + 10 * Phi^-1(PR / 100)``, the usual choice
    in Chinese norm tables (e.g. the MHT manual), rather than the linear
    ``50 + 10 z``; it does not assume the raw scores are normal. Rows are
    returned for observed raw scores only. The ``norm`` table of the store is
    filled by the caller: ``store.upsert(conn, store.metadata.tables["norm"],
    result.table.to_dict("records"))``.

    Validated against ``scipy.stats.percentileofscore(kind="mean")`` and
    ``scipy.stats.norm.ppf`` (tests).

    Examples
    --------
    >>> import pandas as pd
    >>> from psychanalytics.psychometrics import norms
    >>> s = pd.DataFrame({"wave_id": "2024-autumn", "grade": 7, "gender": "F",
    ...                   "total": [0, 1, 1, 2, 3] * 8})
    >>> res = norms(s, reference_wave="2024-autumn", instrument="phq9")
    >>> res.table[["raw", "n", "percentile", "t_score"]].round(2).values.tolist()[0]
    [0.0, 40.0, 10.0, 37.18]
    """
    by = tuple(by)
    needed = ["wave_id", score, *by]
    absent = [c for c in needed if c not in scores.columns]
    if absent:
        raise ValueError(f"scores lack column(s) {absent}; needed: {needed}")
    if min_n < 1:
        raise ValueError(f"min_n must be positive, got {min_n}")
    ref = scores.loc[scores["wave_id"] == reference_wave, [score, *by]]
    if ref.empty:
        raise ValueError(f"no rows for reference_wave {reference_wave!r}")
    for column in [score, *by]:
        missing = ref[column].isna()
        if missing.any():
            raise ValueError(f"row {label(ref.index[missing][0])}, column {column!r}: value is missing")
    if ref[score].dtype.kind not in "iuf":
        raise ValueError(f"column {score!r} must be numeric, got dtype {ref[score].dtype}")
    tables, refused = [], []
    for key, cell in ref.groupby(list(by), sort=True):
        cell_id = dict(zip(by, key, strict=True))
        if len(cell) < min_n:
            refused.append({**cell_id, "n": len(cell), "reason": f"n = {len(cell)} < min_n = {min_n}"})
            continue
        tables.append(_cell_norms(cell[score]).assign(**cell_id))
    if not tables:  # every cell refused: no rows, the same columns and types
        tables.append(_cell_norms(ref[score].iloc[:0]).assign(**{c: ref[c].iloc[:0] for c in by}))
    table = pd.concat(tables, ignore_index=True).assign(
        instrument=instrument, scale=score, reference_wave=reference_wave
    )
    table = table[["instrument", "scale", "reference_wave", *by, "raw", "n", "percentile", "t_score"]]
    refused_frame = pd.DataFrame(refused, columns=[*by, "n", "reason"])
    return NormsResult(table, refused_frame, reference_wave, min_n)
