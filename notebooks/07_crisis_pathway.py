# ---
# jupyter:
#   jupytext:
#     cell_metadata_filter: tags,-all
#     formats: ipynb,py:percent
#     notebook_metadata_filter: kernelspec,jupytext
#     text_representation:
#       extension: .py
#       format_name: percent
#       format_version: '1.3'
#       jupytext_version: 1.19.6
#   kernelspec:
#     display_name: Python 3 (ipykernel)
#     language: python
#     name: python3
# ---

# %% [markdown]
# # 三级危机预警：个案流转、各阶段用时与心理档案 / The crisis-warning pathway and the archives
#
# 供教研员使用。班级—学校—社会三级预警的每一个个案都应走完「发现上报 → 评估确认 → 干预 →（转介）→ 结案」；
# 本笔记本看预警在哪一阶段停滞、每一阶段用了多少天（未结案的个案按删失处理，Kaplan–Meier）、
# 数据记录有哪些问题，以及每生一档的建档率和转学时档案是否随转。
# 面向领导的每一个数字都经过同一输出规则（`privacy.leader_view`）：少于 `min_cell` 的格子留空并标为「<10」，
# 为防止推算而隐藏的标为「*」。个案层面的内容只出现在最后一节，且只含本校个案、只有化名。
#
# For teaching-research staff: where warnings stall, how long each stage takes (open cases censored), the
# data problems of the case records, archive coverage and transfers. Every count passes the leader-output
# policy; case-level rows appear only in the last section, for one school, pseudonymous.

# %% tags=["parameters"]
db = None  # SQLite path or SQLAlchemy URL; None = PSYCHANALYTICS_DB
as_of = None  # when the data were extracted; None = the latest crisis event up to today
limit_days = 30  # an open case without contact for longer is stalled
min_cell = None  # None = PSYCHANALYTICS_MIN_CELL (10)
school = None  # one school_id for a school view; None = the school with most cases

# %%
import json

import pandas as pd

from psychanalytics import crisis, store, viz
from psychanalytics.privacy import leader_view, shown_text
from psychanalytics.store import queries
from psychanalytics.store.queries import crisis as crisis_queries

viz.use_notebook_renderer()
engine = store.connect_existing(db, read_only=True)
as_of = pd.Timestamp(as_of or crisis_queries.crisis_as_of(engine))
histories = crisis.case_histories(
    crisis_queries.crisis_events(engine), as_of=as_of, sessions=crisis_queries.crisis_sessions(engine)
)
cases = histories.cases
scale = crisis.warning_scale()
print("演示数据 / synthetic demo data" if queries.is_synthetic(engine) else "真实数据 / real data")
print(
    f"数据截至 / data as of: {as_of:%Y-%m-%d %H:%M} · 个案 / cases: {len(cases)} · 预警等级 / warning scale: {scale.name_zh}"
)

# %% [markdown]
# ## 数据问题 / Data problems of the case records
# 时间缺失、晚于截止时间、同一阶段记录多次、时间早于前一阶段、缺少前一阶段：这些个案的相关用时不计入下面的统计，
# 但不会被重排或删除；各校按自己的清单（最后一节）更正。下表只给出各类问题的个案数。

# %%
problem_counts = (
    histories.problems.groupby("problem").size().reindex(list(crisis.PROBLEMS), fill_value=0).rename("count")
)
pd.DataFrame(
    {
        "问题 / problem": [crisis.PROBLEMS[p] for p in problem_counts.index],
        "个案数 / cases": problem_counts.to_numpy(),
    }
)

# %% [markdown]
# ## 各阶段个案数与转化 / The funnel
# 每一阶段的个案占前一阶段（转介、干预占评估确认；结案占全部预警）的比例；红色为停在该阶段、超过 `limit_days` 天
# 没有任何跟进（阶段记录或心理辅导）的未结案个案——即在阶段之间「流失」的预警。

# %%
funnel = leader_view(crisis.funnel(cases), labels=["crisis_stage", "from_stage"], min_cell=min_cell)
waiting = crisis.open_cases(cases, as_of=as_of, limit_days=limit_days, ages=(limit_days,)).assign(
    district="全区"
)
stalled = leader_view(waiting, by=["district"], labels=["position", "waited", "past_limit"],
                      headline=waiting["past_limit"], min_cell=min_cell)  # fmt: skip
viz.stage_funnel(
    funnel.cells,
    stalled=stalled.cells[stalled.cells["past_limit"]].drop(columns="district"),
    limit_days=limit_days,
)

# %%
print(
    "停滞个案 / stalled open cases:",
    stalled.headline[["count", "n", "proportion", "marker"]].to_dict("records"),
)
by_source = leader_view(
    crisis.funnel(cases, by="source"), labels=["crisis_stage", "from_stage", "source"], min_cell=min_cell
)
by_source.cells.assign(source=by_source.cells["source"].map(lambda c: crisis.name("sources", c))).pivot(
    index="source", columns="crisis_stage", values="proportion"
)[list(crisis.PATHWAY)].round(3)

# %%
by_term = leader_view(
    crisis.funnel(cases, by="term"), labels=["crisis_stage", "from_stage", "term"], min_cell=min_cell
)
by_term.cells.pivot(index="term", columns="crisis_stage", values="count")[list(crisis.PATHWAY)]

# %% [markdown]
# ## 未结案个案停在哪里 / Open cases: where they wait and for how long

# %%
ageing = crisis.open_cases(cases, as_of=as_of, limit_days=limit_days, ages=(7, limit_days, 90)).assign(
    district="全区"
)
ageing_view = leader_view(
    ageing, by=["district"], labels=["position", "waited", "past_limit"], min_cell=min_cell
)
viz.open_case_ageing(ageing_view.cells, limit_days=limit_days)

# %% [markdown]
# ## 各阶段用时 / Days between stages (Kaplan–Meier, open cases censored)
# 曲线为到第几天已进入下一阶段的个案比例；中位数及其 95% 区间见各图标题（「未达到」：随访期内不到一半的个案进入下一阶段）。
# 转介一栏：结案而未转介的个案在结案时退出观察，曲线是「仍在处理中的个案被转介」的比例。

# %%
medians = ("median", "median_low", "median_high")
times = crisis.stage_times(cases, as_of=as_of)
times_view = leader_view(
    times.summary, labels=["from_stage", "to_stage"], estimates=medians, min_cell=min_cell
)
viz.stage_time_curves(times.curves, times_view.cells)

# %%
by_severity = crisis.stage_times(cases, as_of=as_of, by="severity")
severity_view = leader_view(
    by_severity.summary, labels=["from_stage", "to_stage", "severity"], estimates=medians, min_cell=min_cell
)
viz.stage_time_curves(by_severity.curves, severity_view.cells, group="severity")

# %%
times_view.cells.round(2)

# %%
print("用时未计入的个案 / cases left out of a duration (data problems):")
times.excluded.groupby(["from_stage", "to_stage", "reason"]).size().rename("cases")

# %% [markdown]
# ## 同一学生多次预警 / Students warned more than once

# %%
repeats = leader_view(crisis.repeat_warnings(cases, by="school_year"), min_cell=min_cell)
repeats.cells.set_index("school_year")

# %% [markdown]
# ## 普测筛出 → 约谈与立案 / Screening → action
# 普测筛出的学生（界值或 PHQ-9 第9题）在 N 天内是否被约谈、是否立案：由 `psychanalytics.screening` 提供（issue #14 第4项，
# 另一位工程师正在实现），合并后在此调用。学校的随访名单由 `psychanalytics followup` 生成。
#
# *Screening → action (item 4 of issue #14) is being built in `psychanalytics.screening`; its call goes here once it
# has landed. Schools get their follow-up lists from `psychanalytics followup`.*

# %% [markdown]
# ## 心理档案建档率 / Archive coverage (每生一档)

# %%
categories = crisis_queries.archive_categories(engine)
coverage = leader_view(crisis.archive_coverage(categories), min_cell=min_cell)
viz.archive_coverage_bars(coverage.cells)

# %%
by_school = leader_view(crisis.archive_coverage(categories, by=["school_year", "school"]), min_cell=min_cell)
by_school.cells.pivot(index="school", columns="school_year", values="proportion").round(3)

# %%
archive_mix = leader_view(categories, by=["school_year", "school"], labels=["category"], min_cell=min_cell)
archive_mix.cells.assign(
    category=archive_mix.cells["category"].map(
        lambda c: crisis.name("archive_categories", c) if c != "none" else "未建档"
    ),
    shown=[
        shown_text(v, m) for v, m in zip(archive_mix.cells["count"], archive_mix.cells["marker"], strict=True)
    ],
).pivot(index=["school_year", "school"], columns="category", values="shown")

# %% [markdown]
# ## 转学时档案移交 / Archive transfers when students change school
# 从新学年 9 月 1 日起到档案移交的天数；尚未移交的按删失处理；开学前已移交的计为 0 天（`before_start`）。

# %%
transfers = crisis.archive_transfers(crisis_queries.school_moves(engine), as_of=as_of)
transfer_view = leader_view(
    transfers.summary.drop(columns=["complete", "before_start", "repeated"]),
    estimates=medians,
    min_cell=min_cell,
)
transfer_view.cells.round(1)

# %%
complete = leader_view(
    transfers.summary[["school_year", "complete", "count"]].rename(
        columns={"complete": "count", "count": "n"}
    ),
    min_cell=min_cell,
)
complete.cells.rename(columns={"count": "完整移交 complete", "n": "已移交 transferred"})

# %% [markdown]
# ## 本校视图 / One school's own view (for that school's psychology teacher only)
# 只有本校个案、只有化名（pid）；学校用自己的名册和密钥还原学生身份（`psychanalytics followup`）。停滞的个案排在最前。

# %%
school = school or cases["school"].value_counts().idxmax()
own = crisis.school_cases(cases, school, as_of=as_of, limit_days=limit_days)
print(f"{school}: {len(own)} 个案 / cases, 停滞 / stalled {int(own['stalled'].sum())}")
own.head(10)

# %%
crisis.school_problems(histories.problems, school)

# %% tags=["summary"]
summary = {
    "as_of": str(as_of),
    "cases": len(cases),
    "problems": problem_counts.to_dict(),
    "funnel": funnel.cells[["crisis_stage", "count", "n"]].astype(str).to_dict("records"),
    "median_raised_confirmed": times.summary.set_index(["from_stage", "to_stage"]).loc[
        ("raised", "confirmed"), "median"
    ],
    "coverage": coverage.cells["proportion"].round(4).tolist(),
    "school": school,
    "school_cases": len(own),
}
print(json.dumps(summary, ensure_ascii=False, default=str))
