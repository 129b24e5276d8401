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
# # 钟楼区学生心理健康总览（研究版）/ District overview for researchers
#
# 与领导看板「总览」使用同一组查询与图表，另加按年级、性别的 PHQ-9 风险等级分布。
# 所有表格都经过小格抑制（少于 `min_cell` 人的格子留空并标记 `suppressed`）。
#
# The same queries and figures as the leaders' overview dashboard, plus PHQ-9 band distributions by
# grade and gender. Every table passes primary small-cell suppression (cells under `min_cell` are blanked
# and flagged); complementary suppression is not applied yet, so do not publish margins beside a single
# blanked cell.

# %% tags=["parameters"]
db = None  # SQLite path or SQLAlchemy URL; None = PSYCHANALYTICS_DB
instrument = "phq9"
min_cell = 10

# %%
from psychanalytics import store, viz
from psychanalytics.privacy.suppression import suppress_small_cells
from psychanalytics.store import queries

viz.use_notebook_renderer()

engine = store.connect_existing(db, read_only=True)
print("演示数据 / synthetic demo data" if queries.is_synthetic(engine) else "真实数据 / real data")
print("数据截至 / data as of:", queries.data_as_of(engine))

# %% [markdown]
# ## 各批次普测人数 / Students screened per wave
# `n` 为当批作答学生数，`enrolled` 为该学年全区在册学生数（所有年级）。

# %%
screened = suppress_small_cells(queries.screened_per_wave(engine), count="n", min_cell=min_cell)
viz.screened_bars(screened)

# %%
screened.set_index("wave_label")

# %% [markdown]
# ## 风险等级分布 / Score-band distribution per wave
# `total` 为有等级的答卷数（分母），`unbanded` 为无效或无法计分的答卷数，不计入占比。

# %%
bands = queries.band_distribution(engine, instrument=instrument)
bands = suppress_small_cells(bands, count="n", dependent=("share",), min_cell=min_cell)
viz.band_bars(bands)

# %% [markdown]
# ## 最近一次普测：按年级和性别 / Latest wave by grade and gender
# 年级 7 = 初一，10 = 高一。分组越细，被抑制的格子越多。

# %%
by_group = queries.band_distribution(engine, instrument=instrument, by=("grade", "gender"))
latest = by_group[by_group["wave_id"] == by_group["wave_id"].iloc[-1]]
latest = suppress_small_cells(latest, count="n", dependent=("share",), min_cell=min_cell)
latest = suppress_small_cells(latest, count="total", dependent=("n", "share"), min_cell=min_cell)
viz.band_bars(
    latest.assign(gender=latest["gender"].map({"F": "女 F", "M": "男 M"})),
    x="grade",
    x_title=viz.bilingual("年级", "grade"),
    facet="gender",
    title=viz.bilingual("PHQ-9 风险等级分布（按年级、性别）", "PHQ-9 bands by grade and gender"),
)

# %%
table = latest.sort_values(["band_rank", "grade", "gender"])
table.assign(风险等级=table["band"].map(viz.band_label)).pivot_table(
    index=["grade", "gender"], columns="风险等级", values="n", aggfunc="first", dropna=False, sort=False
).rename_axis(index=["年级 grade", "性别 gender"])

# %% [markdown]
# ## 专职心理教师配备率 / Schools with a full-time psychology teacher
# 分母为当年报送的学校数（`school_year_stats`），分子为其中至少有一名专职心理教师的学校数。

# %%
staffing = suppress_small_cells(
    queries.staffing_coverage(engine), count="schools", dependent=("n", "share"), min_cell=min_cell
)
viz.staffing_bars(staffing)

# %%
engine.dispose()
