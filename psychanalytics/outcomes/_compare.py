"""Comparison-group designs: ANCOVA and difference-in-differences, with cluster-robust errors."""

from __future__ import annotations

import pandas as pd

from psychanalytics.outcomes._models import EstimateResult, cluster_codes, covariate_columns, estimate
from psychanalytics.outcomes._validate import columns, complete, confidence, numbers_of, two_arms
from psychanalytics.psychometrics._validate import label


def ancova(
    students: pd.DataFrame,
    *,
    outcome: str = "post",
    baseline: str = "pre",
    arm: str = "arm",
    treatment: str = "treatment",
    covariates: tuple[str, ...] = (),
    cluster: str | None = "school",
    ci: float = 0.95,
) -> EstimateResult:
    """ANCOVA of a two-arm design: ``outcome ~ baseline + treated (+ covariates)``, errors clustered by school.

    Parameters
    ----------
    students : pandas.DataFrame
        One row per student with ``outcome``, ``baseline``, ``arm``,
        ``covariates`` and ``cluster``. Missing values are refused (see :func:`attrition`).
    outcome, baseline : str
        Post and pre score columns.
    arm, treatment : str
        The arm column and its treatment value; there must be exactly one other
        value (the comparison arm).
    covariates : tuple of str
        Further adjustment columns; text columns (``gender``) enter as
        indicators of every level but the first.
    cluster : str or None
        Column whose values are the clusters of the robust errors (``school``:
        students of one school share teachers, counsellors and timetable). None
        gives ordinary OLS errors, the only choice for one school.
    ci : float
        Confidence level.

    Returns
    -------
    EstimateResult
        ``kind="ancova"``; ``value`` is the coefficient of ``treated``.

    Notes
    -----
    statsmodels OLS; with ``cluster`` the CR1 sandwich covariance (Liang-Zeger
    with the ``G/(G-1) · (N-1)/(N-K)`` factor) and t tests on ``G - 1`` df.
    With few clusters (under about 30) these errors are too small (Cameron &
    Miller 2015); ``n_clusters`` is reported so the reader can judge.
    Checked against R ``lm`` + ``sandwich::vcovCL(type = "HC1")`` 3.0-2
    (``tests/reference/outcomes/comparison_r.json``).

    Examples
    --------
    >>> import pandas as pd
    >>> from psychanalytics.outcomes import ancova
    >>> students = pd.DataFrame({
    ...     "pre": [12, 14, 9, 15, 11, 13, 10, 12],
    ...     "post": [8, 11, 7, 10, 10, 12, 9, 12],
    ...     "arm": ["treatment"] * 4 + ["comparison"] * 4,
    ... })
    >>> res = ancova(students, cluster=None)
    >>> res.kind, round(res.value, 3)
    ('ancova', -2.4)
    """
    level = confidence(ci)
    needed = [outcome, baseline, arm, *covariates] + ([cluster] if cluster else [])
    columns(students, needed, where="ancova")
    complete(students, needed, where="ancova")
    treated = two_arms(students[arm], treatment, where="ancova")
    design = pd.concat(
        [
            pd.Series(numbers_of(students[baseline], baseline), index=students.index, name=baseline),
            pd.Series(treated.astype(float), index=students.index, name="treated"),
            covariate_columns(students, covariates),
        ],
        axis=1,
    )
    y = numbers_of(students[outcome], outcome)
    counts = (
        pd.DataFrame({"arm": students[arm], baseline: design[baseline], outcome: y})
        .groupby("arm", sort=True)
        .agg(
            n=(outcome, "size"),
            **{f"mean_{baseline}": (baseline, "mean"), f"mean_{outcome}": (outcome, "mean")},
        )
        .reset_index()
    )
    return estimate("ancova", "treated", y, design, cluster_codes(students, cluster), cluster, level, counts)


def _one_value_per_student(scores: pd.DataFrame, column: str, *, where: str) -> None:
    varying = scores.groupby("pid", sort=False)[column].nunique()
    if (varying > 1).any():
        pids = varying.index[varying > 1][:5].tolist()
        raise ValueError(f"{where}: {column!r} differs between the waves of student(s) {pids}")


def difference_in_differences(
    scores: pd.DataFrame,
    *,
    pre_wave,
    post_wave,
    score: str = "score",
    arm: str = "arm",
    treatment: str = "treatment",
    cluster: str | None = "school",
    ci: float = 0.95,
) -> EstimateResult:
    """Difference-in-differences of screening scores across two waves, participants against comparisons.

    Parameters
    ----------
    scores : pandas.DataFrame
        One row per student and wave: ``pid``, ``wave``, ``score``, ``arm``
        and ``cluster``. Only ``pre_wave`` and ``post_wave`` may appear (filter
        others out first); a student may miss a wave (the levels model uses
        every row, as with repeated cross-sections), but not appear twice in one.
        ``arm`` and ``cluster`` must be constant within a student, so the
        school clusters hold each student's two scores.
    pre_wave, post_wave
        Wave ids before and after the intervention.
    score, arm, treatment, cluster, ci
        As in :func:`ancova`; typically the matched sample of
        :func:`match_comparison` joined to its screening scores.

    Returns
    -------
    EstimateResult
        ``kind="did"``; ``value`` is the coefficient of ``treated × post``, the
        change of the treatment arm minus the change of the comparison arm.

    Notes
    -----
    OLS of ``score ~ treated + post + treated × post`` (statsmodels), errors as
    in :func:`ancova`. With every student in both waves the estimate equals
    the difference in mean change. DiD assumes both arms would have changed
    alike without the intervention (parallel trends); two waves cannot test it.

    Examples
    --------
    >>> import pandas as pd
    >>> from psychanalytics.outcomes import difference_in_differences
    >>> scores = pd.DataFrame({
    ...     "pid": ["a", "b", "c", "d"] * 2,
    ...     "wave": ["2024-autumn"] * 4 + ["2025-spring"] * 4,
    ...     "score": [12, 14, 11, 13, 8, 11, 10, 12],
    ...     "arm": ["treatment", "treatment", "comparison", "comparison"] * 2,
    ... })
    >>> res = difference_in_differences(scores, pre_wave="2024-autumn", post_wave="2025-spring", cluster=None)
    >>> res.kind, res.value
    ('did', -2.5)
    """
    level = confidence(ci)
    needed = ["pid", "wave", score, arm] + ([cluster] if cluster else [])
    columns(scores, needed, where="difference_in_differences")
    complete(scores, needed, where="difference_in_differences")
    waves = set(pd.unique(scores["wave"]))
    others = waves - {pre_wave, post_wave}
    if others:
        raise ValueError(
            f"difference_in_differences: waves {sorted(map(str, others))} are neither pre_wave "
            f"{pre_wave!r} nor post_wave {post_wave!r}; filter them out first"
        )
    if pre_wave == post_wave or waves != {pre_wave, post_wave}:
        raise ValueError(f"difference_in_differences: need rows of both {pre_wave!r} and {post_wave!r}")
    repeated = scores.duplicated(["pid", "wave"])
    if repeated.any():
        first = ", ".join(label(value) for value in scores.loc[repeated, ["pid", "wave"]].iloc[0])
        raise ValueError(
            f"difference_in_differences: {int(repeated.sum())} student-wave(s) repeat, first ({first})"
        )
    for column in [arm] + ([cluster] if cluster else []):
        _one_value_per_student(scores, column, where="difference_in_differences")
    treated = two_arms(scores[arm], treatment, where="difference_in_differences").astype(float)
    post = (scores["wave"] == post_wave).to_numpy(dtype=float)
    design = pd.DataFrame(
        {"treated": treated, "post": post, "treated:post": treated * post}, index=scores.index
    )
    y = numbers_of(scores[score], score)
    counts = (
        pd.DataFrame({"arm": scores[arm], "wave": scores["wave"], score: y})
        .groupby(["arm", "wave"], sort=True)
        .agg(n=(score, "size"), mean=(score, "mean"))
        .reset_index()
    )
    return estimate("did", "treated:post", y, design, cluster_codes(scores, cluster), cluster, level, counts)
