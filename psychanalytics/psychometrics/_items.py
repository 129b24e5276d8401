"""Classical item statistics: difficulty, discrimination, missing share."""

from __future__ import annotations

import numpy as np
import pandas as pd

from psychanalytics.psychometrics._alpha import cronbach_alpha
from psychanalytics.psychometrics._validate import item_frame, label


def item_statistics(items, *, item_range: tuple[float, float] | None = None) -> pd.DataFrame:
    """Difficulty, discrimination and missing share of each item.

    Parameters
    ----------
    items : pandas.DataFrame or array-like
        One row per respondent, one numeric column per item; NaN = missing.
    item_range : (low, high), optional
        Lowest and highest possible item code (e.g. ``(0, 3)`` for PHQ-9, from
        ``instruments.get(code).item_values``). Defaults to the lowest and highest
        code observed in the whole table. Codes outside the range are refused.

    Returns
    -------
    pandas.DataFrame
        One row per item: ``n`` (answers), ``missing_share``, ``mean``, ``sd``
        (n - 1), ``difficulty`` = (mean - low) / (high - low) (the classical
        p-value for 0/1 items; for rating items the mean as a share of the
        range; on symptom scales a higher value means a more endorsed item),
        ``discrimination`` = corrected item-total correlation (``r_drop`` of
        :func:`cronbach_alpha`, pairwise covariances), and ``alpha_if_dropped``.

    Notes
    -----
    The difficulty index and corrected item-total correlation follow Crocker &
    Algina (1986), *Introduction to classical and modern test theory*, ch. 14.
    Means and standard deviations are pandas'; ``discrimination`` and
    ``alpha_if_dropped`` come from :func:`cronbach_alpha` (validated against
    pingouin and psych).

    Examples
    --------
    >>> import pandas as pd
    >>> from psychanalytics.psychometrics import item_statistics
    >>> data = pd.DataFrame({"q1": [0, 1, 1, 1], "q2": [0, 0, 1, 1], "q3": [0, 0, 0, 1]})
    >>> item_statistics(data, item_range=(0, 1))["difficulty"].tolist()
    [0.75, 0.5, 0.25]
    """
    frame = item_frame(items)
    low, high = (
        (np.nanmin(frame.to_numpy()), np.nanmax(frame.to_numpy())) if item_range is None else item_range
    )
    if not high > low:
        raise ValueError(f"item_range must have high > low, got ({low!r}, {high!r})")
    outside = (frame < low) | (frame > high)
    if outside.to_numpy().any():
        row, column = outside.stack().loc[lambda s: s].index[0]
        raise ValueError(
            f"row {label(row)}, column {label(column)}: value {label(frame.at[row, column])} outside item_range ({low}, {high})"
        )
    alpha = cronbach_alpha(frame)
    mean = frame.mean()
    return pd.DataFrame(
        {
            "n": frame.notna().sum(),
            "missing_share": frame.isna().mean(),
            "mean": mean,
            "sd": frame.std(),
            "difficulty": (mean - low) / (high - low),
            "discrimination": alpha.items["r_drop"],
            "alpha_if_dropped": alpha.items["alpha_if_dropped"],
        }
    ).rename_axis("item")
