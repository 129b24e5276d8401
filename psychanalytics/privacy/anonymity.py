"""k-anonymity and l-diversity of microdata, and the coarsening that reaches them.

A research extract leaves the store with its quasi-identifiers (school, grade, gender, age) coarsened
until every combination is shared by at least ``k`` students (k-anonymity; Sweeney 2002) and every such
group holds at least ``l`` different values of each sensitive column (distinct l-diversity; Machanavajjhala
et al. 2007), as docs/privacy.md §3 requires (k ≥ 5, l ≥ 2; GB/T 37964-2019).

:func:`anonymise` is **full-domain generalisation with record suppression**, the model of ARX and of
sdcMicro's global recoding: each quasi-identifier has a hierarchy (a table whose columns are levels, from
the value itself to one label for all); every combination of levels is tried (the lattice is small: four
columns of two to four levels), and the rows of groups that still fail are suppressed — their
quasi-identifiers set to the top level, where they form a group of their own that must pass too, or are
removed when it does not. The node kept is the one with the least information loss within the
suppression limit: Sweeney's precision (each row's mean of level / height over its quasi-identifiers, a
suppressed row counting as fully generalised), averaged over rows.

Written here, not wrapped: the maintained Python libraries that do this (ANJANA 1.2, on pyCANON) pin
exact old versions of numpy and pandas (``numpy==2.0.2``, ``pandas==2.3.3``) that this package cannot
install beside its own, and sdcMicro and ARX are R and Java. The measures are checked against pyCANON
1.3.6 (``tests/reference/privacy/anonymity_pycanon.json``, made by ``make_anonymity_pycanon.py``).

A missing sensitive value (a student not screened with that instrument) discloses nothing: a group
fails l-diversity when it has some values and fewer than ``l`` distinct ones. Quasi-identifiers may not be
missing (give the hierarchy a label for "unknown").
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd


def _class_ids(frame: pd.DataFrame, quasi: Sequence[str]) -> np.ndarray:
    """An integer per row, equal for rows with equal quasi-identifiers."""
    if not len(quasi):
        return np.zeros(len(frame), dtype=np.int64)
    return frame.groupby(list(quasi), sort=False, dropna=False).ngroup().to_numpy()


def _combined(columns: Sequence[np.ndarray], n: int) -> np.ndarray:
    """Class ids of ``n`` rows from per-column integer codes (0..m-1): equal ids for equal code tuples."""
    key = np.zeros(n, dtype=np.int64)
    for column in columns:
        key = key * (int(column.max(initial=0)) + 1) + column
    return pd.factorize(key)[0]


def k_anonymity(frame: pd.DataFrame, quasi: Sequence[str]) -> int | None:
    """The size of the smallest group of rows sharing every quasi-identifier (``None`` for no rows).

    Examples
    --------
    >>> frame = pd.DataFrame({"school": ["A", "A", "B"], "gender": ["F", "F", "M"]})
    >>> k_anonymity(frame, ["school", "gender"]), k_anonymity(frame, ["school"])
    (1, 1)
    >>> k_anonymity(frame.iloc[:2], ["school", "gender"])
    2
    """
    if frame.empty:
        return None
    return int(np.bincount(_class_ids(frame, quasi)).min())


def _diversity(classes: np.ndarray, values: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """Per class: how many rows have a value, and how many distinct values they have."""
    n_classes = int(classes.max()) + 1 if len(classes) else 0
    codes, uniques = pd.factorize(values)
    present = codes >= 0
    width = max(len(uniques), 1)
    pairs = pd.unique(classes[present] * width + codes[present])
    distinct = np.bincount(pairs // width, minlength=n_classes)
    counted = np.bincount(classes[present], minlength=n_classes)
    return counted, distinct


def l_diversity(frame: pd.DataFrame, quasi: Sequence[str], sensitive: Sequence[str]) -> int | None:
    """The fewest distinct values of a sensitive column in any group that has some (``None``: no such group).

    Taken over every column in ``sensitive`` (each is a separate attribute, as pyCANON's
    ``l_diversity`` with several sensitive attributes); missing values are not a value.

    Examples
    --------
    >>> frame = pd.DataFrame({"school": ["A", "A", "B", "B"], "band": ["mild", "severe", "mild", None]})
    >>> l_diversity(frame, ["school"], ["band"])
    1
    >>> l_diversity(frame.iloc[:2], ["school"], ["band"])
    2
    """
    classes = _class_ids(frame, quasi)
    fewest = None
    for column in sensitive:
        counted, distinct = _diversity(classes, frame[column])
        having = distinct[counted > 0]
        if len(having):
            low = int(having.min())
            fewest = low if fewest is None else min(fewest, low)
    return fewest


def _check_hierarchy(name: str, hierarchy: pd.DataFrame, values: pd.Series) -> None:
    if values.isna().any():
        raise ValueError(f"quasi-identifier {name!r} has missing values: give them a label of their own")
    unknown = set(values.unique()) - set(hierarchy.index)
    if unknown:
        raise ValueError(
            f"quasi-identifier {name!r}: values not in its hierarchy: {sorted(map(str, unknown))[:5]}"
        )
    if hierarchy.shape[1] < 1 or hierarchy.iloc[:, -1].nunique() != 1:
        raise ValueError(f"hierarchy of {name!r}: its last level must give one label to every value")


@dataclass(frozen=True)
class Anonymised:
    """The result of :func:`anonymise`.

    Attributes
    ----------
    frame : pandas.DataFrame
        The rows kept, in their original order and index, with each quasi-identifier replaced by its
        label at the chosen level (or the top label for a row suppressed locally).
    levels : dict of str to int
        The generalisation level chosen for each quasi-identifier (0 = as given).
    k, l : int or None
        The smallest group size and the fewest distinct sensitive values achieved in :attr:`frame`.
    suppressed : int
        Rows whose quasi-identifiers were all set to the top level (they stay in :attr:`frame`).
    removed : int
        Rows left out because even suppressed they would form a group failing ``k`` or ``l``.
    loss : float
        Information loss of the result (0 = nothing generalised, 1 = everything at the top level).
    """

    frame: pd.DataFrame
    levels: dict[str, int]
    k: int | None
    l: int | None  # noqa: E741 (the standard name of the measure)
    suppressed: int
    removed: int
    loss: float


def _failing(
    classes: np.ndarray,
    frame: pd.DataFrame,
    sensitive: Sequence[str],
    k: int,
    l: int,  # noqa: E741
) -> np.ndarray:
    """Per row: does its group fail k-anonymity or l-diversity?"""
    sizes = np.bincount(classes)
    bad = sizes < k
    for column in sensitive:
        counted, distinct = _diversity(classes, frame[column])
        bad |= (counted > 0) & (distinct < l)
    return bad[classes]


def anonymise(
    frame: pd.DataFrame,
    *,
    quasi: Mapping[str, pd.DataFrame],
    sensitive: Sequence[str] = (),
    k: int = 5,
    l: int = 2,  # noqa: E741
    max_suppression: float = 0.05,
) -> Anonymised:
    """Coarsen ``quasi`` columns until every group has ``k`` rows and ``l`` distinct values of ``sensitive``.

    Parameters
    ----------
    frame : pandas.DataFrame
        One row per person.
    quasi : mapping of column to DataFrame
        For each quasi-identifier, its hierarchy: indexed by every value the column holds, one column
        per level from the least to the most general; the last level has a single label.
    sensitive : sequence of str
        Columns whose values no group may reveal (the risk bands).
    k, l : int
        The k-anonymity and distinct l-diversity to reach.
    max_suppression : float
        Largest share of rows that may be suppressed (set to the top level) instead of coarsening
        everyone further.

    Returns
    -------
    Anonymised
        The coarsened frame with the levels chosen and what they achieved. When even the top level
        fails (fewer than ``k`` rows, or fewer than ``l`` distinct values in all), no row is kept.

    Examples
    --------
    >>> frame = pd.DataFrame({"grade": [7, 7, 7, 8, 8, 8], "band": ["a", "b", "a", "b", "a", "b"]})
    >>> grades = pd.DataFrame({"grade": ["7", "8"], "stage": ["junior", "junior"]}, index=[7, 8])
    >>> result = anonymise(frame, quasi={"grade": grades}, sensitive=["band"], k=3, l=2)
    >>> result.levels, result.k, result.l, result.removed
    ({'grade': 0}, 3, 2, 0)
    >>> anonymise(frame, quasi={"grade": grades}, sensitive=["band"], k=4).levels
    {'grade': 1}
    """
    if k < 1 or l < 1:
        raise ValueError(f"k and l must be at least 1, got k={k}, l={l}")
    if not 0 <= max_suppression <= 1:
        raise ValueError(f"max_suppression is a share of rows between 0 and 1, got {max_suppression}")
    names = list(quasi)
    missing = [c for c in [*names, *sensitive] if c not in frame.columns]
    if missing:
        raise KeyError(f"columns not in the frame: {missing}")
    for name in names:
        _check_hierarchy(name, quasi[name], frame[name])
    heights = [quasi[name].shape[1] - 1 for name in names]
    # per quasi-identifier and level: the label of each row, and an integer code of it
    labels = {
        name: [frame[name].map(quasi[name].iloc[:, level]) for level in range(quasi[name].shape[1])]
        for name in names
    }
    codes = {name: [pd.factorize(column)[0] for column in labels[name]] for name in names}
    n = len(frame)
    best = None
    for node in itertools.product(*(range(h + 1) for h in heights)):
        classes = _combined([codes[name][lv] for name, lv in zip(names, node, strict=True)], n)
        failing = _failing(classes, frame, sensitive, k, l) if n else np.zeros(0, dtype=bool)
        share = failing.mean() if n else 0.0
        if share > max_suppression and any(lv < h for lv, h in zip(node, heights, strict=True)):
            continue
        level_loss = (
            float(np.mean([lv / h if h else 0.0 for lv, h in zip(node, heights, strict=True)]))
            if names
            else 0.0
        )
        loss = (1 - share) * level_loss + share
        if best is None or loss < best[0] - 1e-12:
            best = (loss, node, failing)
    loss, node, failing = best
    out = frame.copy()
    for name, level in zip(names, node, strict=True):
        out[name] = labels[name][level].where(~failing, labels[name][-1])
    removed = np.zeros(n, dtype=bool)
    if failing.any():
        alone = _failing(np.zeros(int(failing.sum()), dtype=np.int64), frame[failing], sensitive, k, l)
        removed[failing] = alone
    out = out[~removed]
    return Anonymised(
        frame=out,
        levels=dict(zip(names, node, strict=True)),
        k=k_anonymity(out, names),
        l=l_diversity(out, names, sensitive),
        suppressed=int((failing & ~removed).sum()),
        removed=int(removed.sum()),
        loss=float(loss),
    )
