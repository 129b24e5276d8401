"""Screening → action: of the students a wave flagged, how many were followed up, and how fast."""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd

from psychanalytics.screening._frames import check_counts, check_level, check_not_above, choice, keys, require
from psychanalytics.screening._intervals import METHODS, with_interval
from psychanalytics.screening._prevalence import _refuse_missing_keys, sum_by

STEPS = {
    "raised": ("建立危机个案", "crisis case opened"),
    "confirmed": ("完成访谈确认", "interviewed and confirmed"),
    "referred": ("转介", "referred"),
}
"""The follow-up steps counted, in order, with their Chinese and English names."""


def screening_action(
    counts: pd.DataFrame,
    *,
    by: str | Sequence[str] = ("wave", "school"),
    method: str = "wilson",
    ci: float = 0.95,
) -> pd.DataFrame:
    """Share of the students a wave flagged that reached each follow-up step in time.

    Parameters
    ----------
    counts : pandas.DataFrame
        As from :func:`psychanalytics.store.queries.screening.screening_action_counts`:
        the ``by`` columns, ``n`` (students flagged screen-positive), and of
        them ``raised`` (a crisis case opened in the follow-up window),
        ``confirmed`` (interviewed and confirmed in it) and ``referred``.
        Rows of one group (e.g. the two ``reason`` rows) are summed. Not modified.
    by : str or sequence of str
        Groups, default ``("wave", "school")``; add ``"reason"`` to tell students
        flagged by the cut-off from those flagged by an item alone (PHQ-9 item 9
        with a total under the cut-off).
    method : {"wilson", "jeffreys", "exact"}
        Interval method.
    ci : float
        Confidence level.

    Returns
    -------
    pandas.DataFrame
        One row per group and step (:data:`STEPS`, in order): the ``by``
        columns, ``step``, ``step_zh``, ``step_en``, ``count`` (flagged
        students who reached the step), ``n`` (flagged students), ``proportion``,
        ``low`` and ``high``; ``n = 0`` leaves the share missing. Each row
        stands alone (the steps are nested, not parts of ``n``). The same
        computation serves the screening pages and the crisis pages.

    Notes
    -----
    The window (from the wave's first day to ``within_days`` after its last)
    is applied by the query. Intervals treat students as independent.

    Examples
    --------
    >>> import pandas as pd
    >>> from psychanalytics.screening import screening_action
    >>> counts = pd.DataFrame({"wave": ["W1", "W1"], "school": ["A", "A"], "reason": ["cutoff", "flag"],
    ...                        "n": [40, 12], "raised": [30, 4], "confirmed": [28, 4], "referred": [6, 1]})
    >>> screening_action(counts)[["step", "count", "n", "proportion"]].round(3)
            step  count   n  proportion
    0     raised     34  52       0.654
    1  confirmed     32  52       0.615
    2   referred      7  52       0.135
    """
    by = keys(by)
    choice(method, METHODS, name="method")
    check_level(ci)
    steps = list(STEPS)
    require(counts, [*by, "n", *steps], what="counts")
    check_counts(counts, ["n", *steps], what="counts")
    for step in steps:
        check_not_above(counts, step, "n", what="counts")
    _refuse_missing_keys(counts, by, what="counts")
    totals = sum_by(counts, by, ["n", *steps])
    long = totals.melt(id_vars=[*by, "n"], value_vars=steps, var_name="step", value_name="count")
    long["step_zh"] = long["step"].map(lambda s: STEPS[s][0])
    long["step_en"] = long["step"].map(lambda s: STEPS[s][1])
    order = {s: i for i, s in enumerate(steps)}
    long = long.sort_values(
        [*by, "step"], key=lambda s: s.map(order) if s.name == "step" else s, kind="stable"
    )
    long = long[[*by, "step", "step_zh", "step_en", "count", "n"]].astype({"count": "int64", "n": "int64"})
    return with_interval(long.reset_index(drop=True), method, ci)
