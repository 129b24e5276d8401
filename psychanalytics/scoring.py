"""Spec-driven, vectorised scoring of screening instruments.

:func:`score` turns item responses into raw scale scores, bands, validity and
flags following an instrument spec from :mod:`psychanalytics.instruments`.
The whole frame is scored in a few numpy steps: item codes are reverse-keyed,
then multiplied by a 0/1 *key matrix* (items × scales) to give every scale's
sum and number of answered items at once; prorating, means, derived scales,
bands and flags are column operations on that result. There is no well-kept
library that scores these instruments from declarative specs, so this module
is written by hand; it is checked against published worked examples and
cut-offs in ``tests/reference/scoring/``.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from functools import cache, reduce

import numpy as np
import pandas as pd

from psychanalytics import instruments
from psychanalytics.instruments import Flag, InstrumentSpec, Scale, UncertainRuleWarning

__all__ = ["ScoringInputError", "UncertainRuleWarning", "score"]

_CHUNK_ROWS = 65_536
_MAX_REPORTED = 20


class ScoringInputError(ValueError):
    """Responses that cannot be scored: missing item columns or values outside the coding."""


@dataclass(frozen=True)
class _Plan:
    """Key matrices and per-scale arrays derived once from a spec."""

    item_scales: tuple[Scale, ...]
    keys: np.ndarray  # items × (item-based scales [+ lie]), float32 0/1
    n_items: np.ndarray  # items per key column
    min_answered: np.ndarray
    count_thresholds: tuple[tuple[float, tuple[int, ...]], ...]  # threshold -> key columns counted
    reverse: np.ndarray  # 0-based reverse-keyed item positions
    reverse_sum: float  # lowest + highest code


@cache
def _plan(spec: InstrumentSpec) -> _Plan:
    item_scales = tuple(s for s in spec.scales if not s.of_scales)
    columns = [s.items for s in item_scales] + ([spec.lie.items] if spec.lie else [])
    keys = np.zeros((spec.n_items, len(columns)), dtype=np.float32)
    for j, items in enumerate(columns):
        keys[np.asarray(items) - 1, j] = 1
    n_items = keys.sum(axis=0)
    min_answered = np.array(
        [s.min_answered for s in item_scales] + ([len(spec.lie.items)] if spec.lie else [])
    )
    thresholds: dict[float, list[int]] = {}
    for j, s in enumerate(item_scales):
        if s.aggregate == "count":
            thresholds.setdefault(float(s.count_at_least), []).append(j)
    return _Plan(
        item_scales=item_scales,
        keys=keys,
        n_items=n_items,
        min_answered=min_answered,
        count_thresholds=tuple((t, tuple(js)) for t, js in thresholds.items()),
        reverse=np.asarray(spec.reverse_items, dtype=np.intp) - 1,
        reverse_sum=float(spec.item_values[0] + spec.item_values[-1]),
    )


def _resolve_variant(
    spec: InstrumentSpec, informant: str | None, norm: str | None
) -> tuple[str | None, str | None]:
    if spec.informants:
        if informant not in spec.informants:
            raise ValueError(
                f"{spec.code} bands depend on the informant: pass informant= one of {spec.informants}, "
                f"not {informant!r}"
            )
    elif informant is not None:
        raise ValueError(f"{spec.code} has no informant-specific rules; got informant={informant!r}")
    if spec.norms:
        norm = spec.default_norm if norm is None else norm
        if norm not in spec.norms:
            raise ValueError(f"{spec.code} norms are {spec.norms}; got norm={norm!r}")
    elif norm is not None:
        raise ValueError(f"{spec.code} has no norm-specific rules; got norm={norm!r}")
    return informant, norm


def _plain(value):
    """Python scalar for messages (``5``, not ``np.int64(5)``)."""
    return value.item() if isinstance(value, np.generic) else value


def _describe(values: np.ndarray, index: pd.Index, columns: tuple[str, ...], bad: np.ndarray) -> str:
    rows, cols = np.nonzero(bad)
    shown = [
        f"row {_plain(index[r])!r} column {columns[c]} value {_plain(values[r, c])!r}"
        for r, c in zip(rows[:_MAX_REPORTED], cols[:_MAX_REPORTED], strict=True)
    ]
    more = f" (first {_MAX_REPORTED} of {len(rows)})" if len(rows) > _MAX_REPORTED else ""
    return f"{len(rows)} invalid item values{more}: " + "; ".join(shown)


def _item_matrix(responses: pd.DataFrame, spec: InstrumentSpec) -> tuple[np.ndarray, bool]:
    """The respondents × items matrix (integer, or float with NaN) after checking every value."""
    if not isinstance(responses, pd.DataFrame):
        raise TypeError(f"responses must be a DataFrame, not {type(responses).__name__}")
    columns = spec.item_columns
    absent = [c for c in columns if c not in responses.columns]
    if absent:
        raise ScoringInputError(
            f"{spec.code} needs item columns q1..q{spec.n_items}; missing: {', '.join(absent[:_MAX_REPORTED])}"
            + (f" (and {len(absent) - _MAX_REPORTED} more)" if len(absent) > _MAX_REPORTED else "")
        )
    duplicated = sorted({c for c in responses.columns[responses.columns.duplicated()] if c in columns})
    if duplicated:
        raise ScoringInputError(f"{spec.code}: item columns appear more than once: {', '.join(duplicated)}")
    frame = responses[list(columns)]
    non_numeric = [
        c
        for c in columns
        if not pd.api.types.is_numeric_dtype(frame[c]) or pd.api.types.is_bool_dtype(frame[c])
    ]
    if non_numeric:
        details = "; ".join(
            f"column {c} dtype {frame[c].dtype} (first value {frame[c].iloc[0]!r})"
            if len(frame)
            else f"column {c} dtype {frame[c].dtype}"
            for c in non_numeric[:_MAX_REPORTED]
        )
        raise ScoringInputError(f"{spec.code}: item columns must be numeric codes: {details}")
    allowed = np.asarray(spec.item_values)
    contiguous = np.array_equal(allowed, np.arange(allowed[0], allowed[-1] + 1))
    if all(isinstance(t, np.dtype) and t.kind in "iu" for t in frame.dtypes):
        values = frame.to_numpy()
        if contiguous and (not values.size or (values.min() >= allowed[0] and values.max() <= allowed[-1])):
            return values, False
        bad = ~np.isin(values, allowed)
    else:
        values = frame.to_numpy(dtype=float, na_value=np.nan)
        bad = ~(np.isnan(values) | np.isin(values, allowed))
    if bad.any():
        raise ScoringInputError(
            f"{spec.code} codes are {spec.item_values} (NaN = missing); "
            + _describe(values, responses.index, columns, bad)
        )
    return values, bool(values.dtype.kind == "f" and np.isnan(values).any())


def _key_sums(values: np.ndarray, plan: _Plan, has_missing: bool) -> tuple[np.ndarray, np.ndarray | None]:
    """Per key column: sum of reverse-keyed codes (or counts) and number of answered items.

    Works on items × respondents blocks (pandas hands item matrices over
    column-major), so both results are column-major respondents × key columns.
    The number answered is None when no item is missing.
    """
    n, m = len(values), plan.keys.shape[1]
    keys_t = np.ascontiguousarray(plan.keys.T)
    sums = np.empty((m, n), dtype=np.float32)
    answered = np.empty((m, n), np.float32) if has_missing else None
    by_item = values.T
    for start in range(0, n, _CHUNK_ROWS):
        stop = min(start + _CHUNK_ROWS, n)
        block = by_item[:, start:stop].astype(np.float32)
        if has_missing:
            present = ~np.isnan(block)
            block[~present] = 0
            np.matmul(keys_t, present.astype(np.float32), out=answered[:, start:stop])
        if plan.reverse.size:
            flipped = plan.reverse_sum - block[plan.reverse]
            block[plan.reverse] = flipped * present[plan.reverse] if has_missing else flipped
        np.matmul(keys_t, block, out=sums[:, start:stop])
        for threshold, js in plan.count_thresholds:
            hits = block >= threshold
            if has_missing:
                hits &= present
            sums[list(js), start:stop] = keys_t[list(js)] @ hits.astype(np.float32)
    return sums.T, None if answered is None else answered.T


def _scale_values(sums: np.ndarray, answered: np.ndarray | None, plan: _Plan) -> np.ndarray:
    """Apply each column's missing-data rule, prorating, rounding and mean.

    ``answered`` is None when no item is missing (nothing to prorate).
    """
    out = np.asfortranarray(sums, dtype=float)
    if answered is not None:
        with np.errstate(invalid="ignore", divide="ignore"):
            out = np.where(answered < plan.n_items, out * plan.n_items / answered, out)
        out[answered < plan.min_answered] = np.nan
        out = np.asfortranarray(out)
    for j, s in enumerate(plan.item_scales):
        if s.rounding == "half_up" and answered is not None:
            out[:, j] = np.floor(out[:, j] + 0.5)
        if s.aggregate == "mean":
            out[:, j] /= plan.n_items[j]
    return out


def _bands(raw: np.ndarray, scale: Scale, informant: str | None, norm: str | None) -> pd.Categorical | None:
    band_set = scale.band_set(informant=informant, norm=norm)
    if band_set is None:
        return None
    codes = np.searchsorted(np.asarray(band_set.lowers, dtype=float), raw, side="right") - 1
    codes[np.isnan(raw)] = -1
    dtype = pd.CategoricalDtype(list(band_set.codes), ordered=True)
    return pd.Categorical.from_codes(codes.astype(np.int8), dtype=dtype)


def _flag(flag: Flag, values: np.ndarray, raw: dict[str, np.ndarray]) -> pd.arrays.BooleanArray:
    """Kleene OR of the flag's conditions: unknown (NA) only when none is true and some is unknown."""
    n = len(values)
    true, unknown = np.zeros(n, bool), np.zeros(n, bool)
    for cond in flag.any_of:
        columns = (
            [values[:, cond.item - 1].astype(float)]
            if cond.item is not None
            else [raw[s] for s in cond.scales]
        )
        for column in columns:
            true |= column >= cond.at_least
            unknown |= np.isnan(column)
    return pd.arrays.BooleanArray(true, unknown & ~true)


def score(
    responses: pd.DataFrame,
    instrument: str | InstrumentSpec,
    *,
    informant: str | None = None,
    norm: str | None = None,
) -> pd.DataFrame:
    """Score item responses with an instrument spec.

    Parameters
    ----------
    responses : DataFrame
        One row per respondent with item columns ``q1 … qK`` holding the
        instrument's integer codes (NaN or ``pd.NA`` = missing). Other columns
        are ignored; the index is kept. Never modified.
    instrument : str or InstrumentSpec
        A registered code (see :func:`psychanalytics.instruments.available`) or a spec.
    informant : {"self", "parent", "teacher"}, optional
        Required for instruments whose bands depend on the informant (SDQ).
    norm : str, optional
        Which norm's cut-offs to apply (SCARED ``original``/``chinese_urban``;
        DSRSC ``birleson``/``henan_rural``/``chinese_urban``); defaults to the
        spec's ``default_norm``.

    Returns
    -------
    DataFrame
        Same index. Per scale, in spec order: ``<code>`` (float raw score: sum,
        prorated sum, mean or count as the spec says; NaN when the missing-data
        rule is not met) and, where the scale has bands for this informant and
        norm, ``<code>_band`` (ordered categorical, lowest band first). Then
        ``lie`` (float; instruments with a lie scale), ``valid`` (bool: every
        scale scored and, where there is a lie scale, lie below its invalid
        threshold), ``flag_<name>`` (nullable boolean: NA when the answer is
        missing and no condition holds) and ``spec_version`` (str).

    Raises
    ------
    ScoringInputError
        Missing or duplicated item columns, non-numeric columns, or codes
        outside the instrument's coding (non-integers, out of range, infinite);
        the message lists each offending row label, column and value (first 20
        and the count). Values are never clipped or coerced.
    ValueError
        An informant or norm the instrument does not define, or a missing
        informant where the bands need one.

    Warns
    -----
    UncertainRuleWarning
        When the spec applies a rule its sources leave uncertain (DSRSC reverse
        keys and cut-offs).

    Notes
    -----
    Prorating (SDQ): with at least ``min_answered`` items answered the scale is
    ``round_half_up(n_items × mean(answered))``, as in sdqinfo's scoring syntax.
    Validated against the published examples and cut-offs in
    ``tests/reference/scoring/`` (Kroenke 2001, Spitzer 2006, sdqinfo, SDQ
    informant bands, SCARED factor cut-offs, SCL-90 screen rules).

    Examples
    --------
    >>> import numpy as np
    >>> import pandas as pd
    >>> answers = pd.DataFrame(
    ...     {f"q{i}": [0, 2, 3] for i in range(1, 9)} | {"q9": [0, 1, np.nan]},
    ...     index=["a", "b", "c"],
    ... )
    >>> out = score(answers, "phq9")
    >>> out[["total", "total_band", "valid", "flag_item9"]]
       total         total_band  valid  flag_item9
    a    0.0            minimal   True       False
    b   17.0  moderately_severe   True        True
    c    NaN                NaN  False        <NA>

    SDQ subscales are prorated when at least three of five items are answered:

    >>> sdq = pd.DataFrame({f"q{i}": [np.nan] for i in range(1, 26)})
    >>> sdq[["q3", "q8", "q13"]] = [[2, 1, 1]]
    >>> float(score(sdq, "sdq", informant="self")["emotional"].iloc[0])
    7.0
    """
    spec = instrument if isinstance(instrument, InstrumentSpec) else instruments.get(instrument)
    informant, norm = _resolve_variant(spec, informant, norm)
    values, has_missing = _item_matrix(responses, spec)
    for rule in spec.uncertain:
        if rule.norm in (None, norm):
            warnings.warn(
                f"{spec.code} {spec.version}: uncertain rule {rule.rule!r} applied: {rule.detail} "
                f"(source: {rule.source})",
                UncertainRuleWarning,
                stacklevel=2,
            )
    plan = _plan(spec)
    sums, answered = _key_sums(values, plan, has_missing)
    computed = _scale_values(sums, answered, plan)
    raw: dict[str, np.ndarray] = {s.code: computed[:, j] for j, s in enumerate(plan.item_scales)}
    for s in spec.scales:
        if s.of_scales:
            raw[s.code] = reduce(np.add, (raw[c] for c in s.of_scales))
    columns: dict[str, object] = {}
    valid = np.ones(len(values), dtype=bool)
    for s in spec.scales:
        columns[s.code] = raw[s.code]
        valid &= ~np.isnan(raw[s.code])
        band = _bands(raw[s.code], s, informant, norm)
        if band is not None:
            columns[f"{s.code}_band"] = band
    if spec.lie is not None:
        lie = sums[:, -1].astype(float)
        if answered is not None:
            lie[answered[:, -1] < len(spec.lie.items)] = np.nan
        columns["lie"] = lie
        valid &= lie < spec.lie.invalid_at
    columns["valid"] = valid
    for flag in spec.flags:
        columns[f"flag_{flag.name}"] = _flag(flag, values, raw)
    columns["spec_version"] = pd.Series(spec.version, index=pd.RangeIndex(len(values)), dtype="str").array
    return pd.DataFrame(columns, index=responses.index)
