"""Staffing: psychology teachers per school, gaps under several standards at once, and the hiring pace.

Plan item 10 (``docs/policy.md`` §1) asks for a full-time (专职) psychology teacher in every school by
2024; the national 2023-2025 plan for a full- or part-time one in every school, 95 % of schools by 2025;
other provinces and countries use ratios (§4). No national pupil : teacher ratio exists, so the
standards are data (``standards.yaml``), applied side by side and never merged:

* :func:`profile` — full-time, part-time, FTE and students per full-time teacher of each school;
* :func:`gaps` — teachers each school still needs under each :class:`Standard`;
* :func:`district_gaps` — schools meeting each standard and teachers needed, per year;
* :func:`projection` — at the current pace, where the district stands at a deadline, with a band.

Counting happens in :func:`psychanalytics.store.queries.staffing.staff_counts`; everything here is pure.

Examples
--------
>>> import pandas as pd
>>> from psychanalytics import staffing
>>> counts = pd.DataFrame({"school_year": ["2024-2025"] * 2, "school_id": ["S1", "S2"],
...     "stage": ["primary", "junior"], "enrolment": [800, 1500], "boarders": [0, 0],
...     "full_time": [1, 0], "part_time": [1, 2], "part_time_hours": [4.0, 6.0]})
>>> school_gaps = staffing.gaps(staffing.profile(counts), standards_used=staffing.standards("zhonglou_2024"))
>>> staffing.district_gaps(school_gaps)[["standard", "count", "n", "teachers_needed"]]
        standard  count  n  teachers_needed
0  zhonglou_2024      1  2              1.0
"""

from psychanalytics.staffing._gaps import FULL_TIME_WEEKLY_HOURS, district_gaps, gaps, profile
from psychanalytics.staffing._projection import Projection, projection
from psychanalytics.staffing._standards import COUNTS, Standard, standards

__all__ = [
    "COUNTS",
    "FULL_TIME_WEEKLY_HOURS",
    "Projection",
    "Standard",
    "district_gaps",
    "gaps",
    "profile",
    "projection",
    "standards",
]
