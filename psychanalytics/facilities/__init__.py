"""Counselling rooms against the MoE 2015 guide and Changzhou's opening hours (plan item 11).

The district plan wants a standardised counselling room in every urban and township central school by
2023, built to the MoE 2015 guide (required zones, a mailbox), with duty, appointment, counselling,
archive and archive-transfer rules, open at least 2 hours a school day (Changzhou) and inspected by the
bureau every school year (``docs/policy.md`` §1, §3, §6). The rule is data (``rules.yaml``):

* :func:`room_rule` — the shipped :class:`RoomRule` (or build your own);
* :func:`room_compliance` — each requirement met or not, per school and year;
* :func:`room_status` — compliant or not, with what is missing, per school and year;
* :func:`compliance_share` — the share of covered schools compliant, per year, against the deadline.

Pure functions; the rows come from :func:`psychanalytics.store.queries.facilities.room_records`.

Examples
--------
>>> import pandas as pd
>>> from psychanalytics import facilities
>>> rule = facilities.room_rule()
>>> rooms = pd.DataFrame([{"school_year": "2023-2024", "school_id": "S1", "location": "urban",
...     "has_room": True, **{r: True for r in rule.required}, "area_m2": 40.0, "open_hours_week": 12.0,
...     "inspected_on": "2024-05-10", "inspection_passed": True}])
>>> facilities.room_status(facilities.room_compliance(rooms, rule=rule))[["school_id", "compliant", "missing_zh"]]
  school_id  compliant missing_zh
0        S1       True
"""

from psychanalytics.facilities._rooms import (
    REQUIREMENT_NAMES,
    RoomRule,
    compliance_share,
    room_compliance,
    room_rule,
    room_status,
)

__all__ = ["REQUIREMENT_NAMES", "RoomRule", "compliance_share", "room_compliance", "room_rule", "room_status"]
