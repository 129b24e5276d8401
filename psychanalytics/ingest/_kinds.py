"""The import kinds by name: each lives in its own module, on the frame of :mod:`._kind`."""

from __future__ import annotations

from psychanalytics.ingest._activities import ACTIVITIES
from psychanalytics.ingest._counselling import COUNSELLING
from psychanalytics.ingest._crisis import CRISIS
from psychanalytics.ingest._funding import FUNDING
from psychanalytics.ingest._interventions import INTERVENTIONS
from psychanalytics.ingest._kind import Kind
from psychanalytics.ingest._lessons import LESSONS
from psychanalytics.ingest._rooms import ROOMS
from psychanalytics.ingest._roster import ROSTER
from psychanalytics.ingest._school_stats import SCHOOL_STATS
from psychanalytics.ingest._screening import SCREENING
from psychanalytics.ingest._staff import STAFF

KINDS: dict[str, Kind] = {
    k.name: k
    for k in (
        SCREENING,
        ROSTER,
        STAFF,
        ROOMS,
        ACTIVITIES,
        INTERVENTIONS,
        CRISIS,
        LESSONS,
        FUNDING,
        SCHOOL_STATS,
        COUNSELLING,
    )
}
"""The import kinds by name."""
