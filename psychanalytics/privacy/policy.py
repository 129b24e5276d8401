"""The leader-output policy: the one function every page, notebook and report passes its counts through.

:func:`leader_view` takes a tidy table of counts (``count`` numerator, ``n``
denominator, optional ``proportion``/``low``/``high``) and returns what may be
shown to district leaders, applying in one place every rule of
``docs/privacy.md`` (small-cell suppression) that a single table can enforce:

1. **primary suppression** — a count or a denominator resting on fewer than
   ``min_cell`` students (``PSYCHANALYTICS_MIN_CELL``, default 10; zero counts
   as small) is blanked, and every estimate computed from it;
2. **complementary suppression** — in a group of cells that add up to a shown
   total (``by=``: the bands of one wave), no blanked cell can be worked out
   from the total: never exactly one blank, never blanks that together hold
   fewer than ``min_cell``;
3. **the headline rule** — a headline that sums some of a group's cells (the
   share at or above a cut-off) is blanked when any cell it sums is blanked;
   otherwise the headline minus its shown parts would give the blanked one;
4. **attribute disclosure** (``hide_uniform=True``) — a group of ``min_cell``
   or more students who all fall in one of its cells (every other count
   zero) says something about each of them (l-diversity of 1): the whole
   group, its ``n`` and headline included, is blanked;
5. **markers** — a value blanked because it is small reads 「<10」 (the
   threshold), a value blanked only to protect a small one reads 「*」, so no
   large number is ever labelled "fewer than 10"; :func:`marker_note` gives the
   sentence that explains both.

Counts of schools are institutional facts (whether a school has a full-time
psychology teacher, a counselling room), public in the district's own reports:
``unit="school"`` shows them whole.

Differencing across tables (a group's ``n`` shown here and the sum of the
groups shown in another chart) is not guarded here: the published mart runs
:func:`psychanalytics.privacy.linked.suppress_linked` over every table it
publishes, after this function (docs/privacy.md §2).

Examples
--------
>>> import pandas as pd
>>> from psychanalytics.privacy import leader_view
>>> bands = pd.DataFrame({"wave_id": ["W1"] * 3, "band": ["minimal", "mild", "severe"],
...                       "count": [480, 40, 4], "n": [524] * 3})
>>> view = leader_view(bands, by=("wave_id",), headline=bands["band"] == "severe", min_cell=10)
>>> view.cells
  wave_id     band  count    n  suppressed marker
0      W1  minimal    480  524       False
1      W1     mild   <NA>  524        True      *
2      W1   severe   <NA>  524        True    <10
>>> view.headline
  wave_id  count    n  proportion  suppressed marker
0      W1   <NA>  524         NaN        True    <10
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pandas as pd

from psychanalytics.config import Settings
from psychanalytics.privacy.suppression import _check_counts, suppress_complementary, suppress_small_cells

__all__ = [
    "LABEL_COLUMNS",
    "PROTECTED_MARKER",
    "LeaderView",
    "leader_view",
    "marker_note",
    "shown_text",
    "small_marker",
]

ESTIMATES = ("proportion", "low", "high")
"""Columns computed from ``count`` and ``n``: blanked whenever either is."""

LABEL_COLUMNS = frozenset(
    {
        "wave",
        "wave_id",
        "wave_label",
        "school_year",
        "season",
        "window_start",
        "window_end",
        "school",
        "school_id",
        "grade",
        "gender",
        "stage",
        "instrument",
        "scale",
        "band",
        "band_rank",
    }
)
"""Columns that describe a row and never hold a number of people: passed through as they are."""

UNITS = ("student", "school")

PROTECTED_MARKER = "*"
"""Shown for a value blanked only so that a small one cannot be worked out (it may be large)."""


def small_marker(min_cell: int) -> str:
    """Shown for a value that rests on fewer than ``min_cell`` students.

    >>> small_marker(10)
    '<10'
    """
    return f"<{min_cell}"


def marker_note(min_cell: int) -> tuple[str, str]:
    """The sentence explaining the markers, in Chinese (for leaders) and English.

    >>> zh, en = marker_note(10)
    >>> zh
    '少于 10 人的数据不显示，标为「<10」；为防止由合计推算出这些数据而一并隐藏的数字标为「*」。本页不显示任何个人信息。'
    """
    small = small_marker(min_cell)
    return (
        f"少于 {min_cell} 人的数据不显示，标为「{small}」；"
        f"为防止由合计推算出这些数据而一并隐藏的数字标为「{PROTECTED_MARKER}」。本页不显示任何个人信息。",
        f"Figures resting on fewer than {min_cell} students are not shown (“{small}”); figures hidden so "
        f"that those cannot be worked out from a total are marked “{PROTECTED_MARKER}”. No individual is shown.",
    )


def shown_text(value: object, marker: str, *, template: str = "{:,}") -> str:
    """``value`` formatted with ``template``, or its ``marker`` when it was blanked (``—`` without one).

    >>> shown_text(1234, ""), shown_text(pd.NA, "<10"), shown_text(0.1234, "", template="{:.1%}")
    ('1,234', '<10', '12.3%')
    """
    if pd.isna(value):
        return marker or "—"
    return template.format(value)


@dataclass(frozen=True)
class LeaderView:
    """What a leader may see of one table of counts (the result of :func:`leader_view`).

    Attributes
    ----------
    cells : pandas.DataFrame
        The table's rows and label columns, ``count`` and ``n`` as nullable
        ``Int64`` (``<NA>`` where blanked), estimates blanked with either, and
        ``suppressed`` (the row's count is blanked) and ``marker`` (the text for
        every blanked value of the row: ``""``, 「<10」 when the row rests on
        fewer than ``min_cell`` students, else 「*」).
    headline : pandas.DataFrame or None
        One row per group (``by`` columns, ``count, n, proportion, suppressed,
        marker``) when a headline was asked for.
    by : tuple of str or None
        The columns whose groups share a total, or ``None`` (rows stand alone).
    unit : str
        ``"student"`` or ``"school"``.
    min_cell : int
        The threshold applied.
    """

    cells: pd.DataFrame
    headline: pd.DataFrame | None
    by: tuple[str, ...] | None
    unit: str
    min_cell: int


def _check_columns(
    table: pd.DataFrame, by: Sequence[str], labels: Sequence[str], estimates: Sequence[str]
) -> None:
    missing = [c for c in ("count", "n", *by) if c not in table.columns]
    if missing:
        raise KeyError(f"leader_view: table lacks column(s) {missing}; it has {list(table.columns)}")
    known = {"count", "n", *estimates, *LABEL_COLUMNS, *by, *labels}
    unknown = [c for c in table.columns if c not in known]
    if unknown:
        raise ValueError(
            f"leader_view: column(s) {unknown} are neither counts (count, n), estimates {tuple(estimates)} nor "
            "labels; a column holding another number of people (e.g. unbanded) needs its own view: drop it, "
            "name a descriptive column in labels=, or an estimate from count and n in estimates="
        )


def _check_parts(table: pd.DataFrame, by: tuple[str, ...]) -> None:
    """The counts of each group are the parts of its ``n``."""
    groups = table.groupby(list(by), dropna=False, sort=False)
    sums = groups["count"].transform("sum")
    wrong = (groups["n"].transform("nunique") != 1) | (sums != table["n"])
    if wrong.any():
        row = table.index[wrong.to_numpy()][0]
        members = groups.ngroup() == groups.ngroup()[row]
        raise ValueError(
            f"leader_view: in the group { ({c: table.at[row, c] for c in by}) } the counts add up to "
            f"{sums[row]} but n is {sorted(table.loc[members, 'n'].unique().tolist())}; by= names groups "
            "whose counts are the parts of their n"
        )


def _headline(table: pd.DataFrame, mask: pd.Series, by: tuple[str, ...]) -> pd.DataFrame:
    if not isinstance(mask, pd.Series) or mask.dtype != bool or not mask.index.equals(table.index):
        raise ValueError("leader_view: headline must be a boolean Series on the table's index")
    groups = table.groupby(list(by), dropna=False, sort=False)
    out = groups["n"].first().to_frame()
    out["count"] = table["count"].where(mask, 0).groupby([table[c] for c in by], dropna=False).sum()
    out = out.reset_index()[[*by, "count", "n"]]
    out["proportion"] = out["count"] / out["n"].where(out["n"] > 0)
    return out


def _primary(frame: pd.DataFrame, min_cell: int, estimated: Sequence[str]) -> tuple[pd.DataFrame, pd.Series]:
    """Blank counts under ``min_cell`` and denominators under it, with the estimates of either.

    A count is blanked only when it is small itself: with ``n`` small it is too
    (it is a part of ``n``) unless the data say otherwise (students screened
    without an enrolment row), and then 「<10」 would be false. Returns the
    frame and the rows resting on a small number.
    """
    estimates = [c for c in estimated if c in frame.columns]
    out = suppress_small_cells(frame, count="count", dependent=estimates, min_cell=min_cell)
    small_n = frame["n"].lt(min_cell)
    out["n"] = out["n"].astype("Int64").mask(small_n)
    for column in estimates:
        out[column] = out[column].mask(small_n)
    return out, out["suppressed"] | small_n


def _marked(frame: pd.DataFrame, small: pd.Series, min_cell: int) -> pd.DataFrame:
    """The text for the row's blanked values: every value blanked in a small row rests on a small number."""
    marker = pd.Series("", index=frame.index, dtype=object)
    marker[frame["suppressed"]] = PROTECTED_MARKER
    marker[small] = small_marker(min_cell)
    return frame.assign(marker=marker)


def _uniform(table: pd.DataFrame, by: tuple[str, ...], min_cell: int) -> pd.Series:
    """Rows of the groups of ``min_cell`` or more students who all fall in one cell (l = 1)."""
    occupied = table["count"].gt(0).groupby([table[c] for c in by], dropna=False).transform("sum")
    return (occupied == 1) & table["n"].ge(min_cell)


def _blank_rows(frame: pd.DataFrame, rows: pd.Series, estimated: Sequence[str]) -> pd.DataFrame:
    """Blank ``count``, ``n`` and the estimates of ``rows`` (their markers follow from ``suppressed``)."""
    out = frame.copy()
    out["count"] = out["count"].astype("Int64").mask(rows)
    out["n"] = out["n"].astype("Int64").mask(rows)
    for column in estimated:
        if column in out.columns:
            out[column] = out[column].mask(rows)
    out["suppressed"] = out["suppressed"] | rows
    return out


def _as_shown(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.assign(
        count=frame["count"].astype("Int64"), n=frame["n"].astype("Int64"), suppressed=False, marker=""
    )


def _hide_the_complement(
    cells: pd.DataFrame,
    headline: pd.Series,
    hidden_groups: pd.DataFrame,
    by: tuple[str, ...],
    estimated: Sequence[str],
    small: pd.Series,
    min_cell: int,
) -> pd.DataFrame:
    """In each group whose headline is hidden but whose ``n`` is shown, hide a cell outside the headline too.

    Otherwise the headline is ``n`` minus the cells outside it, all shown. The smallest non-zero cell outside
    the headline is hidden (「*」: it holds ``min_cell`` or more, or 「<10」 when small); a group that already
    hides a cell outside its headline is left as it is.
    """
    if hidden_groups.empty:
        return cells
    keys = hidden_groups.assign(_hidden_headline=True)
    flagged = cells[list(by)].merge(keys, on=list(by), how="left")["_hidden_headline"].notna().to_numpy()
    outside = pd.Series(flagged, index=cells.index) & ~headline & cells["n"].notna()
    already = cells.loc[outside & cells["suppressed"], list(by)].drop_duplicates()
    candidates = cells[outside & ~cells["suppressed"] & cells["count"].fillna(0).gt(0)]
    if not already.empty:
        done = (
            candidates[list(by)].merge(already.assign(_done=True), on=list(by), how="left")["_done"].notna()
        )
        candidates = candidates[~done.to_numpy()]
    chosen = candidates.sort_values("count").groupby(list(by), dropna=False, sort=False).head(1).index
    if len(chosen) == 0:
        return cells
    out = cells.copy()
    out.loc[chosen, "count"] = pd.NA
    for column in ("proportion", *[c for c in estimated if c in out.columns]):
        if column in out.columns:
            out.loc[chosen, column] = pd.NA
    out.loc[chosen, "suppressed"] = True
    marker = out["marker"].copy()
    marker[chosen] = PROTECTED_MARKER
    marker[chosen.intersection(small[small].index)] = small_marker(min_cell)
    return out.assign(marker=marker)


def leader_view(
    table: pd.DataFrame,
    *,
    by: Sequence[str] | None = None,
    headline: pd.Series | None = None,
    unit: str = "student",
    labels: Sequence[str] = (),
    estimates: Sequence[str] = (),
    hide_uniform: bool = False,
    min_cell: int | None = None,
) -> LeaderView:
    """What may be shown to leaders of a table of counts: suppression, headline rule and markers.

    Parameters
    ----------
    table : pandas.DataFrame
        One row per cell: ``count`` (the numerator, whole numbers >= 0), ``n``
        (its denominator), optional estimates ``proportion``, ``low``,
        ``high``, and label columns (:data:`LABEL_COLUMNS`, ``by``, ``labels``).
        Any other column is refused: it might hold a number of people the
        policy does not know to protect. Not modified.
    by : sequence of str, optional
        Columns whose groups of rows are the parts of their ``n`` (the bands of
        one wave: counts add up to ``n``, checked). Enables complementary
        suppression and ``headline``. ``None``: each row stands alone (students
        screened out of enrolled); ``n - count`` (students not screened) is then
        not protected, so a table whose remainder is itself sensitive (students
        not at risk) lists both parts as a group.
    headline : pandas.Series of bool, optional
        The rows a headline sums in each group (e.g. ``band_rank >= 2``): the
        view's ``headline`` frame then holds, per group, their total ``count``,
        the group's ``n`` and ``proportion``, blanked with any cell it sums.
    unit : {"student", "school"}
        What ``count`` counts. Counts of schools are public institutional facts
        and are shown whole (a proportion over no school stays missing).
    labels : sequence of str
        Further descriptive columns to pass through (never numbers of people).
    estimates : sequence of str
        Further columns estimated from the row's ``count`` and ``n`` (a median
        time in days and its interval): blanked with them, as ``proportion``.
    hide_uniform : bool
        Attribute disclosure (with ``by``): blank every count, ``n``, estimate
        and the headline of a group whose students all fall in one cell (all
        counts but one are zero): shown, its ``n`` would tell the band of every
        member. Marked 「*」 where not small.
    min_cell : int, optional
        Smallest number of students shown; default ``Settings.from_env().min_cell``.

    Returns
    -------
    LeaderView
        ``cells`` (and ``headline``) ready for charts and cards, each row with
        its ``suppressed`` flag and ``marker`` text.

    Raises
    ------
    KeyError
        If ``count``, ``n`` or a ``by`` column is missing.
    ValueError
        If a column is not known to be safe, a count or ``n`` is missing,
        negative or not whole, a group's counts do not add up to its ``n``,
        ``headline`` is given without ``by`` or is not a boolean Series on the
        table's index, or ``unit`` is unknown.

    Notes
    -----
    Every shown count and denominator of students is ``min_cell`` or more, and
    so are both of every shown proportion; a count is blanked for being small,
    never for a small ``n`` (the data may hold a count larger than its ``n``); in a group with a shown ``n`` the blanked
    cells are never one, and together hold ``min_cell`` or more; a shown
    headline sums only shown cells. ``tests/test_policy.py`` checks these on
    random tables (hypothesis) and ``tests/test_dashboards.py`` on every
    leader page.

    Examples
    --------
    Rows that stand alone (students screened of those enrolled):

    >>> import pandas as pd
    >>> screened = pd.DataFrame({"wave_id": ["W1", "W2", "W3"], "count": [2850, 7, 12], "n": [3000, 3000, 0]})
    >>> leader_view(screened, min_cell=10).cells
      wave_id  count     n  suppressed marker
    0      W1   2850  3000       False
    1      W2   <NA>  3000        True    <10
    2      W3     12  <NA>       False    <10
    """
    if unit not in UNITS:
        raise ValueError(f"leader_view: unit must be one of {UNITS}, got {unit!r}")
    by = None if by is None else ((by,) if isinstance(by, str) else tuple(by))
    if headline is not None and not by:
        raise ValueError("leader_view: a headline sums cells of a group; give the group's columns in by=")
    if hide_uniform and not by:
        raise ValueError(
            "leader_view: hide_uniform looks at the cells of a group; give the group's columns in by="
        )
    min_cell = Settings.from_env().min_cell if min_cell is None else min_cell
    if min_cell < 1:
        raise ValueError(f"leader_view: min_cell must be >= 1, got {min_cell}")
    estimated = (*ESTIMATES, *estimates)
    _check_columns(table, by or (), labels, estimated)
    _check_counts(table["count"], "count")
    _check_counts(table["n"], "n")
    if by:
        _check_parts(table, by)
    top = None if headline is None else _headline(table, headline, by)
    if unit == "school":
        return LeaderView(
            cells=_as_shown(table), headline=None if top is None else _as_shown(top), by=by, unit=unit,
            min_cell=min_cell,
        )  # fmt: skip

    cells, small = _primary(table, min_cell, estimated)
    if by:
        dependent = [c for c in estimated if c in cells.columns]
        cells = suppress_complementary(cells, by=by, min_cell=min_cell, dependent=dependent)
    uniform = _uniform(table, by, min_cell) if hide_uniform else None
    if uniform is not None:
        cells = _blank_rows(cells, uniform, estimated)
    cells = _marked(cells, small, min_cell)
    if top is not None:
        top, small_top = _primary(top, min_cell, ESTIMATES)
        blanked_part = cells[list(by)].assign(hit=cells["suppressed"] & headline)
        parts = blanked_part.groupby(list(by), dropna=False, sort=False)["hit"].any().reset_index()
        hit = top[list(by)].merge(parts, on=list(by), how="left")["hit"].to_numpy(dtype=bool)
        cells = _hide_the_complement(cells, headline, top.loc[hit, list(by)], by, estimated, small, min_cell)
        top.loc[hit, ["count", "proportion"]] = pd.NA
        top["suppressed"] = top["suppressed"] | hit
        if uniform is not None:
            keys = table.loc[uniform, list(by)].drop_duplicates().assign(hit=True)
            alike = top[list(by)].merge(keys, on=list(by), how="left")["hit"].notna().to_numpy()
            top = _blank_rows(top, pd.Series(alike, index=top.index), ESTIMATES)
        top = _marked(top, small_top, min_cell)
    return LeaderView(cells=cells, headline=top, by=by, unit=unit, min_cell=min_cell)
