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

# %% tags=["parameters"]
# 数据库：None 表示使用环境变量 PSYCHANALYTICS_DB（psychanalytics serve 会设置）
# database: None means PSYCHANALYTICS_DB (set by `psychanalytics serve`)
db = None

# %%
from psychanalytics.dashboards import build_overview

build_overview(db)

# %% [markdown]
# **怎么看这一页**：上面三个数字是最近一次普测的人数、PHQ-9 总分 ≥10（中度及以上抑郁风险）的学生占比、
# 配备至少一名专职心理教师的学校占比；下面三张图是它们的历年变化。占比的分母写在数字下方。
# 筛查结果提示的是“需要进一步关注”，不是诊断。
#
# <small>How to read this page: the three numbers are the students screened in the latest wave, the share
# with PHQ-9 ≥ 10 and the share of schools with a full-time psychology teacher; the charts show them over time.
# Screening flags students for follow-up; it is not a diagnosis.</small>
