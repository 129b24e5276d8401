"""Hand-made crisis case histories whose answers are worked out by hand (tests/test_crisis_*.py).

As of 2025-01-31 00:00. S1 and S2 are schools; p1 has two cases (A and C).

====  ======  ===================================================================  =========================
case  school  events                                                               what it tests
====  ======  ===================================================================  =========================
A     S1      raised 10-01 08:00, confirmed 10-03 08:00, intervention 10-04 08:00,  a closed case
              closed 11-30 08:00
B     S1      raised 10-02 08:00, confirmed 10-02 20:00, intervention 10-05 20:00,  a referral
              referred 10-15 20:00, closed 12-15 08:00
C     S1      raised 10-10 08:00                                                   open, never interviewed
D     S2      raised 11-01 08:00, confirmed 11-05 08:00                            open; a session 01-20
E     S2      raised 11-10 08:00, confirmed 11-09 08:00, intervention 11-12 08:00  out of order
F     S2      raised 12-01 08:00, confirmed 12-02 08:00 and 12-03 08:00            duplicated stage
G     S1      raised 12-05 08:00, confirmed (no time)                              missing timestamp
H     S1      confirmed 12-10 08:00, intervention 12-11 08:00                      no raised event
I     S1      raised 12-20 08:00, intervention 12-22 08:00                         no interview recorded
J     S2      raised 2025-03-01 08:00                                              after the as-of time
====  ======  ===================================================================  =========================
"""

from __future__ import annotations

import pandas as pd

AS_OF = pd.Timestamp("2025-01-31")

_EVENTS = [
    ("A", "p1", "S1", 2, "raised", "2024-10-01 08:00"),
    ("A", "p1", "S1", 2, "confirmed", "2024-10-03 08:00"),
    ("A", "p1", "S1", 2, "intervention", "2024-10-04 08:00"),
    ("A", "p1", "S1", 2, "closed", "2024-11-30 08:00"),
    ("B", "p2", "S1", 3, "raised", "2024-10-02 08:00"),
    ("B", "p2", "S1", 3, "confirmed", "2024-10-02 20:00"),
    ("B", "p2", "S1", 3, "intervention", "2024-10-05 20:00"),
    ("B", "p2", "S1", 3, "referred", "2024-10-15 20:00"),
    ("B", "p2", "S1", 3, "closed", "2024-12-15 08:00"),
    ("C", "p1", "S1", 1, "raised", "2024-10-10 08:00"),
    ("D", "p4", "S2", 2, "raised", "2024-11-01 08:00"),
    ("D", "p4", "S2", 2, "confirmed", "2024-11-05 08:00"),
    ("E", "p5", "S2", 2, "raised", "2024-11-10 08:00"),
    ("E", "p5", "S2", 2, "confirmed", "2024-11-09 08:00"),
    ("E", "p5", "S2", 2, "intervention", "2024-11-12 08:00"),
    ("F", "p6", "S2", 1, "raised", "2024-12-01 08:00"),
    ("F", "p6", "S2", 1, "confirmed", "2024-12-02 08:00"),
    ("F", "p6", "S2", 1, "confirmed", "2024-12-03 08:00"),
    ("G", "p7", "S1", 1, "raised", "2024-12-05 08:00"),
    ("G", "p7", "S1", 1, "confirmed", None),
    ("H", "p8", "S1", 2, "confirmed", "2024-12-10 08:00"),
    ("H", "p8", "S1", 2, "intervention", "2024-12-11 08:00"),
    ("I", "p9", "S1", 3, "raised", "2024-12-20 08:00"),
    ("I", "p9", "S1", 3, "intervention", "2024-12-22 08:00"),
    ("J", "p10", "S2", 1, "raised", "2025-03-01 08:00"),
]

EXPECTED_PROBLEMS = {
    ("E", "confirmed", "out_of_order"),
    ("F", "confirmed", "duplicate_stage"),
    ("G", "confirmed", "missing_time"),
    ("H", "raised", "missing_stage"),
    ("I", "confirmed", "missing_stage"),
    ("J", "raised", "after_as_of"),
}


def events() -> pd.DataFrame:
    """The events above, in the columns of ``store.queries.crisis.crisis_events``."""
    frame = pd.DataFrame(
        _EVENTS, columns=["case_id", "pid", "school", "severity", "crisis_stage", "occurred_at"]
    )
    frame["occurred_at"] = pd.to_datetime(frame["occurred_at"])
    frame["source"] = frame["case_id"].map(lambda c: "screening" if c in "ABDF" else "observation")
    frame["local_label"] = frame["severity"].map({1: "三级预警", 2: "二级预警", 3: "一级预警"})
    frame["seq"] = frame.groupby("case_id").cumcount() + 1
    return frame


def sessions() -> pd.DataFrame:
    """D's follow-up on 20 January at its school; a session of D's student at another school, and one of
    A's student before A was raised: neither is a follow-up of a case."""
    return pd.DataFrame(
        {
            "pid": ["p4", "p4", "p1"],
            "school": ["S2", "S1", "S1"],
            "held_on": pd.to_datetime(["2025-01-20", "2025-01-25", "2024-09-20"]),
            "kind": "individual",
        }
    )
