"""Plan targets as data: the Zhonglou plan and the national 2023-2025 plan (``targets/*.yaml``)."""

from __future__ import annotations

from dataclasses import dataclass, fields
from importlib import resources

from psychanalytics._rules import read_data, year_start

LEVELS = ("school", "district")
COMPARISONS = (">=", ">")


@dataclass(frozen=True)
class Target:
    """One target: the indicator it is judged on, at which level, the value to reach and by when.

    ``deadline`` ``None``: due every school year (met or missed each year). ``comparison``: the value
    must be ``>=`` (default) or ``>`` the target.
    """

    code: str
    plan: str
    item: str
    name_zh: str
    name_en: str
    indicator: str
    level: str
    target: float
    deadline: str | None = None
    comparison: str = ">="
    uncertain: str = ""

    def __post_init__(self):
        if self.level not in LEVELS:
            raise ValueError(f"target {self.code!r}: level must be one of {LEVELS}, got {self.level!r}")
        if self.comparison not in COMPARISONS:
            raise ValueError(f"target {self.code!r}: comparison must be one of {COMPARISONS}")
        if self.deadline is not None:
            year_start(self.deadline)

    def reached(self, value: float) -> bool:
        """Whether ``value`` meets the target."""
        return value > self.target if self.comparison == ">" else value >= self.target - 1e-12


@dataclass(frozen=True)
class TargetSet:
    """A plan's name and its targets, in the order the plan lists them."""

    plan: str
    name_zh: str
    name_en: str
    targets: tuple[Target, ...]


_FIELDS = {f.name for f in fields(Target)}


def plans() -> tuple[str, ...]:
    """The shipped plans (``psychanalytics/plan/targets/*.yaml``).

    >>> plans()
    ('national_2023', 'zhonglou')
    """
    files = resources.files("psychanalytics.plan").joinpath("targets").iterdir()
    return tuple(sorted(f.name.removesuffix(".yaml") for f in files if f.name.endswith(".yaml")))


def targets(plan: str = "zhonglou") -> TargetSet:
    """The targets of a shipped plan.

    >>> zhonglou = targets("zhonglou")
    >>> zhonglou.targets[0].name_zh, zhonglou.targets[0].deadline
    ('每校配备专职心理教师', '2024-2025')
    """
    if plan not in plans():
        raise KeyError(f"unknown plan {plan!r}; shipped: {plans()}")
    data = read_data("psychanalytics.plan", f"targets/{plan}.yaml")
    rows = data["targets"]
    unknown = [sorted(set(r) - _FIELDS) for r in rows if set(r) - _FIELDS]
    if unknown:
        raise ValueError(f"targets/{plan}.yaml: unknown field(s) {unknown}")
    codes = [r["code"] for r in rows]
    if len(set(codes)) != len(codes):
        raise ValueError(f"targets/{plan}.yaml: repeated target code")
    return TargetSet(
        plan=data["plan"],
        name_zh=data["name_zh"],
        name_en=data["name_en"],
        targets=tuple(Target(plan=data["plan"], **{**r, "item": str(r["item"])}) for r in rows),
    )
