"""The funding import kind — 心理健康教育经费: each school's budget and spending per school year (元)."""

from __future__ import annotations

from functools import partial

from psychanalytics.ingest import _parse as p
from psychanalytics.ingest._kind import Field, school_year_ledger
from psychanalytics.store import schema

_YUAN = partial(p.number, lo=0, hi=100_000_000)
"""An amount in 元 as a plain number (12000 or 12000.50); 「12,000」 and 「1.2万」 are refused, not guessed."""

FUNDING = school_year_ledger(
    "funding",
    "心理健康教育经费 / funding: budget and spending per school year (元)",
    schema.funding,
    (
        Field("budget_yuan", _YUAN, required=True, doc="经费预算 元, a plain number ≥ 0 (no 12,000 or 万)"),
        Field("spent_yuan", _YUAN, doc="实际支出 元, a plain number ≥ 0"),
    ),
)
