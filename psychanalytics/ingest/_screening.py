"""The screening kind: item-level or summary-only platform exports of one instrument in one wave.

Item columns (``1.题干``, ``1、…``, ``Q1``, ``1``) become an int8 matrix checked
cell by cell against the instrument's allowed codes (vectorised on the Arrow
buffers); summary columns (总分, 总分（标准分）, dimension names) become
``reported_score`` rows whose ``metric`` is what the header declares
(``raw``, ``standard``) or ``unknown``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from functools import partial

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import sqlalchemy as sa

from psychanalytics.ingest import _parse as p
from psychanalytics.ingest._headers import clean_text, match_key
from psychanalytics.ingest._kind import (
    AGE,
    CLASS,
    COHORT,
    GENDER,
    GRADE,
    NAME,
    SCHOOL,
    STUDENT_NUMBER,
    Columns,
    Context,
    Field,
    Kind,
    Write,
    check_age_grade,
    check_school,
    take,
)
from psychanalytics.ingest._problems import IngestError
from psychanalytics.store import schema
from psychanalytics.store.packing import codes_as_float
from psychanalytics.store.writes import scores_to_rows

_PLATFORM_FLAGS = {"1": "1", "有效": "1", "99": "99", "无效": "99"}
_METRIC_SUFFIX = re.compile(r"^(.*?)\s*\(?(标准分|原始分|粗分|T分)\)?$")
_METRICS = {"标准分": "standard", "T分": "standard", "原始分": "raw", "粗分": "raw"}
_TOTAL_NAMES = {"总分", "总分数", "total", "总粗分"}
SCALE_ALIASES = {"交往焦虑": "对人焦虑", "敏感倾向": "过敏倾向"}
"""Platform names of MHT scales (docs/instruments.md §2.1) → the spec's Chinese scale name."""


def build_screening(columns: Columns, context: Context) -> list[Write]:
    """Student, enrolment, response, reported-score, score and validity rows of accepted screening lines.

    Students and enrolments unknown to the database are created (the roster stays
    authoritative: existing rows are kept); responses and scores are upserted.
    """
    wave, spec, batch = context.wave, context.spec, context.batch_id
    pids, get = columns["pid"], columns.get
    grades = get("grade")
    writes: list[Write] = [
        (
            schema.student,
            {
                "pid": pids,
                "gender": get("gender"),
                "cohort": None
                if grades is None
                else [p.entry_cohort(wave.school_year, g) if g else None for g in grades],
                "batch_id": batch,
            },
            "keep",
        ),
    ]
    if {"school", "grade", "class"} <= columns.keys():
        placed = take(
            columns,
            (
                i
                for i, row in enumerate(zip(columns["school"], grades, columns["class"], strict=True))
                if all(row)
            ),
        )
        enrolments = {
            "pid": placed["pid"],
            "school_year": wave.school_year,
            "school_id": placed["school"],
            "grade": placed["grade"],
            "class_no": placed["class"],
            "batch_id": batch,
        }
        writes.append((schema.enrolment, enrolments, "keep"))
    base = {"wave_id": wave.wave_id, "instrument": spec.code, "batch_id": batch}
    if "items" in columns:
        response = {
            **base,
            "pid": pids,
            "instrument_version": spec.version,
            "items": columns["items"],
            "seconds": get("seconds"),
        }
        writes.append((schema.response, response, "update"))
    if "reported" in columns:
        reported = [
            {**base, "pid": pid, "scale": scale, "value": value, "metric": metric}
            for pid, scores in zip(pids, columns["reported"], strict=True)
            for scale, metric, value in scores
        ]
        writes.append((schema.reported_score, reported, "update"))
    flags = (
        {pid: None if f is None else int(f) for pid, f in zip(pids, columns["platform_flag"], strict=True)}
        if "platform_flag" in columns
        else {}
    )
    if context.score and "items" in columns:
        from psychanalytics import scoring

        scored = scoring.score(
            pd.DataFrame(codes_as_float(columns["items"]), columns=list(spec.item_columns)),
            spec.code,
            informant=context.informant,
            norm=context.norm,
        )
        split = scores_to_rows(scored, pids=pids, wave_id=wave.wave_id, instrument=spec.code, batch_id=batch)
        validity = [{**v, "platform_flag": flags.get(v["pid"])} for v in split["validity"]]
        writes += [
            (schema.validity, validity, "update"),
            (schema.score_flag, split["score_flag"], "update"),
            (schema.score, split["score"], "update"),
        ]
    elif any(f is not None for f in flags.values()):
        writes.append(
            (
                schema.validity,
                [
                    {**base, "pid": pid, "valid": flag == 1, "platform_flag": flag}
                    for pid, flag in flags.items()
                    if flag is not None
                ],
                "update",
            )
        )
    return writes


SCREENING = Kind(
    name="screening",
    title="心理普测结果 / screening results (item-level or summary), one instrument, one wave",
    fields=(
        STUDENT_NUMBER,
        NAME,
        GENDER,
        AGE,
        GRADE,
        CLASS,
        COHORT,
        SCHOOL,
        Field("seconds", p.seconds, doc="用时/作答用时: 325, 5分25秒, 00:05:25"),
        Field("platform_flag", partial(p.choice, options=_PLATFORM_FLAGS), doc="有效性: 1/有效, 99/无效"),
    ),
    key=("pid",),
    build=build_screening,
    checks=(check_school, check_age_grade),
    records=("response",),
    compared=("response", "student"),
)


def summary_column(header: str, spec) -> tuple[str, str] | None:
    """``(scale, metric)`` of a summary header such as ``总分（标准分）`` or ``学习焦虑``, or None.

    >>> from psychanalytics import instruments
    >>> mht = instruments.get("mht")
    >>> summary_column("总分（标准分）", mht), summary_column("总分", mht)
    (('total', 'standard'), ('total', 'unknown'))
    """
    text = clean_text(header)
    m = _METRIC_SUFFIX.match(text)
    base, metric = (m.group(1), _METRICS[m.group(2)]) if m and m.group(1) else (text, "unknown")
    if base == "总粗分":
        metric = "raw"
    if match_key(base) in {match_key(t) for t in _TOTAL_NAMES}:
        return "total", metric
    base = SCALE_ALIASES.get(base, base)
    for scale in spec.scales:
        if match_key(base) in {match_key(scale.code), match_key(scale.name_zh), match_key(scale.name_en)}:
            return scale.code, metric
    return None


@dataclass(frozen=True)
class Wave:
    """A screening wave as the importer needs it."""

    wave_id: str
    school_year: str


def ensure_wave(conn: sa.Connection, wave_id: str) -> Wave:
    """The wave ``wave_id``; created when named ``YYYY-autumn`` / ``YYYY-spring`` and missing.

    ``2025-autumn`` → school year 2025-2026, window 1 Sep - 30 Nov, label 2025年秋季普测;
    ``2026-spring`` → school year 2025-2026, window 1 Mar - 31 May, label 2026年春季普测.
    """
    row = conn.execute(
        sa.select(schema.screening_wave.c.school_year).where(schema.screening_wave.c.wave_id == wave_id)
    ).first()
    if row is not None:
        return Wave(wave_id, row.school_year)
    m = re.fullmatch(r"((?:19|20)\d{2})-(autumn|spring)", wave_id)
    if not m:
        raise IngestError(
            f"普测批次「{wave_id}」不存在，也无法从名称建立：请写作 2025-autumn 或 2026-spring / wave {wave_id!r} "
            "does not exist and cannot be created from its name (use e.g. 2025-autumn)"
        )
    y, season = int(m.group(1)), m.group(2)
    if season == "autumn":
        school_year, start, end, label = f"{y}-{y + 1}", date(y, 9, 1), date(y, 11, 30), f"{y}年秋季普测"
    else:
        school_year, start, end, label = f"{y - 1}-{y}", date(y, 3, 1), date(y, 5, 31), f"{y}年春季普测"
    conn.execute(
        schema.screening_wave.insert().values(
            wave_id=wave_id,
            school_year=school_year,
            season=season,
            window_start=start,
            window_end=end,
            label=label,
        )
    )
    return Wave(wave_id, school_year)


@dataclass(frozen=True)
class Coding:
    """How a file writes an instrument's answers: which numbers stand for which code, and the option texts.

    ``numbers[v]`` is the code a cell holding the number ``v`` stands for (-1: not allowed);
    ``labels`` the option texts (normalised as :func:`option_key` does) with ``label_codes``
    their codes.
    """

    numbers: np.ndarray
    labels: pa.Array
    label_codes: np.ndarray

    @classmethod
    def of(cls, spec, *, zero_based: bool = False, option_numbers: bool = False) -> Coding:
        """The instrument's own codes; ``zero_based``: coded one lower (SCL-90 0-4); ``option_numbers``:
        option n is the n-th answer the form offers (a platform's download by option number).

        >>> from psychanalytics import instruments
        >>> Coding.of(instruments.get("mht"), option_numbers=True).numbers[:4].tolist()
        [-1, 1, 0, -1]
        """
        numbers = np.full(128, -1, dtype=np.int8)
        if option_numbers:
            numbers[1 : len(spec.item_values) + 1] = spec.options.by_number
        else:
            values = np.asarray(spec.item_values)
            numbers[values - zero_based] = values
        choices = spec.options.choices if spec.options is not None else ()
        labels = [label for c in choices for label in c.labels]
        keys = option_key(pa.array(labels, pa.string()))
        if len(set(keys.to_pylist())) != len(labels):
            raise ValueError(f"{spec.code}: two option labels read alike: {labels}")
        codes = np.array([c.code for c in choices for _ in c.labels], dtype=np.int8)
        return cls(numbers, keys, codes)


def option_key(cells: pa.Array) -> pa.Array:
    """Cells as option texts are compared: NFKC (full-width letters, digits and brackets), no spaces, one dash.

    >>> option_key(pa.array(["一半以上的 天数", "有时（1–2天）"])).to_pylist()
    ['一半以上的天数', '有时(1-2天)']
    """
    text = pc.utf8_normalize(cells, "NFKC")
    text = pc.replace_substring_regex(text, r"\s+", "")
    return pc.replace_substring_regex(text, "[‐-―−]", "-")


@dataclass(frozen=True)
class ItemCells:
    """Item columns parsed, each array items × rows: ``codes`` (``int8``, -1 for an empty or refused cell),
    ``unknown`` (neither a number nor an option text), ``out_of_range`` (a number the coding does not allow)
    and ``numbers`` (the number a cell holds, -1 for none: what a check of the coding counts)."""

    codes: np.ndarray
    unknown: np.ndarray
    out_of_range: np.ndarray
    numbers: np.ndarray


def item_matrix(arrays: list[pa.Array], coding: Coding) -> ItemCells:
    """Parse item columns into codes through ``coding``.

    Columns whose every cell is one digit (the usual export) are read straight from
    the Arrow buffers and mapped together through one lookup table; any other column
    cell by cell with :func:`item_codes` (option texts, full-width digits, ``+1`` …).

    >>> from psychanalytics import instruments
    >>> coding = Coding.of(instruments.get("phq9"))
    >>> cells = item_matrix([pa.array(["1", "4"]), pa.array(["好几天", " x"])], coding)
    >>> cells.codes.tolist(), cells.unknown.tolist(), cells.out_of_range.tolist()
    ([[1, -1], [1, -1]], [[False, False], [False, True]], [[False, True], [False, False]])
    """
    n = len(arrays[0])
    raw = np.empty((len(arrays), n), dtype=np.uint8)
    one_char = np.array([_one_byte_cells(arr, out=raw[j]) for j, arr in enumerate(arrays)], dtype=bool)
    digit = (raw >= ord("0")) & (raw <= ord("9"))
    one_char &= digit.all(axis=1)  # a letter or a space: the cell-by-cell parse names it
    numbers = np.where(digit, raw.astype(np.int16) - ord("0"), -1)
    codes = coding.numbers[np.clip(numbers, 0, 127)]
    unknown = np.zeros_like(digit)
    out_of_range = codes < 0
    for j in np.flatnonzero(~one_char).tolist():
        codes[j], unknown[j], out_of_range[j], numbers[j] = item_codes(arrays[j], coding)
    return ItemCells(codes, unknown, out_of_range, numbers)


def _one_byte_cells(arr: pa.Array, *, out: np.ndarray) -> bool:
    """Copy the bytes of a column whose every cell is exactly one byte into ``out``; False if it is not so."""
    if arr.null_count or not len(arr):
        return False
    _, offsets_buf, data_buf = arr.buffers()
    offsets = np.frombuffer(offsets_buf, dtype=np.int32, count=len(arr) + 1, offset=arr.offset * 4)
    start = offsets[0]
    if offsets[-1] - start != len(arr) or not np.array_equal(offsets - start, np.arange(len(arr) + 1)):
        return False
    out[:] = np.frombuffer(data_buf, dtype=np.uint8, count=len(arr), offset=start)
    return True


def item_codes(arr: pa.Array, coding: Coding) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Parse one item column: ``(codes, unknown, out_of_range, numbers)`` as :class:`ItemCells` holds them.

    A cell is a whole number (after NFKC: full-width digits too; a ``+`` a person
    may write) or one of the instrument's option texts.
    """
    text = pc.utf8_trim_whitespace(pc.utf8_normalize(arr, "NFKC"))
    empty = pc.equal(pc.utf8_length(text), 0).to_numpy(zero_copy_only=False)
    is_int = pc.match_substring_regex(text, r"^\+?\d{1,3}$").to_numpy(zero_copy_only=False)
    digits = pc.replace_substring_regex(text, r"^\+", "")  # Arrow's cast refuses a sign a person may write
    values = pc.cast(pc.if_else(pa.array(is_int), digits, pa.scalar(None, pa.string())), pa.int16())
    numbers = values.fill_null(-1).to_numpy(zero_copy_only=False).astype(np.int16)
    from_number = np.where(is_int & (numbers < 128), coding.numbers[np.clip(numbers, 0, 127)], -1)
    label = (
        pc.index_in(option_key(text), value_set=coding.labels).fill_null(-1).to_numpy(zero_copy_only=False)
    )
    from_label = np.where(
        label >= 0, coding.label_codes[np.maximum(label, 0)] if len(coding.label_codes) else -1, -1
    )
    codes = np.where(is_int, from_number, from_label).astype(np.int8)
    unknown = ~empty & ~is_int & (label < 0)
    out_of_range = is_int & (from_number < 0)
    return codes, unknown, out_of_range, np.where(is_int, numbers, -1).astype(np.int16)
