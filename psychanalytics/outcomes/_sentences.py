"""The per-intervention table said in words, as a results section reports it (APA style numbers)."""

from __future__ import annotations

import pandas as pd


def p_text(p: float) -> str:
    """A p value as APA writes it: ``p < .001``, ``p = .032`` (no leading zero).

    >>> p_text(0.00002), p_text(0.0317), p_text(0.5)
    ('p < .001', 'p = .032', 'p = .500')
    """
    return "p < .001" if p < 0.001 else f"p = {p:.3f}".replace("0.", ".", 1)


def _interval(low: float, high: float) -> str:
    return f"[{low:.2f}, {high:.2f}]"


def _verdict(row: pd.Series, better: str, level: float, zh: bool) -> str:
    """What the interval says: benefit, harm, or not enough to tell (the sign of a better change)."""
    sign = -1 if better == "lower" else 1
    pct = f"{level:.0%}"
    if sign * row["difference_low"] > 0 and sign * row["difference_high"] > 0:
        return (
            f"有证据表明有效（{pct} CI 不含 0）" if zh else f"evidence of benefit (the {pct} CI excludes 0)"
        )
    if sign * row["difference_low"] < 0 and sign * row["difference_high"] < 0:
        return f"有证据表明不利（{pct} CI 不含 0）" if zh else f"evidence of harm (the {pct} CI excludes 0)"
    return (
        f"证据不足以判断（{pct} CI 含 0）" if zh else f"not enough evidence to tell (the {pct} CI includes 0)"
    )


def _who(row: pd.Series, zh: bool) -> str:
    where = row["school_name"] or (f"{row['n_schools']} 所学校" if zh else f"{row['n_schools']} schools")
    size = (
        f"干预组 {row['n_treatment']} 人、对照组 {row['n_comparison']} 人"
        if zh
        else f"{row['n_treatment']} treatment and {row['n_comparison']} comparison students"
    )
    if row["unit"] == "class":
        classes = (int(row["classes_treatment"]), int(row["classes_comparison"]))
        size += (
            f"（{classes[0]} 个班对 {classes[1]} 个班）" if zh else f" ({classes[0]} vs {classes[1]} classes)"
        )
    return (
        f"{row.get('title', '')}（{where}，{row['school_year']}）：{size}"
        if zh
        else f"{row.get('title', '')} ({where}, {row['school_year']}): {size}"
    )


def _effect(row: pd.Series, better: str, level: float, zh: bool) -> str:
    if pd.isna(row["difference"]):
        return (
            f"无对照组；干预组前后 d_av = {row['d_change']:.2f} {_interval(row['d_change_low'], row['d_change_high'])}，"
            "只说明变化，不说明效果"
            if zh
            else f"no comparison arm; the treatment arm's pre-post d_av = {row['d_change']:.2f} "
            f"{_interval(row['d_change_low'], row['d_change_high'])} describes change, not an effect"
        )
    if pd.isna(row["difference_low"]):
        return (
            f"每组少于 2 个班，后测差异 {row['difference']:.2f} 分与班级之间的差异无法区分，不作推断"
            if zh
            else f"fewer than 2 classes per arm: the difference of {row['difference']:.2f} points cannot be told "
            "from a difference between classes, no inference"
        )
    holm = "" if pd.isna(row.get("p_holm")) else f"，Holm 校正 {p_text(row['p_holm'])}"
    holm_en = "" if pd.isna(row.get("p_holm")) else f", Holm-adjusted {p_text(row['p_holm'])}"
    text = (
        f"控制前测的协方差分析，后测差异 {row['difference']:.2f} 分，{level:.0%} CI "
        f"{_interval(row['difference_low'], row['difference_high'])}，{p_text(row['p'])}{holm}，"
        f"d = {row['d']:.2f} {_interval(row['d_low'], row['d_high'])}：{_verdict(row, better, level, True)}"
        if zh
        else f"ANCOVA adjusting for the pre-test: difference {row['difference']:.2f} points, {level:.0%} CI "
        f"{_interval(row['difference_low'], row['difference_high'])}, {p_text(row['p'])}{holm_en}, "
        f"d = {row['d']:.2f} {_interval(row['d_low'], row['d_high'])}: {_verdict(row, better, level, False)}"
    )
    if pd.notna(row.get("mixed")):
        several = row["n_schools"] > 1
        levels = ("学校、班级" if several else "班级") if zh else ("school and class" if several else "class")
        text += (
            f"；多层模型（{levels}随机截距）差异 {row['mixed']:.2f} {_interval(row['mixed_low'], row['mixed_high'])}，"
            f"班级 ICC = {row['icc_class']:.2f}"
            if zh
            else f"; mixed model ({levels} intercepts) {row['mixed']:.2f} "
            f"{_interval(row['mixed_low'], row['mixed_high'])}, class ICC = {row['icc_class']:.2f}"
        )
    return text


def _change(row: pd.Series, zh: bool) -> str:
    # reliably improved, recovered among them when the report had a clinical cutoff
    shares = {
        arm: (row[f"improved_{arm}"] + row.get(f"recovered_{arm}", 0)) / row[f"n_{arm}"]
        if row[f"n_{arm}"]
        else float("nan")
        for arm in ("treatment", "comparison")
    }
    attrition = (row["attrition_treatment"], row["attrition_comparison"])
    if zh:
        return (
            f"可靠改善（变化超过 {row['rci_points']:.1f} 分）：干预组 {shares['treatment']:.0%}，"
            f"对照组 {shares['comparison']:.0%}；流失率 {attrition[0]:.0%} 与 {attrition[1]:.0%}"
        )
    return (
        f"Reliably improved (a change beyond {row['rci_points']:.1f} points): {shares['treatment']:.0%} vs "
        f"{shares['comparison']:.0%}; attrition {attrition[0]:.0%} vs {attrition[1]:.0%}"
    )


def findings(table: pd.DataFrame, *, better: str, confidence: float, language: str) -> list[str]:
    """One sentence per row of an intervention table, in Chinese (``zh``) or English (``en``)."""
    if language not in ("zh", "en"):
        raise ValueError(f"language must be 'zh' or 'en', got {language!r}")
    zh = language == "zh"
    end = "。" if zh else "."
    join = "。" if zh else ". "
    return [
        join.join((_who(row, zh), _effect(row, better, confidence, zh), _change(row, zh))) + end
        for _, row in table.iterrows()
    ]
