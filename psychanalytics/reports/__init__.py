"""Research reports assembled from the store: one call reads, computes and returns a result to show or save.

A report function takes a database (path, URL or engine), reads it through a
read-only connection (:mod:`psychanalytics.store`), hands the frames to the pure
domain functions and returns their result; :func:`write_xlsx` saves a
bilingual table as a workbook. Statistics stay in the domain modules (here
:mod:`psychanalytics.outcomes`), files and databases stay here.

Examples
--------
>>> from psychanalytics import reports, store, synth
>>> engine = store.connect("sqlite://")
>>> _ = synth.build_demo(engine, seed=1, students=600)
>>> report = reports.intervention_outcomes(engine)
>>> sorted(set(report.table["kind"]))
['curriculum', 'group_counselling']
"""

from psychanalytics.reports._outcomes import intervention_outcomes, pretest_reliabilities
from psychanalytics.reports._xlsx import write_xlsx

__all__ = ["intervention_outcomes", "pretest_reliabilities", "write_xlsx"]
