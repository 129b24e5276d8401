"""psychanalytics followup on the demo district: the school's flagged students, re-identified from its roster."""

from __future__ import annotations

import json
import shutil

import pandas as pd
import pytest
import sqlalchemy as sa
from conftest import DEMO_SEED, DEMO_STUDENTS
from openpyxl import Workbook, load_workbook

from psychanalytics import cli, crisis, store, synth
from psychanalytics.privacy.pseudonym import pseudonymise
from psychanalytics.store import audit

WAVE, SCHOOL, SCHOOL_YEAR = "2025-autumn", "SYN005", "2025-2026"


@pytest.fixture
def db(demo_db, tmp_path):
    copy = tmp_path / "demo.sqlite"
    shutil.copy(demo_db, copy)
    return copy


@pytest.fixture
def key(tmp_path) -> str:
    """The demo's public pseudonym key in a file, as a school's list is made with the store's key."""
    path = tmp_path / "demo.key"
    path.write_bytes(synth.DEMO_KEY)
    return str(path)


@pytest.fixture(scope="module")
def school_roster(demo_db) -> pd.DataFrame:
    """SYN005's students of 2025-2026 with their synthetic 学籍号 and names (what the school's roster holds)."""
    engine = store.connect(demo_db, read_only=True)
    enrolled = store.read_frame(
        engine,
        sa.text(
            f"SELECT pid, grade, class_no FROM enrolment WHERE school_id = '{SCHOOL}' AND school_year = '{SCHOOL_YEAR}'"
        ),
    )
    engine.dispose()
    people = synth.population(seed=DEMO_SEED, students=DEMO_STUDENTS)
    return enrolled.merge(people, on="pid").sort_values(
        ["grade", "class_no", "student_number"], ignore_index=True
    )


@pytest.fixture(scope="module")
def expected(demo_db) -> set[str]:
    """The flagged pids, counted straight from the tables: PHQ-9 or GAD-7 total >= 10, or any item flag."""
    engine = store.connect(demo_db, read_only=True)
    with engine.connect() as conn:
        rows = conn.execute(
            sa.text(
                """
                SELECT e.pid FROM enrolment e
                WHERE e.school_id = :school AND e.school_year = :year AND (
                    EXISTS (SELECT 1 FROM score s WHERE s.pid = e.pid AND s.wave_id = :wave AND s.scale = 'total'
                            AND s.instrument IN ('phq9', 'gad7') AND s.raw >= 10)
                    OR EXISTS (SELECT 1 FROM score_flag f WHERE f.pid = e.pid AND f.wave_id = :wave AND f.value = 1))
                """
            ),
            dict(school=SCHOOL, year=SCHOOL_YEAR, wave=WAVE),
        ).scalars()
        found = set(rows)
    engine.dispose()
    return found


def _xlsx(path, header, rows):
    book = Workbook()
    sheet = book.active
    sheet.append(header)
    for row in rows:
        sheet.append(row)
    book.save(path)
    return path


def _listed(path) -> pd.DataFrame:
    rows = list(load_workbook(path).worksheets[0].iter_rows(values_only=True))
    at = next(i for i, row in enumerate(rows) if row[0] == "序号")
    return pd.DataFrame(rows[at + 1 :], columns=rows[at]).astype({"学籍号": str})


def _run(capsys, *args) -> tuple[int, str, str]:
    code = cli.main(["followup", *args])
    out, err = capsys.readouterr()
    return code, out, err


def test_the_list_holds_exactly_the_flagged_students_on_the_roster(
    db, key, tmp_path, capsys, school_roster, expected
):
    assert len(expected) > 20
    flagged = school_roster[school_roster["pid"].isin(expected)]
    left_out = flagged["pid"].iloc[:2].tolist()  # two flagged students the roster lacks
    roster = school_roster[~school_roster["pid"].isin(left_out)]
    path = _xlsx(
        tmp_path / "名册.xlsx",
        ["学籍号", "学生姓名", "年级", "班级名称"],
        [[r.student_number, r.name, f"{r.grade}年级", f"{r.class_no}班"] for r in roster.itertuples()],
    )
    out = tmp_path / "随访名单.xlsx"
    code, said, err = _run(capsys, "--db", str(db), "--wave", WAVE, "--school", "示例第一初级中学", "--roster",
                           str(path), "--key-file", key, "--out", str(out))  # fmt: skip
    assert code == 0, err
    assert "不在名册中 / not on the roster            2" in said
    listed = _listed(out)
    assert list(listed.columns) == ["序号", *crisis.FOLLOWUP_COLUMNS]
    assert set(pseudonymise(listed["学籍号"], synth.DEMO_KEY)) == expected - set(left_out)
    names = dict(zip(school_roster["student_number"], school_roster["name"], strict=True))
    assert all(names[n] == name for n, name in zip(listed["学籍号"], listed["姓名"], strict=True))
    # PHQ-9 item 9 however low the total: those students come first, their answer shown
    urgent = listed["筛查发现"].str.contains("第9题")
    assert urgent.any() and not urgent.iloc[urgent.sum() :].any()
    assert listed.loc[urgent, "第9题作答"].str.match(r"[123] ").all()
    assert oct(out.stat().st_mode & 0o777) == "0o600"
    # a student with a crisis case at the school shows it (its 个案编号), every other one 「无」
    engine = store.connect(db, read_only=True)
    with engine.connect() as conn:
        rows = conn.execute(
            sa.text("SELECT pid, case_id FROM crisis_case WHERE school_id = :s"), {"s": SCHOOL}
        ).all()
    engine.dispose()
    case_ids: dict[str, set[str]] = {}
    for pid, case_id in rows:
        case_ids.setdefault(pid, set()).add(case_id)
    pids = pseudonymise(listed["学籍号"], synth.DEMO_KEY)
    with_case = [pid in case_ids for pid in pids]
    assert any(with_case) and not all(with_case)
    for pid, status, has in zip(pids, listed["危机个案状态"], with_case, strict=True):
        assert (status == crisis.NO_CASE) != has
        assert not has or any(f"个案 {c}" in status for c in case_ids[pid])


def test_each_list_is_audited_with_counts_and_no_identifier(
    db, key, tmp_path, capsys, school_roster, expected
):
    path = _xlsx(tmp_path / "r.xlsx", ["学籍号", "姓名", "班级"],
                 [[r.student_number, r.name, r.class_no] for r in school_roster.itertuples()])  # fmt: skip
    code, _, err = _run(capsys, "--db", str(db), "--wave", WAVE, "--school", SCHOOL, "--roster", str(path),
                        "--key-file", key, "--out", str(tmp_path / "l.xlsx"))  # fmt: skip
    assert code == 0, err
    engine = store.connect(db)
    with engine.connect() as conn:
        row = conn.execute(
            sa.text("SELECT action, resource, detail FROM audit_log ORDER BY seq DESC")
        ).first()
        assert audit.verify(conn) == []
    engine.dispose()
    assert (row.action, row.resource) == ("followup_list", f"school:{SCHOOL}/wave:{WAVE}")
    assert json.loads(row.detail) == {
        "school": SCHOOL, "wave": WAVE, "count": len(expected), "flagged": len(expected), "not_on_roster": 0,
    }  # fmt: skip
    listed = _listed(tmp_path / "l.xlsx")
    assert not any(text in row.detail for text in [*listed["学籍号"], *listed["姓名"], *expected])


def test_a_gbk_roster_with_a_title_line_and_bare_id_card_numbers_matches(
    db, key, tmp_path, capsys, school_roster, expected
):
    lines = ["示例第一初级中学 2025-2026 学生名册", "学籍号,学生姓名,班级"]
    for i, r in enumerate(school_roster.itertuples()):
        number = r.student_number[1:] if i % 2 else r.student_number  # every other one without its G
        lines.append(f"{number},{r.name},{r.class_no}班")
    lines.append(",,")  # a blank line
    path = tmp_path / "roster.csv"
    path.write_bytes("\n".join(lines).encode("gbk"))
    out = tmp_path / "l.xlsx"
    code, said, err = _run(capsys, "--db", str(db), "--wave", WAVE, "--school", SCHOOL, "--roster", str(path),
                           "--key-file", key, "--out", str(out))  # fmt: skip
    assert code == 0, err
    assert len(_listed(out)) == len(expected)


def test_students_of_other_schools_never_appear(db, key, tmp_path, capsys, demo_db, school_roster):
    people = synth.population(seed=DEMO_SEED, students=DEMO_STUDENTS)  # the whole district on one roster
    path = _xlsx(
        tmp_path / "all.xlsx", ["学籍号", "姓名"], people[["student_number", "name"]].values.tolist()
    )
    out = tmp_path / "l.xlsx"
    code, _, err = _run(capsys, "--db", str(db), "--wave", WAVE, "--school", SCHOOL, "--roster", str(path),
                        "--key-file", key, "--out", str(out))  # fmt: skip
    assert code == 0, err
    assert set(_listed(out)["学籍号"]) <= set(school_roster["student_number"])


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"--school": "示例火星中学"}, "没有这所学校"),
        ({"--wave": "2030-autumn"}, "没有这个普测批次"),
        ({"--key-file": "WRONG"}, "密钥与本数据库不符"),
        ({"--key-file": "MISSING"}, "密钥文件不存在"),
        ({"--roster": "NOCOLUMN"}, "学籍号"),
        ({"--roster": "DAMAGED"}, "第 3 行的列数与表头不同"),
    ],
)
def test_refused_lists_write_nothing(db, key, tmp_path, capsys, change, message):
    wrong = tmp_path / "wrong.key"
    wrong.write_bytes(b"k" * 32)
    no_number = _xlsx(tmp_path / "names.xlsx", ["姓名", "班级"], [["张三", "1班"]])
    roster = _xlsx(tmp_path / "ok.xlsx", ["学籍号"], [["G1"]])
    args = {"--db": str(db), "--wave": WAVE, "--school": SCHOOL, "--roster": str(roster),
            "--key-file": key, "--out": str(tmp_path / "l.xlsx")}  # fmt: skip
    damaged = tmp_path / "damaged.csv"  # line 3 lost a comma: its name and class run together
    damaged.write_text("学籍号,姓名,班级\nG1,张三,1班\nG2,李四2班\n", encoding="utf-8")
    replaced = {"WRONG": str(wrong), "MISSING": str(tmp_path / "none.key"), "NOCOLUMN": str(no_number),
                "DAMAGED": str(damaged)}  # fmt: skip
    args.update({k: replaced.get(v, v) for k, v in change.items()})
    code, _, err = _run(capsys, *[x for pair in args.items() for x in pair])
    assert code == 2 and message in err
    assert not (tmp_path / "l.xlsx").exists()
    engine = store.connect(db)
    with engine.connect() as conn:
        actions = conn.execute(sa.text("SELECT action FROM audit_log")).scalars().all()
    engine.dispose()
    assert "followup_list" not in actions
