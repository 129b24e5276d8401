"""The annual survey report (调研报告): its sections as HTML, built from one :class:`PlanResults`."""

from __future__ import annotations

import datetime as dt
import html
import os
from dataclasses import dataclass, field
from importlib import resources

import pandas as pd
import plotly.graph_objects as go
from IPython.display import HTML

from psychanalytics import plan, viz
from psychanalytics.privacy import LeaderView, leader_view, marker_note
from psychanalytics.screening._trends import STAGE_WORDS

SECTIONS = (
    "一、总体情况",
    "二、目标达成情况",
    "三、主要差距",
    "四、存在的问题",
    "五、工作建议",
    "附件：分校情况",
)
"""The report's section headings, in order (the tests find every one in the PDF)."""

LOCATION_WORDS = {"urban": "城区", "township_central": "乡镇中心校", "township": "乡镇"}
FIGURE_WIDTH = 640
"""Figure width in CSS pixels: the A4 text column (174 mm) at 96 px per inch, less a margin."""
MATRIX_ROWS = 22
"""Schools per compliance-matrix figure: a taller figure would not fit one page."""
CHECK_ORDER = tuple(plan.CHECKS)
_BEIJING = dt.timezone(dt.timedelta(hours=8), "CST")


def _e(text: object) -> str:
    return html.escape("" if text is None or (isinstance(text, float) and pd.isna(text)) else str(text))


def _table(header: list[str], rows: list[list[str]], widths: list[int] | None = None) -> str:
    """An HTML table; cells are HTML already (escape what comes from data with :func:`_e`)."""
    cols = (
        ""
        if widths is None
        else "<colgroup>" + "".join(f'<col style="width:{w}%">' for w in widths) + "</colgroup>"
    )
    head = "".join(f"<th>{h}</th>" for h in header)
    body = "".join("<tr>" + "".join(rows_cell for rows_cell in row) + "</tr>" for row in rows)
    return f"<table>{cols}<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _td(text: str, cls: str = "") -> str:
    return f'<td class="{cls}">{text}</td>' if cls else f"<td>{text}</td>"


def _status(code: str) -> str:
    zh, _, symbol, _ = plan.STATUS_LABELS[code]
    return f'<span class="status {code}">{symbol} {zh}</span>'


def _check_status(code: str) -> str:
    return f'<span class="status {code}">{"✓" if code == "pass" else "✗" if code == "fail" else "–"} {plan.CHECK_STATUS[code]}</span>'


def _school_view(frame: pd.DataFrame, met: pd.Series, labels: list[str]) -> LeaderView:
    """A table whose rows are schools' institutional facts, through the leader-output policy as schools."""
    table = frame[labels].assign(count=met.astype("int64").to_numpy(), n=1)
    return leader_view(table, unit="school", labels=labels)


@dataclass
class AnnualReport:
    """The annual survey report of one school year: call its sections in order (the report notebook does).

    Every table it shows passes :func:`psychanalytics.privacy.leader_view` (kept in ``views``). The
    report holds no count of students: its numbers are schools, teachers, classes, lessons, months and
    days — institutional facts, shown whole as ``unit="school"``.
    """

    results: plan.PlanResults
    published_at: dt.datetime
    data_as_of: str | None
    min_cell: int
    views: dict[str, LeaderView] = field(default_factory=dict)
    _plotly_sent: bool = False
    _figures: int = 0

    # --- helpers ------------------------------------------------------------------------------
    @property
    def year(self) -> str:
        return self.results.school_year

    def _names(self) -> pd.Series:
        return self.results.schools.set_index("school_id")["school_name"]

    def _figure(self, fig: go.Figure, caption: str) -> str:
        """The figure as HTML with its numbered caption (plotly.js inline once, with the first figure)."""
        self._figures += 1
        caption = f"图{self._figures}　{caption}"
        fig.update_layout(width=FIGURE_WIDTH, font_size=12, title_font_size=14, margin_r=30)
        div = fig.to_html(
            full_html=False,
            include_plotlyjs=not self._plotly_sent,
            config={"staticPlot": True, "displayModeBar": False, "responsive": False},
        )
        self._plotly_sent = True
        return f'<div class="figure">{div}<div class="caption">{_e(caption)}</div></div>'

    def _attainment(self, level: str) -> pd.DataFrame:
        a = self.results.attainment
        return a[a["level"] == level].reset_index(drop=True)

    # --- sections -----------------------------------------------------------------------------
    def head(self) -> HTML:
        """Title, issuing bodies, the data it rests on; the 「演示数据」 banner on demo data."""
        r = self.results
        banner = (
            '<div class="banner">演示数据（合成）：本报告由合成数据生成，不反映任何真实学校</div>'
            if r.synthetic
            else ""
        )
        zh, _ = marker_note(self.min_cell)
        return HTML(
            f"<h1>钟楼区中小学生心理健康服务工作<br>督导调研报告（{_e(self.year)}学年）</h1>"
            '<div class="cover"><div class="org">钟楼区未成年人成长指导中心　江苏理工学院基础教育心理健康教育中心</div>'
            f'<div class="meta">初稿：由分析工作台依据台账数据自动生成，第五部分由撰写人填写。数据截至 {_e(self.data_as_of or "—")}，汇总数据发布于 {self.published_at.astimezone(_BEIJING):%Y-%m-%d %H:%M}（北京时间）。</div></div>'
            f'{banner}<p class="note">说明：本报告只含学校层面的汇总信息（学校、教师、班级、课时、月份、天数），不含任何学生个人信息。{_e(zh)}'
            "状态标记：✓ 已达成　↗ 按期可达　! 存在风险　✗ 未达成　– 无数据。学校按编号排列，不作排名。</p>"
        )

    def summary(self) -> HTML:
        """一、总体情况: the year in a few sentences and the count of targets by status."""
        r = self.results
        now = r.profile[r.profile["school_year"] == self.year]
        full = r.district_gaps[
            (r.district_gaps["school_year"] == self.year) & (r.district_gaps["standard"] == "zhonglou_2024")
        ].iloc[0]
        rooms = r.room_share[r.room_share["school_year"] == self.year]
        lecture = r.lectures[r.lectures["school_year"] == self.year].iloc[0]
        lessons = r.lessons[r.lessons["school_year"] == self.year]
        status = r.attainment.groupby(["plan", "status"]).size().unstack(fill_value=0)
        self.views["summary_status"] = leader_view(
            status.stack().rename("count").reset_index().assign(n=lambda f: f.groupby("plan")["count"].transform("sum")),
            by=("plan",), unit="school", labels=("plan", "status"),
        )  # fmt: skip
        counts = []
        for code in dict.fromkeys(r.attainment["plan"]):
            rows = r.attainment[r.attainment["plan"] == code]
            sentence = []
            for level, unit, noun in (("district", "项", "全区目标"), ("school", "项次", "分校目标")):
                judged = rows[rows["level"] == level]
                if judged.empty:
                    continue
                tally = judged["status"].value_counts()
                parts = "，".join(
                    f"{plan.STATUS_LABELS[s][0]} {tally[s]} {unit}" for s in plan.STATUSES if s in tally
                )
                sentence.append(f"{noun} {len(judged)} {unit}：{parts}")
            counts.append(f"对照《{_e(plan.targets(code).name_zh)}》，" + "；".join(sentence) + "。")
        room_text = (
            f"{int(rooms['count'].iloc[0])}/{int(rooms['n'].iloc[0])} 所城区学校和乡镇中心校的心理辅导室达到建设指南要求"
            if len(rooms)
            else "无心理辅导室数据"
        )
        text = (
            f"<p>{_e(self.year)}学年，全区 {len(now)} 所学校报送数据，在校生 {int(now['enrolment'].sum()):,} 人；"
            f"心理健康教育教师 {int(now['teachers'].sum())} 名，其中专职 {int(now['full_time'].sum())} 名、兼职 "
            f"{int(now['part_time'].sum())} 名，{int(full['count'])}/{int(full['n'])} 所学校配有专职心理教师。{room_text}；"
            f"{int((lessons['count'] == lessons['n']).sum())}/{len(lessons)} 所学校心理健康课全部开足；"
            f"「让爱更有智慧」讲座 {int(lecture['count'])}/{int(lecture['n'])} 个教学月举办。</p>"
        )
        return HTML(f"<h2>{SECTIONS[0]}</h2>{text}" + "".join(f"<p>{c}</p>" for c in counts))

    def achievements(self) -> HTML:
        """二、目标达成情况: district targets as traffic lights, then schools by status for each school target."""
        parts = [f"<h2>{SECTIONS[1]}</h2>"]
        district = self._attainment("district")
        view = _school_view(
            district, district["status"] == "met",
            ["plan", "target", "item", "name_zh", "text", "deadline", "status", "trend", "note"],
        )  # fmt: skip
        self.views["district_targets"] = view
        for number, (code, rows) in enumerate(view.cells.groupby("plan", sort=False), start=1):
            parts.append(f"<h3>（{'一二三四'[number - 1]}）{_e(plan.targets(code).name_zh)}：全区目标</h3>")
            body = [
                [
                    _td(_e(r.item), "center"), _td(_e(r.name_zh)), _td(_e(r.deadline or "每年"), "center"),
                    _td(_e(r.text)), _td(_status(r.status)), _td(_e(r.trend), "center"), _td(_e(r.note), "note"),
                ]
                for r in rows.itertuples()
            ]  # fmt: skip
            parts.append(
                _table(
                    ["工作项", "目标", "期限", "本年情况", "状态", "较上年", "说明"],
                    body,
                    [9, 23, 11, 19, 12, 8, 18],
                )
            )
        schools = self._attainment("school")
        counts = schools.groupby(["target", "status"], sort=False).size().rename("count").reset_index()
        counts["n"] = counts.groupby("target")["count"].transform("sum")
        self.views["school_targets"] = leader_view(
            counts, by=("target",), unit="school", labels=("target", "status")
        )
        shown = (
            self.views["school_targets"]
            .cells.pivot(index="target", columns="status", values="count")
            .fillna(0)
        )
        order = list(dict.fromkeys(schools["target"]))
        names = dict(zip(schools["target"], schools["name_zh"], strict=False))
        deadlines = dict(zip(schools["target"], schools["deadline"], strict=False))
        body = [
            [_td(_e(names[t])), _td(_e(deadlines[t] or "每年"), "center")]
            + [_td(f"{int(shown.loc[t].get(s, 0))}", "num") for s in plan.STATUSES]
            for t in order
        ]
        parts.append(f"<h3>（{'一二三四'[district['plan'].nunique()]}）分校目标：各状态学校数</h3>")
        parts.append(
            _table(["目标", "期限", *[_status(s) for s in plan.STATUSES]], body, [34, 12, 11, 11, 11, 11, 10])
        )
        parts.append('<p class="note">各校情况见附件。表中为学校数，按目标排列，不作学校排名。</p>')
        return HTML("".join(parts))

    def gaps(self) -> HTML:
        """三、主要差距: staffing under every standard and the hiring pace; rooms; courses and activities."""
        r = self.results
        parts = [f"<h2>{SECTIONS[2]}</h2>", "<h3>（一）心理教师配备</h3>"]
        year_gaps = r.district_gaps[r.district_gaps["school_year"] == self.year].reset_index(drop=True)
        self.views["staffing_standards"] = leader_view(
            year_gaps[["standard", "name_zh", "count", "n"]], unit="school", labels=("standard", "name_zh")
        )
        shown = self.views["staffing_standards"].cells.merge(
            year_gaps[["standard", "teachers_needed", "target_share", "deadline"]], on="standard"
        )
        body = [
            [
                _td(_e(s.name_zh)), _td(f"{s.count}/{s.n}", "num"),
                _td(f"{s.teachers_needed:,.{0 if float(s.teachers_needed).is_integer() else 1}f}", "num"),
                _td(_e("—" if pd.isna(s.target_share) else f"{s.target_share:.0%}（{s.deadline}）"), "center"),
            ]
            for s in shown.itertuples()
        ]  # fmt: skip
        parts.append(_table(["标准", "达标学校", "尚缺人数", "目标（期限）"], body, [52, 14, 12, 22]))
        parts.append(
            '<p class="note">各标准并列呈现，互不合并。折合全职（FTE）= 专职人数 + 兼职每周心理工作课时 ÷ '
            f"{r.full_time_hours:g}（假定值，可调）。ASCA、NASP 为美国学校咨询师、学校心理学家的配备建议，仅作国际比较。"
            "“2024年”“2025年”分别按 2024-2025、2025-2026 学年理解（可调）。</p>"
        )
        parts.append(self._figure(viz.gap_bars(year_gaps), f"{self.year}学年各标准下尚缺心理教师人数"))
        for code, projection in r.projections.items():
            standard = next(s for s in r.standards if s.code == code)
            parts.append(self._projection_text(standard, projection))
            if projection.reached:
                continue
            parts.append(
                self._figure(
                    viz.hiring_projection(projection.table, deadline=standard.deadline, ci=projection.ci,
                                          title=viz.bilingual(f"{standard.name_zh}：尚缺人数", "teachers still needed")),
                    f"按近年进度预测（阴影为 {projection.ci:.0%} 预测区间）",
                )
            )  # fmt: skip
        parts.append(self._rooms())
        parts.append(self._activities())
        return HTML("".join(parts))

    def _projection_text(self, standard, p) -> str:
        pace = -p.pace
        if p.reached:
            return f"<p>按「{_e(standard.name_zh)}」，本学年已无缺口。</p>"
        passed = p.deadline != standard.deadline
        when = (
            f"期限 {standard.deadline} 已到，仍缺 {p.current:.0f} 名"
            if passed
            else f"距期限 {standard.deadline} 还有 {p.years_left} 个学年，目前尚缺 {p.current:.0f} 名，需每年净增约 {-p.needed_per_year:.1f} 名"
        )
        chance = (
            "" if pd.isna(p.probability) or passed else f"，按此进度到期达标的可能性约 {p.probability:.0%}"
        )
        band = "" if pd.isna(p.pace_low) else f"（{p.ci:.0%} 区间 {-p.pace_high:.1f}～{-p.pace_low:.1f}）"
        return (
            f"<p>按「{_e(standard.name_zh)}」：近年缺口每年减少约 {pace:.1f} 名{band}；{when}{chance}。"
            "预测假定今后进度与近年相同；历年数据少，预测仅供参考。</p>"
        )

    def _rooms(self) -> str:
        r = self.results
        share = r.room_share
        now = share[share["school_year"] == self.year]
        self.views["rooms_share"] = leader_view(share[["school_year", "count", "n"]], unit="school")
        text = "无心理辅导室数据。"
        if len(now):
            row = now.iloc[0]
            text = (
                f"{_e(self.year)}学年，{int(row['count'])}/{int(row['n'])} 所城区学校和乡镇中心校的心理辅导室达到要求"
                f"（要求 {r.room_rule.deadline} 学年前全部达标）。要求包括教育部 2015 年建设指南的必备功能区和心理信箱，"
                f"值班、预约、辅导、档案建设、档案移交五项制度，每周开放不少于 {r.room_rule.min_hours_week:g} 小时"
                f"（常州：每天不少于 {r.room_rule.min_hours_per_day:g} 小时），以及当年的年度检查。"
            )
        parts = ["<h3>（二）心理辅导室</h3>", f"<p>{text}</p>"]
        matrix = r.room_compliance[r.room_compliance["school_year"] == self.year]
        schools = list(dict.fromkeys(matrix["school_id"]))
        for start in range(0, len(schools), MATRIX_ROWS):
            chunk = matrix[matrix["school_id"].isin(schools[start : start + MATRIX_ROWS])]
            view = _school_view(chunk, chunk["met"], ["school_id", "requirement", "name_zh"])
            self.views[f"room_matrix_{start}"] = view
            cells = view.cells.assign(met=view.cells["count"] == 1)
            parts.append(
                self._figure(
                    viz.compliance_matrix(
                        cells, self._names(), title=viz.bilingual("心理辅导室达标情况", "counselling rooms")
                    ),
                    f"{self.year}学年各校心理辅导室逐项达标情况（✓ 达标，✗ 未达标）",
                )
            )
        return "".join(parts)

    def _activities(self) -> str:
        r = self.results
        y = self.year
        lessons = r.lessons[r.lessons["school_year"] == y]
        lecture = r.lectures[r.lectures["school_year"] == y].iloc[0]
        days = r.events[(r.events["school_year"] == y) & r.events["school_id"].isna()]
        coverage = r.coverage[r.coverage["school_year"] == y]
        parents = r.parents[r.parents["school_year"] == y]
        growth = r.indicators[
            (r.indicators["school_year"] == y)
            & r.indicators["school_id"].isna()
            & (r.indicators["indicator"] == "funding_growth")
        ]
        rows = [
            ("心理健康课", f"{int(lessons['lessons_delivered'].sum()):,}/{int(lessons['lessons_required'].sum()):,} 课时（实开/应开）；"
             f"{int((lessons['count'] == lessons['n']).sum())}/{len(lessons)} 所学校全部开足（每两周不少于 1 课时）"),
            ("「让爱更有智慧」讲座", f"{int(lecture['count'])}/{int(lecture['n'])} 个教学月举办" + (f"，{lecture['missing_zh']}未办" if lecture["missing_zh"] else "")),
            ("宣传日活动（区级）", "、".join(f"{d[:2].lstrip('0')}月{d[3:].lstrip('0')}日{'✓' if h else '✗'}" for d, h in zip(days["day"], days["held"], strict=True))),
            ("家长课堂", f"{int(parents['meets'].sum())}/{len(parents)} 所学校开办，共 {int(parents['classes'].sum())} 次"),
            ("全员导师制", f"{coverage['mentors'].sum():,.0f}/{coverage['teachers'].sum():,.0f} 名教师担任导师"),
            ("班级心理委员", f"{coverage['committee_classes'].sum():,.0f}/{coverage['classes'].sum():,.0f} 个班设立"),
            ("经费", f"全区心理健康教育经费较上年 {growth['text'].iloc[0]}" if len(growth) else "无上年数据"),
        ]  # fmt: skip
        table = pd.DataFrame(rows, columns=["item", "text"])
        view = _school_view(table, pd.Series(True, index=table.index), ["item", "text"])
        self.views["activities"] = view
        body = [[_td(_e(row.item)), _td(_e(row.text))] for row in view.cells.itertuples()]
        return "<h3>（三）课程与活动</h3>" + _table(["项目", f"{y}学年情况"], body, [24, 76])

    def problems(self) -> HTML:
        """四、存在的问题: each supervision check, the schools that did not pass and what is missing."""
        card = self.results.scorecard
        names = self._names()
        view = _school_view(
            card, card["status"] == "pass", ["school_id", "check", "name_zh", "status", "missing_short"]
        )
        self.views["problems"] = view
        parts = [f"<h2>{SECTIONS[3]}</h2><p>依据年终督导五项检查（由数据计算，各校依据见附件）：</p>"]
        for number, check in enumerate(CHECK_ORDER):
            rows = view.cells[view.cells["check"] == check]
            failing = rows[rows["status"] != "pass"]
            name = plan.CHECKS[check][0]
            if failing.empty:
                parts.append(f"<h4>（{'一二三四五'[number]}）{_e(name)}：{len(rows)} 所学校均达标。</h4>")
                continue
            parts.append(
                f"<h4>（{'一二三四五'[number]}）{_e(name)}：{len(failing)}/{len(rows)} 所学校未达标或缺数据</h4>"
            )
            body = [
                [
                    _td(_e(s.school_id), "center"),
                    _td(_e(names.get(s.school_id, s.school_id))),
                    _td(_e(s.missing_short)),
                ]
                for s in failing.itertuples()
            ]
            parts.append(_table(["编号", "学校", "缺项"], body, [12, 30, 58]))
        missed = self._attainment("district")
        missed = missed[missed["status"].isin(["missed", "at_risk"])]
        if len(missed):
            parts.append(
                "<h4>（六）全区目标</h4><p>"
                + "；".join(
                    f"{_e(m.name_zh)}（{_e(m.text)}，{plan.STATUS_LABELS[m.status][0]}）"
                    for m in missed.itertuples()
                )
                + "。</p>"
            )
        return HTML("".join(parts))

    def recommendations(self) -> HTML:
        """五、工作建议: left for the author, with the gaps it should answer listed as prompts."""
        district = self._attainment("district")
        open_targets = district[district["status"].isin(["missed", "at_risk"])]["name_zh"].tolist()
        prompts = (
            "".join(f"<li>{_e(t)}</li>" for t in open_targets)
            or "<li>（本年全区目标均已达成或按期可达）</li>"
        )
        return HTML(
            f"<h2>{SECTIONS[4]}</h2><div class='author-box'><p>（此部分由撰写人填写。）</p>"
            f"<p>建议针对以下未达成或存在风险的全区目标提出措施：</p><ul>{prompts}</ul></div>"
        )

    def annex(self) -> HTML:
        """附件：分校情况 — one page per school: its five checks with evidence, and its targets."""
        r = self.results
        card = r.scorecard
        schools = self._attainment("school")
        schools = schools[schools["school_id"].notna()]
        view = _school_view(
            schools,
            schools["status"] == "met",
            ["school_id", "name_zh", "text", "deadline", "status", "trend"],
        )
        self.views["annex_targets"] = view
        card_view = _school_view(
            card, card["status"] == "pass", ["school_id", "name_zh", "status", "evidence", "missing"]
        )
        self.views["annex_checks"] = card_view
        info = r.schools.set_index("school_id")
        stats = r.profile[r.profile["school_year"] == self.year].set_index("school_id")
        parts = [
            f'<div class="annex"><h2>{SECTIONS[5]}</h2><p class="note">每校一页，按学校编号排列。</p></div>'
        ]
        for school_id in card["school_id"].drop_duplicates():
            s = info.loc[school_id]
            p = stats.loc[school_id]
            checks = card_view.cells[card_view.cells["school_id"] == school_id]
            targets = view.cells[view.cells["school_id"] == school_id]
            check_rows = [
                [_td(_e(c.name_zh)), _td(_check_status(c.status)), _td(_e(c.evidence)), _td(_e(c.missing))]
                for c in checks.itertuples()
            ]
            target_rows = [
                [_td(_e(t.name_zh)), _td(_e(t.deadline or "每年"), "center"), _td(_e(t.text)), _td(_status(t.status)), _td(_e(t.trend), "center")]
                for t in targets.itertuples()
            ]  # fmt: skip
            parts.append(
                f'<div class="school"><div class="school-head">{_e(school_id)}　{_e(s["school_name"])}</div>'
                f'<div class="school-meta">{_e(STAGE_WORDS.get(s["stage"], (s["stage"],))[0])} · {_e(LOCATION_WORDS.get(s["location"], s["location"]))}'
                f" · 在校生 {int(p['enrolment']):,} 人 · 心理教师 专职 {int(p['full_time'])} 名、兼职 {int(p['part_time'])} 名</div>"
                "<h4>年终督导五项检查</h4>"
                + _table(["检查项", "结论", "依据", "缺项"], check_rows, [16, 11, 42, 31])
                + "<h4>目标对照</h4>"
                + _table(["目标", "期限", "本年情况", "状态", "较上年"], target_rows, [33, 13, 30, 14, 10])
                + "</div>"
            )  # fmt: skip
        return HTML("".join(parts))


def read_plan_results(mart=None, *, school_year: str) -> tuple[plan.PlanResults, dict]:
    """The plan's results of ``school_year`` and the manifest of ``mart`` (default ``PSYCHANALYTICS_MART``).

    The one read of leaders' reports: the published mart's ``plan_results_`` tables
    (:func:`psychanalytics.mart.plan.plan_results`), never the row-level store.
    """
    from psychanalytics.mart import MartNotFoundError, open_mart
    from psychanalytics.mart.plan import plan_results

    mart = mart if mart is not None else os.environ.get("PSYCHANALYTICS_MART")
    if mart is None:
        raise MartNotFoundError("no mart given and PSYCHANALYTICS_MART is not set (psychanalytics publish)")
    reader = open_mart(mart)
    try:
        return plan_results(reader, school_year=school_year), reader.manifest
    finally:
        if reader is not mart:
            reader.close()


def annual_report(mart=None, *, school_year: str, min_cell: int | None = None) -> AnnualReport:
    """The report of ``school_year`` from the published mart (:func:`read_plan_results`).

    Parameters
    ----------
    mart : str, Path or Mart, optional
        A published mart (SQLite file or PostgreSQL URL of the reader role; default
        ``PSYCHANALYTICS_MART``).
    school_year : str
        e.g. ``2024-2025``.
    min_cell : int, optional
        The small-cell threshold the report states (default: the one the mart was published under).

    Raises
    ------
    ValueError
        If the mart holds no results of ``school_year``.
    psychanalytics.mart.MartNotFoundError
        If ``mart`` is not a published mart.
    """
    results, manifest = read_plan_results(mart, school_year=school_year)
    return AnnualReport(
        results=results,
        published_at=dt.datetime.fromisoformat(manifest["published_utc"]).replace(tzinfo=dt.UTC),
        data_as_of=manifest["snapshot"]["data_as_of"],
        min_cell=manifest["min_cell"] if min_cell is None else min_cell,
    )


def stylesheet() -> HTML:
    """The report's print stylesheet (``report.css``) as a ``<style>`` element."""
    return HTML(
        f"<style>{resources.files('psychanalytics.reports').joinpath('report.css').read_text(encoding='utf-8')}</style>"
    )
