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
# 与领导看板「总览」使用同一组查询、同一个输出规则（`privacy.leader_view`）和同样的图表，另加按年级、性别的风险等级分布。
# 每张表都经过小格抑制：少于 `min_cell` 人的格子留空并标为「<10」；为防止由合计推算出它们而一并隐藏的格子标为「*」。
# 等级名称和分数范围来自量表定义（`psychanalytics/instruments/specs/`）。
#
# The same queries, output policy (`privacy.leader_view`) and figures as the leaders' overview, plus band
# distributions by grade and gender. Every table passes primary and complementary suppression (blanked
# cells are flagged `suppressed`, with their `marker`). The policy protects each table on its own: the
# grade-by-gender table and the district table can be subtracted from each other, so do not publish both.

# %% tags=["parameters"]
db = None  # SQLite path or SQLAlchemy URL; None = PSYCHANALYTICS_DB
instrument = "phq9"
scale = "total"
min_cell = None  # None = PSYCHANALYTICS_MIN_CELL (10)

# %%
from psychanalytics import instruments, store, viz
from psychanalytics.privacy import leader_view, shown_text
from psychanalytics.store import queries

viz.use_notebook_renderer()
abbreviation = instruments.get(instrument).abbreviation

engine = store.connect_existing(db, read_only=True)
print("演示数据 / synthetic demo data" if queries.is_synthetic(engine) else "真实数据 / real data")
print("数据截至 / data as of:", queries.data_as_of(engine))
print(viz.band_legend(instrument, scale))
print(viz.band_legend(instrument, scale, english=True))

# %% [markdown]
# ## 各批次普测人数 / Students screened per wave
# `count` 为当批作答学生数，`n` 为该学年全区在册学生数（所有年级）。

# %%
screened = leader_view(queries.screened_per_wave(engine), min_cell=min_cell)
viz.screened_bars(screened.cells)

# %%
screened.cells.set_index("wave_label")

# %% [markdown]
# ## 风险等级分布 / Score-band distribution per wave
# `n` 为有等级的答卷数（分母），无效或无法计分的答卷不计入占比。

# %%
bands = queries.band_distribution(engine, instrument=instrument, scale=scale).drop(columns="unbanded")
bands = leader_view(bands, by=("wave_id", "wave_label"), min_cell=min_cell)
viz.band_bars(bands.cells, title=viz.bilingual(f"{abbreviation} 风险等级分布", f"{abbreviation} score bands"))

# %% [markdown]
# ## 最近一次普测：按年级和性别 / Latest wave by grade and gender
# 年级 7 = 初一，10 = 高一。分组越细，被抑制的格子越多。

# %%
by_group = queries.band_distribution(engine, instrument=instrument, scale=scale, by=("grade", "gender"))
latest = by_group[by_group["wave_id"] == by_group["wave_id"].iloc[-1]].drop(columns="unbanded")
latest = leader_view(latest, by=("wave_id", "wave_label", "grade", "gender"), min_cell=min_cell).cells
viz.band_bars(
    latest.assign(gender=latest["gender"].map({"F": "女 F", "M": "男 M"})),
    x="grade",
    x_title=viz.bilingual("年级", "grade"),
    facet="gender",
    title=viz.bilingual(f"{abbreviation} 风险等级分布（按年级、性别）", f"{abbreviation} bands by grade and gender"),
)

# %%
table = latest.sort_values(["band_rank", "grade", "gender"])
table.assign(
    风险等级=[viz.band_label(band, instrument=instrument, scale=scale) for band in table["band"]],
    人数=[shown_text(count, marker) for count, marker in zip(table["count"], table["marker"], strict=True)],
).pivot_table(
    index=["grade", "gender"], columns="风险等级", values="人数", aggfunc="first", dropna=False, sort=False
).rename_axis(index=["年级 grade", "性别 gender"])

# %% [markdown]
# ## 专职心理教师配备率 / Schools with a full-time psychology teacher
# 分母 `n` 为当年报送的学校数（`school_year_stats`），分子 `count` 为其中至少有一名专职心理教师的学校数。
# 学校层面的配备情况是公开的机构信息，不做小格抑制。

# %%
staffing = leader_view(queries.staffing_coverage(engine), unit="school", min_cell=min_cell)
viz.staffing_bars(staffing.cells)

# %%
engine.dispose()
