"""Follow-up lists for schools: ``psychanalytics followup`` (plan item 6; issue #14).

After a wave is imported, the students it flagged at a school (a total in the
screen-positive band, or PHQ-9 item 9 however low the total) must reach the
school's psychology teacher within days. The store holds pseudonyms only, so
the school's own roster is pseudonymised here with the store's key and matched:
the list (学籍号, 姓名, 班级, what was flagged, the item-9 answer, the student's
current crisis case at the school, if any) is written to
an XLSX for that school alone, each list is recorded in the audit log (school,
wave, counts; never an identifier), and flagged students missing from the roster
are counted, not dropped. The roster is read as the importer reads files
(:func:`psychanalytics.ingest.read_table`), never stored.
"""

from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import sqlalchemy as sa

from psychanalytics import crisis, ingest, instruments, store
from psychanalytics.privacy.pseudonym import key_fingerprint, normalise_student_number, pseudonymise
from psychanalytics.store import audit, schema
from psychanalytics.store.queries import crisis as queries

ROSTER_FIELDS = ("student_number", "name", "grade", "class")
"""Roster columns read (headers as the importer accepts them: 学籍号, 姓名/学生姓名, 年级, 班级/班级名称 …)."""

_EXCEL_DIGITS = 15


class FollowupError(ValueError):
    """The list was not made: the message says why (nothing was written)."""


@dataclass(frozen=True)
class FollowupResult:
    """What :func:`write_followup_list` wrote: counts only."""

    path: Path
    school: str
    school_name: str
    wave: str
    flagged: int
    """Students of the school the wave flagged."""
    listed: int
    """Of them, those found on the roster and listed."""
    not_on_roster: int
    roster_lines: int
    roster_without_number: int
    """Roster lines with no 学籍号 (skipped: they cannot be matched)."""
    audit_seq: int


def read_roster(path: str | Path) -> pd.DataFrame:
    """A school roster (CSV in UTF-8/GBK or XLSX) as ``student_number, name, grade, class, line``.

    The file is read as the importer reads it (:func:`psychanalytics.ingest.read_table`:
    encoding, title lines, the importer's header aliases); only 学籍号 is required,
    a column the roster lacks is read as empty. Blank lines are skipped; ``line``
    is the line (row) of the file.

    Raises
    ------
    psychanalytics.ingest.IngestError
        The file cannot be read, has no 学籍号 column, or has lines with another
        number of fields than its header (named, so the school can mend them).
    """
    table = ingest.read_table(path, fields=ROSTER_FIELDS, required=("student_number",))
    unread = table.attrs["unread_lines"]
    if unread:
        shown = "、".join(map(str, unread[:10])) + (" …" if len(unread) > 10 else "")
        raise ingest.IngestError(
            f"{Path(path).name}: 第 {shown} 行的列数与表头不同，请修改后再试 / lines {shown} have another number "
            "of fields than the header"
        )
    columns = {f: table[f] if f in table else "" for f in ROSTER_FIELDS}
    return pd.DataFrame({**columns, "line": table["line"]}, columns=[*ROSTER_FIELDS, "line"])


def _candidates(number: str) -> list[str]:
    """The 学籍号 as the importer may have stored it: as written, and with ``G`` before a bare ID-card number."""
    text = normalise_student_number(number)
    bare = len(text) == 18 and text[:17].isdigit() and (text[17].isdigit() or text[17] == "X")
    return [text, f"G{text}"] if bare else [text]


def _pseudonymised(roster: pd.DataFrame, key: bytes) -> tuple[pd.DataFrame, int]:
    """The roster with ``pid`` (one row per way its number may have been stored), and lines without a number."""
    numbered = roster[roster["student_number"] != ""]
    rows = [(i, c) for i, number in zip(numbered.index, numbered["student_number"], strict=True)
            for c in _candidates(number)]  # fmt: skip
    pids = pseudonymise([c for _, c in rows], key)
    keyed = numbered.loc[[i for i, _ in rows]].assign(pid=pids)
    return keyed, len(roster) - len(numbered)


def _school(conn: sa.Connection, school: str) -> tuple[str, str]:
    s = schema.school.c
    row = conn.execute(
        sa.select(s.school_id, s.name).where(sa.or_(s.school_id == school, s.name == school))
    ).first()
    if row is None:
        raise FollowupError(
            f"没有这所学校：{school} / no school {school!r} (give its school_id or its exact name)"
        )
    return row.school_id, row.name


def _wave(conn: sa.Connection, wave: str) -> tuple[str, list[str]]:
    w = schema.screening_wave.c
    label = conn.execute(sa.select(w.label).where(w.wave_id == wave)).scalar_one_or_none()
    if label is None:
        raise FollowupError(f"没有这个普测批次：{wave} / no screening wave {wave!r}")
    scored = conn.execute(
        sa.select(schema.score.c.instrument).where(schema.score.c.wave_id == wave).distinct()
    ).scalars()
    return label, sorted(scored)


def _check_key(conn: sa.Connection, key: bytes) -> None:
    stored = store.get_meta(conn, store.PSEUDONYM_KEY)
    if stored is None or stored != key_fingerprint(key):
        raise FollowupError(
            "密钥与本数据库不符，无法对应学生 / the key file is not this database's pseudonym key: no student "
            "could be matched"
        )


def _school_cases(engine: sa.Engine, school_id: str) -> pd.DataFrame | None:
    """The school's crisis cases as they stand now (``CaseHistories.cases``), ``None`` when it has none."""
    events = queries.crisis_events(engine, school=school_id)
    if events.empty:
        return None
    return crisis.case_histories(events, as_of=pd.Timestamp.now()).cases


def _write_xlsx(path: Path, listed: pd.DataFrame, heading: list[str], rules: list[str]) -> None:
    from openpyxl import Workbook
    from openpyxl.styles import Font

    book = Workbook()
    sheet = book.active
    sheet.title = "随访名单"
    for line in heading:
        sheet.append([line])
    sheet["A1"].font = Font(bold=True, size=14)
    sheet.append(["序号", *listed.columns])
    for cell in sheet[len(heading) + 1]:
        cell.font = Font(bold=True)
    for i, row in enumerate(listed.itertuples(index=False), 1):
        sheet.append([i, *row])
    for column, width in zip("ABCDEFGH", (6, 22, 10, 8, 8, 60, 14, 48), strict=True):
        sheet.column_dimensions[column].width = width
    notes = book.create_sheet("说明")
    for line in rules:
        notes.append([line])
    notes.column_dimensions["A"].width = 110
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)  # names and 学籍号: owner only
    with os.fdopen(fd, "wb") as handle:
        book.save(handle)
    os.chmod(path, 0o600)


def _rules(bands: dict[str, tuple[str, int]], scored: list[str]) -> list[str]:
    """The 说明 sheet: who is listed and why, what the item-9 column says, how to keep the list."""
    lines = ["列入名单的学生 / who is listed:"]
    for code in scored:
        spec = instruments.get(code)
        if code in bands:
            band, rank = bands[code]
            lower = spec.scale("total").band_set().lowers[rank]
            lines.append(
                f"· {spec.abbreviation} 总分 ≥ {lower:g}（{spec.scale('total').band(band).name_zh}及以上）"
            )
        else:
            lines.append(f"· {spec.abbreviation}：没有公布筛查准确度的界值，不按总分列入")
        lines += [f"· {spec.abbreviation} {flag.name_zh}，无论总分高低" for flag in spec.flags]
    return [
        *lines,
        "名单中按题目筛出的学生（如第9题）排在最前，其余按年级、班级排列。",
        "「第9题作答」：PHQ-9 第9题（自伤或死亡念头）的作答，0 完全不会 … 3 几乎每天；「—」：本次未做 PHQ-9。",
        "「危机个案状态」：生成名单时该生在本校最近一个危机个案的进展（阶段、处理层级、预警等级、个案编号）；"
        "「无」：本校尚无该生的危机个案。",
        "筛查结果不是诊断：请在数日内由心理教师约谈确认，需要时按危机干预流程处理；约谈与处理请按危机个案表"
        "（个案编号、阶段、层级、时间）登记并导入，名单本身不回收。",
        "本名单含学生个人敏感信息（《个人信息保护法》第二十八条），仅供本校心理教师使用，不得外传，"
        "不向学生本人展示个人结果；用毕请妥善保管或销毁。",
    ]


def write_followup_list(
    engine: sa.Engine,
    *,
    wave: str,
    school: str,
    roster: str | Path,
    key: bytes,
    out: str | Path,
    actor: str | None = None,
) -> FollowupResult:
    """Write the follow-up list of ``school`` for ``wave`` to ``out`` (XLSX) and record it in the audit log.

    Parameters
    ----------
    engine : sqlalchemy.Engine
        The store (written to only by the audit record).
    wave : str
        The screening wave (``wave_id``).
    school : str
        ``school_id`` or the school's exact name.
    roster : path
        The school's roster (CSV or XLSX with 学籍号; 姓名, 年级, 班级 when it has them).
    key : bytes
        The store's pseudonym key (its fingerprint must be the store's).
    out : path
        The XLSX to write (owner-only permissions: it holds names and 学籍号).
    actor : str, optional
        Who made the list, for the audit log (default: the operating-system user).

    Returns
    -------
    FollowupResult
        Counts and the path; the audit record holds school, wave and counts only.

    Raises
    ------
    FollowupError
        An unknown school or wave, or a key that is not the store's.
    psychanalytics.ingest.IngestError
        The roster cannot be read or has no 学籍号 column.
    """
    with engine.connect() as conn:
        school_id, school_name = _school(conn, school)
        label, scored = _wave(conn, wave)
        _check_key(conn, key)
    bands = crisis.screen_positive_bands(scored)
    flagged = queries.flagged_students(
        engine, wave=wave, school=school_id, min_band_rank={code: rank for code, (_, rank) in bands.items()}
    )
    item9 = queries.item_answers(
        engine, wave=wave, instrument="phq9", items=[9], pids=flagged["pid"].unique()
    )
    people = read_roster(roster)
    keyed, without_number = _pseudonymised(people, key)
    cases = _school_cases(engine, school_id)
    listed, missing = crisis.followup_list(flagged, keyed, item9, cases)
    flagged_n = flagged["pid"].nunique()
    made = dt.datetime.now().strftime("%Y-%m-%d %H:%M")
    heading = [
        f"{label} · {school_name} · 需随访学生名单",
        f"共 {len(listed)} 人。" + (
            f"另有 {len(missing)} 名被筛出的学生不在所给名册中（名册可能不全或学籍号有误），请核对名册后重新生成。"
            if len(missing) else "被筛出的学生均在名册中。"
        ),
        f"生成时间 {made}。本名单仅供本校心理教师使用，请勿外传。",
        "",
    ]  # fmt: skip
    path = Path(out)
    _write_xlsx(path, listed, heading, _rules(bands, scored))
    detail = {
        "school": school_id,
        "wave": wave,
        "count": len(listed),
        "flagged": flagged_n,
        "not_on_roster": len(missing),
    }
    with engine.begin() as conn:
        seq = audit.append(conn, action="followup_list", resource=f"school:{school_id}/wave:{wave}",
                           detail=detail, actor=actor)  # fmt: skip
    return FollowupResult(
        path=path,
        school=school_id,
        school_name=school_name,
        wave=wave,
        flagged=flagged_n,
        listed=len(listed),
        not_on_roster=len(missing),
        roster_lines=len(people),
        roster_without_number=without_number,
        audit_seq=seq,
    )
