"""Reference k-anonymity and l-diversity from pyCANON 1.3.6 (IFCA-Advanced-Computing/pycanon).

pyCANON pins numpy 2.0.2 and pandas 2.3.3, so it runs in a virtual environment of its own, not in the
project's:

    python3 -m venv /tmp/pycanon && /tmp/pycanon/bin/pip install pycanon==1.3.6
    /tmp/pycanon/bin/python tests/reference/privacy/make_anonymity_pycanon.py

writes ``anonymity_pycanon.json`` beside this file: seeded random frames (school, grade, gender, age as
quasi-identifiers; two risk bands as sensitive attributes; no missing values) with the ``k`` of
``pycanon.anonymity.k_anonymity`` and the ``l`` of ``pycanon.anonymity.l_diversity`` (``gen=True``: the
fewest distinct values of any sensitive attribute in any equivalence class).
"""

import json
from importlib.metadata import version
from pathlib import Path

import numpy as np
import pandas as pd
from pycanon import anonymity

QUASI = ["school", "grade", "gender", "age"]
SENSITIVE = ["phq9_band", "gad7_band"]


def frame(seed: int, n: int, schools: int, bands: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        {
            "school": [f"S{i}" for i in rng.integers(0, schools, n)],
            "grade": rng.integers(7, 10, n),
            "gender": rng.choice(["F", "M"], n),
            "age": rng.integers(12, 16, n),
            "phq9_band": rng.integers(0, bands, n),
            "gad7_band": rng.integers(0, bands + 1, n),
        }
    )


cases = []
for seed, n, schools, bands, quasi in [
    (1, 40, 2, 2, QUASI),
    (2, 200, 3, 3, QUASI),
    (3, 200, 3, 3, ["school", "gender"]),
    (4, 500, 1, 2, ["grade", "gender"]),
    (5, 60, 1, 1, ["gender"]),
    (6, 1000, 4, 5, ["school", "grade"]),
]:
    data = frame(seed, n, schools, bands)
    cases.append(
        {
            "quasi": quasi,
            "sensitive": SENSITIVE,
            "k": int(anonymity.k_anonymity(data, quasi)),
            "l": int(anonymity.l_diversity(data, quasi, SENSITIVE)),
            "data": data.to_dict("list"),
        }
    )
out = {
    "source": f"pycanon {version('pycanon')}: anonymity.k_anonymity, anonymity.l_diversity(gen=True)",
    "script": "tests/reference/privacy/make_anonymity_pycanon.py",
    "cases": cases,
}
(Path(__file__).parent / "anonymity_pycanon.json").write_text(
    json.dumps(out, default=int, separators=(",", ":")) + "\n", "utf-8"
)
