"""Item-level screening responses from a latent-trait model.

Model
-----
A general distress trait ``eta`` per student follows an AR(1) process across
school years (``rho`` = 0.6, unit variance). A student-year's mean adds girls
(+0.35), grade (+0.08 per grade above 7), a school random effect (SD 0.15) and
a gentle district trend (-0.03 per year). Each instrument has its own trait,
``sqrt(load) * distress + sqrt(1 - load) * specific`` (PHQ-9 and GAD-7 load
0.75, MHT 0.6), so latent correlations are about 0.75 (PHQ-9 ~ GAD-7) and 0.67
(PHQ-9 ~ MHT). PHQ-9 and GAD-7 items follow Samejima's graded-response model,
MHT content items a 2PL model on scale traits (0.8 × MHT trait + 0.6 ×
scale-specific), and MHT lie items (even 82-100) a 2PL model on an independent
social-desirability trait that is higher in younger grades.

A few per cent of sheets have missing items, and a few per cent of eligible
students miss each wave (absent or without guardian consent).

Planted schools
---------------
In a district with at least :data:`MIN_SCHOOLS_TO_PLANT` schools screening
PHQ-9 (grade 7 and up), two schools get a distress shift of
``+PLANTED_SHIFT`` and one of ``-PLANTED_SHIFT`` on top of their random effect,
every year: their true screen-positive rates are really higher (about twice
the district's on PHQ-9) or lower (about half). They are drawn from the
larger half of those schools, so that a funnel plot has the power to find
them. The truth goes to ``demo_planted_school`` only (:func:`planted_schools`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

RHO = 0.6
LOADING = {"phq9": 0.75, "gad7": 0.75, "mht": 0.6}
MIN_GRADE = {"mht": 4, "phq9": 7, "gad7": 7}
N_ITEMS = {"mht": 100, "phq9": 9, "gad7": 7}
ABSENT_RATE = 0.025
PLANTED_SHIFT = 1.2
"""Distress shift (in SDs of the latent trait) of a planted school's students."""
MIN_SCHOOLS_TO_PLANT = 12
"""Fewest schools screening PHQ-9 for which schools are planted: with fewer, a funnel plot's overdispersion
estimate has too few schools to stand on, and three planted ones would be a quarter of them."""

# graded-response parameters: discrimination a, thresholds b1 < b2 < b3 (logistic metric)
_PHQ9_A = np.array([2.4, 2.5, 2.0, 2.0, 1.8, 2.2, 2.0, 1.8, 2.2])
_PHQ9_B = 0.35 + np.array(
    [
        [0.35, 1.45, 2.05],
        [0.45, 1.55, 2.15],
        [0.05, 1.25, 1.90],
        [0.00, 1.20, 1.85],
        [0.40, 1.55, 2.20],
        [0.55, 1.60, 2.25],
        [0.30, 1.45, 2.10],
        [0.95, 1.95, 2.60],
        [1.55, 2.30, 2.85],
    ]
)
_GAD7_A = np.array([2.6, 2.7, 2.5, 2.1, 1.9, 2.0, 2.2])
_GAD7_B = 0.25 + np.array(
    [
        [0.20, 1.40, 2.05],
        [0.45, 1.55, 2.15],
        [0.15, 1.35, 2.00],
        [0.25, 1.50, 2.15],
        [0.70, 1.80, 2.40],
        [0.15, 1.40, 2.10],
        [0.55, 1.65, 2.30],
    ]
)
# MHT content scales: (first-based item numbers, mean difficulty)
_MHT_SCALES = (
    (tuple(range(1, 16)), -0.2),  # 学习焦虑: the most endorsed scale in Chinese samples
    (tuple(range(16, 26)), 0.5),
    (tuple(range(26, 36)), 0.9),
    (tuple(range(36, 46)), 0.3),
    (tuple(range(46, 56)), 0.2),
    (tuple(range(56, 71)), 0.7),
    (tuple(range(71, 81)), 0.8),
    (tuple(range(81, 100, 2)), 0.6),
)
MHT_LIE_ITEMS = tuple(range(82, 101, 2))


@dataclass(frozen=True)
class Sheets:
    """One wave's item responses for one instrument (rows = respondents, -1 = missing)."""

    instrument: str
    rows: np.ndarray  # row numbers into the enrolment frame
    items: np.ndarray  # int8, respondents × items
    seconds: np.ndarray  # int64


def planted_schools(enrol: pd.DataFrame, rng: np.random.Generator) -> pd.DataFrame:
    """The planted schools: ``school_id``, ``direction`` (``higher``/``lower``) and ``distress_shift``.

    Two higher and one lower, drawn from the larger half (by students in grade
    7 and up over the five years) of the schools screening PHQ-9; none when
    fewer than :data:`MIN_SCHOOLS_TO_PLANT` schools do.
    """
    older = enrol[enrol["grade"] >= MIN_GRADE["phq9"]]
    sizes = older.groupby("school_id").size().sort_values(ascending=False, kind="stable")
    if len(sizes) < MIN_SCHOOLS_TO_PLANT:
        return pd.DataFrame({"school_id": [], "direction": [], "distress_shift": []}).astype(
            {"school_id": str, "direction": str, "distress_shift": float}
        )
    larger = sizes.index[: len(sizes) // 2].to_numpy()
    chosen = rng.choice(larger, size=3, replace=False)
    return pd.DataFrame(
        {
            "school_id": chosen,
            "direction": ["higher", "higher", "lower"],
            "distress_shift": [PLANTED_SHIFT, PLANTED_SHIFT, -PLANTED_SHIFT],
        }
    ).sort_values("school_id", ignore_index=True)


def distress(
    enrol: pd.DataFrame, student_frame: pd.DataFrame, rng: np.random.Generator, *, planted: pd.DataFrame
) -> np.ndarray:
    """General distress for each enrolment row (student × school year); ``planted`` schools shifted."""
    n_students, n_years = len(student_frame), int(enrol["year"].max()) + 1
    eta = np.empty((n_students, n_years))
    eta[:, 0] = rng.standard_normal(n_students)
    for y in range(1, n_years):
        eta[:, y] = RHO * eta[:, y - 1] + np.sqrt(1 - RHO**2) * rng.standard_normal(n_students)
    schools = np.unique(enrol["school_id"])
    school_effect = dict(zip(schools, rng.normal(0.0, 0.15, len(schools)), strict=True))
    for school_id, shift in zip(planted["school_id"], planted["distress_shift"], strict=True):
        school_effect[school_id] += shift
    girl = (student_frame["gender"].to_numpy() == "F")[enrol["student"].to_numpy()]
    return (
        eta[enrol["student"].to_numpy(), enrol["year"].to_numpy()]
        + 0.35 * girl
        + 0.08 * (enrol["grade"].to_numpy() - 7)
        + enrol["school_id"].map(school_effect).to_numpy()
        - 0.03 * enrol["year"].to_numpy()
    )


def _graded(theta: np.ndarray, a: np.ndarray, b: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Graded-response draws: item code = number of thresholds passed."""
    u = rng.random((len(theta), len(a)))
    logits = a[None, :, None] * (theta[:, None, None] - b[None, :, :])
    return (u[:, :, None] < 1.0 / (1.0 + np.exp(-logits))).sum(axis=2).astype(np.int8)


def _mht(theta: np.ndarray, grade: np.ndarray, rng: np.random.Generator, params: dict) -> np.ndarray:
    n = len(theta)
    items = np.empty((n, N_ITEMS["mht"]), dtype=np.int8)
    for (numbers, _), (a, b) in zip(_MHT_SCALES, params["content"], strict=True):
        trait = 0.8 * theta + 0.6 * rng.standard_normal(n)
        p = 1.0 / (1.0 + np.exp(-a[None, :] * (trait[:, None] - b[None, :])))
        items[:, np.asarray(numbers) - 1] = rng.random((n, len(numbers))) < p
    lie_a, lie_b = params["lie"]
    desirability = rng.standard_normal(n) + 0.08 * (9 - grade)
    p = 1.0 / (1.0 + np.exp(-lie_a[None, :] * (desirability[:, None] - lie_b[None, :])))
    items[:, np.asarray(MHT_LIE_ITEMS) - 1] = rng.random((n, len(MHT_LIE_ITEMS))) < p
    return items


def _mht_params(rng: np.random.Generator) -> dict:
    """MHT item parameters, drawn once per build."""
    content = [
        (rng.uniform(0.7, 1.2, len(numbers)), rng.normal(mean + 0.15, 0.5, len(numbers)))
        for numbers, mean in _MHT_SCALES
    ]
    return {"content": content, "lie": (rng.uniform(1.0, 1.6, 10), rng.normal(1.6, 0.4, 10))}


def _with_missing(items: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Blank a few answers: 95 % of sheets complete, 4 % skip one or two items, 1 % skip about a quarter."""
    n, k = items.shape
    kind = rng.random(n)
    out = items.copy()
    few = np.flatnonzero((kind >= 0.95) & (kind < 0.99))
    out[few, rng.integers(0, k, len(few))] = -1
    second = few[rng.random(len(few)) < 0.5]
    out[second, rng.integers(0, k, len(second))] = -1
    many = kind >= 0.99
    out[many[:, None] & (rng.random((n, k)) < 0.25)] = -1
    return out


def _seconds(instrument: str, n: int, rng: np.random.Generator) -> np.ndarray:
    median = {"mht": 900.0, "phq9": 110.0, "gad7": 85.0}[instrument]
    return np.round(median * rng.lognormal(0.0, 0.35, n)).astype(np.int64)


def waves(
    enrol: pd.DataFrame, theta: np.ndarray, screened: np.ndarray, rng: np.random.Generator
) -> list[tuple[int, list[Sheets]]]:
    """Item sheets per school-year index for MHT, PHQ-9 and GAD-7.

    ``screened`` marks enrolment rows whose guardian consented to screening at
    the time of the wave; among them :data:`ABSENT_RATE` miss the wave.
    """
    n_rows = len(enrol)
    specific = {code: rng.standard_normal(n_rows) for code in LOADING}
    traits = {
        code: np.sqrt(load) * theta + np.sqrt(1 - load) * specific[code] for code, load in LOADING.items()
    }
    mht_params = _mht_params(rng)
    present = screened & (rng.random(n_rows) >= ABSENT_RATE)
    grade = enrol["grade"].to_numpy()
    out = []
    for year in range(int(enrol["year"].max()) + 1):
        in_year = enrol["year"].to_numpy() == year
        sheets = []
        for code in ("mht", "phq9", "gad7"):
            rows = np.flatnonzero(in_year & present & (grade >= MIN_GRADE[code]))
            trait = traits[code][rows]
            if code == "mht":
                items = _mht(trait, grade[rows], rng, mht_params)
            elif code == "phq9":
                items = _graded(trait, _PHQ9_A, _PHQ9_B, rng)
            else:
                items = _graded(trait, _GAD7_A, _GAD7_B, rng)
            sheets.append(Sheets(code, rows, _with_missing(items, rng), _seconds(code, len(rows), rng)))
        out.append((year, sheets))
    return out
