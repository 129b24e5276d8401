"""The year-end supervision scorecard (督导检查表): the plan's five checks for every school, from the mart."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from psychanalytics import plan
from psychanalytics.reports._annual import LOCATION_WORDS, read_plan_results
from psychanalytics.reports._xlsx import write_xlsx
from psychanalytics.screening._trends import STAGE_WORDS

LABELS = {
    "school_id": ("学校编号", "school id"),
    "school_name": ("学校", "school"),
    "stage": ("学段", "stage"),
    "location": ("城乡", "location"),
    "check": ("检查项", "check"),
    "status": ("结论", "result"),
    "evidence": ("依据", "evidence"),
    "missing": ("缺项", "what is missing"),
}
"""The workbook's columns: Chinese and English headers."""


@dataclass(frozen=True)
class SupervisionScorecard:
    """The five supervision checks of every school in one school year (:func:`supervision_scorecard`).

    Attributes
    ----------
    school_year : str
    table : pandas.DataFrame
        One row per school and check, schools by id and checks in the plan's order: ``school_id,
        school_name, stage, location, check, status`` (in Chinese), ``evidence`` (what the data show) and
        ``missing`` (what the school lacks; empty when it passes).
    summary : pandas.DataFrame
        Schools per check and result: ``check, name_zh, pass, fail, no_data, n``.
    labels : dict
        :data:`LABELS`, for :func:`psychanalytics.reports.write_xlsx`.
    notes : tuple of str
        What the table rests on, for the workbook's notes sheet.
    """

    school_year: str
    table: pd.DataFrame
    summary: pd.DataFrame
    labels: dict
    notes: tuple[str, ...]


def _table(results: plan.PlanResults) -> pd.DataFrame:
    card = results.scorecard.merge(results.schools, on="school_id", how="left", validate="many_to_one")
    card["check"] = pd.Categorical(card["check"], categories=list(plan.CHECKS), ordered=True)
    card = card.sort_values(["school_id", "check"], kind="stable")
    return pd.DataFrame(
        {
            "school_id": card["school_id"],
            "school_name": card["school_name"],
            "stage": card["stage"].map(lambda code: STAGE_WORDS.get(code, (code,))[0]),
            "location": card["location"].map(lambda code: LOCATION_WORDS.get(code, code)),
            "check": card["name_zh"],
            "status": card["status_zh"],
            "evidence": card["evidence"],
            "missing": card["missing"],
        }
    ).reset_index(drop=True)


def _summary(scorecard: pd.DataFrame) -> pd.DataFrame:
    counts = pd.crosstab(scorecard["check"], scorecard["status"]).reindex(
        index=list(plan.CHECKS), columns=list(plan.CHECK_STATUS), fill_value=0
    )
    out = counts.rename_axis(index="check", columns=None).reset_index()
    out.insert(1, "name_zh", [plan.CHECKS[c][0] for c in out["check"]])
    out["n"] = counts.sum(axis=1).to_numpy()
    return out


def supervision_scorecard(mart=None, *, school_year: str) -> SupervisionScorecard:
    """The supervision scorecard of ``school_year``: each school's five checks with their evidence.

    Computed by :func:`psychanalytics.plan.scorecard` when the mart was published, read back from the
    mart (:func:`psychanalytics.mart.plan.plan_results`): institutional facts of each school, no student.

    Parameters
    ----------
    mart : str, Path or Mart, optional
        A published mart (default ``PSYCHANALYTICS_MART``).
    school_year : str
        e.g. ``2024-2025``.

    Returns
    -------
    SupervisionScorecard

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from psychanalytics import store, synth
    >>> from psychanalytics.mart import publish
    >>> from psychanalytics.mart.plan import RESULT_COLUMNS, RESULTS
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> engine = store.connect(folder / "store.sqlite")
    >>> store.create_all(engine)
    >>> _ = synth.build_demo(engine, seed=1, students=600)
    >>> _ = publish(engine, folder / "mart.sqlite", tables=[*RESULTS.values(), RESULT_COLUMNS])
    >>> card = supervision_scorecard(folder / "mart.sqlite", school_year="2024-2025")
    >>> card.summary["name_zh"].tolist()
    ['组织机构到位', '心理教师专岗专用', '课程开齐开足', '心理辅导常态化', '教师专业发展']
    >>> int(card.summary["n"].iloc[0]) == card.table["school_id"].nunique()
    True
    """
    results, manifest = read_plan_results(mart, school_year=school_year)
    summary = _summary(results.scorecard)
    snapshot = manifest["snapshot"]
    notes = (
        f"{school_year}学年年终督导五项检查，由台账数据计算（psychanalytics.plan.scorecard）；"
        f"数据截至 {snapshot['data_as_of']}，汇总数据发布于 {manifest['published_utc']} (UTC)。",
        "检查项：" + "；".join(f"{zh}（{en}）" for zh, en in plan.CHECKS.values()) + "。",
        "结论：达标 = 各项条件均满足；未达标 = 至少一项不满足（见「缺项」）；缺数据 = 该项没有台账数据，不视为达标。",
        *(
            f"{row['name_zh']}：达标 {row['pass']} 所，未达标 {row['fail']} 所，缺数据 {row['no_data']} 所（共 {row['n']} 所）"
            for _, row in summary.iterrows()
        ),
        "本表只含学校层面的台账信息，不含学生个人信息；学校按编号排列，不作排名。",
        *(["演示数据（合成）：由合成数据生成，不反映任何真实学校。"] if results.synthetic else []),
    )
    return SupervisionScorecard(
        school_year=school_year, table=_table(results), summary=summary, labels=LABELS, notes=notes
    )


def write_scorecard(card: SupervisionScorecard, path: str | Path) -> Path:
    """Save the scorecard as a bilingual XLSX workbook (the checks, then a notes sheet with the summary)."""
    return write_xlsx(card, Path(path).with_suffix(".xlsx"), sheet="督导检查 checks")
