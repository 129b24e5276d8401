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
# # 普测结果探索（教研版）/ Exploring screening results
#
# 按批次、学校、年级和性别查看普测结果。图中的比例是 **筛查阳性率**（量表达到界值的学生占比），不是患病率：
# 筛查阳性的学生需要访谈确认。每个数字都带有 95% 置信区间和筛查覆盖率（筛查人数 / 在册人数）：
# 覆盖率低的学校或年级画成空心点，它的低比例不代表学生更健康。少于 `min_cell` 人的组不显示。
# 学校之间只用漏斗图比较，不排名次。
#
# Screening results by wave, school, grade and gender. Rates are screen-positive rates (students at or above the
# instrument's cut-off), not prevalence; every estimate carries its 95% interval and the coverage of its group
# (hollow points: low coverage). Schools are compared on a funnel plot only, never ranked.

# %% tags=["parameters"]
db = None  # SQLite path or SQLAlchemy URL (None: PSYCHANALYTICS_DB)
instrument = "phq9"
min_cell = None  # None: PSYCHANALYTICS_MIN_CELL (10)
within_days = 14  # follow-up counted up to this many days after a wave's last day

# %%
from IPython.display import display

from psychanalytics import instruments, screening, store, viz
from psychanalytics.dashboards.screening import exploration_data, exploration_figure, explorer
from psychanalytics.privacy import leader_view
from psychanalytics.store import queries
from psychanalytics.store.queries import screening as sq
from psychanalytics.viz import screening as vs

viz.use_notebook_renderer()
engine = store.connect_existing(db, read_only=True)
print("演示数据 / synthetic demo data" if queries.is_synthetic(engine) else "真实数据 / real data")
print("筛查阳性 / screen-positive:", vs.screen_positive_rule(instrument))
data = exploration_data(engine, instrument=instrument, min_cell=min_cell)
latest, previous = data.waves[-1], data.waves[-2]

# %% [markdown]
# ## 交互探索 / Explore
# 选择批次、分组和图表。「学校漏斗图」按学校比较，与所选分组无关。

# %%
display(explorer(data))

# %% [markdown]
# ## 覆盖率 / Coverage of the latest wave
# `enrolled`：该学年在已施测年级的在册人数；`screened`：作答人数；`invalid`：无效答卷（测谎、无法计分、平台标记无效）。

# %%
coverage = screening.coverage(sq.coverage_counts(engine, instrument=instrument, by=("wave", "school")))
coverage = coverage[coverage["wave"] == latest].merge(sq.school_names(engine)[["school", "name"]], on="school")
coverage.set_index(["school", "name"]).drop(columns="wave")

# %% [markdown]
# ## 学校漏斗图 / Funnel plot of schools
# 控制限按学校间的差异放宽（过度离散）。越出 99.8% 控制限的学校值得进一步了解，这不是排名。

# %%
exploration_figure(data, wave=latest, by="grade", view="funnel")

# %% [markdown]
# ## 按年级和性别调整后的漏斗图 / Funnel plot adjusted for case mix
# 初中和高中、女生和男生的筛查阳性率本来就不同：年级、性别构成不同的学校不宜直接比较比例。
# 这里用间接标准化：按全区各年级×性别的阳性率算出每校的「期望阳性人数」，比较 观察/期望 之比（1 = 与全区相同）。
#
# Schools differ in grade and gender mix, and screen-positive rates differ by both: indirect standardisation gives
# each school its expected count at the district's stratum rates; the funnel compares observed / expected around 1.

# %%
strata = sq.screen_positive_counts(engine, instrument=instrument, by=("wave", "school", "grade", "gender"))
strata = strata[(strata["wave"] == latest) & strata["grade"].notna() & strata["gender"].notna()]
expected = screening.expected_counts(strata, by="school", strata=("grade", "gender"))
adjusted = screening.funnel(expected, numerator="observed", denominator="expected", kind="ratio", overdispersion=True)
names = sq.school_names(engine).set_index("school")["name"].to_dict()
vs.funnel_plot(adjusted, names=names)

# %% [markdown]
# ## 按性别的风险等级占比 / Score bands by gender

# %%
exploration_figure(data, wave=latest, by="gender", view="bands")

# %% [markdown]
# ## 不同界值下的筛查阳性率 / Yield by cut-off
# 筛查阳性率随界值变化；它不是患病率。下面的「估计患病率」据量表公开的灵敏度和特异度推算，供研究参考，标签说明了它的依据。

# %%
cutoffs = sq.cutoff_counts(engine, instrument=instrument, cutoffs=[10, 11, 15], by=("wave", "school"))
yields = screening.screening_yield(cutoffs[cutoffs["wave"] == latest], by=("instrument", "cutoff"))
yields[["cutoff", "n", "count", "proportion", "low", "high", "design_effect"]]

# %%
at_10 = yields[yields["cutoff"] == 10].iloc[0]
estimate = screening.true_prevalence(
    int(at_10["count"]), int(at_10["n"]), accuracy=instruments.get(instrument).accuracy_at("total", 10)
)
print(estimate.label_zh, f"{estimate.estimate:.1%}", [f"{x:.1%}" for x in estimate.ci])
print("依据 / basis:", estimate.basis)

# %% [markdown]
# 真实患病率的另一条途径是两阶段调查：全体普测后，从阳性和阴性学生中各随机抽一部分做诊断访谈
# （`screening.two_phase_prevalence`）。演示数据只访谈了阳性学生，没有阴性学生的访谈样本，所以这里不能计算；
# 访谈记录齐全时，用它代替上面依赖公开灵敏度和特异度的推算。
#
# A two-phase survey (interview random samples of both screen-positive and screen-negative students:
# `screening.two_phase_prevalence`) is the sounder route to true prevalence; the demo interviews positives only,
# so it cannot be computed here.

# %% [markdown]
# ## 比较女生和男生：先检验测量等值 / Girls and boys: invariance first
# 只有量表在两组中达到标量等值，两组的平均分才可以直接比较。

# %%
items = store.load_items(engine, wave_id=latest, instrument=instrument, valid_only=True).dropna()
questions = [c for c in items.columns if c.startswith("q")]
comparison = screening.compare_groups(
    items[questions].sum(axis=1), items["gender"], items=items[questions],
    scale_name=(f"{instruments.get(instrument).abbreviation}总分", f"{instruments.get(instrument).abbreviation} total"),
    group_names={g: (vs.group_name("gender", g), vs.group_name("gender", g, english=True)) for g in "FM"},
)  # fmt: skip
print(comparison.sentence_zh)
print(comparison.sentence_en)
comparison.invariance_table[["chisq", "df", "cfi", "rmsea", "delta_cfi", "delta_rmsea"]].round(3)

# %% [markdown]
# ## 变化趋势 / Trends across waves
# GEE 模型：同一学生的多次普测和同校学生相关，都已考虑在内（按学校聚类，稳健标准误）。

# %%
students = sq.screen_positive_students(engine, instrument=instrument).dropna(subset=["school", "gender"])
students["wave"] = students["wave"].map({w: vs.group_name("wave", w) for w in data.waves})  # 2025年秋季
trends = screening.trend(students, outcome="positive", by=("gender",))
for sentence in trends.changes["sentence_zh"].iloc[-2:]:
    print(sentence)
vs.trend_lines(trends)

# %% [markdown]
# ## 同一批学生的变化 / The same students across two waves
# 前一次与后一次普测都有结果的学生：风险等级如何转移，风险是否持续，新出现多少阳性，又有多少学生失访。

# %%
cohort = screening.cohorts(sq.cohort_counts(engine, instrument=instrument, waves=[(previous, latest)]))
transitions = leader_view(
    cohort.transitions, by=("band_from",), labels=("band_rank_from", "band_to", "band_rank_to", "wave_from", "wave_to"),
    min_cell=min_cell,
)  # fmt: skip
vs.transition_heatmap(transitions.cells, instrument=instrument)

# %%
cohort.persistence[["positive_from", "count", "n", "proportion", "low", "high"]].round(3)

# %%
cohort.follow_up[["state_to", "count", "n", "proportion", "moved"]].round(3)

# %% [markdown]
# ## 筛查之后 / Screening → action
# 每批筛查阳性的学生中，在普测开始至结束后 `within_days` 天内建立危机个案、完成访谈确认和转介的比例。

# %%
action = screening.screening_action(
    sq.screening_action_counts(engine, instrument=instrument, within_days=within_days, by=("wave", "school")),
    by=("wave",),
)
action = leader_view(action, labels=("step", "step_zh", "step_en"), min_cell=min_cell).cells
vs.action_bars(action, within_days=within_days)

# %%
engine.dispose()
