"""Scoring and screen-positive rates over Parquet partitions, on one machine or a Dask cluster.

Scoring (:func:`psychanalytics.scoring.score`) and counting are pure functions of one partition's rows,
so a province's waves, kept as the partitions ``psychanalytics export parquet`` writes, are scored and
counted partition by partition, unchanged, wherever the partitions are: :func:`partition_counts` is the
map, summing the counts is the reduction, and the statistics (:func:`psychanalytics.screening.prevalence`)
and small-cell suppression (:func:`psychanalytics.privacy.suppression.suppress_small_cells`) run once on
the reduced counts, never per partition (a cell small in every partition may be large in sum). Counts
are whole numbers, so the result is exactly the single-machine one whatever the partitioning
(DESIGN.md, decision 78).

The engine is Dask ``distributed`` (the optional extra ``pip install -e ".[distributed]"``): pass a
``distributed.Client``; without one, partitions are processed in this process one after the other,
which also bounds memory to one partition at a time.

Examples
--------
>>> import pandas as pd
>>> from psychanalytics import distributed
>>> part = pd.DataFrame({"school": "A", "grade": 8, "gender": "F", "platform_flag": None,
...                      **{f"q{i}": [0, 3] for i in range(1, 10)}})
>>> distributed.partition_counts(part, instrument="phq9")
  school  grade gender  n  count
0      A      8      F  2      1
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from psychanalytics import instruments, screening
from psychanalytics.privacy.suppression import suppress_small_cells
from psychanalytics.scoring import score

__all__ = [
    "PLATFORM_INVALID",
    "partition_counts",
    "partition_files",
    "prevalence_partitions",
    "read_partition",
    "reduce_counts",
    "score_partitions",
    "screen_positive",
    "suppressed_prevalence",
]

PLATFORM_INVALID = 99
"""The platforms' validity code of an invalid sheet (as ``store.queries.screening`` applies it)."""

BY = ("school", "grade", "gender")


def partition_files(root: str | Path, *, wave: str, instrument: str) -> list[Path]:
    """The Parquet files of one wave and instrument under an export's folder, in school order.

    >>> partition_files("/nonexistent", wave="2025-autumn", instrument="phq9")
    []
    """
    folder = Path(root) / f"wave={wave}" / f"instrument={instrument}"
    return sorted(folder.glob("school=*/part.parquet"))


def read_partition(path: str | Path) -> pd.DataFrame:
    """One partition file as a frame, with its ``school`` (and ``wave``, ``instrument``) from the path.

    Item codes come back as floats with NaN for a missing answer, as :func:`~psychanalytics.scoring.score`
    reads them; the hive null directory gives a missing school.
    """
    import pyarrow.parquet as pq

    path = Path(path)
    frame = pq.read_table(path).to_pandas()
    for part in path.parent.parts:
        key, sep, value = part.partition("=")
        if sep and key in ("wave", "instrument", "school"):
            frame[key] = None if value == "__HIVE_DEFAULT_PARTITION__" else value
    return frame


def screen_positive(scored: pd.DataFrame, instrument: str) -> pd.DataFrame:
    """Per sheet: ``determined`` and ``positive`` by the spec's rule, from :func:`score`'s output.

    A sheet is positive when the rule's scale is in a positive band or a rule flag is true; it is
    determined when positive, or when the band and every flag are known (the rule of
    ``store.queries.screening``).

    >>> import pandas as pd
    >>> from psychanalytics.scoring import score
    >>> answers = pd.DataFrame({f"q{i}": [0, 3, 0] for i in range(1, 9)} | {"q9": [0, 0, float("nan")]})
    >>> screen_positive(score(answers, "phq9"), "phq9")
       determined  positive
    0        True     False
    1        True      True
    2       False     False
    """
    spec = instruments.get(instrument)
    rule = spec.screen_positive
    if rule is None or rule.metric != "raw":
        raise ValueError(f"{spec.code}: no screen-positive rule on raw scores to apply")
    positive = np.zeros(len(scored), bool)
    known = np.ones(len(scored), bool)
    if rule.scale is not None:
        band = scored[f"{rule.scale}_band"]
        positive |= band.isin(spec.positive_bands()).to_numpy()
        known &= band.notna().to_numpy()
    for flag in rule.flags:
        value = scored[f"flag_{flag}"]
        positive |= value.fillna(False).to_numpy(dtype=bool)
        known &= value.notna().to_numpy()
    return pd.DataFrame({"determined": positive | known, "positive": positive}, index=scored.index)


def partition_counts(
    frame: pd.DataFrame | str | Path,
    *,
    instrument: str,
    by: Sequence[str] = BY,
    informant: str | None = None,
    norm: str | None = None,
) -> pd.DataFrame:
    """Score one partition and count its valid sheets: ``by`` columns, ``n`` and ``count``.

    The map step: a frame (or a partition file) of sheets with item columns ``q1 … qK``, the ``by``
    columns and optionally ``platform_flag``; sheets scored invalid or marked invalid by the platform
    are left out, then ``n`` counts the determined sheets and ``count`` the screen-positive ones per
    group (missing keys kept as a group). Pure: the same rows give the same counts anywhere.
    """
    if not isinstance(frame, pd.DataFrame):
        frame = read_partition(frame)
    by = list(by)
    scored = score(frame, instrument, informant=informant, norm=norm)
    valid = scored["valid"].to_numpy(dtype=bool, copy=True)
    if "platform_flag" in frame.columns:
        valid &= ~frame["platform_flag"].eq(PLATFORM_INVALID).fillna(False).to_numpy(dtype=bool)
    state = screen_positive(scored, instrument)[valid]
    sheets = frame.loc[valid, by].assign(
        n=state["determined"].to_numpy(dtype="int64"), count=state["positive"].to_numpy(dtype="int64")
    )
    return sheets.groupby(by, dropna=False, sort=True)[["n", "count"]].sum().reset_index()


def reduce_counts(parts: Iterable[pd.DataFrame], by: Sequence[str] = BY) -> pd.DataFrame:
    """The reduction: the partitions' counts summed per group, groups sorted.

    >>> import pandas as pd
    >>> a = pd.DataFrame({"school": ["A"], "n": [3], "count": [1]})
    >>> reduce_counts([a, a], by=["school"])
      school  n  count
    0      A  6      2
    """
    frames = [p for p in parts if len(p)]
    if not frames:
        return pd.DataFrame({**{k: [] for k in by}, "n": [], "count": []}).astype(
            {"n": "int64", "count": "int64"}
        )
    summed = (
        pd.concat(frames, ignore_index=True).groupby(list(by), dropna=False, sort=True)[["n", "count"]].sum()
    )
    return summed.reset_index().astype({"n": "int64", "count": "int64"})


def suppressed_prevalence(
    counts: pd.DataFrame, *, by: Sequence[str] = BY, min_cell: int | None = None
) -> pd.DataFrame:
    """Screen-positive rates with Wilson intervals from reduced counts, small cells suppressed.

    :func:`psychanalytics.screening.prevalence` (students treated as independent within a school:
    ``school`` is among the keys), then two primary passes of
    :func:`~psychanalytics.privacy.suppression.suppress_small_cells`: a ``count`` below ``min_cell``
    blanks the rate and interval, an ``n`` below it blanks the count too. Groups with a missing key
    are dropped first (a rate needs its group).

    >>> import pandas as pd
    >>> counts = pd.DataFrame({"school": ["A", "B"], "n": [200, 8], "count": [30, 2]})
    >>> suppressed_prevalence(counts, by=["school"], min_cell=10)[["school", "n", "count", "proportion", "suppressed"]]
      school     n  count  proportion  suppressed
    0      A   200     30        0.15       False
    1      B  <NA>   <NA>         NaN        True
    """
    by = list(by)
    keyed = counts.dropna(subset=by).reset_index(drop=True)
    whole = [
        c for c in by if pd.api.types.is_integer_dtype(keyed[c]) or pd.api.types.is_float_dtype(keyed[c])
    ]
    keyed = keyed.astype(dict.fromkeys(whole, "int64"))  # grades: whole numbers once missing keys are gone
    rates = screening.prevalence(keyed, by=by, cluster=None)
    shown = suppress_small_cells(
        rates, count="count", dependent=("proportion", "low", "high"), min_cell=min_cell
    )
    return suppress_small_cells(
        shown, count="n", dependent=("count", "proportion", "low", "high"), min_cell=min_cell
    )


def score_partitions(client, files: Sequence[str | Path], *, instrument: str, **variant) -> list:
    """Score every partition where it is read: one future (or frame, without a client) per file.

    The scored frames stay on the workers (a province's scores do not fit one machine); gather only
    what is small. ``variant`` passes ``informant``/``norm`` to :func:`score`.
    """

    def one(path):
        return score(read_partition(path), instrument, **variant)

    if client is None:
        return [one(f) for f in files]
    return client.map(one, [str(f) for f in files], pure=False)


def prevalence_partitions(
    client,
    root: str | Path,
    *,
    wave: str,
    instrument: str,
    by: Sequence[str] = BY,
    min_cell: int | None = None,
) -> pd.DataFrame:
    """Screen-positive rates of one wave from its Parquet partitions: map, reduce, then suppress.

    Parameters
    ----------
    client : distributed.Client or None
        A Dask client (each partition is scored and counted on a worker) or ``None`` (here, one
        partition at a time).
    root : path
        The folder ``psychanalytics export parquet`` wrote.
    wave, instrument : str
        Which partitions.
    by : sequence of str
        Keys (default school × grade × gender); columns of the files or of their path.
    min_cell : int, optional
        Small-cell threshold (default ``PSYCHANALYTICS_MIN_CELL`` or 10).

    Returns
    -------
    pandas.DataFrame
        :func:`suppressed_prevalence` of the reduced counts.

    Examples
    --------
    >>> import tempfile
    >>> from psychanalytics import export, store, synth
    >>> from psychanalytics.privacy.pseudonym import key_fingerprint
    >>> engine = store.connect("sqlite://")
    >>> _ = synth.build_demo(engine, seed=1, students=600)
    >>> root = tempfile.mkdtemp()
    >>> _ = export.export_parquet(engine, root, key_fingerprint=key_fingerprint(synth.DEMO_KEY), wave="2025-autumn")
    >>> rates = prevalence_partitions(None, root, wave="2025-autumn", instrument="phq9", by=["school"])
    >>> int(rates["n"].sum()) > 0
    True
    """
    files = partition_files(root, wave=wave, instrument=instrument)
    if not files:
        raise FileNotFoundError(f"{root}: no partitions of wave {wave!r}, instrument {instrument!r}")
    if client is None:
        parts = (partition_counts(f, instrument=instrument, by=by) for f in files)
        return suppressed_prevalence(reduce_counts(parts, by), by=by, min_cell=min_cell)
    mapped = client.map(
        partition_counts, [str(f) for f in files], instrument=instrument, by=list(by), pure=False
    )
    counts = client.submit(reduce_counts, mapped, list(by), pure=False).result()
    return suppressed_prevalence(counts, by=by, min_cell=min_cell)
