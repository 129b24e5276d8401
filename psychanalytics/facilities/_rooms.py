"""Room compliance: requirements per school and year, status, and the share of schools compliant."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from psychanalytics._rules import rule_from_data, year_start
from psychanalytics.store.schema import ROOM_REQUIREMENTS
from psychanalytics.store.schema import room as _room_table

_ENGLISH = {
    "individual_room": "individual counselling room",
    "group_room": "group activity room",
    "reception_area": "office and reception area",
    "mailbox": "psychology mailbox",
    "rule_duty": "duty rule",
    "rule_appointment": "appointment rule",
    "rule_counselling": "counselling rule",
    "rule_archive": "archive rule",
    "rule_transfer": "archive-transfer rule",
}
REQUIREMENT_NAMES: dict[str, tuple[str, str]] = {
    **{code: (_room_table.c[code].comment, _ENGLISH[code]) for code in ROOM_REQUIREMENTS},
    "room": ("心理辅导室", "a counselling room"),
    "open_hours": ("开放时间", "opening hours"),
    "area": ("使用面积", "floor area"),
    "inspection": ("年度检查", "yearly inspection"),
}
"""Chinese (the ``room`` column comments) and English names of every requirement."""


@dataclass(frozen=True)
class RoomRule:
    """What makes a counselling room compliant (``rules.yaml``; see the module docstring).

    ``required``: ``room`` columns that must be true; ``min_hours_per_day × school_days_per_week``: the
    weekly opening hours floor; ``min_area_m2``: a floor area, or ``None``; ``inspection``: inspected
    within the school year (1 September to 31 August); ``locations``: the schools covered;
    ``deadline``: the school year by which every covered school must comply.
    """

    code: str
    name_zh: str
    name_en: str
    required: tuple[str, ...]
    min_hours_per_day: float
    school_days_per_week: int
    min_area_m2: float | None = None
    inspection: bool = True
    locations: tuple[str, ...] = ("urban", "township_central")
    deadline: str | None = None
    source: str = ""
    uncertain: str = ""

    def __post_init__(self):
        unknown = [c for c in self.required if c not in ROOM_REQUIREMENTS]
        if unknown:
            raise ValueError(
                f"room rule {self.code!r}: unknown requirement(s) {unknown}; known: {ROOM_REQUIREMENTS}"
            )
        if self.min_hours_per_day < 0 or not 1 <= self.school_days_per_week <= 7:
            raise ValueError(f"room rule {self.code!r}: hours must be >= 0 and school days 1-7")
        if self.deadline is not None:
            year_start(self.deadline)

    @property
    def min_hours_week(self) -> float:
        """The weekly opening hours floor."""
        return self.min_hours_per_day * self.school_days_per_week

    @property
    def requirements(self) -> tuple[str, ...]:
        """Every requirement checked, in order: a room at all, the ``required`` columns, hours, area, inspection."""
        extra = (
            ("open_hours",)
            + (("area",) if self.min_area_m2 is not None else ())
            + (("inspection",) if self.inspection else ())
        )
        return ("room", *self.required, *extra)


def room_rule(code: str = "zhonglou_2023", **changes) -> RoomRule:
    """A shipped room rule, optionally with fields changed (e.g. ``min_area_m2=20``).

    >>> room_rule().min_hours_week
    10.0
    >>> room_rule(min_hours_per_day=1.5).min_hours_week
    7.5
    """
    return rule_from_data(
        RoomRule, "psychanalytics.facilities", "rules.yaml", code, changes, tuples=("required", "locations")
    )


_INPUT = ["school_year", "school_id", "location", "has_room", "open_hours_week", "area_m2", "inspected_on"]


def _in_school_year(dates: pd.Series, school_years: pd.Series) -> pd.Series:
    start = pd.to_datetime(school_years.map(lambda y: f"{year_start(y)}-09-01"))
    when = pd.to_datetime(dates)
    return (when >= start) & (when < start + pd.DateOffset(years=1))


def room_compliance(rooms: pd.DataFrame, *, rule: RoomRule | None = None) -> pd.DataFrame:
    """Each requirement of ``rule``, met or not, for every covered school and year.

    A school without a room record (``has_room`` false) meets none. Opening hours are met at
    ``open_hours_week >= rule.min_hours_week`` (not when unreported); the inspection when
    ``inspected_on`` falls in the school year.

    Parameters
    ----------
    rooms : pandas.DataFrame
        As from :func:`psychanalytics.store.queries.facilities.room_records`: ``school_year,
        school_id, location, has_room``, the rule's ``required`` columns, ``open_hours_week, area_m2,
        inspected_on``. Schools outside ``rule.locations`` are left out.
    rule : RoomRule, optional
        Default :func:`room_rule`.

    Returns
    -------
    pandas.DataFrame
        One row per covered school, year and requirement (``rule.requirements`` order): ``school_year,
        school_id, requirement, name_zh, name_en, met``.
    """
    rule = room_rule() if rule is None else rule
    missing = [c for c in [*_INPUT, *rule.required] if c not in rooms.columns]
    if missing:
        raise KeyError(f"facilities.room_compliance: rooms lacks column(s) {missing}")
    covered = rooms[rooms["location"].isin(rule.locations)].reset_index(drop=True)
    has = covered["has_room"].astype(bool)
    met = {"room": has, **{code: covered[code].fillna(False).astype(bool) for code in rule.required}}
    met["open_hours"] = covered["open_hours_week"].ge(rule.min_hours_week)
    if rule.min_area_m2 is not None:
        met["area"] = covered["area_m2"].ge(rule.min_area_m2)
    if rule.inspection:
        met["inspection"] = _in_school_year(covered["inspected_on"], covered["school_year"])
    parts = [
        covered[["school_year", "school_id"]].assign(
            requirement=code,
            name_zh=REQUIREMENT_NAMES[code][0],
            name_en=REQUIREMENT_NAMES[code][1],
            met=(met[code] & has).to_numpy(dtype=bool),
        )
        for code in rule.requirements
    ]
    columns = ["school_year", "school_id", "requirement", "name_zh", "name_en", "met"]
    if not parts or covered.empty:
        return pd.DataFrame(columns=columns)
    return pd.concat(parts, ignore_index=True)[columns]


def room_status(compliance: pd.DataFrame) -> pd.DataFrame:
    """Compliant or not, with what is missing, per school and year.

    Returns one row per school and year: ``school_year, school_id, compliant, n_met, n_required,
    missing_zh`` (the unmet requirements' Chinese names joined by 「、」) and ``missing_en``.
    """
    missing = [
        c
        for c in ("school_year", "school_id", "requirement", "name_zh", "name_en", "met")
        if c not in compliance.columns
    ]
    if missing:
        raise KeyError(f"facilities.room_status: compliance lacks column(s) {missing}")
    groups = compliance.groupby(["school_year", "school_id"], sort=True)
    out = groups["met"].agg(n_met="sum", n_required="size").reset_index()
    unmet = compliance[~compliance["met"].astype(bool)]
    names = unmet.groupby(["school_year", "school_id"])[["name_zh", "name_en"]].agg(
        {"name_zh": "、".join, "name_en": ", ".join}
    )
    out = out.merge(names.reset_index(), on=["school_year", "school_id"], how="left")
    out[["name_zh", "name_en"]] = out[["name_zh", "name_en"]].fillna("")
    out["compliant"] = out["n_met"] == out["n_required"]
    out = out.rename(columns={"name_zh": "missing_zh", "name_en": "missing_en"}).astype({"n_met": "int64"})
    return out[["school_year", "school_id", "compliant", "n_met", "n_required", "missing_zh", "missing_en"]]


def compliance_share(status: pd.DataFrame, *, rule: RoomRule | None = None) -> pd.DataFrame:
    """Covered schools with a compliant room, per school year, against the rule's deadline.

    >>> status = pd.DataFrame({"school_year": ["2023-2024"] * 4, "school_id": list("ABCD"),
    ...                        "compliant": [True, True, True, False]})
    >>> compliance_share(status)[["school_year", "count", "n", "proportion", "target_share", "deadline"]]
      school_year  count  n  proportion  target_share   deadline
    0   2023-2024      3  4        0.75           1.0  2023-2024
    """
    rule = room_rule() if rule is None else rule
    out = status.groupby("school_year", sort=True)["compliant"].agg(count="sum", n="size").reset_index()
    out = out.astype({"count": "int64", "n": "int64"})
    out["proportion"] = out["count"] / out["n"]
    return out.assign(target_share=1.0, deadline=rule.deadline)
