"""The synthetic demo district: structure, consistency, realism targets, determinism, both databases."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pingouin as pg
import pytest
import sqlalchemy as sa

from psychanalytics import instruments, psychometrics, store, synth
from psychanalytics.privacy.pseudonym import pseudonymise
from psychanalytics.privacy.shapes import id_card_check_character
from psychanalytics.store import audit, schema
from psychanalytics.synth import exports

EMPTY_TABLES = {"import_batch", "quarantine", "demo_planted_school", "erasure", "data_release"}
"""Empty after a small build: the tables imports, erasures and releases fill, and the planted schools (a
district this small has too few schools screening PHQ-9 to plant any; test_screening_demo checks the default one)."""
SMALL = 600


@pytest.fixture(scope="module")
def demo(demo_db) -> sa.Engine:
    engine = store.connect(demo_db)
    yield engine
    engine.dispose()


def _frame(engine: sa.Engine, sql: str) -> pd.DataFrame:
    with engine.connect() as conn:
        return pd.read_sql_query(sa.text(sql), conn)


def _start_year(school_year: pd.Series) -> pd.Series:
    return school_year.str[:4].astype(int)


def test_every_table_is_filled_except_the_import_tables(demo):
    counts = store.table_counts(demo)
    assert {name for name, n in counts.items() if n == 0} == EMPTY_TABLES
    assert counts["school"] >= 8
    assert counts["screening_wave"] == len(synth.SCHOOL_YEARS)


def test_schools_are_synthetic_and_cover_every_stage(demo):
    schools = _frame(demo, "SELECT * FROM school")
    assert schools["is_synthetic"].astype(bool).all()
    assert schools["name"].str.startswith("示例").all()
    assert {"primary", "junior", "nine_year", "senior"} <= set(schools["stage"])
    assert {"urban", "township_central"} <= set(schools["location"])


def test_one_enrolment_per_student_and_year_with_the_grade_of_the_cohort(demo):
    enrol = _frame(
        demo,
        "SELECT e.pid, e.school_year, e.grade, s.cohort, s.birth_year FROM enrolment e JOIN student s USING (pid)",
    )
    assert not enrol.duplicated(["pid", "school_year"]).any()
    assert (enrol["grade"] == _start_year(enrol["school_year"]) - enrol["cohort"] + 1).all()
    assert enrol["grade"].between(1, 12).all()
    assert (enrol["cohort"] - enrol["birth_year"]).isin([6, 7]).all()
    per_year = enrol.groupby("school_year").size()
    assert per_year.between(0.9 * 3_000, 1.1 * 3_000).all()


def test_grade_advances_by_one_between_consecutive_years(demo):
    enrol = _frame(demo, "SELECT pid, school_year, grade FROM enrolment").sort_values(["pid", "school_year"])
    enrol["year"] = _start_year(enrol["school_year"])
    step = enrol.groupby("pid")[["year", "grade"]].diff().dropna()
    assert (step["year"] == 1).all()  # no gaps: a student is present in consecutive years
    assert (step["grade"] == 1).all()


def test_students_change_school_at_grade_7_and_10_keeping_their_pid(demo):
    moves = _frame(
        demo,
        """
        SELECT a.pid, a.grade AS grade_before, b.grade AS grade_after, sa.stage AS stage_before,
               sb.stage AS stage_after, a.school_id AS from_id, b.school_id AS to_id
        FROM enrolment a
        JOIN enrolment b ON b.pid = a.pid AND b.grade = a.grade + 1
        JOIN school sa ON sa.school_id = a.school_id
        JOIN school sb ON sb.school_id = b.school_id
        WHERE a.school_id <> b.school_id
        """,
    )
    assert set(moves["grade_after"]) == {7, 10}
    primary_to_junior = moves[moves["grade_after"] == 7]
    assert len(primary_to_junior) > 100
    assert set(primary_to_junior["stage_before"]) == {"primary"}
    assert set(primary_to_junior["stage_after"]) == {"junior"}
    assert set(moves.loc[moves["grade_after"] == 10, "stage_after"]) == {"senior"}
    transfers = _frame(
        demo, "SELECT pid, from_school_id AS from_id, to_school_id AS to_id, complete FROM archive_transfer"
    )
    # every transfer follows a move; about 5 % of moves are never followed by their archive
    assert transfers.merge(moves, on=["pid", "from_id", "to_id"]).shape[0] == len(transfers)
    assert 0.9 < len(transfers) / len(moves) < 0.99
    assert 0.8 < transfers["complete"].astype(bool).mean() < 1.0


def test_archive_coverage_rises_to_nearly_every_student(demo):
    coverage = _frame(
        demo,
        """
        SELECT e.school_year, AVG(CASE WHEN a.pid IS NULL THEN 0.0 ELSE 1.0 END) AS share
        FROM enrolment e LEFT JOIN archive_category a ON a.pid = e.pid AND a.school_year = e.school_year
        GROUP BY e.school_year ORDER BY e.school_year
        """,
    )["share"]
    assert coverage.is_monotonic_increasing
    assert 0.75 < coverage.iloc[0] < 0.9 and coverage.iloc[-1] > 0.98


def test_school_year_stats_are_counted_from_enrolments(demo):
    stats = (
        _frame(demo, "SELECT * FROM school_year_stats").set_index(["school_id", "school_year"]).sort_index()
    )
    enrol = _frame(demo, "SELECT school_id, school_year, grade, class_no, boarder FROM enrolment")
    by_school = enrol.groupby(["school_id", "school_year"])
    assert (stats["enrolment"] == by_school.size()).all()
    assert (stats["boarders"] == by_school["boarder"].sum()).all()
    classes = enrol.groupby(["school_id", "school_year", "grade"])["class_no"].max()
    assert (stats["n_classes"] == classes.groupby(["school_id", "school_year"]).sum()).all()
    assert (stats["enrolment"] / stats["n_classes"]).between(25, 70).all()


@pytest.mark.parametrize("code, min_grade", [("mht", 4), ("phq9", 7), ("gad7", 7)])
def test_item_codes_are_in_range_and_only_eligible_grades_answer(demo, code, min_grade):
    spec = instruments.get(code)
    rows = _frame(
        demo,
        f"""
        SELECT r.items, r.instrument_version, e.grade FROM response r
        JOIN screening_wave w USING (wave_id)
        JOIN enrolment e ON e.pid = r.pid AND e.school_year = w.school_year
        WHERE r.instrument = '{code}'
        """,
    )
    assert len(rows) > 1_000
    assert (rows["instrument_version"] == spec.version).all()
    assert (rows["grade"] >= min_grade).all()
    items = store.unpack_items(rows["items"], spec.n_items)
    answered = items[~np.isnan(items)]
    assert set(np.unique(answered)) == set(spec.item_values)
    missing = np.isnan(items).mean()
    assert 0.001 < missing < 0.05


def test_phq9_positive_rate_is_realistic_and_higher_for_girls_and_older_students(demo):
    totals = _frame(
        demo,
        """
        SELECT s.raw, st.gender, e.grade FROM score s
        JOIN screening_wave w USING (wave_id)
        JOIN enrolment e ON e.pid = s.pid AND e.school_year = w.school_year
        JOIN student st ON st.pid = s.pid
        WHERE s.instrument = 'phq9' AND s.scale = 'total' AND s.raw IS NOT NULL
        """,
    )
    positive = totals["raw"] >= 10
    assert 0.10 <= positive.mean() <= 0.20
    by_gender = positive.groupby(totals["gender"]).mean()
    assert by_gender["F"] > by_gender["M"] + 0.02
    assert positive[totals["grade"] >= 10].mean() > positive[totals["grade"] <= 8].mean()


@pytest.mark.parametrize("code, low, high", [("phq9", 0.85, 0.90), ("gad7", 0.85, 0.90), ("mht", 0.88, 0.94)])
def test_cronbach_alpha_is_in_the_published_range(demo, code, low, high):
    """Alpha from pingouin.cronbach_alpha (listwise complete sheets) on the first wave."""
    spec = instruments.get(code)
    blobs = _frame(
        demo, f"SELECT items FROM response WHERE instrument = '{code}' AND wave_id = '2021-autumn'"
    )
    items = pd.DataFrame(store.unpack_items(blobs["items"], spec.n_items), columns=spec.item_columns)
    if code == "mht":  # the 90 content items; the lie items (even 82-100) are not part of the total
        items = items.drop(columns=[f"q{i}" for i in range(82, 101, 2)])
    alpha, _ = pg.cronbach_alpha(data=items.dropna())
    assert low <= alpha <= high


def test_norms_describe_the_valid_sheets_of_the_first_wave(demo):
    norms = _frame(demo, "SELECT * FROM norm WHERE instrument = 'phq9' AND scale = 'total'")
    assert set(norms["reference_wave"]) == {"2021-autumn"}
    counted = _frame(
        demo,
        """
        SELECT e.grade, st.gender, COUNT(*) AS n FROM score s
        JOIN validity v USING (wave_id, pid, instrument)
        JOIN enrolment e ON e.pid = s.pid AND e.school_year = '2021-2022'
        JOIN student st ON st.pid = s.pid
        WHERE s.wave_id = '2021-autumn' AND s.instrument = 'phq9' AND s.scale = 'total'
          AND s.raw IS NOT NULL AND v.valid
        GROUP BY e.grade, st.gender
        """,
    ).set_index(["grade", "gender"])["n"]
    n = norms.groupby(["grade", "gender"])["n"].agg(["min", "max"])
    assert (n["min"] == n["max"]).all()
    pd.testing.assert_series_equal(n["min"].sort_index(), counted.sort_index(), check_names=False)
    for _, group in norms.sort_values("raw").groupby(["grade", "gender"]):
        assert group["percentile"].is_monotonic_increasing and group["t_score"].is_monotonic_increasing
        assert group["percentile"].between(0, 100).all()


def _first_wave_norms(engine: sa.Engine) -> tuple[pd.DataFrame, int]:
    """What psychometrics.norms computes on the stored valid scores of the first wave, and the cells it refuses."""
    tables, refused = [], 0
    for code in ("mht", "phq9", "gad7"):
        for scale in instruments.get(code).scale_codes:
            scores = store.load_scores(engine, wave_id="2021-autumn", instrument=code, scale=scale)
            valid = scores[scores["valid"].fillna(False) & scores[scale].notna()]
            result = psychometrics.norms(valid, reference_wave="2021-autumn", instrument=code, score=scale)
            tables.append(result.table)
            refused += len(result.refused)
    return pd.concat(tables, ignore_index=True), refused


@pytest.mark.parametrize("students", [3_000, SMALL])
def test_norms_are_what_psychometrics_computes_on_the_first_wave(demo, tmp_path, students):
    """The demo's norm table is psychometrics.norms of its first wave, so no cell under min_n (30):
    in the 600-student district most grade × gender cells are smaller and have no norms."""
    if students == SMALL:
        engine = store.connect(tmp_path / "small.sqlite")
        synth.build_demo(engine, seed=3, students=SMALL)
    else:
        engine = demo
    expected, refused = _first_wave_norms(engine)
    stored = _frame(engine, "SELECT * FROM norm")
    key = ["instrument", "scale", "grade", "gender", "raw"]
    pd.testing.assert_frame_equal(
        stored.sort_values(key, ignore_index=True),
        expected[stored.columns].sort_values(key, ignore_index=True),
        check_dtype=False,
        rtol=1e-12,
    )
    assert stored["n"].min() >= 30
    if students == SMALL:
        assert refused > 100 and len(stored) > 0
    else:
        assert refused == 0


def test_a_small_share_of_mht_sheets_fail_the_lie_scale(demo):
    validity = _frame(demo, "SELECT valid, lie_score FROM validity WHERE instrument = 'mht'")
    invalid = (validity["lie_score"] >= 7).mean()
    assert 0.005 < invalid < 0.08
    assert (~validity.loc[validity["lie_score"] >= 7, "valid"].astype(bool)).all()


def test_not_every_eligible_student_is_screened(demo):
    counts = _frame(
        demo,
        """
        SELECT w.wave_id,
               (SELECT COUNT(*) FROM enrolment e WHERE e.school_year = w.school_year AND e.grade >= 7) AS eligible,
               (SELECT COUNT(*) FROM response r WHERE r.wave_id = w.wave_id AND r.instrument = 'phq9') AS screened
        FROM screening_wave w
        """,
    )
    share = counts["screened"] / counts["eligible"]
    assert share.between(0.93, 0.995).all()


def test_full_time_psychology_teacher_coverage_rises_but_the_gap_stays_open(demo):
    staff = _frame(demo, "SELECT school_id, school_year, employment FROM staff")
    n_schools = store.table_counts(demo)["school"]
    covered = (
        staff[staff["employment"] == "full_time"].groupby("school_year")["school_id"].nunique() / n_schools
    )
    covered = covered.reindex(synth.SCHOOL_YEARS, fill_value=0.0)
    assert covered.iloc[0] <= 0.55
    assert covered.is_monotonic_increasing
    assert 0.8 <= covered.iloc[-1] < 1.0


def test_the_district_lecture_runs_about_monthly(demo):
    lectures = _frame(demo, "SELECT held_on FROM activity WHERE kind = 'lecture' AND school_id IS NULL")
    months = pd.to_datetime(lectures["held_on"]).dt.to_period("M")
    assert months.is_unique
    assert 35 <= len(months) <= 45  # 9 teaching months × 5 years, a few missed


def test_interventions_record_a_planted_effect_that_the_data_show(demo):
    truth = synth.planted_effects(demo)
    programmes = truth[truth["kind"] == "group_counselling"]
    assert programmes["effect_d"].between(0.2, 0.4).all()
    people = _frame(demo, "SELECT intervention_id, arm, pre_score, post_score FROM participant")
    people = people[people["intervention_id"].isin(programmes["intervention_id"])]
    assert set(people["arm"]) == {"treatment", "comparison"}
    complete = people.dropna(subset=["post_score"]).assign(change=lambda f: f["post_score"] - f["pre_score"])
    estimates = []
    for _, group in complete.groupby("intervention_id"):
        arms = {arm: g for arm, g in group.groupby("arm")}
        t, c = arms["treatment"], arms["comparison"]
        pooled = np.sqrt(
            ((len(t) - 1) * t["pre_score"].var() + (len(c) - 1) * c["pre_score"].var())
            / (len(t) + len(c) - 2)
        )
        estimates.append((c["change"].mean() - t["change"].mean()) / pooled)
    # the mean of ~10 programme estimates (SE about 0.1) lies near the mean planted effect
    assert abs(np.mean(estimates) - programmes["effect_d"].mean()) < 0.25
    assert np.mean(estimates) > 0


def test_the_curriculum_is_given_to_whole_classes_with_comparison_classes_in_each_school(demo):
    truth = synth.planted_effects(demo)
    pilot = truth[truth["kind"] == "curriculum"]
    assert len(pilot) >= 3 and pilot["school_year"].nunique() == 1 and set(pilot["instrument"]) == {"mht"}
    assert pilot["effect_d"].nunique() == 1 and (pilot["class_sd"] > 0).all()
    people = _frame(
        demo,
        "SELECT p.intervention_id, i.school_id, p.arm, e.grade, e.class_no FROM participant p "
        "JOIN intervention i USING (intervention_id) "
        "JOIN enrolment e ON e.pid = p.pid AND e.school_year = i.school_year WHERE i.kind = 'curriculum'",
    )
    assert set(people["intervention_id"]) == set(pilot["intervention_id"])
    assert people["grade"].between(4, 6).all()
    arms_per_class = people.groupby(["school_id", "grade", "class_no"])["arm"].nunique()
    assert (arms_per_class == 1).all()  # a class takes the curriculum whole, or is a comparison class
    classes = people.drop_duplicates(["school_id", "grade", "class_no"])
    assert (classes.groupby("school_id")["arm"].nunique() == 2).all()  # both arms in every school
    lessons_as_sessions = _frame(
        demo,
        "SELECT count(*) AS n FROM counselling_session s JOIN participant p USING (pid) "
        "JOIN intervention i USING (intervention_id) WHERE i.kind = 'curriculum' AND s.kind = 'group' "
        "AND s.held_on BETWEEN i.start_on AND i.end_on",
    )
    assert lessons_as_sessions["n"].iat[0] == 0  # curriculum lessons are not group counselling sessions


def test_crisis_events_are_ordered_and_move_up_the_levels(demo, planted_crisis_problems):
    events = _frame(
        demo, "SELECT case_id, seq, stage, level, occurred_at FROM crisis_event ORDER BY case_id, seq"
    )
    damaged = set(planted_crisis_problems["case_id"])
    assert 4 <= len(damaged) <= 0.1 * events["case_id"].nunique()
    events = events[~events["case_id"].isin(damaged)]  # their record errors are checked in test_crisis_demo
    events["occurred_at"] = pd.to_datetime(events["occurred_at"])
    order = {stage: i for i, stage in enumerate(schema.CRISIS_STAGES)}
    events["rank"] = events["stage"].map(order)
    for _, case in events.groupby("case_id"):
        assert case["seq"].tolist() == list(range(1, len(case) + 1))
        assert case["occurred_at"].is_monotonic_increasing
        assert case["rank"].is_monotonic_increasing and case["rank"].is_unique
    first = events.groupby("case_id").first()
    assert (first["stage"] == "raised").all()
    assert set(events.loc[events["stage"] == "referred", "level"]) == {"society"}
    assert events.loc[events["stage"] == "confirmed", "level"].eq("school").all()
    last = events.groupby("case_id")["stage"].last()
    assert 0.5 < (last == "closed").mean() < 1.0  # some cases are lost or still open
    assert events["occurred_at"].max() <= synth.SNAPSHOT


def test_crisis_cases_concentrate_among_high_scorers(demo):
    phq = _frame(
        demo,
        """
        SELECT s.pid, s.wave_id, s.raw,
               EXISTS (SELECT 1 FROM crisis_case c WHERE c.pid = s.pid AND c.wave_id = s.wave_id) AS has_case
        FROM score s WHERE s.instrument = 'phq9' AND s.scale = 'total' AND s.raw IS NOT NULL
        """,
    )
    rate = phq.groupby(phq["raw"] >= 15)["has_case"].mean()
    assert rate[True] > 5 * rate[False]


def test_archive_categories_follow_the_crisis_cases(demo):
    archive = _frame(demo, "SELECT pid, school_year, category FROM archive_category")
    cases = _frame(
        demo,
        "SELECT c.pid, c.severity, e.occurred_at FROM crisis_case c JOIN crisis_event e USING (case_id) WHERE e.seq = 1",
    )
    raised = pd.to_datetime(cases["occurred_at"])
    start = raised.dt.year - (raised.dt.month < 9)
    cases["school_year"] = start.astype(str) + "-" + (start + 1).astype(str)
    worst = cases.groupby(["pid", "school_year"])["severity"].max().rename("severity").reset_index()
    joined = archive.merge(worst, on=["pid", "school_year"], how="left")
    assert len(worst) > 20
    assert (joined.loc[joined["severity"] == 3, "category"] == "crisis").all()
    assert (joined.loc[joined["category"] == "crisis", "severity"] == 3).all()
    assert joined.loc[joined["severity"].isin([1, 2]), "category"].eq("key").all()
    assert joined["category"].value_counts(normalize=True)["general"] > 0.6


def test_population_holds_the_identifiers_that_map_onto_the_database_pids(demo):
    people = synth.population(seed=7, students=3_000)
    pids = _frame(demo, "SELECT pid FROM student")["pid"]
    assert set(people["pid"]) == set(pids)
    assert people["student_number"].is_unique
    assert people["student_number"].str.fullmatch(r"G320499\d{11}[\dX]").all()
    assert all(id_card_check_character(n[1:18]) == n[18] for n in people["student_number"])
    assert pseudonymise(people["student_number"], synth.DEMO_KEY) == people["pid"].tolist()
    assert people["name"].str.fullmatch(r"[\u4e00-\u9fff]{2,3}").all()


def test_names_and_student_numbers_never_enter_the_database(demo):
    people = synth.population(seed=7, students=3_000)
    number = re.compile(r"G\d{18}")
    names = set(people["name"])
    with demo.connect() as conn:
        for table in schema.metadata.sorted_tables:
            text_columns = [c for c in table.columns if isinstance(c.type, sa.String | sa.Text)]
            for column in text_columns:
                values = conn.execute(sa.select(column).distinct()).scalars().all()
                assert not any(isinstance(v, str) and (number.search(v) or v in names) for v in values), (
                    f"{table.name}.{column.name}"
                )


def test_the_same_seed_builds_the_same_database_and_another_seed_differs(tmp_path):
    def build(name: str, seed: int) -> dict[str, pd.DataFrame]:
        engine = store.connect(tmp_path / name)
        synth.build_demo(engine, seed=seed, students=SMALL)
        with engine.connect() as conn:
            tables = {
                t.name: pd.read_sql_query(sa.select(t).order_by(*t.primary_key.columns), conn)
                for t in schema.metadata.sorted_tables
                if t.name != "audit_log"  # records when the build ran
            }
        engine.dispose()
        return tables

    first, again, other = build("a.sqlite", 11), build("b.sqlite", 11), build("c.sqlite", 12)
    for name, frame in first.items():
        pd.testing.assert_frame_equal(frame, again[name], obj=name)
    assert not first["enrolment"].equals(other["enrolment"])
    assert not first["response"].equals(other["response"])


def test_a_filled_database_needs_replace(sqlite_engine):
    counts = synth.build_demo(sqlite_engine, seed=3, students=SMALL)
    with pytest.raises(synth.DatabaseNotEmptyError, match="replace=True"):
        synth.build_demo(sqlite_engine, seed=3, students=SMALL)
    rebuilt = synth.build_demo(sqlite_engine, seed=3, students=SMALL, replace=True)
    assert {**rebuilt, "audit_log": 1} == counts and rebuilt["audit_log"] == 2  # the audit trail is kept
    with sqlite_engine.connect() as conn:
        assert audit.verify(conn) == []


def test_replace_refuses_a_database_with_real_schools(sqlite_engine):
    synth.build_demo(sqlite_engine, seed=3, students=SMALL)
    with sqlite_engine.begin() as conn:
        store.upsert(
            conn,
            schema.school,
            [dict(school_id="R01", name="真实学校", stage="primary", location="urban", is_synthetic=False)],
        )
    counts = store.table_counts(sqlite_engine)
    with pytest.raises(synth.DatabaseNotEmptyError, match="not synthetic"):
        synth.build_demo(sqlite_engine, seed=3, students=SMALL, replace=True)
    assert store.table_counts(sqlite_engine) == counts


def test_too_few_students_is_refused(sqlite_engine):
    with pytest.raises(ValueError, match="at least 500"):
        synth.build_demo(sqlite_engine, students=100)
    assert sum(store.table_counts(sqlite_engine).values()) == 0


def test_builds_on_both_databases(engine):
    """The demo as ``psychanalytics demo`` makes it: the build, then its error sample through the importer."""
    counts = synth.build_demo(engine, seed=5, students=SMALL)
    assert {name for name, n in counts.items() if n == 0} == EMPTY_TABLES
    sample = exports.import_error_sample(engine, seed=5, students=SMALL)
    assert (sample.rows_read, sample.stored, sample.quarantined, sample.duplicates) == (43, 33, 9, 1)
    assert {name for name, n in store.table_counts(engine).items() if n == 0} == {
        "demo_planted_school",
        "erasure",
        "data_release",
    }
    events = pd.to_datetime(_frame(engine, "SELECT occurred_at FROM crisis_event")["occurred_at"])
    late = synth.planted_crisis_problems(seed=5, students=SMALL)["problem"].eq("after_as_of").sum()
    assert late >= 1 and (events > synth.SNAPSHOT).sum() == late  # closures typed ten years late, planted
    assert events[events <= synth.SNAPSHOT].min() >= pd.Timestamp("2021-09-01")
    consent = _frame(engine, "SELECT guardian_consent, granted_on FROM consent WHERE purpose = 'screening'")
    assert consent["guardian_consent"].astype(bool).mean() > 0.95
    research = _frame(
        engine,
        "SELECT c.guardian_consent, s.guardian_consent AS screening FROM consent c JOIN consent s "
        f"ON s.pid = c.pid AND s.purpose = 'screening' WHERE c.purpose = 'research:{synth.DEMO_RESEARCH_PROJECT}'",
    )
    agreed = research["guardian_consent"].astype(bool)
    assert 0.55 < agreed.mean() < 0.7  # about two in three of those asked: demo extracts are not empty
    assert not agreed[~research["screening"].astype(bool)].any()  # only where screening was agreed
