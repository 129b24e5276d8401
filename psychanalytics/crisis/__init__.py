"""Crisis warnings and classified archives: the funnel, time between stages, archive coverage and transfers.

The plan's three-level warning network (班级-学校-社会) as an auditable pathway:
every case is raised, confirmed by an interview, handled, referred when it
must be, and closed (:data:`PATHWAY`), each stage timestamped.

* :func:`case_histories` turns stage events into one row per case and reports
  data problems (missing, duplicated, out-of-order timestamps, missing stages)
  by case and stage, never repairing them; each case keeps the level handling
  it (:func:`handling_level`: that of its latest event), so funnels and stage
  times can be cut ``by="level"``;
* :func:`funnel`, :func:`open_cases` (where open cases wait and for how long:
  the stalled ones are the warnings lost between stages), :func:`repeat_warnings`;
* :func:`stage_times` with :func:`survival` (Kaplan-Meier, statsmodels'
  ``SurvfuncRight``, checked against R survival): medians between stages with
  open cases censored;
* :func:`archive_coverage` and :func:`archive_transfers` (每生一档, 档案移交);
* :func:`school_cases` and :func:`school_problems`: the only case-level views,
  one school's own cases, pseudonymous; leaders see aggregates through
  :func:`psychanalytics.privacy.leader_view`;
* :func:`followup_list` and :func:`screen_positive_bands`: the school's list of
  students a wave flagged (``psychanalytics followup``), with each student's
  current crisis case (:func:`case_status`);
* :func:`warning_scale`, :func:`name`: the labels and colours of
  ``conventions.yaml`` (``PSYCHANALYTICS_WARNING_SCALE``).

Pure functions on small frames (``store.queries.crisis`` does the reading
and counting): no database, file, plot or print.

Examples
--------
>>> import pandas as pd
>>> from psychanalytics import crisis
>>> events = pd.DataFrame({"case_id": ["C1", "C1", "C2"], "pid": ["p1", "p1", "p2"], "school": "S1",
...                        "source": "screening", "severity": [3, 3, 2],
...                        "crisis_stage": ["raised", "confirmed", "raised"],
...                        "occurred_at": pd.to_datetime(["2025-03-03 08:00", "2025-03-04 20:00",
...                                                       "2025-03-05 08:00"])})
>>> histories = crisis.case_histories(events, as_of="2025-03-10")

C1 was interviewed after 1.5 days, C2 is still waiting after 4.7: half the cases from day 1.5 to the end
of follow-up, so the median is the midpoint of that flat (as R survival takes it).

>>> crisis.stage_times(histories.cases, as_of=histories.as_of,
...                    intervals=[("raised", "confirmed")]).summary[["count", "n", "median"]]
   count  n    median
0      1  2  3.083333
>>> crisis.warning_scale().label(3)
'红色预警'
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
    NO_CASE,
    case_status,
    followup_list,
    item9_answer,
    screen_positive_bands,
)
from psychanalytics.crisis._histories import (
    PATHWAY,
    PROBLEMS,
    CaseHistories,
    case_histories,
    handling_level,
    school_term,
)
from psychanalytics.crisis._pathway import FUNNEL_FROM, funnel, open_cases, repeat_warnings
from psychanalytics.crisis._survival import SurvivalResult, survival
from psychanalytics.crisis._timing import INTERVALS, StageTimes, stage_durations, stage_times
from psychanalytics.crisis._views import SCHOOL_CASE_COLUMNS, school_cases, school_problems

__all__ = [
    "FOLLOWUP_COLUMNS",
    "FUNNEL_FROM",
    "NO_CASE",
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
    "case_status",
    "codes",
    "followup_list",
    "funnel",
    "handling_level",
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
