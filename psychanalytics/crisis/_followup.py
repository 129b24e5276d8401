"""The follow-up list of a school after a screening wave: who was flagged, by what, on the school's roster."""

from __future__ import annotations

from collections.abc import Iterable

import pandas as pd

from psychanalytics import instruments
from psychanalytics.crisis._conventions import name, warning_scale

FOLLOWUP_COLUMNS = ("学籍号", "姓名", "年级", "班级", "筛查发现", "第9题作答", "危机个案状态")
"""The columns of a follow-up list, in order (Chinese: the list goes to a school's psychology teacher).
``危机个案状态`` is the student's current crisis case at the school, if any (:func:`case_status`)."""

NO_CASE = "无"
"""``危机个案状态`` of a student without a crisis case at the school."""


def screen_positive_bands(codes: Iterable[str]) -> dict[str, tuple[str, int]]:
    """The band from which a total score flags a student, per instrument: ``{code: (band, band_rank)}``.

    The cut-off is the lowest one whose screening accuracy the instrument's
    spec publishes (``accuracy:``; docs/instruments.md), taken where it starts a
    band of the total: PHQ-9 and GAD-7 ``>= 10``, the ``moderate`` band.
    Instruments without a published cut-off on a band boundary are left out
    (their item flags, such as PHQ-9 item 9, still flag a student).

    >>> screen_positive_bands(["phq9", "gad7", "mht"])
    {'phq9': ('moderate', 2), 'gad7': ('moderate', 2)}
    """
    out = {}
    for code in codes:
        spec = instruments.get(code)
        cutoffs = sorted(a.at_least for a in spec.accuracy if a.scale == "total")
        bands = spec.scale("total").band_set() if "total" in spec.scale_codes else None
        if not cutoffs or bands is None:
            continue
        if cutoffs[0] in bands.lowers:
            rank = bands.lowers.index(cutoffs[0])
            out[code] = (bands.codes[rank], rank)
    return out


def _finding(row) -> str:
    spec = instruments.get(row.instrument)
    if row.finding == "flag":
        return f"{spec.abbreviation} {next(f.name_zh for f in spec.flags if f.name == row.code)}"
    total = "" if pd.isna(row.raw) else f"（总分 {row.raw:g}）"
    return f"{spec.abbreviation} {spec.scale('total').band(row.code).name_zh}{total}"


def item9_answer(code: float) -> str:
    """PHQ-9 item 9 as the list shows it: the code and its option text, 「未作答」 when missing.

    >>> item9_answer(1.0), item9_answer(float("nan"))
    ('1 好几天', '未作答')
    """
    if pd.isna(code):
        return "未作答"
    choice = next(c for c in instruments.get("phq9").options.choices if c.code == int(code))
    return f"{int(code)} {choice.labels[0]}"


def case_status(cases: pd.DataFrame) -> pd.Series:
    """Each student's latest crisis case as the follow-up list shows it, indexed by ``pid``.

    The latest case is the one raised last (cases whose warning time is
    undetermined come first, then by last event and ``case_id``). An open case
    shows the furthest stage it reached, the level handling it and its
    warning label (the school's own ``local_label``, or the district scale's);
    a closed one the day it closed. The 个案编号 is the school's own, so the
    psychology teacher can find the case; other cases of the student are
    counted.

    Parameters
    ----------
    cases : pandas.DataFrame
        ``CaseHistories.cases`` of one school (``case_id, pid, severity,
        local_label, level, raised_at, last_event_at, furthest, closed,
        closed_at``).

    Examples
    --------
    >>> cases = pd.DataFrame({"case_id": ["C1", "C2", "C3"], "pid": ["a", "a", "b"], "severity": [2, 3, 1],
    ...     "local_label": [None, "一级预警", None], "level": ["school", "society", "school"],
    ...     "raised_at": pd.to_datetime(["2024-10-08", "2025-03-02", "2025-04-01"]),
    ...     "last_event_at": pd.to_datetime(["2024-12-01", "2025-03-20", "2025-05-06"]),
    ...     "furthest": ["intervention", "referred", "confirmed"], "closed": [True, False, True],
    ...     "closed_at": pd.to_datetime(["2024-12-01", None, "2025-05-06"])})
    >>> case_status(cases).to_dict()
    {'a': '转介（社会） · 一级预警，个案 C2（另有 1 个既往个案）', 'b': '已结案 2025-05-06，个案 C3'}
    """
    if cases.empty:
        return pd.Series(dtype=object, name="status")
    scale = warning_scale()
    ordered = cases.sort_values(["pid", "raised_at", "last_event_at", "case_id"], na_position="first")
    latest = ordered.drop_duplicates("pid", keep="last").set_index("pid")
    count = cases.groupby("pid").size()
    texts = {}
    for pid, case in latest.iterrows():
        if case["closed"]:
            when = "" if pd.isna(case["closed_at"]) else f" {case['closed_at']:%Y-%m-%d}"
            text = f"已结案{when}，个案 {case['case_id']}"
        else:
            label = (
                case["local_label"]
                if isinstance(case["local_label"], str) and case["local_label"]
                else (scale.label(int(case["severity"])))
            )
            level = "" if pd.isna(case["level"]) else f"（{name('levels', case['level'])}）"
            text = f"{name('stages', case['furthest'])}{level} · {label}，个案 {case['case_id']}"
        if count[pid] > 1:
            text += f"（另有 {count[pid] - 1} 个既往个案）"
        texts[pid] = text
    return pd.Series(texts, name="status")


def followup_list(
    flagged: pd.DataFrame, roster: pd.DataFrame, item9: pd.DataFrame, cases: pd.DataFrame | None = None
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The flagged students found on the school's roster, one row each, and those that are not.

    Parameters
    ----------
    flagged : pandas.DataFrame
        ``pid, grade, class_no, instrument, finding, code, raw`` (one row per
        finding), as from :func:`psychanalytics.store.queries.crisis.flagged_students`.
    roster : pandas.DataFrame
        The school's roster: ``pid`` (the roster's 学籍号 pseudonymised with the
        store's key), ``student_number, name, grade, class`` as written.
    item9 : pandas.DataFrame
        ``pid, q9``: PHQ-9 item 9 of the wave (students without a PHQ-9 sheet absent).
    cases : pandas.DataFrame, optional
        ``CaseHistories.cases`` of the school's crisis cases: ``危机个案状态``
        shows each student's latest (:func:`case_status`), :data:`NO_CASE` for
        a student without one (and for everyone when ``cases`` is not given).

    Returns
    -------
    (pandas.DataFrame, pandas.DataFrame)
        The list (:data:`FOLLOWUP_COLUMNS`; students flagged by an item, such as
        PHQ-9 item 9, first, then by grade, class and 学籍号; 年级 and
        班级 as the roster writes them, or the store's numbers when it leaves
        them blank) and the flagged students not on the roster (``pid, grade,
        class_no``): counted, never dropped unseen.

    Examples
    --------
    >>> flagged = pd.DataFrame({"pid": ["a", "a", "b"], "grade": 8, "class_no": 2, "instrument": "phq9",
    ...                         "finding": ["band", "flag", "band"], "code": ["moderate", "item9", "severe"],
    ...                         "raw": [12.0, 12.0, 21.0]})
    >>> roster = pd.DataFrame({"pid": ["a"], "student_number": ["G1"], "name": ["张三"], "grade": ["初二"],
    ...                        "class": ["2班"]})
    >>> listed, missing = followup_list(flagged, roster, pd.DataFrame({"pid": ["a", "b"], "q9": [1.0, 0.0]}))
    >>> listed.iloc[0].tolist()
    ['G1', '张三', '初二', '2班', 'PHQ-9 中度（总分 12）；PHQ-9 第9题（自伤或死亡念头）≥1，需随访', '1 好几天', '无']
    >>> missing["pid"].tolist()
    ['b']
    """
    findings = flagged.assign(text=[_finding(r) for r in flagged.itertuples(index=False)])
    per_student = findings.groupby("pid", sort=False).agg(
        grade_no=("grade", "first"),
        class_no=("class_no", "first"),
        found=("text", "；".join),
        urgent=("finding", lambda f: bool((f == "flag").any())),
    )
    on_roster = roster.drop_duplicates("pid").set_index("pid")
    listed = per_student.join(on_roster, how="inner")
    answers = item9.set_index("pid")["q9"] if len(item9) else pd.Series(dtype=float)
    status = case_status(cases) if cases is not None else pd.Series(dtype=object)
    out = pd.DataFrame(
        {
            "学籍号": listed["student_number"],
            "姓名": listed["name"],
            "年级": listed["grade"].where(
                listed["grade"].fillna("") != "", listed["grade_no"].astype(str) + "年级"
            ),
            "班级": listed["class"].where(
                listed["class"].fillna("") != "", listed["class_no"].astype(str) + "班"
            ),
            "筛查发现": listed["found"],
            "第9题作答": [item9_answer(answers[p]) if p in answers.index else "—" for p in listed.index],
            "危机个案状态": [status.get(p, NO_CASE) for p in listed.index],
        }
    )
    order = out.assign(_u=~listed["urgent"], _g=listed["grade_no"], _c=listed["class_no"])
    out = out.loc[order.sort_values(["_u", "_g", "_c", "学籍号"]).index]
    missing = per_student.loc[~per_student.index.isin(on_roster.index), ["grade_no", "class_no"]]
    missing = missing.rename(columns={"grade_no": "grade"}).reset_index()
    return out.reset_index(drop=True), missing
