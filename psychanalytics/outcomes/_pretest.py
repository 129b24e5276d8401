"""The measurement error behind reliable change: reliability and SD of a scale in the pre-test wave."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from psychanalytics import instruments, psychometrics
from psychanalytics.outcomes._validate import numbers_of, series


@dataclass(frozen=True)
class PretestReliability:
    """Cronbach's alpha and the SD of one scale in one screening wave: the RCI's standard error.

    Attributes
    ----------
    instrument, scale, wave : str
        What was measured, and in which wave (the pre-test wave of an intervention).
    reliability : float
        Cronbach's alpha of the scale's items
        (:func:`psychanalytics.psychometrics.cronbach_alpha`).
    low, high : float
        Its Feldt 95 % interval.
    n : int
        Answer sheets alpha rests on.
    sd : float
        SD of the scale's scores in the wave (``n - 1``), for ``SE = sd · √(1 - alpha)``.
    n_scores : int
        Scores the SD rests on.
    """

    instrument: str
    scale: str
    wave: str
    reliability: float
    low: float
    high: float
    n: int
    sd: float
    n_scores: int

    @property
    def se_measurement(self) -> float:
        """``sd · √(1 - reliability)``."""
        return float(self.sd * np.sqrt(1 - self.reliability))

    @property
    def basis(self) -> str:
        """One line saying what the reliability is and where it comes from (for a table or a footnote)."""
        spec = instruments.get(self.instrument)
        return (
            f"Cronbach α = {self.reliability:.3f} [{self.low:.3f}, {self.high:.3f}], SD = {self.sd:.2f}: "
            f"{spec.abbreviation} {self.scale}, {self.wave} 普测 / wave, {self.n:,} 份有效答卷 / valid sheets "
            "(psychometrics.cronbach_alpha)"
        )


def pretest_reliability(
    items: pd.DataFrame, scores, *, instrument: str, scale: str, wave: str
) -> PretestReliability:
    """Reliability and SD of a scale in a screening wave, for the reliable change index of an intervention.

    Parameters
    ----------
    items : pandas.DataFrame
        The wave's valid answer sheets with item columns ``q1 … qK``
        (:func:`psychanalytics.store.load_items` with ``valid_only=True``).
        The scale's items are taken from the instrument spec.
    scores : array-like or pandas.Series
        The scale's scores in the same wave (valid sheets; e.g. the scale column
        of :func:`psychanalytics.store.load_scores`). Missing values are refused.
    instrument, scale, wave : str
        The instrument and scale codes, and the wave id (kept for the record).

    Returns
    -------
    PretestReliability

    Notes
    -----
    Jacobson & Truax (1991) take the standard error of measurement from the
    instrument's reliability and the SD of a population: here both come from the
    whole pre-test wave of the district (``SE = SD · √(1 - α)``), not from the few
    students of a programme, whose range is restricted by how they were chosen
    (a group selected on raised scores has a small SD, which would make small
    changes look reliable). Alpha is :func:`psychanalytics.psychometrics.cronbach_alpha`
    (pairwise covariances, Feldt interval; validated there against pingouin and R psych).

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from psychanalytics.outcomes import pretest_reliability
    >>> rng = np.random.default_rng(0)
    >>> trait = rng.normal(0, 1, 500)
    >>> items = pd.DataFrame({f"q{i}": np.clip(np.round(1 + trait + rng.normal(0, 0.8, 500)), 0, 3)
    ...                       for i in range(1, 10)})
    >>> res = pretest_reliability(items, items.sum(axis=1), instrument="phq9", scale="total", wave="2024-autumn")
    >>> round(res.reliability, 2), res.n
    (0.91, 500)
    """
    spec = instruments.get(instrument)
    columns = [f"q{i}" for i in spec.scale(scale).items]
    absent = [c for c in columns if c not in items.columns]
    if absent:
        raise ValueError(
            f"pretest_reliability: items lack {spec.abbreviation} {scale} item column(s) {absent}"
        )
    alpha = psychometrics.cronbach_alpha(items[columns])
    values = numbers_of(series(scores, "scores"), "scores")
    if len(values) < 2:
        raise ValueError(f"pretest_reliability: at least 2 scores are needed for an SD, got {len(values)}")
    return PretestReliability(
        instrument=instrument,
        scale=scale,
        wave=wave,
        reliability=float(alpha.alpha),
        low=float(alpha.ci[0]),
        high=float(alpha.ci[1]),
        n=int(alpha.n),
        sd=float(values.std(ddof=1)),
        n_scores=len(values),
    )
