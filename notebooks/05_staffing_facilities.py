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
# # 师资与心理辅导室 / Staffing and counselling rooms
#
# 供教研员使用：各校心理教师配备、各标准下的缺口与按近年进度的预测、心理辅导室逐项达标情况。
# 标准、辅导室要求均为数据（`psychanalytics/staffing/standards.yaml`、`psychanalytics/facilities/rules.yaml`），
# 可在参数中选择或改写；标注“可调”的数字是我们对文件的理解（见 `docs/policy.md` §1、§4、§6）。
#
# For teaching-research staff: psychology teachers per school, gaps under each standard side by side, the
# hiring projection, and each school's room against the 2015 guide and Changzhou's hours. All numbers here
# are institutional (schools, teachers, rooms): no student appears.

# %% tags=["parameters"]
db = None  # SQLite path or SQLAlchemy URL; None = PSYCHANALYTICS_DB
school_year = "2024-2025"
standards = None  # None = every shipped standard; or a list of codes, e.g. ["zhonglou_2024", "ratio_1000"]
full_time_hours = 16.0  # weekly hours that make one FTE (uncertain, configurable)
min_hours_per_day = 2.0  # Changzhou: the room open at least 2 hours a school day

# %%
from psychanalytics import facilities, plan, staffing, store, viz
from psychanalytics.privacy import leader_view
from psychanalytics.store import queries

viz.use_notebook_renderer()
engine = store.connect_existing(db, read_only=True)
inputs = queries.plan_inputs(engine)
engine.dispose()
chosen = staffing.standards(*standards) if standards else staffing.standards()
results = plan.evaluate(
    inputs,
    school_year=school_year,
    standards_used=chosen,
    full_time_hours=full_time_hours,
    room_rule=facilities.room_rule(min_hours_per_day=min_hours_per_day),
)
print("演示数据 / synthetic demo data" if inputs.synthetic else "真实数据 / real data")
names = inputs.schools.set_index("school_id")["school_name"]

# %% [markdown]
# ## 各校心理教师 / Psychology teachers per school
# 专职、兼职人数，折合全职（FTE = 专职 + 兼职每周心理工作课时 ÷ `full_time_hours`），每名专职教师对应的学生数。

# %%
profile = results.profile[results.profile["school_year"] == school_year]
profile.assign(school_name=profile["school_id"].map(names))[
    [
        "school_id",
        "school_name",
        "enrolment",
        "boarders",
        "full_time",
        "part_time",
        "fte",
        "students_per_full_time",
    ]
].round(2).set_index("school_id")

# %% [markdown]
# ## 各标准下的缺口 / Gaps under each standard
# 每个标准单独计算，互不合并：达标学校数（`count`/`n`，学校数是公开的机构信息）和尚缺人数。

# %%
year_gaps = results.district_gaps[results.district_gaps["school_year"] == school_year]
shown = leader_view(
    year_gaps[["standard", "name_zh", "count", "n", "proportion"]],
    unit="school",
    labels=["standard", "name_zh"],
)
shown.cells.merge(year_gaps[["standard", "teachers_needed", "target_share", "deadline"]], on="standard")

# %%
viz.gap_bars(year_gaps)

# %% [markdown]
# ## 按近年进度预测 / Hiring projection
# 尚缺人数逐年的最小二乘直线，阴影为 80% 预测区间；历年数据少，区间宽。期限已到时向后预测两年。

# %%
for code, projection in results.projections.items():
    standard = staffing.standards(code)[0]
    print(
        f"{standard.name_zh}: 目前缺 {projection.current:.0f} 名，近年每年减少 {-projection.pace:.1f} 名，"
        f"到 {projection.deadline} 预计缺 {projection.projected:.1f} 名；"
        f"期限前需每年净增 {max(0.0, -projection.needed_per_year):.1f} 名"
    )

# %%
zhonglou = results.projections["zhonglou_2024"]
viz.hiring_projection(
    zhonglou.table, deadline=staffing.standards("zhonglou_2024")[0].deadline, ci=zhonglou.ci
)

# %% [markdown]
# ## 换一个标准 / Another standard
# 标准是数据：例如 1:800 的改革建议（`docs/policy.md` §4，[C]），与已有标准并列计算。

# %%
proposal = staffing.Standard(
    code="proposal_800", name_zh="改革建议 1:800（专职）", name_en="proposal 1:800", counts="full_time", minimum=1,
    per_students=800,
)  # fmt: skip
with_proposal = staffing.gaps(profile, standards_used=[*staffing.standards("zhonglou_2024"), proposal])
staffing.district_gaps(with_proposal, standards_used=[*staffing.standards("zhonglou_2024"), proposal])

# %% [markdown]
# ## 心理辅导室 / Counselling rooms
# 城区学校和乡镇中心校逐项达标情况（✓ 达标，✗ 未达标），以及达标学校占比与 2023 年期限。

# %%
matrix = results.room_compliance[results.room_compliance["school_year"] == school_year]
viz.compliance_matrix(matrix, names)

# %%
leader_view(results.room_share[["school_year", "count", "n", "proportion"]], unit="school").cells.assign(
    deadline=results.room_rule.deadline
)

# %%
status = results.room_status[results.room_status["school_year"] == school_year]
status.assign(school_name=status["school_id"].map(names))[
    ["school_id", "school_name", "compliant", "missing_zh"]
]
