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
# # 量表信度、常模与测量等值性 / Reliability, norms and measurement invariance
#
# For researchers. Per screening wave and instrument: Cronbach's alpha of every summed scale with its
# Feldt 95 % interval; PHQ-9 item statistics; grade × gender norms (mid-rank percentile, normalised T)
# from one reference wave; and multi-group CFA invariance of PHQ-9 by gender and by school stage
# (configural → metric → scalar) — the check to pass before group means are compared.
# Everything shown is aggregated; norm cells with fewer than `min_n` students are refused, not shown.

# %% tags=["parameters"]
db = None  # SQLite path or SQLAlchemy URL; None = PSYCHANALYTICS_DB
wave = None  # one wave_id, or None for every wave
reference_wave = None  # wave the norms come from; None = the first wave
instruments = ("mht", "phq9", "gad7")
min_n = 30

# %%
import json

import pandas as pd

from psychanalytics import instruments as registry
from psychanalytics import psychometrics as pm
from psychanalytics import store

engine = store.connect_existing(db, read_only=True)
waves = store.list_waves(engine)["wave_id"].tolist() if wave is None else [wave]
reference_wave = reference_wave or waves[0]
print("waves / 批次:", waves, "| reference wave / 常模批次:", reference_wave)

# %% [markdown]
# ## 各量表各批次的 α 系数 / Cronbach's alpha per scale and wave
# Valid answer sheets only (MHT lie score < 7 and every scale scorable: invalid protocols would blur the
# estimate); `ci_low`/`ci_high` = Feldt 95 % interval; `n` = valid answer sheets of the wave.

# %%
items_by = {
    (w, code): store.load_items(engine, wave_id=w, instrument=code, valid_only=True)
    for w in waves
    for code in instruments
}
alpha_rows = [
    {
        "wave_id": w,
        "instrument": code,
        "scale": scale.code,
        "维度 scale": f"{scale.name_zh} {scale.code}",
        "n_items": len(scale.items),
        "n": result.n,
        "alpha": result.alpha,
        "ci_low": result.ci[0],
        "ci_high": result.ci[1],
    }
    for (w, code), frame in items_by.items()
    if len(frame)
    for scale in registry.get(code).scales
    if scale.aggregate == "sum" and len(scale.items) > 1
    for result in [pm.cronbach_alpha(frame[[f"q{i}" for i in scale.items]])]
]
alphas = pd.DataFrame(alpha_rows)
alphas.pivot_table(index=["instrument", "维度 scale"], columns="wave_id", values="alpha", sort=False).round(3)

# %%
alphas.round(3)

# %% [markdown]
# ## PHQ-9 条目分析 / PHQ-9 item statistics (reference wave)
# `difficulty` = mean item score as a share of the 0–3 range; `discrimination` = corrected item-total
# correlation; `alpha_if_dropped` = alpha without the item.

# %%
phq9 = (
    items_by[(reference_wave, "phq9")]
    if (reference_wave, "phq9") in items_by
    else store.load_items(engine, wave_id=reference_wave, instrument="phq9", valid_only=True)
)
item_cols = [f"q{i}" for i in range(1, 10)]
pm.item_statistics(phq9[item_cols], item_range=(0, 3)).round(3)

# %% [markdown]
# ## PHQ-9 常模 / PHQ-9 norms by grade × gender (reference wave)
# Only valid protocols. Percentile = mid-rank percentile rank; T = 50 + 10·Φ⁻¹(percentile/100).
# The `norm` table of the store is filled from `result.table` with `store.upsert` (not done here).

# %%
scores = store.load_scores(engine, wave_id=reference_wave, instrument="phq9")
valid = scores[scores["valid"].fillna(False).astype(bool) & scores["total"].notna() & scores["grade"].notna()]
print(f"valid PHQ-9 totals / 有效答卷: {len(valid)} of {len(scores)}")
norm_result = pm.norms(valid, reference_wave=reference_wave, instrument="phq9", min_n=min_n)
norm_result.table.pivot_table(index="raw", columns=["grade", "gender"], values="t_score").round(1)

# %%
norm_result.refused.sort_values(["grade", "gender"])

# %% [markdown]
# ## PHQ-9 测量等值性 / Measurement invariance of PHQ-9 (one factor)
# Complete answer sheets only (ML without missing data); ΔCFI ≥ −0.01 is the usual criterion
# (Cheung & Rensvold 2002; Chen 2007).

# %%
complete = phq9.dropna(subset=item_cols + ["gender", "grade"])
print(f"complete PHQ-9 sheets / 完整答卷: {len(complete)} of {len(phq9)}")
by_gender = pm.measurement_invariance(complete[item_cols], complete["gender"])
by_gender.table.round(3)

# %%
stage = complete["grade"].le(9).map({True: "junior 初中", False: "senior 高中"})
by_stage = pm.measurement_invariance(complete[item_cols], stage)
by_stage.table.round(3)

# %% tags=["summary"]
summary = {
    "reference_wave": reference_wave,
    "alpha": {f"{r.instrument}/{r.scale}/{r.wave_id}": round(r.alpha, 6) for r in alphas.itertuples()},
    "norm_rows": len(norm_result.table),
    "norm_refused": len(norm_result.refused),
    "invariance_gender_df": by_gender.table["df"].tolist(),
    "invariance_gender_delta_cfi": by_gender.table["delta_cfi"].round(4).tolist()[1:],
}
print(json.dumps(summary, ensure_ascii=False))
