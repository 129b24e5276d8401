"""Courses, activities, governance, coverage and funding: the plan's everyday indicators.

Plan items 2 (courses offered in full), 3 (campus activities), 9 (parent classes), 11 (a budget line
that grows), 12 (the monthly 「让爱更有智慧」 lecture, every teacher a mentor, 心理委员 in every
class) and the safeguards (a leadership meeting a year, a three-year school plan, events on 20 March,
25 May and 10 October) (``docs/policy.md`` §1). The thresholds are data (``rules.yaml``,
:class:`ActivityRules`):

* :func:`lesson_delivery` — psychology lessons delivered vs required per grade and term;
* :func:`lecture_months` — the district lecture held in each teaching month;
* :func:`event_days` — the three event days held, by the district and by each school;
* :func:`parent_classes` — parent classes held per school;
* :func:`coverage` — classes with a 心理委员, teachers who are mentors;
* :func:`governance` — leadership group, meetings, three-year plan;
* :func:`funding_growth` — the budget line, per student, and its year-on-year growth;
* :func:`counselling_regularity` — teaching months with a counselling session recorded.

Pure functions on the small frames of :mod:`psychanalytics.store.queries.activities`.

Examples
--------
>>> import pandas as pd
>>> from psychanalytics import activities
>>> lessons = pd.DataFrame({"school_year": "2024-2025", "school_id": "S1", "term": [1, 2], "grade": 7,
...                         "lessons_planned": 9, "lessons_delivered": [9, 6]})
>>> activities.lesson_delivery(lessons)[["count", "n", "lessons_required", "lessons_delivered"]]
   count  n  lessons_required  lessons_delivered
0      1  2                18                 15
"""

from psychanalytics.activities._indicators import (
    ActivityRules,
    activity_rules,
    counselling_regularity,
    coverage,
    event_days,
    funding_growth,
    governance,
    lecture_months,
    lesson_delivery,
    parent_classes,
)

__all__ = [
    "ActivityRules",
    "activity_rules",
    "counselling_regularity",
    "coverage",
    "event_days",
    "funding_growth",
    "governance",
    "lecture_months",
    "lesson_delivery",
    "parent_classes",
]
