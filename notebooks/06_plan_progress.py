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
# # 三年计划进展 / Plan progress
#
# 供教研员使用：区三年行动计划和国家 2023—2025 年专项行动计划的目标（`psychanalytics/plan/targets/*.yaml`）
# 逐项对照，状态为 已达成 / 按期可达 / 存在风险 / 未达成 / 无数据，附较上年变化；以及年终督导五项检查。
# 学校按编号排列，不作排名。
#
# Targets as data, their attainment (status and trend) per district and per school, and the year-end
# supervision scorecard with the evidence each check rests on. Traffic lights in plan order, never a league table.

# %% tags=["parameters"]
db = None  # SQLite path or SQLAlchemy URL; None = PSYCHANALYTICS_DB
school_year = "2024-2025"
plans = ["zhonglou", "national_2023"]
school = None  # a school id for its scorecard; None = the first school

# %%
from psychanalytics import plan, store
from psychanalytics.privacy import leader_view
from psychanalytics.store import queries

engine = store.connect_existing(db, read_only=True)
inputs = queries.plan_inputs(engine)
engine.dispose()
results = plan.evaluate(inputs, school_year=school_year, plans=plans)
print("演示数据 / synthetic demo data" if inputs.synthetic else "真实数据 / real data")
print("状态 / statuses:", "  ".join(f"{s} {zh} {en}" for zh, en, s, _ in plan.STATUS_LABELS.values()))

# %% [markdown]
# ## 全区目标 / District targets
# `text` 为本年情况，`trend` 为较上年变化，`note` 说明期限与“可调”的理解。

# %%
district = results.attainment[results.attainment["level"] == "district"]
district[["plan", "item", "name_zh", "text", "deadline", "symbol", "status_zh", "trend", "note"]].set_index(
    "name_zh"
)

# %% [markdown]
# ## 分校目标：各状态学校数 / School targets: schools per status
# 学校数是公开的机构信息（`unit="school"`）。

# %%
schools = results.attainment[results.attainment["level"] == "school"]
counts = schools.groupby(["target", "status"], sort=False).size().rename("count").reset_index()
counts["n"] = counts.groupby("target")["count"].transform("sum")
shown = leader_view(counts, by=("target",), unit="school", labels=("target", "status")).cells
shown.pivot(index="target", columns="status", values="count").fillna(0).astype(int).reindex(
    columns=[s for s in plan.STATUSES if s in set(shown["status"])]
)

# %% [markdown]
# ## 指标逐年 / Indicators year by year (district)

# %%
values = results.indicators[results.indicators["school_id"].isna()]
values.pivot(index="indicator", columns="school_year", values="text")

# %% [markdown]
# ## 年终督导五项检查 / Supervision scorecard
# 每项检查由数据计算，给出依据和缺项；缺数据的检查不算达标。

# %%
card = results.scorecard
card.pivot(index="school_id", columns="check", values="status_zh")[list(plan.CHECKS)]

# %%
chosen = school or card["school_id"].iloc[0]
card[card["school_id"] == chosen][["name_zh", "status_zh", "evidence", "missing"]].set_index("name_zh")
