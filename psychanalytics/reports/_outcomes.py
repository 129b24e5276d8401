"""Did the interventions work? The per-intervention table, read from a store."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import pandas as pd
import sqlalchemy as sa

from psychanalytics import outcomes, store


def _engine(db: str | Path | sa.Engine | None) -> sa.Engine:
    return db if isinstance(db, sa.Engine) else store.connect_existing(db, read_only=True)


def pretest_reliabilities(
    db: str | Path | sa.Engine | None, participants: pd.DataFrame
) -> list[outcomes.PretestReliability]:
    """:func:`psychanalytics.outcomes.pretest_reliability` of every scale in every pre-test wave ``participants`` use.

    Each wave's valid answer sheets (``store.load_items(valid_only=True)``) give
    alpha; the valid stored scores of the scale give its SD. A participant row
    without a pre-test wave is an error naming its intervention.

    Examples
    --------
    >>> from psychanalytics import reports, store, synth
    >>> engine = store.connect("sqlite://")
    >>> _ = synth.build_demo(engine, seed=1, students=600)
    >>> found = reports.pretest_reliabilities(engine, store.load_participants(engine, kinds=("curriculum",)))
    >>> [(r.instrument, r.wave) for r in found], 0.8 < found[0].reliability < 0.95
    ([('mht', '2023-autumn')], True)
    """
    engine = _engine(db)
    without = participants["pre_wave"].isna()
    if without.any():
        names = sorted(pd.unique(participants.loc[without, "intervention_id"]))[:5]
        raise ValueError(
            f"no screening wave of the school year began before intervention(s) {names}: "
            "their reliability cannot come from a pre-test wave"
        )
    found = []
    for instrument, scale, wave in (
        participants[["instrument", "scale", "pre_wave"]].drop_duplicates().itertuples(index=False)
    ):
        items = store.load_items(engine, wave_id=wave, instrument=instrument, valid_only=True)
        scores = store.load_scores(engine, wave_id=wave, instrument=instrument, scale=scale)
        valid = scores[scores["valid"].fillna(True).astype(bool)][scale].dropna()
        found.append(
            outcomes.pretest_reliability(items, valid, instrument=instrument, scale=scale, wave=wave)
        )
    return found


def intervention_outcomes(
    db: str | Path | sa.Engine | None = None,
    *,
    kinds: tuple[str, ...] | None = None,
    by: tuple[str, ...] = ("intervention_id",),
    cutoffs: Mapping[tuple[str, str], float] | None = None,
    ci: float = 0.95,
) -> outcomes.InterventionReport:
    """One call: every intervention of the store evaluated, as :func:`psychanalytics.outcomes.intervention_report`.

    Parameters
    ----------
    db : str, Path, sqlalchemy.Engine, optional
        SQLite path, SQLAlchemy URL or engine (read only); default ``PSYCHANALYTICS_DB``.
    kinds : tuple of str, optional
        Only interventions of these kinds (``group_counselling``, ``curriculum`` …).
    by, cutoffs, ci
        As :func:`psychanalytics.outcomes.intervention_report`: ``by=("kind",
        "title", "school_year")`` pools a programme run in several schools.

    Returns
    -------
    psychanalytics.outcomes.InterventionReport
        Save it with :func:`write_xlsx`.

    Notes
    -----
    Participants come from :func:`psychanalytics.store.load_participants`; the
    reliable change index's standard error from alpha and SD of each
    intervention's pre-test wave (:func:`pretest_reliabilities`), which the
    table's ``reliability_basis`` names.
    """
    engine = _engine(db)
    participants = store.load_participants(engine, kinds=kinds)
    if participants.empty:
        raise ValueError(
            f"the store holds no intervention participants{'' if kinds is None else f' of {kinds}'}"
        )
    return outcomes.intervention_report(
        participants, reliability=pretest_reliabilities(engine, participants), by=by, cutoffs=cutoffs, ci=ci
    )
