"""Counselling rooms against the 2015 guide and Changzhou's hours: each requirement on hand-made rooms."""

from __future__ import annotations

import pandas as pd
import pytest
from plan_support import Y1, Y2, write_district

from psychanalytics import facilities
from psychanalytics.store.queries import facilities as facility_queries
from psychanalytics.store.schema import ROOM_REQUIREMENTS


def _room(
    school_id,
    *,
    year=Y2,
    location="urban",
    has_room=True,
    hours=10.0,
    inspected="2025-05-10",
    area=40.0,
    **off,
):
    return {
        "school_year": year, "school_id": school_id, "location": location, "has_room": has_room,
        **{r: has_room and r not in off for r in ROOM_REQUIREMENTS},
        "area_m2": area, "open_hours_week": hours, "inspected_on": inspected, "inspection_passed": True,
    }  # fmt: skip


def _unmet(rooms, rule=None):
    compliance = facilities.room_compliance(pd.DataFrame(rooms), rule=rule)
    return {
        school: sorted(group.loc[~group["met"], "requirement"])
        for school, group in compliance.groupby("school_id", sort=True)
    }


def test_each_requirement_is_checked():
    rooms = [
        _room("OK"),
        _room("NOZONE", group_room=False),
        _room("NORULE", rule_transfer=False, rule_duty=False),
        _room("SHORT", hours=9.5),  # 2 h a day over 5 days is 10 h a week
        _room("UNREPORTED", hours=None),
        _room("LASTYEAR", inspected="2024-08-31"),  # inspected in the school year before
        _room("FIRSTDAY", inspected="2024-09-01"),
        _room("NOROOM", has_room=False),
        _room("TOWNSHIP", location="township", group_room=False),  # outside the rule's schools
    ]
    assert _unmet(rooms) == {
        "FIRSTDAY": [],
        "LASTYEAR": ["inspection"],
        "NOROOM": ["group_room", "individual_room", "inspection", "mailbox", "open_hours", "reception_area", "room",
                   "rule_appointment", "rule_archive", "rule_counselling", "rule_duty", "rule_transfer"],
        "NORULE": ["rule_duty", "rule_transfer"],
        "NOZONE": ["group_room"],
        "OK": [],
        "SHORT": ["open_hours"],
        "UNREPORTED": ["open_hours"],
    }  # fmt: skip


def test_the_rule_is_configurable():
    rooms = [_room("SMALL", area=12.0), _room("SHORT", hours=8.0)]
    assert _unmet(rooms, facilities.room_rule(min_area_m2=20)) == {"SHORT": ["open_hours"], "SMALL": ["area"]}
    assert _unmet(rooms, facilities.room_rule(min_hours_per_day=1.5)) == {"SHORT": [], "SMALL": []}
    no_inspection = facilities.room_rule(inspection=False)
    assert "inspection" not in no_inspection.requirements
    with pytest.raises(ValueError, match="unknown requirement"):
        facilities.room_rule(required=("sofa",))
    with pytest.raises(TypeError, match="unknown field"):
        facilities.room_rule(colour="blue")
    with pytest.raises(KeyError, match="unknown rule"):
        facilities.room_rule("beijing")


def test_status_names_what_is_missing_and_the_share_meets_the_deadline():
    rooms = [_room("A"), _room("B", mailbox=False, hours=6.0), _room("C", year=Y1, inspected="2024-05-01")]
    status = facilities.room_status(facilities.room_compliance(pd.DataFrame(rooms)))
    b = status.set_index("school_id").loc["B"]
    assert (
        not b["compliant"] and b["missing_zh"] == "心理信箱、开放时间" and b["n_met"] == b["n_required"] - 2
    )
    share = facilities.compliance_share(status)
    assert share[["school_year", "count", "n"]].values.tolist() == [[Y1, 1, 1], [Y2, 1, 2]]
    assert (share["deadline"] == "2023-2024").all() and (share["target_share"] == 1.0).all()


def test_room_records_keep_schools_without_a_room(engine):
    write_district(engine)
    records = facility_queries.room_records(engine)
    assert len(records) == 8
    first = records[records["school_year"] == Y1].set_index("school_id")
    assert first["has_room"].tolist() == [True, False, False, False]
    assert not first.loc["B", list(ROOM_REQUIREMENTS)].any()  # no room: every requirement false
    unmet = _unmet(records[records["school_year"] == Y2].to_dict("records"))
    assert unmet == {"A": [], "B": ["inspection", "mailbox"], "C": ["open_hours"]}  # D is a township school
