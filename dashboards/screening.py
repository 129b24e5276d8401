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
# 发布的汇总数据：None 表示使用环境变量 PSYCHANALYTICS_MART（psychanalytics serve 会设置）
# the published mart: None means PSYCHANALYTICS_MART (set by `psychanalytics serve`)
mart = None

# %%
from psychanalytics.dashboards import build_screening

build_screening(mart)
