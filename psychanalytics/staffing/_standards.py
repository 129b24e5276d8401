"""Staffing standards as data (``standards.yaml``), several at once."""

from __future__ import annotations

from dataclasses import dataclass, fields

from psychanalytics._rules import read_rules, year_start

COUNTS = ("full_time", "any", "fte")
"""Who a standard counts: full-time teachers, full- and part-time head count, or full-time equivalents."""


@dataclass(frozen=True)
class Standard:
    """One staffing rule: how many psychology teachers a school needs, and by when.

    A school it applies to needs ``max(minimum × stages, ceil(enrolment / per_students))`` teachers
    counted as ``counts`` (no rounding up for ``fte``); ``stages`` is 2 for a nine-year or complete
    secondary school when ``per_stage``, else 1. It applies to every school unless ``min_enrolment`` or
    ``min_boarders`` is set (then to a school reaching either). ``target_share`` of the schools it
    applies to must meet it by the school year ``deadline`` (both ``None`` for a benchmark).

    Examples
    --------
    >>> s = Standard(code="r", name_zh="1:1000", name_en="1:1000", counts="full_time", per_students=1000)
    >>> s.required(enrolment=2400, boarders=0, stage="junior")
    3.0
    """

    code: str
    name_zh: str
    name_en: str
    counts: str
    minimum: int = 0
    per_students: int | None = None
    per_stage: bool = False
    min_enrolment: int | None = None
    min_boarders: int | None = None
    target_share: float | None = None
    deadline: str | None = None
    source: str = ""
    uncertain: str = ""

    def __post_init__(self):
        if self.counts not in COUNTS:
            raise ValueError(f"standard {self.code!r}: counts must be one of {COUNTS}, got {self.counts!r}")
        if self.minimum < 0 or (self.per_students is not None and self.per_students <= 0):
            raise ValueError(f"standard {self.code!r}: minimum must be >= 0 and per_students > 0")
        if not self.minimum and self.per_students is None:
            raise ValueError(f"standard {self.code!r}: needs a minimum or per_students")
        if (self.target_share is None) != (self.deadline is None):
            raise ValueError(f"standard {self.code!r}: give target_share and deadline together, or neither")
        if self.target_share is not None and not 0 < self.target_share <= 1:
            raise ValueError(
                f"standard {self.code!r}: target_share must be in (0, 1], got {self.target_share}"
            )
        if self.deadline is not None:
            year_start(self.deadline)

    def applies(self, *, enrolment: float, boarders: float) -> bool:
        """Whether a school of this size and boarding falls under the standard."""
        if self.min_enrolment is None and self.min_boarders is None:
            return True
        return (self.min_enrolment is not None and enrolment >= self.min_enrolment) or (
            self.min_boarders is not None and boarders >= self.min_boarders
        )

    def required(self, *, enrolment: float, boarders: float, stage: str) -> float:
        """Teachers (or FTE) a school needs; 0 where the standard does not apply."""
        if not self.applies(enrolment=enrolment, boarders=boarders):
            return 0.0
        stages = 2 if self.per_stage and stage in ("nine_year", "complete_secondary") else 1
        by_ratio = 0.0
        if self.per_students is not None:
            by_ratio = enrolment / self.per_students
            if self.counts != "fte":
                by_ratio = float(-(-enrolment // self.per_students))
        return float(max(self.minimum * stages, by_ratio))


_FIELDS = {f.name for f in fields(Standard)}


def standards(*codes: str) -> tuple[Standard, ...]:
    """The shipped standards (``psychanalytics/staffing/standards.yaml``), all or those named.

    Parameters
    ----------
    *codes : str
        Codes to pick, in the order wanted; none = all, in file order.

    Examples
    --------
    >>> [s.code for s in standards()][:3]
    ['zhonglou_2024', 'national_2023', 'national_2012_stage']
    >>> standards("asca_250")[0].per_students
    250
    """
    rows = read_rules("psychanalytics.staffing", "standards.yaml")
    unknown = [set(r) - _FIELDS for r in rows if set(r) - _FIELDS]
    if unknown:
        raise ValueError(f"standards.yaml: unknown field(s) {unknown}")
    shipped = {r["code"]: Standard(**r) for r in rows}
    if not codes:
        return tuple(shipped.values())
    missing = [c for c in codes if c not in shipped]
    if missing:
        raise KeyError(f"unknown staffing standard(s) {missing}; shipped: {list(shipped)}")
    return tuple(shipped[c] for c in codes)
