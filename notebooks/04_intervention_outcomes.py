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
# # 干预效果评估：团体心理辅导与七彩积极品格课程 / Did group counselling and the curriculum work?
#
# 面向研究人员。每个干预项目一行：各组人数、前后测均值、控制前测的协方差分析（ANCOVA）组间差异及其 95% 置信区间、
# 标准化效应量 d、可靠变化指数（Jacobson & Truax 1991）的分类人数和流失率；多个项目同时检验时给出 Holm 与 BH 校正 p 值。
# 团体辅导以学生为分组单位；课程以整班为单位（对照班），其标准误按班级聚类，并用学校、班级随机截距的多层模型复核。
# 可靠变化的测量误差取自每个项目前测批次全区有效答卷的 α 系数和标准差（表中「信度来源」一列写明）。
#
# For researchers. One row per intervention: students per arm, pre/post means, the ANCOVA difference
# (post ~ pre + arm) with its 95 % CI, d (the difference over the pooled pre-test SD), reliable change
# categories and attrition; Holm and Benjamini-Hochberg p values across the interventions. Group
# counselling assigns students; the curriculum assigns whole classes, so its errors are clustered by
# class and a mixed model with school and class intercepts checks it. The reliable change index's error
# comes from alpha and SD of each intervention's pre-test wave (the table's `reliability_basis`).
# Every output is aggregated; groups of 10-15 students appear, so this is a research output, not a
# page for leaders.

# %% tags=["parameters"]
db = None  # SQLite path or SQLAlchemy URL; None = PSYCHANALYTICS_DB
xlsx = None  # a path to save the per-intervention table as a workbook, or None
clinical_band = "moderate"  # PHQ-9 / GAD-7 band whose lower bound is the clinical cutoff (10)

# %%
import json

import pandas as pd

from psychanalytics import instruments, outcomes, reports, store, synth, viz
from psychanalytics.store import queries

viz.use_notebook_renderer()
engine = store.connect_existing(db, read_only=True)
synthetic = queries.is_synthetic(engine)
print("演示数据 / synthetic demo data" if synthetic else "真实数据 / real data")
cutoffs = {
    (code, "total"): instruments.get(code).scale("total").band(clinical_band).lower
    for code in ("phq9", "gad7")
}
print("临床分界 / clinical cutoffs:", {f"{code}/{scale}": value for (code, scale), value in cutoffs.items()})

# %% [markdown]
# ## 1. 每个项目一行 / One row per intervention
# `d` 为负表示干预组后测更低（量表分数越低越好）。`errors` 说明标准误如何估计：`OLS`（一所学校内按学生分组）、
# `class (k)`（按 k 个班聚类）、`too few classes`（每组少于两个班，差异无法与班级差异区分，不给区间和 p 值）。

# %%
report = reports.intervention_outcomes(engine, cutoffs=cutoffs)
shown = [
    "intervention_id", "title", "school_name", "school_year", "instrument", "unit", "n_treatment", "n_comparison",
    "difference", "difference_low", "difference_high", "p", "p_holm", "p_bh", "errors", "d", "d_low", "d_high",
    "recovered_treatment", "improved_treatment", "recovered_comparison", "improved_comparison",
    "attrition_treatment", "attrition_comparison",
]  # fmt: skip
report.labelled().loc[:, [f"{report.labels[c][0]} / {report.labels[c][1]}" for c in shown]].round(3)

# %%
print("\n".join(report.notes))

# %% [markdown]
# ## 2. 团体心理辅导 / Group counselling
# 各小组 10-15 人，单个小组的区间很宽；把同类小组合并（随机效应，DerSimonian-Laird）回答「团体辅导总体上是否有效」。

# %%
counselling = report.table[report.table["kind"] == "group_counselling"]
viz.effect_forest(
    counselling.assign(
        label=counselling["intervention_id"] + " " + counselling["title"] + " " + counselling["school_year"]
    ),
    title=viz.bilingual("团体心理辅导各小组的效应量 d", "group counselling: d per group"),
)

# %%
pooled_groups = outcomes.pool_effects(report.table).set_index("kind")
counselling_pool = pooled_groups.loc["group_counselling"]
print(
    f"团体心理辅导 {int(counselling_pool['k'])} 个小组合并：随机效应 d = {counselling_pool['random']:.2f} "
    f"[{counselling_pool['random_low']:.2f}, {counselling_pool['random_high']:.2f}]，"
    f"组间异质性 I² = {counselling_pool['i2']:.0f}%（Q 检验 {outcomes.p_text(counselling_pool['q_p'])}）。\n"
    f"Group counselling, {int(counselling_pool['k'])} groups pooled: random-effects d = {counselling_pool['random']:.2f} "
    f"[{counselling_pool['random_low']:.2f}, {counselling_pool['random_high']:.2f}], I² = {counselling_pool['i2']:.0f}% "
    f"(Q test {outcomes.p_text(counselling_pool['q_p'])})."
)
pooled_groups.round(3)

# %% [markdown]
# 人数最多的一个小组：每条线是一名学生的前后测，颜色表示可靠变化分类；散点图中两条虚线之间的变化在测量误差之内。

# %%
largest = (
    counselling.assign(n=counselling["n_treatment"] + counselling["n_comparison"]).nlargest(1, "n").iloc[0]
)
group_students = report.students[report.students["intervention_id"] == largest["intervention_id"]].assign(
    instrument=largest["instrument"], scale=largest["scale"]
)
print(report.findings("zh")[report.table.index.get_loc(largest.name)])
viz.prepost_slopes(group_students, largest, title=f"{largest['title']} {largest['intervention_id']}")

# %%
viz.rci_scatter(
    group_students, rci_points=largest["rci_points"], cutoff=cutoffs.get((largest["instrument"], "total"))
)

# %% [markdown]
# 出勤与变化：干预组完成前后测的学生，出勤次数对前后变化的回归（控制前测，按小组聚类）。出勤不是随机分配的，斜率只是关联。

# %%
participants = store.load_participants(engine, kinds=("group_counselling",))
attended = participants[participants["arm"] == "treatment"].dropna(
    subset=["pre", "post", "sessions_attended"]
)
dose = outcomes.dose_response(attended, cluster="intervention_id")
print(
    f"每多出勤一次，前后变化 {dose.value:+.2f} 分，95% CI [{dose.low:.2f}, {dose.high:.2f}]，{outcomes.p_text(dose.p)}"
)
dose.counts.round(2)

# %% [markdown]
# ## 3. 七彩积极品格课程 / The positive-character curriculum
# 同一课程在多所学校试点：合并为一行（按班级聚类的协方差分析 + 学校、班级随机截距的多层模型）。
# 单所学校往往每组只有一两个班，单校结果只作描述。

# %%
curriculum = reports.intervention_outcomes(engine, kinds=("curriculum",), by=("kind", "title", "school_year"))
for sentence in curriculum.findings("zh") + curriculum.findings("en"):
    print(sentence)
curriculum.labelled().transpose()

# %%
schools = report.table[report.table["kind"] == "curriculum"]
viz.effect_forest(
    pd.concat(
        [
            schools.assign(label=schools["intervention_id"] + " " + schools["school_name"], pooled=False),
            curriculum.table.assign(label=curriculum.table["title"] + " 合计", pooled=True),
        ],
        ignore_index=True,
    ),
    summary="pooled",
    title=viz.bilingual("七彩积极品格课程：各校与合计的效应量 d", "curriculum: d per school and pooled"),
)

# %%
programme = curriculum.table.iloc[0]
programme_students = curriculum.students.assign(instrument=programme["instrument"], scale=programme["scale"])
viz.prepost_slopes(
    programme_students, programme, title=viz.bilingual(programme["title"], "pre and post, every class")
)

# %%
viz.rci_scatter(programme_students, rci_points=programme["rci_points"])

# %% [markdown]
# ## 4. 演示数据：估计值与生成时设定的真值 / Demo only: estimates against the planted effects
# 合成数据在 `demo_planted_effect` 中记录了每个项目设定的真实效应（真实数据没有这张表的内容）。
# `covered` 为 ANCOVA 95% 置信区间是否覆盖真值；约 95% 的区间应当覆盖。

# %%
truth = synth.planted_effects(engine).set_index("intervention_id")  # empty in a real store
check = report.table.set_index("intervention_id")[["kind", "difference", "difference_low", "difference_high"]]
check = check.join(truth[["effect_points", "effect_d"]], how="inner")
check["covered"] = check["difference_low"].le(check["effect_points"]) & check["effect_points"].le(
    check["difference_high"]
)
print(
    f"区间覆盖真值 / intervals covering the truth: {check['covered'].sum()} of {check['difference_low'].notna().sum()}"
)
check.round(2)

# %% [markdown]
# ## 5. 导出 / Export
# 一张工作表：第一行中文列名、第二行英文列名；「说明 notes」工作表写明计算方法和信度来源。

# %%
if xlsx:
    print("已保存 / saved:", reports.write_xlsx(report, xlsx))

# %% tags=["summary"]
print(
    json.dumps(
        {
            "interventions": len(report.table),
            "kinds": sorted(set(report.table["kind"])),
            "counselling_groups_pooled": int(counselling_pool["k"]),
            "curriculum_unit": programme["unit"],
            "curriculum_d": [programme["d"], programme["d_low"], programme["d_high"]],
            "curriculum_mixed": [programme["mixed"], programme["mixed_low"], programme["mixed_high"]],
            "reliability_basis": sorted(set(report.table["reliability_basis"])),
        },
        ensure_ascii=False,
    )
)
engine.dispose()
