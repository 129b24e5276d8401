"""psychanalytics: the analytics and research workbench for school mental-health services.

Built for the Zhonglou District (Changzhou) minors' growth guidance centre and
Jiangsu University of Technology: screening distributions, intervention
outcomes, staffing gaps and the other indicators of the district's three-year
plan, with privacy as a property of every output.

The public API is the subpackages listed in ``__all__``, each with its own
``__all__``; a module or name starting with ``_`` is private. Subpackages are
imported on first use (PEP 562), so ``import psychanalytics`` stays cheap for a
dashboard that draws one chart.

================  ==========================================================
``store``         the database: schema, connections, migrations, audit log
``ingest``        school and platform exports in, pseudonymised rows out
``instruments``   the scoring specs (items, scales, bands, cut-offs)
``scoring``       responses to scale scores and bands
``psychometrics`` reliability, factor structure, invariance, norms
``screening``     distributions, prevalence with intervals, funnels, cohorts
``distributed``   scoring and screen-positive rates over Parquet partitions (Dask)
``outcomes``      effect sizes, reliable change, comparison groups, models
``staffing``      psychology teachers against several standards
``facilities``    counselling rooms against the 2015 guide
``activities``    courses, lectures, events
``plan``          the three-year plan's targets and the supervision scorecard
``crisis``        the three-level warning funnel and time between stages
``privacy``       pseudonyms, the leader-output policy, suppression
``export``        research extracts, Parquet partitions for a province
``reports``       the annual survey report and per-intervention reports
``viz``           charts with the specs' labels and a colour-blind-safe palette
``mart``          the published mart: protected aggregates, all that leaders' pages read
``dashboards``    the leaders' pages (Voila), built from the published mart
``synth``         the synthetic demo district and its exports
================  ==========================================================

>>> import psychanalytics
>>> psychanalytics.__version__
'0.1.0'
>>> psychanalytics.screening.proportion_ci(0, 25)[1] > 0
True
"""

import importlib

__version__ = "0.1.0"

__all__ = [
    "activities",
    "crisis",
    "dashboards",
    "distributed",
    "export",
    "facilities",
    "ingest",
    "instruments",
    "mart",
    "outcomes",
    "plan",
    "privacy",
    "psychometrics",
    "reports",
    "scoring",
    "screening",
    "staffing",
    "store",
    "synth",
    "viz",
]


def __getattr__(name: str):
    if name in __all__:
        return importlib.import_module(f"{__name__}.{name}")
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return [*globals(), *__all__]
