"""The options of an import, each checked before the file is opened."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from psychanalytics.ingest._headers import (
    clean_text,
)
from psychanalytics.ingest._kind import (
    Kind,
)
from psychanalytics.ingest._kinds import KINDS
from psychanalytics.ingest._parse import school_year as parse_school_year
from psychanalytics.ingest._problems import Bad, IngestError

ProgressFn = Callable[[int, int], None]
"""Called as ``progress(done, total)``: ``done / total`` is the share of the import done. Reading and
checking the file is the first half, storing its rows in key order the second; ``total`` is the file's
size in bytes."""


@dataclass(frozen=True)
class ImportOptions:
    """What an import was asked to do, checked before the file is opened."""

    kind: Kind
    spec: Any = None
    wave: str | None = None
    school_year: str | None = None
    informant: str | None = None
    norm: str | None = None
    zero_based: bool = False
    option_numbers: bool = False
    bare_id_card: str = "add_g"
    score: bool = True

    def params(self, encoding: str | None) -> dict:
        """The options as recorded in ``import_batch.params`` (and compared on a second import)."""
        spec = self.spec
        return {
            "kind": self.kind.name,
            "wave": self.wave,
            "instrument": spec.code if spec else None,
            "instrument_version": spec.version if spec else None,
            "informant": self.informant,
            "norm": self.norm,
            "zero_based": self.zero_based,
            "option_numbers": self.option_numbers,
            "bare_id_card": self.bare_id_card,
            "school_year": self.school_year,
            "score": self.score,
            "encoding": encoding,
        }


def check_options(
    kind: str,
    *,
    wave: str | None = None,
    instrument: str | None = None,
    school_year: str | None = None,
    informant: str | None = None,
    norm: str | None = None,
    zero_based: bool = False,
    option_numbers: bool = False,
    bare_id_card: str = "add_g",
    score: bool = True,
) -> ImportOptions:
    """The import's options, each refused with what to do when it cannot be used.

    >>> check_options("screening", wave="2025-autumn")
    Traceback (most recent call last):
    ...
    psychanalytics.ingest._problems.IngestError: 普测结果需要指定量表：请加 --instrument...
    """
    if kind not in KINDS:
        raise IngestError(
            f"没有「{kind}」这种导入类型；可用：{', '.join(KINDS)} / unknown import kind {kind!r}"
        )
    spec = None
    if kind == "screening":
        missing = [name for name, v in (("wave", wave), ("instrument", instrument)) if not v]
        if missing:
            zh = "和".join({"wave": "普测批次", "instrument": "量表"}[m] for m in missing)
            flags = " ".join(f"--{m}" for m in missing)
            raise IngestError(
                f"普测结果需要指定{zh}：请加 {flags}（如 --wave 2025-autumn --instrument phq9）/ "
                f"screening needs {flags} (e.g. --wave 2025-autumn --instrument phq9)"
            )
        spec = _instrument(instrument, informant=informant, norm=norm, score=score)
    if school_year is not None:
        try:
            school_year = parse_school_year(clean_text(school_year))
        except Bad:
            raise IngestError(
                f"--school-year {school_year!r} 不是学年（应如 2024-2025）/ is not a school year like 2024-2025"
            ) from None
    if bare_id_card not in BARE_ID_CARD_RULES:
        raise IngestError(
            f"--bare-id-card 只能是 {' / '.join(BARE_ID_CARD_RULES)} / --bare-id-card is one of "
            f"{', '.join(BARE_ID_CARD_RULES)}, not {bare_id_card!r}"
        )
    if option_numbers and (spec is None or spec.options is None or zero_based):
        raise IngestError(
            "--option-numbers 需要一个登记了选项顺序的量表，且不能与 --zero-based 同用 / --option-numbers needs an "
            "instrument whose options are registered, and not --zero-based"
        )
    return ImportOptions(
        KINDS[kind], spec, wave, school_year, informant, norm, zero_based, option_numbers, bare_id_card, score
    )


BARE_ID_CARD_RULES = ("add_g", "keep", "refuse")
"""What a 学籍号 written as a bare ID-card number (no ``G``) becomes: ``add_g`` (the default: a national
学籍号 is G + the ID card), ``keep`` (a district that keys students on the ID card itself) or ``refuse``."""


def _instrument(code: str, *, informant: str | None, norm: str | None, score: bool):
    """The registered instrument ``code``, with its informant and norm checked."""
    from psychanalytics import instruments

    if code.lower() not in instruments.available():
        raise IngestError(
            f"未登记的量表「{code}」；已登记：{', '.join(instruments.available())} / unknown instrument {code!r}"
        )
    spec = instruments.get(code.lower())
    if spec.informants and informant not in spec.informants:
        raise IngestError(
            f"{spec.code} 按填写人计分：请加 --informant {'/'.join(spec.informants)} / {spec.code} is scored "
            f"by informant: pass --informant {'/'.join(spec.informants)}"
        )
    if score and spec.uncertain:
        rules = "; ".join(rule.rule for rule in spec.uncertain)
        raise IngestError(
            f"{spec.code} 的计分规则尚未核实，请加 --no-score 只导入作答 / {spec.code} has scoring rules its "
            f"sources leave unverified ({rules}): import the answers with --no-score"
        )
    if norm is not None and norm not in spec.norms:
        raise IngestError(
            f"{spec.code} 没有常模「{norm}」；可用：{', '.join(spec.norms) or '无'} / {spec.code} has no norm "
            f"{norm!r}; norms: {', '.join(spec.norms) or 'none'}"
        )
    return spec


_OPTIONS_THAT_CHANGE_MEANING = (
    "kind",
    "wave",
    "instrument",
    "school_year",
    "informant",
    "norm",
    "zero_based",
    "option_numbers",
    "bare_id_card",
)


def refuse_other_options(before: dict, now: dict, batch_id: int) -> None:
    """The same bytes imported again with other options would silently mean something else."""
    changed = [k for k in _OPTIONS_THAT_CHANGE_MEANING if before.get(k) != now.get(k)]
    if changed:
        was = ", ".join(f"{k}={before.get(k)}" for k in changed)
        raise IngestError(
            f"此文件已按其他参数导入（批次 {batch_id}：{was}），未作任何更改；若确需改用新参数，请先联系数据管理员 / "
            f"this file was already imported (batch {batch_id}) with {was}; nothing changed"
        )
