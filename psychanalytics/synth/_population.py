"""Schools, students (with synthetic 学籍号 and names) and enrolments of the demo district."""

from __future__ import annotations

import zlib

import numpy as np
import pandas as pd

from psychanalytics.privacy.pseudonym import pseudonymise
from psychanalytics.privacy.shapes import id_card_check_character

DEMO_KEY = b"psychanalytics synthetic demo district key: never use for real students"
"""The public HMAC key of the demo pseudonyms: synthetic data only, never for real students."""
FIRST_YEAR = 2021
N_YEARS = 5
SCHOOL_YEARS = tuple(f"{y}-{y + 1}" for y in range(FIRST_YEAR, FIRST_YEAR + N_YEARS))
"""The demo school years, 2021-2022 … 2025-2026."""
STUDENTS_PER_SCHOOL = 1_125
SENIOR_SHARE = 0.6  # share of a cohort going on to a general senior high school in the district
CLASS_SIZE = 45
FAKE_COUNTY = "320499"  # not an existing county code: marks every 学籍号 as synthetic

_STAGE_SHARES = {"primary": 0.5, "junior": 0.2, "nine_year": 0.15, "senior": 0.15}
_URBAN_SHARE = {"primary": 0.6, "junior": 0.6, "nine_year": 0.2, "senior": 0.7}
_TOWNS = ("青枫", "云溪", "白鹭", "清河", "松岗", "桃源", "柳湾", "石桥", "芦荡", "杏林")
_NUMERALS = "一二三四五六七八九"
_SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘蒋蔡余杜叶程苏魏吕丁任沈姚卢钱"
)
_GIVEN = (
    "子涵浩宇欣怡梓轩雨萱俊杰佳琪一诺思远嘉怡博文晨曦明轩若汐天佑可馨泽宇芷若宇航欣妍诗琪皓然雅婷志强晓东"
)


def rng_for(seed: int, part: str) -> np.random.Generator:
    """An independent, reproducible random stream for one part of the build."""
    return np.random.default_rng([seed, zlib.crc32(part.encode())])


def _ordinal(n: int) -> str:
    """Chinese ordinal for 1-999 (一, 二, … 十, 十一, … 二十一 … 一百, 一百零一, 一百一十 …).

    A district of a million students has several hundred schools of a stage.

    >>> [_ordinal(n) for n in (1, 10, 11, 21, 100, 101, 110, 999)]
    ['一', '十', '十一', '二十一', '一百', '一百零一', '一百一十', '九百九十九']
    """
    hundreds, rest = divmod(n, 100)
    if not 1 <= n <= 999:
        raise ValueError(f"ordinals run from 1 to 999, got {n}")
    tens, units = divmod(rest, 10)
    if hundreds == 0:
        text = "" if tens == 0 else ("十" if tens == 1 else _NUMERALS[tens - 1] + "十")
    else:
        text = (
            _NUMERALS[hundreds - 1]
            + "百"
            + ("" if rest == 0 else "零" if tens == 0 else _NUMERALS[tens - 1] + "十")
        )
    return text + ("" if units == 0 else _NUMERALS[units - 1])


def _stage_counts(n_schools: int) -> dict[str, int]:
    """Largest-remainder split of ``n_schools`` over the stages, at least one each."""
    exact = {s: share * n_schools for s, share in _STAGE_SHARES.items()}
    counts = {s: max(1, int(v)) for s, v in exact.items()}
    order = sorted(exact, key=lambda s: exact[s] - int(exact[s]), reverse=True)
    for stage in order[: max(0, n_schools - sum(counts.values()))]:
        counts[stage] += 1
    return counts


def schools(*, seed: int, students: int) -> pd.DataFrame:
    """The schools: id, Chinese name, stage, location, size weight, boarding rate, label direction."""
    rng = rng_for(seed, "schools")
    rows = []
    for stage, count in _stage_counts(max(8, round(students / STUDENTS_PER_SCHOOL))).items():
        urban = rng.random(count) < _URBAN_SHARE[stage]
        urban[0] = stage != "nine_year"  # every stage has an urban school, nine-year ones a township one
        n_urban = n_town = 0
        for is_urban in urban:
            if is_urban:
                n_urban += 1
                name = {
                    "primary": "示例实验小学" if n_urban == 1 else f"示例第{_ordinal(n_urban)}小学",
                    "junior": f"示例第{_ordinal(n_urban)}初级中学",
                    "nine_year": f"示例第{_ordinal(n_urban)}九年一贯制学校",
                    "senior": "示例高级中学" if n_urban == 1 else f"示例第{_ordinal(n_urban)}高级中学",
                }[stage]
            else:
                town = _TOWNS[n_town % len(_TOWNS)] + ("" if n_town < len(_TOWNS) else _ordinal(n_town))
                n_town += 1
                name = {
                    "primary": f"示例{town}中心小学",
                    "junior": f"示例{town}初级中学",
                    "nine_year": f"示例{town}九年一贯制学校",
                    "senior": f"示例{town}高级中学",
                }[stage]
            boarding = stage == "senior" or (stage != "primary" and not is_urban)
            rows.append(
                {
                    "name": name,
                    "stage": stage,
                    "location": "urban" if is_urban else "township_central",
                    "weight": rng.lognormal(0.0, 0.25) * (1.3 if is_urban else 1.0),
                    "boarding_rate": rng.uniform(0.3, 0.8) if boarding and rng.random() < 0.7 else 0.0,
                    # some schools call the most severe warning 一级预警, others 三级预警
                    "severe_is_first": bool(rng.random() < 0.5),
                }
            )
    frame = pd.DataFrame(rows)
    frame.insert(0, "school_id", [f"SYN{i + 1:03d}" for i in range(len(frame))])
    return frame


def _pick(rng: np.random.Generator, n: int, candidates: pd.DataFrame, weight: np.ndarray) -> np.ndarray:
    """School ids drawn for ``n`` students with probability proportional to ``weight``."""
    p = np.asarray(weight, dtype=float)
    return candidates["school_id"].to_numpy()[rng.choice(len(candidates), size=n, p=p / p.sum())]


def _names(rng: np.random.Generator, n: int) -> np.ndarray:
    surnames = np.array(list(_SURNAMES))
    given = np.array(list(_GIVEN))
    surname_p = 1.0 / np.arange(1, len(surnames) + 1) ** 0.8
    first = surnames[rng.choice(len(surnames), size=n, p=surname_p / surname_p.sum())]
    g1 = given[rng.integers(0, len(given), n)]
    g2 = np.where(rng.random(n) < 0.75, given[rng.integers(0, len(given), n)], "")
    return np.char.add(np.char.add(first, g1), g2)


def students_frame(*, seed: int, students: int, school_frame: pd.DataFrame) -> pd.DataFrame:
    """Every student who is enrolled in at least one demo school year, with school assignments."""
    rng = rng_for(seed, "students")
    cohorts = np.arange(FIRST_YEAR - 11, FIRST_YEAR + N_YEARS)
    per_cohort = students / (9 + 3 * SENIOR_SHARE)
    sizes = np.round(per_cohort * rng.normal(1.0, 0.04, len(cohorts))).astype(int)
    cohort = np.repeat(cohorts, sizes)
    n = len(cohort)
    gender = np.where(rng.random(n) < 0.52, "M", "F")
    older = rng.random(n) < 4 / 12  # born Sep-Dec of the year before: entered grade 1 aged almost 7
    birth_year = cohort - 6 - older
    month = np.where(older, rng.integers(9, 13, n), rng.integers(1, 9, n))
    day = rng.integers(1, 29, n)
    birth = birth_year * 10_000 + month * 100 + day
    # sequence: unique within a birth date (7919 is coprime to 1,000); then the ID card's check character
    order = pd.Series(rng.permutation(n)).groupby(birth).rank(method="first").astype(int).to_numpy()
    sequence = (order * 7919 + birth * 2_654_435_761) % 1_000
    cards = [f"{FAKE_COUNTY}{b:08d}{s:03d}" for b, s in zip(birth, sequence, strict=True)]
    numbers = [f"G{card}{id_card_check_character(card)}" for card in cards]

    sch = school_frame.set_index("school_id")
    first_stage = school_frame[school_frame["stage"].isin(["primary", "nine_year"])]
    primary = _pick(rng, n, first_stage, first_stage["weight"])
    juniors = school_frame[school_frame["stage"] == "junior"]
    junior = primary.copy()
    from_primary = sch.loc[primary, "stage"].to_numpy() == "primary"
    for location in ("urban", "township_central"):
        here = from_primary & (sch.loc[primary, "location"].to_numpy() == location)
        boost = np.where(juniors["location"].to_numpy() == location, 4.0, 1.0)
        junior[here] = _pick(rng, int(here.sum()), juniors, juniors["weight"].to_numpy() * boost)
    seniors = school_frame[school_frame["stage"] == "senior"]
    senior = _pick(rng, n, seniors, seniors["weight"])
    frame = pd.DataFrame(
        {
            "student_number": numbers,
            "name": _names(rng, n),
            "gender": gender,
            "birth_year": birth_year,
            "cohort": cohort,
            "pid": pseudonymise(numbers, DEMO_KEY),
            "continues": rng.random(n) < SENIOR_SHARE,
            "primary_school": primary,
            "junior_school": junior,
            "senior_school": senior,
            "stable_key": rng.random(n),  # orders students into classes, stable across years
            "boarding_key": rng.random(n),
        }
    )
    # students past grade 9 before the first demo year who left for a vocational school never appear
    ever_present = (frame["cohort"] >= FIRST_YEAR - 8) | frame["continues"]
    return frame[ever_present].reset_index(drop=True)


def enrolments(student_frame: pd.DataFrame, school_frame: pd.DataFrame) -> pd.DataFrame:
    """One row per student and school year present: school, grade, class, boarder.

    Also carries ``year`` (0-based index into :data:`SCHOOL_YEARS`) and the
    student's row number ``student`` for joins inside the build.
    """
    years = np.arange(N_YEARS)
    grade = FIRST_YEAR + years[None, :] - student_frame["cohort"].to_numpy()[:, None] + 1
    present = (grade >= 1) & (grade <= 12) & ((grade <= 9) | student_frame["continues"].to_numpy()[:, None])
    who, year = np.nonzero(present)
    g = grade[who, year]
    school = np.where(
        g <= 6,
        student_frame["primary_school"].to_numpy()[who],
        np.where(
            g <= 9,
            student_frame["junior_school"].to_numpy()[who],
            student_frame["senior_school"].to_numpy()[who],
        ),
    )
    frame = pd.DataFrame(
        {
            "student": who,
            "year": year,
            "pid": student_frame["pid"].to_numpy()[who],
            "school_year": np.asarray(SCHOOL_YEARS)[year],
            "school_id": school,
            "grade": g,
        }
    )
    group = frame.groupby(["year", "school_id", "grade"])
    size = group["student"].transform("size").to_numpy()
    n_classes = np.maximum(1, np.round(size / CLASS_SIZE)).astype(int)
    frame["stable_key"] = student_frame["stable_key"].to_numpy()[who]
    rank = frame.groupby(["year", "school_id", "grade"])["stable_key"].rank(method="first").to_numpy() - 1
    frame["class_no"] = (rank * n_classes // size).astype(int) + 1
    rate = school_frame.set_index("school_id").loc[school, "boarding_rate"].to_numpy()
    frame["boarder"] = student_frame["boarding_key"].to_numpy()[who] < rate
    return frame.drop(columns="stable_key").sort_values(["pid", "year"], ignore_index=True)
