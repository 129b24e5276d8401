"""An aid to a personal-information impact assessment (PIPL Art. 55-56): the store's facts, in words.

Before sensitive personal information is processed or handed to a third party (researchers), PIPL
Art. 55 asks for an assessment, and Art. 56 says what it covers: whether the purpose and the means are
lawful, proper and necessary; the effect on the people and the risks; whether the protections fit
them. The facts such an assessment starts from are gathered by ``psychanalytics privacy report``
(:class:`ImpactFacts`) and written out here, Chinese first: what personal data the store holds (from
the sensitivity class of every column, DESIGN.md decision 3), how many of the students are under 14,
where the pseudonym keys live and whether they match, who has exported, published, backed up or erased
what (from the audit log), how far consent reaches, and whether the audit chain holds. The judgement
is people's: this is not legal advice (docs/privacy.md).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import pandas as pd


@dataclass(frozen=True)
class KeyFact:
    """A key file: what it is for, where it is, whether it is there and matches the store's fingerprint."""

    role: str
    path: str
    exists: bool
    matches: bool | None
    """``None`` when there is nothing to compare (no file, or no fingerprint in the store)."""


@dataclass(frozen=True)
class ImpactFacts:
    """What ``privacy report`` gathered (each frame as :mod:`psychanalytics.store.queries.privacy` gives it)."""

    database: str
    as_of: dt.date
    inventory: pd.DataFrame
    ages: pd.DataFrame
    keys: tuple[KeyFact, ...]
    anchor_file: str
    anchors: int
    consent: pd.DataFrame
    events: pd.DataFrame
    erased: int
    stale: pd.DataFrame
    audit_rows: int
    audit_problems: tuple[str, ...] = field(default=())
    anchors_checked: bool = False


def _yes(flag: bool | None) -> str:
    return {True: "是 / yes", False: "否 / NO", None: "—"}[flag]


def _table(frame: pd.DataFrame, columns: dict[str, str]) -> list[str]:
    if frame.empty:
        return ["  （无 / none）"]
    chosen = frame[list(columns)].astype(object)
    shown = chosen.where(chosen.notna(), "").rename(columns=columns)
    return ["  " + line for line in shown.to_string(index=False).splitlines()]


def _inventory(frame: pd.DataFrame) -> list[str]:
    lines = []
    for row in frame.itertuples():
        students = "" if pd.isna(row.students) else f" · {row.students:,} 名学生 / students"
        lines.append(f"  {row.table}: {row.rows:,} 行 / rows{students}")
        for word, columns in (
            ("个人信息 / personal", row.personal),
            ("敏感个人信息 / sensitive", row.sensitive),
        ):
            if columns:
                lines.append(f"      {word}: {columns}")
    return lines


def render(facts: ImpactFacts) -> str:
    """The report as text, Chinese first, English alongside.

    Examples
    --------
    >>> import datetime as dt
    >>> empty = pd.DataFrame()
    >>> facts = ImpactFacts("sqlite:///x.sqlite", dt.date(2026, 1, 1), pd.DataFrame(
    ...     {"table": ["student"], "rows": [3], "students": [3], "personal": ["pid, gender"], "sensitive": [""]}),
    ...     pd.DataFrame({"age_group": ["under_14"], "count": [3], "n": [3]}), (), "~/a.jsonl", 0,
    ...     empty, empty, 0, empty, 0)
    >>> print(render(facts).splitlines()[0])
    个人信息保护影响评估辅助报告 / Personal-information impact assessment aid (PIPL Art. 55-56)
    """
    lines = [
        "个人信息保护影响评估辅助报告 / Personal-information impact assessment aid (PIPL Art. 55-56)",
        f"数据库 / database: {facts.database}    日期 / as of: {facts.as_of.isoformat()}",
        "本报告只列事实，评估结论由负责人作出，非法律意见 / facts only: the assessment is people's, not legal advice",
        "",
        "一、存储的个人信息 / 1. Personal information held",
        "  每列都有敏感级别（personal 个人信息、sensitive 敏感个人信息：健康、危机、档案）/ every column carries a class",
        *_inventory(facts.inventory),
    ]
    ages = facts.ages.set_index("age_group")["count"] if not facts.ages.empty else pd.Series(dtype=int)
    total = int(ages.sum())
    under = int(ages.get("under_14", 0))
    lines += [
        f"  学生共 {total:,} 人，其中未满14周岁 {under:,} 人：其全部个人信息为敏感个人信息，须监护人同意（第28、31条）"
        f" / {total:,} students, {under:,} under 14: all their information is sensitive and needs guardian consent "
        "(Art. 28, 31)",
        "",
        "二、密钥存放 / 2. Where the keys live (outside the database)",
    ]
    for key in facts.keys:
        lines.append(
            f"  {key.role}: {key.path}  存在 / present: {_yes(key.exists)}  与数据库指纹一致 / matches the store: "
            f"{_yes(key.matches)}"
        )
    lines += [
        f"  审计锚点文件 / audit anchor file: {facts.anchor_file}  本库锚点 / anchors of this store: {facts.anchors}",
        "  密钥须离线另行备份，不可与数据库备份放在一起 / back the keys up offline, never beside the database backups",
        "",
        "三、数据导出、发布、备份与删除记录（审计日志）/ 3. Exports, publications, backups and erasures (audit log)",
        *_table(
            facts.events,
            {
                "at": "时间 at (UTC)",
                "actor": "操作人 actor",
                "action": "操作 action",
                "project": "项目 project",
                "purpose": "用途 purpose",
                "file": "文件 file",
                "rows": "行 rows",
                "students": "删除学生 erased",
            },
        ),
        f"  已按请求删除的学生（保留化名墓碑）/ students erased at a request (tombstones kept): {facts.erased:,}",
        "  删除后过期、须收回或重建的副本 / copies an erasure made out of date (recall or rebuild):",
        *_table(
            facts.stale,
            {
                "kind": "类别 kind",
                "name": "名称 name",
                "project": "项目 project",
                "built_at": "生成 built",
                "stale_since": "过期 stale since",
            },
        ),
        "",
        "四、同意覆盖 / 4. Consent coverage",
        *_table(
            facts.consent.assign(proportion=facts.consent["proportion"].map("{:.1%}".format))
            if not facts.consent.empty
            else facts.consent,
            {
                "purpose": "用途 purpose",
                "asked": "征询 asked",
                "refused": "拒绝 refused",
                "withdrawn": "撤回 withdrawn",
                "active": "有效 active",
                "n": "学生 n",
                "proportion": "覆盖 share",
            },
        ),
        "",
        "五、审计链 / 5. Audit chain",
    ]
    if facts.audit_problems:
        lines += [f"  未通过校验 / does NOT verify: {problem}" for problem in facts.audit_problems]
    else:
        anchored = (
            "含锚点核对 / anchors checked"
            if facts.anchors_checked
            else "未核对锚点（无密钥）/ anchors not checked (no key)"
        )
        lines.append(f"  {facts.audit_rows:,} 行，完整 / rows, intact ({anchored})")
    lines.append(
        "  审计记录与评估报告至少保存3年（第56条）/ keep audit records and assessments at least 3 years (Art. 56)"
    )
    return "\n".join(lines) + "\n"


def as_json(facts: ImpactFacts) -> dict:
    """The facts as values ``json.dumps(…, default=str)`` writes (``privacy report --json``)."""

    def records(frame: pd.DataFrame) -> list[dict]:
        return [] if frame.empty else frame.astype(object).where(frame.notna(), None).to_dict("records")

    return {
        "database": facts.database,
        "as_of": facts.as_of.isoformat(),
        "inventory": records(facts.inventory),
        "ages": records(facts.ages),
        "keys": [vars(k) for k in facts.keys],
        "anchor_file": facts.anchor_file,
        "anchors": facts.anchors,
        "consent": records(facts.consent),
        "events": records(facts.events),
        "erased": facts.erased,
        "stale": records(facts.stale),
        "audit": {
            "rows": facts.audit_rows,
            "problems": list(facts.audit_problems),
            "anchors_checked": facts.anchors_checked,
        },
    }
