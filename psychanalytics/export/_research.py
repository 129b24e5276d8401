"""Research extracts: one wave's consenting students, pseudonymised per project, coarsened to k and l.

What leaves the store (docs/privacy.md §3):

* only students whose consent covers the project (``consent.purpose = research:<project>``, granted and
  not withdrawn on the day of the extract; :mod:`psychanalytics.store.research`);
* no direct identifier: the pid is replaced by a **research pid**, HMAC-SHA256 under the project's own
  key (a file outside the database, one per project): one project's extracts of several waves link
  through it, two projects' extracts cannot be joined; class, birth year and cohort are left out;
* the quasi-identifiers school, grade, gender and age coarsened by
  :func:`psychanalytics.privacy.anonymity.anonymise` until every combination holds ``k ≥ 5`` students
  and ``l ≥ 2`` risk bands of every instrument (rows that would still fail are suppressed: their
  quasi-identifiers set to the top level, coded 0 and declared missing in SPSS);
* the screening values: every scale's raw score, each instrument's validity and the band of its total
  (the risk band, coded by its rank with the spec's Chinese names as value labels).

Each variable has a Chinese label with the English after it, and categorical variables have Chinese
value labels, in SPSS ``.sav`` and Stata ``.dta`` (pyreadstat) alike; an XLSX for staff shows the labels
as text with a codebook sheet; a CSV holds the codes. A manifest (``<file>.manifest.json``) states the
purpose, the date, the columns, the k and l achieved, the project key's fingerprint and the audit
anchor of the export.
"""

from __future__ import annotations

import datetime as dt
import getpass
import hashlib
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
import sqlalchemy as sa

from psychanalytics import __version__, instruments
from psychanalytics.privacy.anonymity import Anonymised, anonymise
from psychanalytics.privacy.pseudonym import key_fingerprint, pseudonymise
from psychanalytics.screening._trends import STAGE_WORDS
from psychanalytics.store import audit, get_meta, register_release, set_meta
from psychanalytics.store.research import ResearchRows, research_purpose, research_rows

FORMATS = ("sav", "dta", "xlsx", "csv")
QUASI = ("school", "grade", "gender", "age")
PROJECT_NAME = re.compile(r"[a-z0-9][a-z0-9_-]{0,22}")
"""A project name: lower-case letters, digits, ``-`` and ``_``, at most 23 characters (``consent.purpose``
holds ``research:`` and the name in 32)."""

TOP = 0
"""The code of a quasi-identifier generalised away (declared missing in SPSS)."""
LOCATION_WORDS = {"urban": "城区", "township_central": "乡镇中心", "township": "乡村"}
_GRADE_ZH = (
    "一年级",
    "二年级",
    "三年级",
    "四年级",
    "五年级",
    "六年级",
    "初一",
    "初二",
    "初三",
    "高一",
    "高二",
    "高三",
)
_AGE_UNKNOWN = 99
_GRADE_UNKNOWN = 99
_GENDER_UNKNOWN = 9


class ExportError(ValueError):
    """An extract that cannot be made (nothing is written or audited)."""


def check_project(name: str) -> str:
    """``name`` if it is a valid project name, else :class:`ExportError`.

    >>> check_project("cohort-2025")
    'cohort-2025'
    """
    if not PROJECT_NAME.fullmatch(name or ""):
        raise ExportError(
            f"项目名称无效 / invalid project name {name!r}: lower-case letters, digits, - and _, at most 23"
        )
    return name


@dataclass(frozen=True)
class Variable:
    """One column of an extract: its name, Chinese and English labels, and value labels (code → text)."""

    name: str
    label_zh: str
    label_en: str
    values: dict[int, str] = field(default_factory=dict)
    measure: str = "scale"
    label_short: str = ""
    """A Chinese label within Stata's 80 bytes (default: ``label_zh``)."""

    @property
    def label(self) -> str:
        """Chinese first, English after: what SPSS and XLSX show."""
        return f"{self.label_zh} / {self.label_en}"

    @property
    def stata_label(self) -> str:
        """The Chinese label cut to Stata's 80 bytes of UTF-8 (whole characters).

        >>> Variable("x", "年" * 30, "year").stata_label == "年" * 26
        True
        """
        text = self.label_short or self.label_zh
        while len(text.encode("utf-8")) > 80:
            text = text[:-1]
        return text


@dataclass(frozen=True)
class Hierarchy:
    """A quasi-identifier's generalisation levels: ``labels`` (text) and ``codes`` (numbers), same shape.

    Indexed by the value as the store holds it; one column per level, the last the top (one label,
    code :data:`TOP`).
    """

    labels: pd.DataFrame
    codes: pd.DataFrame
    levels: tuple[tuple[str, str], ...]
    """Each level's name, Chinese and English."""


def _hierarchy(rows: list[tuple], levels: tuple[tuple[str, str], ...], top: str, unknown: tuple) -> Hierarchy:
    """From ``(value, (label, code), (label, code) …)`` rows, with a row for ``unknown`` (value, label,
    code: what a missing value is filled with) and the top level added."""
    value, label, code = unknown
    rows = [*rows, (value, *[(label, code)] * (len(levels) - 1))]
    index = [r[0] for r in rows]
    names = [en for _, en in levels]
    labels = pd.DataFrame([[lab for lab, _ in r[1:]] + [top] for r in rows], index=index, columns=names)
    codes = pd.DataFrame([[code for _, code in r[1:]] + [TOP] for r in rows], index=index, columns=names)
    return Hierarchy(labels, codes, levels)


def school_hierarchy(schools: pd.DataFrame) -> Hierarchy:
    """School → its stratum (stage · urban/township) → its stage → the district.

    >>> schools = pd.DataFrame({"school_id": ["S1", "S2"], "name": ["甲小学", "乙中学"],
    ...                         "stage": ["primary", "junior"], "location": ["urban", "urban"]})
    >>> school_hierarchy(schools).labels.loc["S2"].tolist()
    ['乙中学', '初中·城区', '初中', '全区']
    """
    ordered = schools.sort_values("school_id").reset_index(drop=True)
    names = ordered["name"].where(
        ~ordered["name"].duplicated(keep=False), ordered["name"] + "（" + ordered["school_id"] + "）"
    )
    strata = sorted({(s, loc) for s, loc in zip(ordered["stage"], ordered["location"], strict=True)})
    stages = sorted(set(ordered["stage"]), key=list(STAGE_WORDS).index)
    rows = [
        (
            r.school_id,
            (name, i + 1),
            (
                f"{STAGE_WORDS[r.stage][0]}·{LOCATION_WORDS[r.location]}",
                strata.index((r.stage, r.location)) + 1,
            ),
            (STAGE_WORDS[r.stage][0], stages.index(r.stage) + 1),
        )
        for i, (r, name) in enumerate(zip(ordered.itertuples(), names, strict=True))
    ]
    levels = (("学校", "school"), ("学段·城乡", "stratum"), ("学段", "stage"), ("全区", "district"))
    return _hierarchy(rows, levels, "全区", ("", "学校不详", 999))


def grade_hierarchy() -> Hierarchy:
    """Grade → part of the stage (小学低段 1-3, 小学高段 4-6, 初中, 高中) → 小学/中学 → any grade.

    >>> grade_hierarchy().labels.loc[8].tolist()
    ['初二', '初中', '中学', '全部年级']
    """
    parts = ("小学1–3年级", "小学4–6年级", "初中", "高中")
    rows = [
        (
            g,
            (_GRADE_ZH[g - 1], g),
            (parts[(g - 1) // 3], (g - 1) // 3 + 1),
            ("小学" if g <= 6 else "中学", 1 + (g > 6)),
        )
        for g in range(1, 13)
    ]
    levels = (
        ("年级", "grade"),
        ("学段分段", "part of stage"),
        ("小学/中学", "primary or secondary"),
        ("全部", "any"),
    )
    return _hierarchy(rows, levels, "全部年级", (_GRADE_UNKNOWN, "年级不详", _GRADE_UNKNOWN))


def gender_hierarchy() -> Hierarchy:
    """Gender (女 1, 男 2, 未知 9) → either."""
    rows = [("F", ("女", 1)), ("M", ("男", 2))]
    return _hierarchy(
        rows, (("性别", "gender"), ("不分", "any")), "不分性别", ("", "性别不详", _GENDER_UNKNOWN)
    )


def age_hierarchy(ages: Sequence[int]) -> Hierarchy:
    """Age in years → two-year bands → four-year bands → any age; a band's code is its lowest age.

    >>> age_hierarchy([12, 13]).labels.loc[13].tolist()
    ['13岁', '12–13岁', '12–15岁', '全部年龄']
    """
    rows = [
        (
            a,
            (f"{a}岁", a),
            (f"{a // 2 * 2}–{a // 2 * 2 + 1}岁", a // 2 * 2),
            (f"{a // 4 * 4}–{a // 4 * 4 + 3}岁", a // 4 * 4),
        )
        for a in sorted(set(ages) - {_AGE_UNKNOWN})
    ]
    levels = (("周岁", "age"), ("两岁一段", "two-year band"), ("四岁一段", "four-year band"), ("全部", "any"))
    return _hierarchy(rows, levels, "全部年龄", (_AGE_UNKNOWN, "年龄不详", _AGE_UNKNOWN))


_QUASI_ZH = {"school": "学校", "grade": "年级", "gender": "性别", "age": "年龄（周岁，按出生年份计）"}


@dataclass(frozen=True)
class Extract:
    """An extract ready to write: ``data`` (codes), its ``variables``, and what :func:`anonymise` did."""

    data: pd.DataFrame
    variables: tuple[Variable, ...]
    anonymised: Anonymised
    hierarchies: dict[str, Hierarchy]
    sensitive: tuple[str, ...]


def _quasi_frame(students: pd.DataFrame, wave_year: int) -> pd.DataFrame:
    """The four quasi-identifiers as the hierarchies index them (unknowns coded)."""
    age = (wave_year - pd.to_numeric(students["birth_year"])).where(
        students["birth_year"].notna(), _AGE_UNKNOWN
    )
    return pd.DataFrame(
        {
            "school": students["school_id"].fillna("").to_numpy(),
            "grade": pd.to_numeric(students["grade"]).fillna(_GRADE_UNKNOWN).astype(int).to_numpy(),
            "gender": students["gender"].fillna("").to_numpy(),
            "age": age.astype(int).to_numpy(),
        },
        index=students["pid"].to_numpy(),
    )


def _screening_columns(rows: ResearchRows, pids: pd.Index) -> tuple[pd.DataFrame, list[Variable], list[str]]:
    """Per instrument of the wave: validity, every scale's raw score, the total's band rank."""
    columns, variables, bands = {}, [], []
    for code in sorted(set(rows.scores["instrument"]) | set(rows.validity["instrument"])):
        spec = instruments.get(code)
        valid = rows.validity[rows.validity["instrument"] == code].set_index("pid")["valid"]
        name = f"{code}_valid"
        columns[name] = valid.reindex(pids).map({True: 1, False: 0})
        variables.append(
            Variable(
                name,
                f"{spec.name_zh}：作答有效",
                f"{spec.name_en}: valid sheet",
                {1: "有效", 0: "无效"},
                "nominal",
                label_short=f"{spec.abbreviation} 作答有效",
            )
        )
        mine = rows.scores[rows.scores["instrument"] == code]
        for scale in spec.scales:
            raw = mine[mine["scale"] == scale.code].set_index("pid")["raw"]
            if raw.empty:
                continue
            name = f"{code}_{scale.code}"
            columns[name] = pd.to_numeric(raw).reindex(pids)
            variables.append(
                Variable(
                    name,
                    f"{spec.name_zh}：{scale.name_zh}（原始分）",
                    f"{spec.name_en}: {scale.name_en} (raw score)",
                    label_short=f"{spec.abbreviation} {scale.name_zh}（原始分）",
                )
            )
        total = mine[(mine["scale"] == "total") & mine["band"].notna()]
        if total.empty:
            continue
        ranks = total.drop_duplicates(["band_rank", "band"])
        if ranks["band_rank"].duplicated().any():
            raise ExportError(
                f"{code}: one band rank names two bands in this wave; export the informants apart"
            )
        name = f"{code}_band"
        columns[name] = pd.to_numeric(total.set_index("pid")["band_rank"]).reindex(pids).astype("Int64")
        labels = {int(r.band_rank): spec.scale("total").band(r.band).name_zh for r in ranks.itertuples()}
        variables.append(
            Variable(
                name,
                f"{spec.name_zh}：风险分级",
                f"{spec.name_en}: risk band",
                dict(sorted(labels.items())),
                "ordinal",
                label_short=f"{spec.abbreviation} 风险分级",
            )
        )
        bands.append(name)
    return pd.DataFrame(columns, index=pids), variables, bands


def build_extract(
    rows: ResearchRows,
    *,
    wave_id: str,
    project_key: bytes,
    k: int = 5,
    l: int = 2,  # noqa: E741
    max_suppression: float = 0.05,
) -> Extract:
    """Pseudonymise, coarsen and label one wave's rows (pure: no database, no file).

    Rows are sorted by research pid, so their order says nothing about the store's.
    """
    quasi = _quasi_frame(rows.students, rows.wave_year)
    screening, score_variables, bands = _screening_columns(rows, quasi.index)
    hierarchies = {
        "school": school_hierarchy(rows.schools),
        "grade": grade_hierarchy(),
        "gender": gender_hierarchy(),
        "age": age_hierarchy(quasi["age"].tolist()),
    }
    frame = pd.concat([quasi, screening], axis=1)
    result = anonymise(
        frame,
        quasi={name: hierarchies[name].labels for name in QUASI},
        sensitive=bands,
        k=k,
        l=l,
        max_suppression=max_suppression,
    )
    kept = result.frame
    data = pd.DataFrame(
        {"rpid": pseudonymise(kept.index.tolist(), project_key), "wave": wave_id}, index=kept.index
    )
    variables = [
        Variable(
            "rpid", "研究编号（项目内化名）", "research ID (pseudonym within the project)", measure="nominal"
        ),
        Variable("wave", "普测批次", "screening wave", measure="nominal"),
    ]
    for name in QUASI:
        h, level = hierarchies[name], result.levels[name]
        codes = dict(zip(h.labels.iloc[:, level], h.codes.iloc[:, level], strict=True)) | {
            h.labels.iloc[0, -1]: TOP
        }
        data[name] = kept[name].map(codes).astype(int)
        values = {int(code): label for label, code in codes.items() if code in set(data[name])}
        kind = "ordinal" if name in ("grade", "age") else "nominal"
        zh, en = _QUASI_ZH[name], name
        if level:
            zh, en = f"{zh}（已泛化：{h.levels[level][0]}）", f"{en} (generalised to {h.levels[level][1]})"
        variables.append(Variable(name, zh, en, dict(sorted(values.items())), kind))
    for variable in score_variables:
        data[variable.name] = kept[variable.name]
        variables.append(variable)
    data = data.sort_values("rpid").reset_index(drop=True)
    return Extract(data, tuple(variables), result, hierarchies, tuple(bands))


# --- files ----------------------------------------------------------------------------------------


def _as_text(extract: Extract) -> pd.DataFrame:
    """The data with value labels in place of codes and Chinese-first headers (what staff read in XLSX)."""
    text = pd.DataFrame(index=extract.data.index)
    for v in extract.variables:
        column = extract.data[v.name]
        text[v.label] = column.map(v.values).where(column.notna()) if v.values else column
    return text


def _codebook(extract: Extract) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "变量名 / name": [v.name for v in extract.variables],
            "中文标签": [v.label_zh for v in extract.variables],
            "label": [v.label_en for v in extract.variables],
            "取值标签 / value labels": [
                "；".join(f"{code} = {text}" for code, text in v.values.items()) for v in extract.variables
            ],
        }
    )


def _numeric(data: pd.DataFrame) -> pd.DataFrame:
    """Nullable integers as floats (missing = system-missing), which pyreadstat writes as numbers."""
    return data.apply(lambda c: c.astype(float) if isinstance(c.dtype, pd.Int64Dtype) else c)


def write_data(
    extract: Extract, path: Path, fmt: str, *, title: str, about: Sequence[tuple[str, str]]
) -> None:
    """Write ``extract`` to ``path`` as ``fmt`` (``sav``, ``dta``, ``xlsx`` or ``csv``).

    ``title`` becomes the SPSS/Stata file label; ``about`` (label, value pairs) the SPSS document and the
    XLSX's 说明 sheet.
    """
    import pyreadstat

    labels = [v.label for v in extract.variables]
    value_labels = {v.name: v.values for v in extract.variables if v.values}
    data = _numeric(extract.data)
    if fmt == "sav":
        pyreadstat.write_sav(
            data,
            path,
            file_label=title,
            column_labels=labels,
            variable_value_labels=value_labels,
            missing_ranges={name: [TOP] for name in QUASI},
            variable_measure={v.name: v.measure for v in extract.variables},
            note=[f"{label}: {value}" for label, value in about],
        )
    elif fmt == "dta":
        pyreadstat.write_dta(
            data,
            path,
            file_label=title,
            column_labels=[v.stata_label for v in extract.variables],
            variable_value_labels=value_labels,
            version=15,
        )
    elif fmt == "xlsx":
        with pd.ExcelWriter(path, engine="openpyxl") as writer:
            _as_text(extract).to_excel(writer, sheet_name="数据 data", index=False)
            _codebook(extract).to_excel(writer, sheet_name="变量说明 codebook", index=False)
            pd.DataFrame(about, columns=["项目 / item", "内容 / value"]).to_excel(
                writer, sheet_name="说明 about", index=False
            )
    elif fmt == "csv":
        extract.data.to_csv(path, index=False, encoding="utf-8-sig")
    else:
        raise ExportError(f"format must be one of {', '.join(FORMATS)}, got {fmt!r}")


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


@dataclass(frozen=True)
class ExportResult:
    """An extract written: the data file, its manifest (path and content), and the extract itself."""

    path: Path
    manifest_path: Path
    manifest: dict
    extract: Extract


def manifest_path(path: str | Path) -> Path:
    """Where the manifest of the extract ``path`` is written: ``<file>.manifest.json`` beside it.

    >>> manifest_path("/tmp/x.sav").name
    'x.sav.manifest.json'
    """
    path = Path(path)
    return path.with_name(f"{path.name}.manifest.json")


def project_key_fingerprint(engine: sa.Engine, project: str) -> str | None:
    """The fingerprint of the key ``project``'s earlier extracts were made with (``None``: no extract yet)."""
    with engine.connect() as conn:
        return get_meta(conn, f"{PROJECT_KEY_META}{project}")


PROJECT_KEY_META = "research_key:"
"""``store_meta`` name prefix of each research project's key fingerprint."""


def _refuse_another_project_key(known: str | None, project: str, fingerprint: str) -> None:
    """A project keeps one key: another key would make its waves' extracts unlinkable (refused)."""
    if known is not None and known != fingerprint:
        raise ExportError(
            f"项目 {project} 的密钥与以前不同 / the key given for project {project} differs from the one its "
            f"earlier extracts were made with (fingerprint {known}, now {fingerprint}): their research IDs would "
            "not link; use that project's key file"
        )


def _latest_wave(engine: sa.Engine) -> str:
    from psychanalytics.store import list_waves

    waves = list_waves(engine)
    if waves.empty:
        raise ExportError("the store has no screening wave to export")
    return str(waves["wave_id"].iloc[-1])


def export_research(
    engine: sa.Engine,
    out: str | Path,
    *,
    project: str,
    project_key: bytes,
    wave: str | None = None,
    fmt: str | None = None,
    purpose: str | None = None,
    anchors: audit.AnchorFile | None = None,
    k: int = 5,
    l: int = 2,  # noqa: E741
    max_suppression: float = 0.05,
    on: dt.date | None = None,
    actor: str | None = None,
) -> ExportResult:
    """Write a research extract of one wave for ``project`` to ``out``, with its manifest; audit it.

    Parameters
    ----------
    engine : sqlalchemy.Engine
        The store.
    out : path
        The extract file (new; its suffix gives the format unless ``fmt`` does).
    project : str
        The research project (:data:`PROJECT_NAME`): consent purpose ``research:<project>``.
    project_key : bytes
        The project's pseudonym key (its own file, outside the database; one per project).
    wave : str, optional
        The screening wave (default: the latest).
    fmt : str, optional
        ``sav``, ``dta``, ``xlsx`` or ``csv``.
    purpose : str, optional
        What the extract is for, in words (the manifest and the audit log keep it).
    anchors : AnchorFile, optional
        Anchor the audit head after the export; the manifest records the anchor.
    k, l, max_suppression : int, int, float
        See :func:`psychanalytics.privacy.anonymity.anonymise`.
    on : datetime.date, optional
        The day consent is judged on (default: today).

    Raises
    ------
    ExportError
        Bad options, no consenting student, k and l unreachable, a project key that differs from the
        project's earlier extracts, or ``out`` exists. Nothing is written or audited then.
    """
    check_project(project)
    out = Path(out).expanduser().resolve()
    fmt = (fmt or out.suffix.lstrip(".")).lower()
    if fmt not in FORMATS:
        raise ExportError(
            f"format must be one of {', '.join(FORMATS)} (from --format or the file's suffix), got {fmt!r}"
        )
    if out.exists() or manifest_path(out).exists():
        raise ExportError(f"{out} (or its manifest) already exists: an extract never overwrites a file")
    if not out.parent.is_dir():
        raise ExportError(f"{out.parent}: no such folder")
    on = on or dt.date.today()
    fingerprint = key_fingerprint(project_key)
    _refuse_another_project_key(project_key_fingerprint(engine, project), project, fingerprint)
    wave = wave or _latest_wave(engine)
    consent_purpose = research_purpose(project)
    purpose = purpose or f"研究项目 {project} / research project {project}"
    try:
        rows = research_rows(engine, wave_id=wave, purpose=consent_purpose, on=on)
    except KeyError as exc:
        raise ExportError(str(exc.args[0])) from None
    if rows.students.empty:
        raise ExportError(
            f"{wave} 中没有学生的同意书涵盖 {consent_purpose}（截至 {on}）/ no student screened in {wave} has consent "
            f"for {consent_purpose} on {on}: nothing to export"
        )
    extract = build_extract(
        rows, wave_id=wave, project_key=project_key, k=k, l=l, max_suppression=max_suppression
    )
    if extract.data.empty:
        raise ExportError(
            f"无法达到 k ≥ {k}、l ≥ {l} / k ≥ {k} and l ≥ {l} cannot be reached with {len(rows.students)} consenting "
            "students (too few, or too few different risk bands): nothing exported"
        )
    result = extract.anonymised
    created = dt.datetime.now(dt.UTC).replace(microsecond=0)
    actor = actor or getpass.getuser()
    about = [
        ("项目 / project", project),
        ("用途 / purpose", purpose),
        ("普测批次 / wave", wave),
        ("生成时间 / created (UTC)", created.isoformat()),
        ("同意书 / consent", f"{consent_purpose}, {len(rows.students)} / {rows.screened}"),
        ("k-匿名 / k-anonymity", f"≥ {k}: {result.k}"),
        ("l-多样性 / l-diversity", f"≥ {l}: {result.l}"),
        ("项目密钥指纹 / project key fingerprint", fingerprint),
    ]
    pending = out.with_name(f".{out.name}.pending")
    pending.unlink(missing_ok=True)
    try:
        write_data(extract, pending, fmt, title=f"研究数据提取 {project} {wave}", about=about)
        sha = _sha256(pending)
        with engine.begin() as conn:
            known = get_meta(conn, f"{PROJECT_KEY_META}{project}")
            _refuse_another_project_key(known, project, fingerprint)
            if known is None:
                set_meta(conn, f"{PROJECT_KEY_META}{project}", fingerprint)
            seq = audit.append(
                conn,
                action="export",
                resource=f"extract:{project}:{out.name}",
                detail={
                    "project": project,
                    "purpose": purpose,
                    "wave": wave,
                    "format": fmt,
                    "file": out.name,
                    "file_sha256": sha,
                    "rows": len(extract.data),
                    "k": result.k,
                    "l": result.l,
                    "project_key_fingerprint": fingerprint,
                },
                actor=actor,
            )
            register_release(conn, kind="extract", name=out.name, audit_seq=seq, project=project)
        anchor = None if anchors is None else anchors.record(engine)
        manifest = _manifest(
            extract,
            rows,
            project=project,
            purpose=purpose,
            wave=wave,
            fmt=fmt,
            file=out.name,
            sha=sha,
            created=created,
            actor=actor,
            consent_purpose=consent_purpose,
            on=on,
            k=k,
            l=l,
            max_suppression=max_suppression,
            fingerprint=fingerprint,
            audit_seq=seq,
            anchor=anchor,
        )
        manifest_path(out).write_text(json.dumps(manifest, ensure_ascii=False, indent=2) + "\n", "utf-8")
        pending.replace(out)
    finally:
        pending.unlink(missing_ok=True)
    return ExportResult(out, manifest_path(out), manifest, extract)


def _manifest(extract: Extract, rows: ResearchRows, **facts) -> dict:
    result = extract.anonymised
    levels = {
        name: {
            "level": result.levels[name],
            "as": extract.hierarchies[name].levels[result.levels[name]][1],
            "levels": [en for _, en in extract.hierarchies[name].levels],
        }
        for name in QUASI
    }
    anchor = facts["anchor"]
    return {
        "kind": "research_extract",
        "project": facts["project"],
        "purpose": facts["purpose"],
        "created_utc": facts["created"].isoformat(),
        "created_by": facts["actor"],
        "wave": facts["wave"],
        "file": facts["file"],
        "format": facts["fmt"],
        "file_sha256": facts["sha"],
        "rows": len(extract.data),
        "consent": {
            "purpose": facts["consent_purpose"],
            "judged_on": facts["on"].isoformat(),
            "students_screened": rows.screened,
            "students_consenting": len(rows.students),
        },
        "quasi_identifiers": levels,
        "sensitive": list(extract.sensitive),
        "k": {"required": facts["k"], "achieved": result.k},
        "l": {"required": facts["l"], "achieved": result.l},
        "suppressed_rows": result.suppressed,
        "removed_rows": result.removed,
        "max_suppression": facts["max_suppression"],
        "information_loss": round(result.loss, 4),
        "columns": [
            {
                "name": v.name,
                "label_zh": v.label_zh,
                "label_en": v.label_en,
                "values": {str(code): text for code, text in v.values.items()},
            }
            for v in extract.variables
        ],
        "project_key_fingerprint": facts["fingerprint"],
        "audit_seq": facts["audit_seq"],
        "audit_anchor": None if anchor is None else anchor.as_dict(),
        "rule": "docs/privacy.md §3: consent for research:<project>; no direct identifiers; k ≥ 5 on "
        "{school, grade, gender, age}; l ≥ 2 on every risk band",
        "software": f"psychanalytics {__version__}",
    }
