"""The demo district's funnel plot finds the schools the generator planted, and no others (issue #11, item 9).

Built at the demo's default size and seed (``psychanalytics demo``): 45,000 students a year, 40 schools of
which 20 screen PHQ-9. The truth is read from ``demo_planted_school`` only, the table the demo alone writes.
"""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from psychanalytics import screening, store, synth
from psychanalytics.store import schema
from psychanalytics.store.queries import screening as sq

DIRECTION = {"higher": "above", "lower": "below"}


@pytest.fixture(scope="module")
def default_demo(tmp_path_factory) -> sa.Engine:
    engine = store.connect(tmp_path_factory.mktemp("default_demo") / "demo.sqlite")
    synth.build_demo(engine)  # the defaults of `psychanalytics demo`
    yield engine
    engine.dispose()


@pytest.mark.slow
def test_the_funnel_finds_exactly_the_planted_schools_in_every_wave(default_demo):
    truth = store.read_frame(default_demo, sa.select(schema.demo_planted_school))
    assert sorted(truth["direction"]) == ["higher", "higher", "lower"]
    planted = dict(zip(truth["school_id"], truth["direction"].map(DIRECTION), strict=True))
    counts = sq.screen_positive_counts(default_demo, instrument="phq9", by=("wave", "school"))
    assert counts["school"].nunique() == 20
    for wave, schools in counts.groupby("wave"):
        result = screening.funnel(schools, numerator="count", denominator="n", overdispersion=True)
        assert result.adjusted and result.phi > 1  # schools differ: the limits are widened
        flagged = result.table[result.table["position"] != "within"]
        assert dict(zip(flagged["school"], flagged["position"], strict=True)) == planted, wave


@pytest.mark.slow
def test_without_overdispersion_half_the_schools_would_be_flagged(default_demo):
    """Why the adjustment is needed: the exact limits flag schools that differ only by chance and case mix."""
    counts = sq.screen_positive_counts(default_demo, instrument="phq9", by=("wave", "school"))
    latest = counts[counts["wave"] == counts["wave"].max()]
    result = screening.funnel(latest, numerator="count", denominator="n")
    assert (result.table["position"] != "within").sum() >= 8


def test_the_truth_table_is_marked_and_a_real_store_leaves_it_empty(sqlite_engine):
    table = schema.demo_planted_school
    assert table.comment.startswith("synthetic demo only")
    assert all(c.comment.startswith("synthetic demo only") for c in table.columns if c.name != "school_id")
    assert store.table_counts(sqlite_engine)["demo_planted_school"] == 0
