"""Psychometrics: reliability (alpha, omega), item statistics, norms, measurement invariance.

Each statistic wraps a well-kept library where one is right and is checked in
``tests/test_psychometrics*.py`` against published output of trusted software
(pingouin, R psych, lavaan) stored with its source in
``tests/reference/psychometrics/``.

Examples
--------
>>> import pandas as pd
>>> from psychanalytics import psychometrics as pm
>>> data = pd.DataFrame({"q1": [0, 1, 2, 3, 2, 1], "q2": [0, 1, 3, 3, 2, 0], "q3": [1, 1, 2, 3, 3, 1]})
>>> round(pm.cronbach_alpha(data).alpha, 3)
0.937
"""

from psychanalytics.psychometrics._alpha import AlphaResult, cronbach_alpha
from psychanalytics.psychometrics._invariance import InvarianceResult, measurement_invariance
from psychanalytics.psychometrics._items import item_statistics
from psychanalytics.psychometrics._norms import NormsResult, norms
from psychanalytics.psychometrics._omega import OmegaResult, omega

__all__ = [
    "AlphaResult",
    "InvarianceResult",
    "NormsResult",
    "OmegaResult",
    "cronbach_alpha",
    "item_statistics",
    "measurement_invariance",
    "norms",
    "omega",
]
