"""Where each field, item and score sits in a file: the header mapped to a kind's fields."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from psychanalytics.ingest._headers import (
    canonical,
    clean_text,
    item_number,
    personal,
    platform_metadata,
    question,
)
from psychanalytics.ingest._kind import (
    Kind,
)
from psychanalytics.ingest._kinds import KINDS
from psychanalytics.ingest._problems import IngestError
from psychanalytics.ingest._screening import SCREENING, summary_column

ProgressFn = Callable[[int, int], None]
"""Called as ``progress(done, total)``: ``done / total`` is the share of the import done. Reading and
checking the file is the first half, storing its rows in key order the second; ``total`` is the file's
size in bytes."""


@dataclass(frozen=True)
class Layout:
    """Where each field, item and summary score sits in the file, and which columns are not imported.

    ``items`` are the positions of items 1 … K; ``item_headers`` the headers they
    were read from (a survey platform numbers every question, so item 1 may be
    question 7). ``metadata`` are a platform's own columns (序号, 来自IP …) and
    ``ignored`` every other column not imported; neither is ever stored.
    """

    fields: dict[str, int]
    items: tuple[int, ...] = ()
    summary: tuple[tuple[int, str, str], ...] = ()
    ignored: tuple[str, ...] = ()
    metadata: tuple[str, ...] = ()
    item_headers: tuple[str, ...] = ()
    platform: bool = False
    """Every question numbered, as a survey platform exports a form (``1、学籍号`` …)."""


def layout(kind: Kind, headers: tuple[str, ...], *, spec=None, has_school_year: bool = False) -> Layout:
    """Map the file's headers to the fields of ``kind`` (and items / summary scores for screening).

    Headers are matched through their aliases (:mod:`~psychanalytics.ingest._headers`). A survey
    platform's export numbers every question (``1、学籍号``, ``2、姓名`` … ``7、<item 1>``): when a field
    is asked as a numbered question, the numbered questions that are not fields, platform columns,
    scores or personal details (家长手机, 身份证号 …) are the instrument's items, in order.

    Raises
    ------
    IngestError
        Two columns for one field, a required column missing, or item columns that
        are not exactly 1…K of the instrument.
    """
    wanted = {f.name for f in kind.fields}
    platform = any(q is not None and canonical(q[1]) in wanted for q in map(question, headers))
    fields: dict[str, int] = {}
    items: dict[int, int] = {}
    summary, ignored, metadata, errors = [], [], [], []
    for idx, header in enumerate(headers):
        text = question(header)[1] if platform and question(header) else header
        name = canonical(text)
        if name in wanted:
            if name in fields:
                errors.append(
                    f"「{headers[fields[name]]}」和「{header}」两列都是 {name} / columns {headers[fields[name]]!r} "
                    f"and {header!r} both mean {name}"
                )
            fields[name] = idx
        elif platform_metadata(text):
            metadata.append(clean_text(header))
        elif spec is not None and (scored := summary_column(text, spec)) is not None:
            summary.append((idx, *scored))
        elif spec is not None and platform and question(header) and not personal(text):
            items[len(items) + 1] = idx
        elif spec is not None and not platform and (number := item_number(header)) is not None:
            if number in items:
                errors.append(
                    f"第 {number} 题出现两次（「{headers[items[number]]}」「{header}」）/ item {number} appears twice"
                )
            items[number] = idx
        else:
            ignored.append(clean_text(header))
    errors += _missing_fields(kind, fields, has_school_year)
    if spec is not None:
        errors += _item_errors(spec, items, summary, headers, platform)
    if errors:
        raise IngestError("; ".join(errors))
    positions = tuple(items[i] for i in sorted(items))
    return Layout(
        fields,
        positions,
        tuple(summary),
        tuple(ignored),
        tuple(metadata),
        tuple(clean_text(headers[idx]) for idx in positions),
        platform,
    )


def _missing_fields(kind: Kind, fields: dict[str, int], has_school_year: bool) -> list[str]:
    errors = [
        f"缺少必需的列「{f.aliases[0]}」（可写作 {' / '.join(f.aliases[:3])}）/ required column {f.name} is missing"
        for f in kind.fields
        if f.required and f.name not in fields and not (f.name == "school_year" and has_school_year)
    ]
    if kind.needs_school_year and "school_year" not in fields and not has_school_year:
        errors.append(
            "文件没有「学年」列：请加 --school-year（如 2024-2025）/ no 学年 column: give --school-year"
        )
    return errors


def _item_errors(
    spec, items: dict[int, int], summary: list, headers: tuple[str, ...], platform: bool
) -> list[str]:
    """Item columns that are not exactly items 1 … K of ``spec`` (and numbered questions out of order)."""
    if not items and not summary:
        return [f"没有 {spec.code} 的题目列或分数列 / no item columns and no score columns for {spec.code}"]
    if not items:
        return []
    if platform:
        numbers = [question(headers[idx])[0] for idx in items.values()]
        first, last = numbers[0], numbers[-1]
        if len(numbers) != spec.n_items or numbers != list(range(first, first + len(numbers))):
            return [
                f"第 {first}–{last} 题共 {len(numbers)} 列不是 {spec.code} 的 {spec.n_items} 道题：请删去量表以外的题目列"
                f" / questions {first}-{last} ({len(numbers)} columns) are not the {spec.n_items} items of "
                f"{spec.code}: remove the questions that are not the instrument's"
            ]
        return []
    if sorted(items) != list(range(1, spec.n_items + 1)):
        numbers = sorted(items)
        return [
            f"题目数与量表不符：文件有 {len(items)} 个题目列（{numbers[0]}–{numbers[-1]}），{spec.code} "
            f"v{spec.version} 有 1–{spec.n_items} 题 / wrong item count: the file has {len(items)} item columns"
        ]
    return []


def kind_of(headers: tuple[str, ...], *, but: Kind) -> Kind | None:
    """The other kind whose required columns the headers hold (the one naming most of its fields)."""
    names = {canonical(h) for h in headers} - {None}
    fits = [
        k
        for k in KINDS.values()
        if k is not but
        and k is not SCREENING
        and {f.name for f in k.fields if f.required} - {"school_year"} <= names
    ]
    return max(fits, key=lambda k: len(names & {f.name for f in k.fields}), default=None)
