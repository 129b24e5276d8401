"""Mart tables of the 「总览」 page: students screened per wave, the overview instrument's bands, staffing coverage."""

from __future__ import annotations

from psychanalytics import instruments
from psychanalytics.mart._registry import MartTable, register, sheets
from psychanalytics.privacy.linked import Population
from psychanalytics.store import queries

OVERVIEW_INSTRUMENT = "phq9"
OVERVIEW_SCALE = "total"
HIGH_RISK_BAND = "moderate"
"""The headline counts students in this band of the overview's instrument or above: PHQ-9 moderate (total
>= 10, the spec's lower bound), the cut-off for probable major depression (Kroenke 2001; docs/instruments.md)."""


def _bands(engine):
    bands = queries.band_distribution(engine, instrument=OVERVIEW_INSTRUMENT, scale=OVERVIEW_SCALE)
    return bands.drop(columns="unbanded")  # invalid sheets: a count of students published in its own table


def _high_risk(frame):
    rank = instruments.get(OVERVIEW_INSTRUMENT).scale(OVERVIEW_SCALE).band_set().codes.index(HIGH_RISK_BAND)
    return frame["band_rank"] >= rank


SCREENED = register(
    MartTable(
        "screened_per_wave",
        "每次普测的受测人数与全区在册人数",
        "students screened per wave, of those enrolled",
        queries.screened_per_wave,
        population={
            "count": Population("screened", ("wave_id",)),
            "n": Population("enrolled", ("school_year",)),
        },
    )
)
BANDS = register(
    MartTable(
        f"{OVERVIEW_INSTRUMENT}_bands_per_wave",
        "每次普测 PHQ-9 各等级人数",
        "PHQ-9 score bands per wave",
        _bands,
        {"by": ("wave_id", "wave_label")},
        headline=_high_risk,
        population={
            "count": sheets(OVERVIEW_INSTRUMENT, "wave_id", "band", sheet="valid"),
            "n": sheets(OVERVIEW_INSTRUMENT, "wave_id", sheet="valid"),
        },
    )
)
STAFFING = register(
    MartTable(
        "staffing_coverage",
        "配备专职心理教师的学校占比（各学年）",
        "schools with a full-time psychology teacher, per school year",
        queries.staffing_coverage,
        {"unit": "school"},
    )
)
