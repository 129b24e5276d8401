"""Crisis warnings and classified archives: the funnel, time between stages, archive coverage and transfers.

Pure functions on small frames (``store.queries.crisis`` does the reading
and counting): no database, file, plot or print.
"""

from psychanalytics.crisis._archives import TransferTimes, archive_coverage, archive_transfers, year_start
from psychanalytics.crisis._conventions import (
    WarningLevel,
    WarningScale,
    codes,
    name,
    warning_scale,
    warning_scales,
)
from psychanalytics.crisis._followup import (
    FOLLOWUP_COLUMNS,
    followup_list,
    item9_answer,
    screen_positive_bands,
)
from psychanalytics.crisis._histories import PATHWAY, PROBLEMS, CaseHistories, case_histories, school_term
from psychanalytics.crisis._pathway import FUNNEL_FROM, funnel, open_cases, repeat_warnings
from psychanalytics.crisis._survival import SurvivalResult, survival
from psychanalytics.crisis._timing import INTERVALS, StageTimes, stage_durations, stage_times
from psychanalytics.crisis._views import SCHOOL_CASE_COLUMNS, school_cases, school_problems

__all__ = [
    "FOLLOWUP_COLUMNS",
    "FUNNEL_FROM",
    "INTERVALS",
    "PATHWAY",
    "PROBLEMS",
    "SCHOOL_CASE_COLUMNS",
    "CaseHistories",
    "StageTimes",
    "SurvivalResult",
    "TransferTimes",
    "WarningLevel",
    "WarningScale",
    "archive_coverage",
    "archive_transfers",
    "case_histories",
    "codes",
    "followup_list",
    "funnel",
    "item9_answer",
    "name",
    "open_cases",
    "repeat_warnings",
    "school_cases",
    "school_problems",
    "school_term",
    "screen_positive_bands",
    "stage_durations",
    "stage_times",
    "survival",
    "warning_scale",
    "warning_scales",
    "year_start",
]
