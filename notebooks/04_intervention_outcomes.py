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
from psychanalytics.privacy import leader_view
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
# ## 4. 与匹配的未参加学生比较：双重差分 / Participants against matched non-participants: difference-in-differences
# 课程班的学生（参加者）与同校对照班的学生（未参加者）一一匹配：同校、同性别（精确匹配），前测分数最接近
# （最优 1:1 无放回分配，卡尺 0.2 个标准差，`outcomes.match_comparison`）。课程按整班分配，小学校每个年级常常只有一个班，
# 同年级里找不到对照班，所以年级不能精确匹配：下表照样列出年级的平衡，读者可自行判断。
# 平衡以标准化均数差（SMD）衡量，|SMD| < 0.1 通常视为平衡；匹配后的 SMD 用匹配前的标准差，便于前后比较。
# 双重差分（DiD）= 参加者的前后变化 − 匹配对照的前后变化，标准误按学校聚类（学校少于约 30 所时偏小，括号里写明学校数）。
# 它假定两组在没有干预时变化相同（平行趋势），两次测量无法检验这一点。演示数据只在项目自己的前测、后测里设定了效应，
# 全区普测批次里没有，所以这里的「两次测量」是项目的前测和后测；真实数据可换成干预前后的两个普测批次
# （`store.load_scores` 取分数，`wave` 列填批次号），函数不变。
#
# Curriculum students (participants) are matched 1:1 to students of the comparison classes of their school
# (non-participants): exactly on school and gender, then nearest pre-score (optimal assignment without
# replacement, caliper 0.2 SD). Whole classes took the curriculum and a small school often has one class per
# grade, so grade cannot be matched exactly; its balance is shown all the same. Balance is the standardised mean
# difference (|SMD| < 0.1 is the usual mark), after matching on the SD before it. The DiD is the participants'
# change minus their matches' change, errors clustered by school (too small with fewer than about 30 schools; the
# number is given). It assumes both arms would have changed alike (parallel trends), which two occasions cannot
# test. The demo plants the effect in the programme's own pre- and post-tests, not in the district's screening
# waves, so here the two occasions are those tests; with real data, two screening waves around the programme
# (`store.load_scores`, the wave id in `wave`) go through the same functions.

# %%
pilot = store.load_participants(engine, kinds=("curriculum",)).dropna(
    subset=["pre", "post", "gender", "grade", "class"]
)
matching = outcomes.match_comparison(pilot, exact=("school", "gender"), caliper=0.2)
grade_balance = pd.concat(
    [
        outcomes.balance(pilot, categorical=("grade",))
        .set_index(["covariate", "level"])["smd"]
        .rename("smd_before"),
        outcomes.balance(matching.matched, categorical=("grade",))
        .set_index(["covariate", "level"])["smd"]
        .rename("smd_after"),
    ],
    axis=1,
).drop(index="pre", level="covariate")
balance_table = pd.concat(
    [matching.balance.set_index(["covariate", "level"])[["smd_before", "smd_after"]], grade_balance]
)
balance_table.columns = ["匹配前 SMD / before", "匹配后 SMD / after"]
balance_table.round(3)

# %%
n_participants = int((pilot["arm"] == "treatment").sum())
kept = leader_view(
    pd.concat(
        [
            pd.DataFrame({"reason": ["matched / 已匹配"], "count": [len(matching.matched) // 2]}),
            matching.unmatched.groupby("reason").size().rename("count").reset_index(),
        ],
        ignore_index=True,
    ).assign(n=n_participants),
    labels=("reason",),
)
kept.cells.drop(columns="suppressed")

# %%
occasions = pd.concat(
    [
        matching.matched.assign(wave="pre", score=matching.matched["pre"]),
        matching.matched.assign(wave="post", score=matching.matched["post"]),
    ],
    ignore_index=True,
)[["pid", "wave", "score", "arm", "school"]]
did = outcomes.difference_in_differences(occasions, pre_wave="pre", post_wave="post", cluster="school")
pre_smd = matching.balance.set_index("covariate").loc["pre"]
print(
    f"匹配后前测 SMD 由 {pre_smd['smd_before']:.3f} 降至 {pre_smd['smd_after']:.3f}。"
    f"双重差分：参加者比匹配对照多变化 {did.value:+.2f} 分，95% CI [{did.low:.2f}, {did.high:.2f}]，"
    f"{outcomes.p_text(did.p)}（标准误按 {did.n_clusters} 所学校聚类，学校少，区间可能偏窄）。\n"
    f"Pre-test SMD {pre_smd['smd_before']:.3f} before matching, {pre_smd['smd_after']:.3f} after. "
    f"Difference-in-differences: participants changed {did.value:+.2f} points more than their matches, "
    f"95% CI [{did.low:.2f}, {did.high:.2f}], {outcomes.p_text(did.p)} (errors clustered by {did.n_clusters} "
    "schools: few, so the interval may be too narrow)."
)
did.counts.drop(columns="n").pivot(index="arm", columns="wave", values="mean").round(2)

# %% [markdown]
# ## 5. 对谁有效：亚组效应 / For whom: effects by subgroup
# 分别在女生、男生和各年级内做控制前测的协方差分析（课程按班分配，标准误按班级聚类），并用一个模型检验「干预 × 亚组」交互作用：
# 交互作用不显著时，不能说效果在亚组之间不同；一个亚组 p < 0.05、另一个不显著，也不能说明两者不同。
# **注意多重比较和小样本**：亚组越多，偶然出现「显著」的机会越大（表中给出 Holm 校正 p 值）；每个亚组的人数和班数都少，
# 区间宽。事先没有假设、只在数据里发现的亚组差异只能作为下一步研究的假设，不是结论。
#
# An ANCOVA within girls, boys and each grade (whole classes took the curriculum, so errors are clustered by
# class), and one model's test of the arm × subgroup interaction: only that test says whether the effect
# differs; "significant in one subgroup, not in the other" does not. **Multiple comparisons and small
# subgroups**: the more subgroups, the likelier a chance "significant" one (Holm-adjusted p in the table); each
# subgroup has few students and fewer classes, so the intervals are wide. A difference found only in the data,
# not hypothesised beforehand, is a hypothesis for the next study, not a finding.

# %%
pilot_classes = pilot.assign(class_id=pilot["school"] + ":" + pilot["class"])
subgroups = {
    by: outcomes.subgroup_effects(pilot_classes, by, cluster="class_id") for by in ("gender", "grade")
}
words = {"gender": ("性别", "gender"), "grade": ("年级", "grade")}
subgroup_rows = []
for by, found in subgroups.items():
    counts = leader_view(
        found.table.assign(level=found.table["level"].astype(str), count=found.table["n_treatment"],
                           n=found.table["n_treatment"] + found.table["n_comparison"])[["level", "count", "n"]],
        labels=("level",),
    ).cells  # fmt: skip
    subgroup_rows.append(
        found.table.drop(columns=["n_treatment", "n_comparison"]).assign(
            subgroup=f"{words[by][0]} / {words[by][1]}",
            level=found.table["level"].astype(str),
            n_treatment=counts["count"],
            n_students=counts["n"],
        )
    )
    print(
        f"{words[by][0]}：干预 × {words[by][0]} 交互作用 F({found.df_num:.0f}, {found.df_denom:.0f}) = "
        f"{found.statistic:.2f}，{outcomes.p_text(found.p)}，"
        + (
            f"提示效果可能因{words[by][0]}而不同；但每个亚组只有 {found.table['n_clusters'].min()} 个班起，"
            "可能是偶然或个别班级的差异，需要事先提出假设的研究确认。"
            if found.p < 0.05
            else f"没有证据表明效果因{words[by][0]}而不同。"
        )
        + f"\n{words[by][1].capitalize()}: arm × {words[by][1]} interaction F({found.df_num:.0f}, "
        f"{found.df_denom:.0f}) = {found.statistic:.2f}, {outcomes.p_text(found.p)}; "
        + (
            f"the effect may differ by {words[by][1]}, but a subgroup has as few as "
            f"{found.table['n_clusters'].min()} classes: chance or a few classes could do it, and only a study "
            "that hypothesises it beforehand can confirm it."
            if found.p < 0.05
            else f"no evidence that the effect differs by {words[by][1]}."
        )
    )
subgroup_table = pd.concat(subgroup_rows, ignore_index=True)[
    [
        "subgroup",
        "level",
        "n_treatment",
        "n_students",
        "difference",
        "low",
        "high",
        "p",
        "p_holm",
        "n_clusters",
    ]
]
subgroup_table.round(3)

# %% [markdown]
# ## 6. 演示数据：估计值与生成时设定的真值 / Demo only: estimates against the planted effects
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
if len(truth):
    planted_points = truth.loc[truth["kind"] == "curriculum", "effect_points"].iloc[0]
    print(
        f"课程的匹配双重差分 {did.value:.2f} 分 [{did.low:.2f}, {did.high:.2f}]，设定的真值 {planted_points:.2f} 分。\n"
        f"The curriculum's matched DiD {did.value:.2f} points [{did.low:.2f}, {did.high:.2f}]; planted "
        f"{planted_points:.2f}."
    )
    print(
        "演示数据给每个学生设定了同一个效应：第 5 节里的亚组差异（如有）是偶然或班级差异，正是多重比较要提防的。\n"
        "The demo planted one effect for every student: a subgroup difference in section 5, if any, is chance or "
        "class differences, which is what the warning on multiple comparisons is about."
    )
check.round(2)

# %% [markdown]
# ## 7. 导出 / Export
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
            "balance_before": balance_table.iloc[:, 0].abs().tolist(),
            "balance_after": balance_table.iloc[:, 1].abs().tolist(),
            "balance_covariates": [f"{c}/{lv}" for c, lv in balance_table.index],
            "did": [did.value, did.low, did.high],
            "did_clusters": did.n_clusters,
            "subgroups": {
                by: {
                    "levels": found.table["level"].astype(str).tolist(),
                    "intervals": found.table[["difference", "low", "high"]].to_numpy().tolist(),
                    "interaction_p": found.p,
                }
                for by, found in subgroups.items()
            },
        },
        ensure_ascii=False,
    )
)
engine.dispose()
