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
#       jupytext_version: 1.19.7
#   kernelspec:
#     display_name: Python 3 (ipykernel)
#     language: python
#     name: python3
# ---

# %% [markdown]
# # 年度督导调研报告 / The annual survey report
#
# 供教研员使用：生成某学年的《中小学生心理健康服务工作督导调研报告》（HTML，可另存 PDF），与命令
# `psychanalytics report annual` 所得相同。报告只读取发布的汇总数据（mart），不读取学生层面的数据库；
# 报告的内容和小数字隐藏规则在程序包里只有一处（`psychanalytics/reports/annual_report.ipynb`），
# 本笔记本只负责生成和预览。
#
# Renders the year-end survey report (调研报告) exactly as `psychanalytics report annual` does: the report's
# notebook ships inside the package (one home for its sections and its suppression), this one renders and
# previews it, and lists what each section holds. The report reads the published mart only, never the
# row-level store; given only the store, the mart beside it is published first unless it is current.

# %% tags=["parameters"]
mart = None  # the published mart (psychanalytics publish); None = the mart beside the store `db`
db = None  # the store, SQLite path or SQLAlchemy URL; None = PSYCHANALYTICS_DB (its mart is published if stale)
school_year = "2024-2025"
out = "annual_report.html"  # written beside this notebook
pdf = False  # also print a PDF with headless Chromium

# %%
from IPython.display import IFrame

from psychanalytics import reports

files = reports.render_annual(db, mart=mart, school_year=school_year, out=out, pdf=pdf)
print("报告 / report:", files.html.name, f"{files.html.stat().st_size / 1e6:.1f} MB")
if files.pdf:
    print("PDF:", files.pdf.name)

# %% [markdown]
# ## 报告各部分 / Sections of the report

# %%
for section in reports.SECTIONS:
    print(section)

# %% [markdown]
# ## 预览 / Preview
# 报告是一个独立的 HTML 文件（图表脚本已内嵌），可直接发送或离线打开。

# %%
IFrame(src=files.html.name, width="100%", height=720)
