"""Rule data shipped with the package (standards, room rules, plan targets) and school-year arithmetic.

Thresholds live in YAML files beside the module that reads them (``docs/policy.md``: keep every
threshold as versioned rule data, never a constant in code); this module only reads them and turns a
school year such as ``2024-2025`` into its first calendar year.
"""

from __future__ import annotations

import re
from dataclasses import fields
from importlib import resources

import pandas as pd
import yaml

_SCHOOL_YEAR = re.compile(r"(\d{4})-(\d{4})")


def read_data(package: str, name: str) -> object:
    """The parsed YAML file ``name`` of ``package`` (package data)."""
    return yaml.safe_load(resources.files(package).joinpath(name).read_text(encoding="utf-8"))


def read_rules(package: str, name: str) -> list[dict]:
    """The list of mappings in the YAML file ``name`` of ``package`` (package data).

    >>> read_rules("psychanalytics.staffing", "standards.yaml")[0]["code"]
    'zhonglou_2024'
    """
    rules = read_data(package, name)
    if not isinstance(rules, list) or not all(isinstance(r, dict) for r in rules):
        raise ValueError(f"{package}/{name}: expected a list of mappings")
    return rules


def year_start(school_year: str) -> int:
    """The calendar year a school year starts in: ``2024-2025`` → 2024.

    >>> year_start("2024-2025")
    2024
    >>> year_start("2024/25")
    Traceback (most recent call last):
    ...
    ValueError: school year '2024/25': expected YYYY-YYYY with consecutive years, e.g. 2024-2025
    """
    match = _SCHOOL_YEAR.fullmatch(str(school_year))
    if not match or int(match[2]) != int(match[1]) + 1:
        raise ValueError(
            f"school year {school_year!r}: expected YYYY-YYYY with consecutive years, e.g. 2024-2025"
        )
    return int(match[1])


def school_year_of(start: int) -> str:
    """The school year starting in calendar year ``start``.

    >>> school_year_of(2023)
    '2023-2024'
    """
    return f"{start}-{start + 1}"


def school_years_of(dates: pd.Series) -> pd.Series:
    """The school year each date falls in (1 September to 31 August).

    >>> school_years_of(pd.Series(pd.to_datetime(["2024-09-01", "2025-08-31"]))).tolist()
    ['2024-2025', '2024-2025']
    """
    when = pd.to_datetime(dates)
    start = when.dt.year - (when.dt.month < 9)
    return start.astype("Int64").astype(str) + "-" + (start + 1).astype("Int64").astype(str)


def date_in_school_year(month_day: str, school_year: str) -> pd.Timestamp:
    """The date ``MM-DD`` falls on within ``school_year`` (September to December in its first year).

    >>> date_in_school_year("03-20", "2024-2025").date(), date_in_school_year("10-10", "2024-2025").date()
    (datetime.date(2025, 3, 20), datetime.date(2024, 10, 10))
    """
    month = int(month_day[:2])
    year = year_start(school_year) + (month < 9)
    return pd.Timestamp(f"{year}-{month_day}")


def rule_from_data(cls, package: str, name: str, code: str, changes: dict, *, tuples: tuple[str, ...] = ()):
    """Build ``cls`` from the mapping ``code`` of the rule file ``name`` of ``package``, with ``changes``.

    Unknown codes and unknown field names are refused; ``tuples`` name the list fields turned into tuples.
    """
    rows = {r["code"]: r for r in read_rules(package, name)}
    if code not in rows:
        raise KeyError(f"{package}/{name}: unknown rule {code!r}; shipped: {list(rows)}")
    known = {f.name for f in fields(cls)}
    unknown = (set(changes) | set(rows[code])) - known
    if unknown:
        raise TypeError(f"{cls.__name__}: unknown field(s) {sorted(unknown)}")
    data = {**rows[code], **changes}
    return cls(**{k: tuple(v) if k in tuples else v for k, v in data.items()})


def missing_as_none(values: pd.Series) -> pd.Series:
    """``values`` as objects with every missing value ``None`` (a district row's ``school_id``).

    >>> missing_as_none(pd.Series(["S1", float("nan")])).tolist()
    ['S1', None]
    """
    return values.astype(object).where(values.notna(), None)
