"""The 「师资与阵地」 page: psychology teachers against each standard, the hiring projection, counselling rooms,
courses and activities, read from the published mart (:mod:`psychanalytics.mart.staffing`)."""

from __future__ import annotations

from pathlib import Path

import ipywidgets as widgets
import pandas as pd

from psychanalytics import viz
from psychanalytics.dashboards import _card
from psychanalytics.dashboards._groups import filtered_body, group_words, no_data, picked, titled
from psychanalytics.dashboards._page import LeaderPage, chart, chart_row, leader_page
from psychanalytics.mart import Mart
from psychanalytics.mart import staffing as tables
from psychanalytics.privacy import shown_text
from psychanalytics.viz.staffing import gap_bars, hiring_projection, share_bars

STAFFING_TITLE = "师资与阵地"
PLAN_STANDARD = "zhonglou_2024"
"""The standard of the district plan (每校至少1名专职): its schools meeting it make the page's headline, and
its teachers still needed are projected."""


def _first(frame: pd.DataFrame) -> pd.Series | None:
    return None if frame.empty else frame.iloc[0]


def _shown(row: pd.Series | None, column: str, template: str = "{:,}") -> str:
    if row is None:
        return "—"
    return shown_text(row[column], row.get("marker", ""), template=template)


def _cards(views, state) -> widgets.HTML:
    teachers = _first(picked(views["teachers"], state))
    gaps = picked(views["gaps"], state)
    plan_row = _first(gaps[gaps["standard"] == PLAN_STANDARD])
    students = _first(picked(views["students"], state))
    rooms = _first(views["rooms"][views["rooms"]["school_year"] == state["school_year"]])
    fte = "—" if teachers is None else f"{teachers['fte']:.1f}"
    cards = (
        _card(
            "专职心理教师",
            "full-time psychology teachers",
            "—" if teachers is None else f"{teachers['full_time']:,} 名",
            "暂无数据" if teachers is None
            else f"兼职 {teachers['part_time']:,} 名 · 折合全职 {fte} 名 · {teachers['schools']} 所学校",
        ),
        _card(
            "配备专职心理教师的学校",
            "schools with a full-time psychology teacher",
            _shown(plan_row, "proportion", "{:.0%}"),
            "暂无数据" if plan_row is None
            else f"{_shown(plan_row, 'count')} / {_shown(plan_row, 'n')} 所学校 · 区计划目标 "
            f"{plan_row['target_share']:.0%}（期限 {plan_row['deadline']} 学年）",
        ),
        _card(
            "每名专职心理教师对应学生",
            "students per full-time psychology teacher",
            "无专职教师" if teachers is not None and teachers["full_time"] == 0
            else _shown(students, "students_per_full_time", "{:,.0f} 人"),
            "暂无数据" if students is None
            else f"在册学生 {_shown(students, 'n')} 人，{_shown(students, 'proportion', '{:.0%}')} 在有专职教师的学校",
        ),
        _card(
            "心理辅导室达标（全区）",
            "schools with a standard counselling room, district",
            _shown(rooms, "proportion", "{:.0%}"),
            "暂无数据" if rooms is None
            else f"{_shown(rooms, 'count')} / {_shown(rooms, 'n')} 所学校 · 目标 {rooms['target_share']:.0%}"
            f"（期限 {rooms['deadline']} 学年）",
        ),
    )  # fmt: skip
    return widgets.HTML(f'<div style="display:flex;gap:12px;margin:6px 0">{"".join(cards)}</div>')


def _projection_figure(views, state):
    rows = views["projection"]
    rows = rows[(rows["as_of"] == state["school_year"]) & (rows["standard"] == PLAN_STANDARD)]
    deadline = rows["deadline"].iloc[0] if len(rows) else ""
    fig = hiring_projection(
        rows,
        deadline=deadline,
        title=viz.bilingual("尚缺专职心理教师：实际与预测（全区）", "observed and projected"),
        ci=float(rows["ci"].iloc[0]) if len(rows) else 0.8,
    )
    if rows.empty:
        fig.add_annotation(
            text=viz.bilingual("至少需要两个学年的数据才能预测", "needs two school years"), x=0.5, y=0.5,
            xref="paper", yref="paper", showarrow=False, font=dict(size=15),
        )  # fmt: skip
    return fig


def _room_trend(views, state):
    rooms = views["rooms"]
    shown = rooms[rooms["school_year"] <= state["school_year"]]
    fig = viz.staffing_bars(shown)
    fig.update_layout(
        title_text=viz.bilingual("心理辅导室达标学校占比（全区）", "schools with a standard room")
    )
    fig.update_traces(name="达标率", marker_color="#0072B2")
    return fig


def _charts(views, state) -> list[widgets.Widget]:
    where = group_words(state)
    gaps = picked(views["gaps"], state)
    if gaps.empty:
        return [no_data(f"{where}：暂无数据", "no school in this group")]
    requirements = picked(views["requirements"], state)
    activities = picked(views["activities"], state)
    return [
        _cards(views, state),
        chart_row(
            [
                chart(
                    gap_bars(gaps, title=titled("各标准下尚缺心理教师", "teachers still needed", state)),
                    "每行一个配备标准（区计划、国家文件、外省师生比与国际比较），条越短越好；右侧写着还缺几名、几所学校达标。",
                    "one row per standard: teachers still needed and schools meeting it",
                    width="58%",
                ),
                chart(
                    _projection_figure(views, state),
                    "蓝线是历年实际缺口，橙色虚线是按近年速度的预测，阴影是可能范围；红色竖线是区计划期限。",
                    "blue: observed gap; orange: projected at the current pace, with its band; red: deadline",
                    width="42%",
                ),
            ]
        ),
        chart_row(
            [
                chart(
                    share_bars(
                        requirements, title=titled("心理辅导室各项要求达标", "room requirements met", state)
                    ),
                    "每行一项建设或制度要求，条越长达标学校越多；标签是达标学校数/应达标学校数。",
                    "one row per requirement: share and number of schools meeting it",
                    width="55%",
                ),
                chart(
                    _room_trend(views, state),
                    "各学年全部要求都达标的学校占比，区计划要求城区学校和乡镇中心校全部达标。",
                    "share of schools meeting every requirement, per school year",
                    width="45%",
                ),
            ]
        ),  # fmt: skip
        chart_row(
            [
                chart(
                    share_bars(activities, title=titled("心理健康课与活动", "lessons and activities", state)),
                    "每行一项课程或活动，条越长完成得越好；标签注明单位（年级学期、课时、学校、月份）。讲座为全区统一举办。",
                    "one row per course or activity: share done, with its unit",
                )
            ]
        ),  # fmt: skip
    ]


def _notes() -> list[tuple[str, str]]:
    return [
        (
            "怎么看这一页：学校数、教师数、课时和月份是公开的机构信息，如实显示；学生人数（在册学生、每名专职教师对应学生数）"
            "与其他页面一样，少于 10 人不显示。各配备标准并列计算、互不合并，标准及其出处见 staffing/standards.yaml。"
            "标「全区」的数字不随学段、城乡筛选变化。",
            "How to read this page: counts of schools, teachers, lessons and months are institutional facts, shown "
            "whole; numbers of students follow the same rule as every page. Standards are computed side by side. "
            "Figures marked 全区 are district-wide and do not follow the stage and location filters.",
        ),
        (
            "预测为按近年进度画出的直线及其 80% 预测区间，历年数据少时区间宽，仅供参考。",
            "The projection is a straight line through the years with its 80% prediction band: indicative only.",
        ),
    ]


STAFFING_VIEWS = {
    "gaps": tables.GAPS,
    "teachers": tables.TEACHERS,
    "students": tables.STUDENTS_PER_TEACHER,
    "projection": tables.PROJECTION,
    "rooms": tables.ROOMS,
    "requirements": tables.ROOM_REQUIREMENTS,
    "activities": tables.ACTIVITIES,
}
"""The page's views and the mart table each is."""


def _body(mart: Mart):
    views = {key: mart.table(table.name) for key, table in STAFFING_VIEWS.items()}
    return filtered_body(
        views,
        "gaps",
        _charts,
        notes=_notes(),
        empty=("暂无数据：尚无学校报送师资与心理辅导室情况", "no staffing data yet"),
    )


def build_staffing(mart: str | Path | Mart | None = None) -> LeaderPage:
    """The 「师资与阵地」 page for district leaders, read from the published mart.

    Filters 学年, 学段, 城乡 (choosing among published rows); four headline numbers (full-time psychology
    teachers, schools with one against the district plan, students per full-time teacher, schools with a
    standard counselling room) each with its denominator; teachers still needed under each staffing
    standard side by side; the hiring projection; counselling-room requirements and their trend; psychology
    lessons and activities. Every chart has a 「怎么看」 hint; the footer comes from the page shell.

    Parameters
    ----------
    mart : str, Path or Mart, optional
        The published mart; default ``PSYCHANALYTICS_MART`` (set by ``psychanalytics serve``).

    Returns
    -------
    LeaderPage
        ``views``: ``gaps``, ``teachers``, ``students``, ``projection``, ``rooms``, ``requirements``,
        ``activities`` (the mart tables of :mod:`psychanalytics.mart.staffing`). A mart without staffing
        rows gives a page saying 暂无数据.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from psychanalytics import mart, store
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> engine = store.connect(folder / "store.sqlite")
    >>> store.create_all(engine)
    >>> _ = mart.publish(engine, folder / "mart.sqlite")
    >>> page = build_staffing(folder / "mart.sqlite")
    >>> "暂无数据" in page.children[1].value
    True
    """
    return leader_page(
        mart, STAFFING_TITLE, "Psychology teachers, counselling rooms, courses and activities", _body
    )
