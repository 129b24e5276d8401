"""Baseline: the schema as it was before versioning (issues #1-#9).

A store without a version table is at this revision (``psychanalytics upgrade`` stamps it). The DDL is
exactly what ``create_all`` issued (tests/reference/store/schema_0001.json, compared by the tests):
on SQLite, STRICT tables, WITHOUT ROWID where the key is not one INTEGER (both compiled by
``psychanalytics.store.schema``), column CHECK constraints in line; on PostgreSQL, the same tables with
their column comments. Written from ``schema.py`` at commit d0e4be9 and frozen since: later changes of
the schema are later revisions.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "import_batch",
        sa.Column("batch_id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("kind", sa.String(32), nullable=False, comment="import kind: screening, roster, staff …"),
        sa.Column("source_sha256", sa.String(64), nullable=False),
        sa.Column("source_name", sa.Text(), nullable=False, comment="file name as given (no directory)"),
        sa.Column("params", sa.Text(), nullable=False, comment="JSON of the import options"),
        sa.Column("rows_read", sa.Integer(), nullable=False),
        sa.Column("stored", sa.Integer(), nullable=False),
        sa.Column("quarantined", sa.Integer(), nullable=False),
        sa.Column("duplicates", sa.Integer(), nullable=False),
        sa.Column("imported_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("batch_id", name=op.f("pk_import_batch")),
        sa.CheckConstraint(
            "rows_read = stored + quarantined + duplicates", name=op.f("ck_import_batch_conservation")
        ),
        sa.UniqueConstraint("source_sha256", name=op.f("uq_import_batch_source_sha256")),
    )
    op.create_table(
        "school",
        sa.Column("school_id", sa.String(16), nullable=False),
        sa.Column("name", sa.Text(), nullable=False, comment="Chinese name"),
        sa.Column(
            "stage",
            sa.String(24),
            sa.CheckConstraint(
                "stage IN ('primary', 'junior', 'nine_year', 'senior', 'complete_secondary')",
                name=op.f("ck_school_stage"),
            ),
            nullable=False,
        ),
        sa.Column(
            "location",
            sa.String(24),
            sa.CheckConstraint(
                "location IN ('urban', 'township_central', 'township')", name=op.f("ck_school_location")
            ),
            nullable=False,
        ),
        sa.Column("is_synthetic", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.PrimaryKeyConstraint("school_id", name=op.f("pk_school")),
    )
    op.create_table(
        "screening_wave",
        sa.Column("wave_id", sa.String(32), nullable=False, comment="e.g. 2024-autumn"),
        sa.Column(
            "school_year",
            sa.String(9),
            sa.CheckConstraint(
                "school_year LIKE '____-____'", name=op.f("ck_screening_wave_school_year_format")
            ),
            nullable=False,
            comment="school year, e.g. 2024-2025",
        ),
        sa.Column(
            "season",
            sa.String(8),
            sa.CheckConstraint("season IN ('autumn', 'spring')", name=op.f("ck_screening_wave_season")),
            nullable=False,
        ),
        sa.Column("window_start", sa.Date(), nullable=False),
        sa.Column("window_end", sa.Date(), nullable=False),
        sa.Column("label", sa.Text(), nullable=False, comment="Chinese label, e.g. 2024年秋季普测"),
        sa.PrimaryKeyConstraint("wave_id", name=op.f("pk_screening_wave")),
    )
    op.create_table(
        "store_meta",
        sa.Column("name", sa.String(64), nullable=False),
        sa.Column(
            "value",
            sa.Text(),
            nullable=False,
            comment="e.g. pseudonym_key_fingerprint: HMAC of a constant under the key, never the key itself",
        ),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_store_meta")),
    )
    op.create_table(
        "audit_log",
        sa.Column("seq", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("actor", sa.String(64), nullable=False),
        sa.Column("action", sa.String(32), nullable=False, comment="import, export, delete, login …"),
        sa.Column("resource", sa.Text(), nullable=False),
        sa.Column("detail", sa.Text(), nullable=False, comment="JSON; pids only, never names"),
        sa.Column("prev_hash", sa.String(64), nullable=False),
        sa.Column("row_hash", sa.String(64), nullable=False),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_audit_log")),
    )
    op.create_table(
        "quarantine",
        sa.Column("batch_id", sa.Integer(), nullable=False),
        sa.Column("source_sha256", sa.String(64), nullable=False),
        sa.Column("line_no", sa.Integer(), nullable=False, comment="1-based line in the source file"),
        sa.Column("reasons", sa.Text(), nullable=False, comment="JSON list of {column, value, reason}"),
        sa.Column("raw", sa.Text(), nullable=False, comment="the refused row as read (may hold names)"),
        sa.PrimaryKeyConstraint("source_sha256", "line_no", name=op.f("pk_quarantine")),
        sa.ForeignKeyConstraint(["batch_id"], ["import_batch.batch_id"], name=op.f("fk_quarantine_batch_id")),
    )
    op.create_table(
        "school_year_stats",
        sa.Column("school_id", sa.String(16), nullable=False),
        sa.Column(
            "school_year",
            sa.String(9),
            sa.CheckConstraint(
                "school_year LIKE '____-____'", name=op.f("ck_school_year_stats_school_year_format")
            ),
            nullable=False,
            comment="school year, e.g. 2024-2025",
        ),
        sa.Column("enrolment", sa.Integer(), nullable=False),
        sa.Column("n_classes", sa.Integer(), nullable=False),
        sa.Column("boarders", sa.Integer(), server_default="0", nullable=False),
        sa.Column("has_leadership_group", sa.Boolean(), nullable=True, comment="心理健康教育领导小组"),
        sa.Column("special_meetings", sa.Integer(), nullable=True, comment="专题会 held this year"),
        sa.Column("has_three_year_plan", sa.Boolean(), nullable=True),
        sa.Column("is_characteristic_school", sa.Boolean(), nullable=True, comment="市特色校"),
        sa.PrimaryKeyConstraint("school_id", "school_year", name=op.f("pk_school_year_stats")),
        sa.ForeignKeyConstraint(
            ["school_id"], ["school.school_id"], name=op.f("fk_school_year_stats_school_id")
        ),
    )
    op.create_table(
        "student",
        sa.Column("pid", sa.String(32), nullable=False),
        sa.Column(
            "gender",
            sa.String(1),
            sa.CheckConstraint("gender IN ('F', 'M')", name=op.f("ck_student_gender")),
            nullable=True,
        ),
        sa.Column("birth_year", sa.Integer(), nullable=True),
        sa.Column("cohort", sa.Integer(), nullable=True, comment="届: year of entry to grade 1"),
        sa.Column(
            "batch_id",
            sa.Integer(),
            nullable=True,
            comment="import batch that last wrote the row (NULL for generated demo data)",
        ),
        sa.PrimaryKeyConstraint("pid", name=op.f("pk_student")),
        sa.ForeignKeyConstraint(["batch_id"], ["import_batch.batch_id"], name=op.f("fk_student_batch_id")),
    )
    op.create_table(
        "norm",
        sa.Column("instrument", sa.String(16), nullable=False),
        sa.Column("scale", sa.String(32), nullable=False),
        sa.Column("reference_wave", sa.String(32), nullable=False),
        sa.Column("grade", sa.SmallInteger(), nullable=False),
        sa.Column("gender", sa.String(1), nullable=False),
        sa.Column("raw", sa.Float(), nullable=False),
        sa.Column("n", sa.Integer(), nullable=False),
        sa.Column("percentile", sa.Float(), nullable=False),
        sa.Column("t_score", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint(
            "instrument", "scale", "reference_wave", "grade", "gender", "raw", name=op.f("pk_norm")
        ),
        sa.ForeignKeyConstraint(
            ["reference_wave"], ["screening_wave.wave_id"], name=op.f("fk_norm_reference_wave")
        ),
    )
    op.create_table(
        "staff",
        sa.Column("staff_id", sa.String(32), nullable=False, comment="pseudonymous teacher id"),
        sa.Column(
            "school_year",
            sa.String(9),
            sa.CheckConstraint("school_year LIKE '____-____'", name=op.f("ck_staff_school_year_format")),
            nullable=False,
            comment="school year, e.g. 2024-2025",
        ),
        sa.Column("school_id", sa.String(16), nullable=False),
        sa.Column(
            "employment",
            sa.String(16),
            sa.CheckConstraint("employment IN ('full_time', 'part_time')", name=op.f("ck_staff_employment")),
            nullable=False,
        ),
        sa.Column("psychology_degree", sa.Boolean(), nullable=True),
        sa.Column("certificate", sa.String(32), nullable=True, comment="e.g. 心理健康教育C证"),
        sa.Column(
            "does_psychology_work", sa.Boolean(), nullable=True, comment="督导: really does psychology work"
        ),
        sa.Column("weekly_hours", sa.Float(), nullable=True),
        sa.Column(
            "batch_id",
            sa.Integer(),
            nullable=True,
            comment="import batch that last wrote the row (NULL for generated demo data)",
        ),
        sa.PrimaryKeyConstraint("staff_id", "school_year", name=op.f("pk_staff")),
        sa.ForeignKeyConstraint(["school_id"], ["school.school_id"], name=op.f("fk_staff_school_id")),
        sa.ForeignKeyConstraint(["batch_id"], ["import_batch.batch_id"], name=op.f("fk_staff_batch_id")),
    )
    op.create_table(
        "room",
        sa.Column("school_id", sa.String(16), nullable=False),
        sa.Column(
            "school_year",
            sa.String(9),
            sa.CheckConstraint("school_year LIKE '____-____'", name=op.f("ck_room_school_year_format")),
            nullable=False,
            comment="school year, e.g. 2024-2025",
        ),
        sa.Column("individual_room", sa.Boolean(), nullable=False, comment="个别辅导室"),
        sa.Column("group_room", sa.Boolean(), nullable=False, comment="团体活动室"),
        sa.Column("reception_area", sa.Boolean(), nullable=False, comment="办公接待区"),
        sa.Column("mailbox", sa.Boolean(), nullable=False, comment="心理信箱"),
        sa.Column("area_m2", sa.Float(), nullable=True),
        sa.Column("open_hours_week", sa.Float(), nullable=True),
        sa.Column("rule_duty", sa.Boolean(), nullable=False, comment="值班制度"),
        sa.Column("rule_appointment", sa.Boolean(), nullable=False, comment="预约制度"),
        sa.Column("rule_counselling", sa.Boolean(), nullable=False, comment="辅导制度"),
        sa.Column("rule_archive", sa.Boolean(), nullable=False, comment="档案建设制度"),
        sa.Column("rule_transfer", sa.Boolean(), nullable=False, comment="档案移交制度"),
        sa.Column("inspected_on", sa.Date(), nullable=True, comment="年检 date"),
        sa.Column("inspection_passed", sa.Boolean(), nullable=True),
        sa.Column(
            "batch_id",
            sa.Integer(),
            nullable=True,
            comment="import batch that last wrote the row (NULL for generated demo data)",
        ),
        sa.PrimaryKeyConstraint("school_id", "school_year", name=op.f("pk_room")),
        sa.ForeignKeyConstraint(["school_id"], ["school.school_id"], name=op.f("fk_room_school_id")),
        sa.ForeignKeyConstraint(["batch_id"], ["import_batch.batch_id"], name=op.f("fk_room_batch_id")),
    )
    op.create_table(
        "course_delivery",
        sa.Column("school_id", sa.String(16), nullable=False),
        sa.Column(
            "school_year",
            sa.String(9),
            sa.CheckConstraint(
                "school_year LIKE '____-____'", name=op.f("ck_course_delivery_school_year_format")
            ),
            nullable=False,
            comment="school year, e.g. 2024-2025",
        ),
        sa.Column(
            "term",
            sa.SmallInteger(),
            sa.CheckConstraint("term IN (1, 2)", name=op.f("ck_course_delivery_term")),
            nullable=False,
        ),
        sa.Column("grade", sa.SmallInteger(), nullable=False),
        sa.Column("lessons_planned", sa.Integer(), nullable=False),
        sa.Column("lessons_delivered", sa.Integer(), nullable=False),
        sa.Column("uses_district_materials", sa.Boolean(), nullable=True, comment="区本七彩积极品格教材"),
        sa.Column(
            "batch_id",
            sa.Integer(),
            nullable=True,
            comment="import batch that last wrote the row (NULL for generated demo data)",
        ),
        sa.PrimaryKeyConstraint("school_id", "school_year", "term", "grade", name=op.f("pk_course_delivery")),
        sa.ForeignKeyConstraint(
            ["school_id"], ["school.school_id"], name=op.f("fk_course_delivery_school_id")
        ),
        sa.ForeignKeyConstraint(
            ["batch_id"], ["import_batch.batch_id"], name=op.f("fk_course_delivery_batch_id")
        ),
    )
    op.create_table(
        "activity",
        sa.Column("activity_id", sa.String(32), nullable=False),
        sa.Column("held_on", sa.Date(), nullable=False),
        sa.Column("school_id", sa.String(16), nullable=True, comment="NULL for a district-level activity"),
        sa.Column(
            "kind",
            sa.String(24),
            sa.CheckConstraint(
                "kind IN ('lecture', 'parent_class', 'carnival', 'themed_meeting', 'club', 'training')",
                name=op.f("ck_activity_kind"),
            ),
            nullable=False,
        ),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("attendance", sa.Integer(), nullable=True),
        sa.Column(
            "batch_id",
            sa.Integer(),
            nullable=True,
            comment="import batch that last wrote the row (NULL for generated demo data)",
        ),
        sa.PrimaryKeyConstraint("activity_id", name=op.f("pk_activity")),
        sa.ForeignKeyConstraint(["school_id"], ["school.school_id"], name=op.f("fk_activity_school_id")),
        sa.ForeignKeyConstraint(["batch_id"], ["import_batch.batch_id"], name=op.f("fk_activity_batch_id")),
    )
    op.create_table(
        "funding",
        sa.Column("school_id", sa.String(16), nullable=False),
        sa.Column(
            "school_year",
            sa.String(9),
            sa.CheckConstraint("school_year LIKE '____-____'", name=op.f("ck_funding_school_year_format")),
            nullable=False,
            comment="school year, e.g. 2024-2025",
        ),
        sa.Column("budget_yuan", sa.Float(), nullable=False),
        sa.Column("spent_yuan", sa.Float(), nullable=True),
        sa.Column(
            "batch_id",
            sa.Integer(),
            nullable=True,
            comment="import batch that last wrote the row (NULL for generated demo data)",
        ),
        sa.PrimaryKeyConstraint("school_id", "school_year", name=op.f("pk_funding")),
        sa.ForeignKeyConstraint(["school_id"], ["school.school_id"], name=op.f("fk_funding_school_id")),
        sa.ForeignKeyConstraint(["batch_id"], ["import_batch.batch_id"], name=op.f("fk_funding_batch_id")),
    )
    op.create_table(
        "intervention",
        sa.Column("intervention_id", sa.String(32), nullable=False),
        sa.Column("school_id", sa.String(16), nullable=False),
        sa.Column(
            "school_year",
            sa.String(9),
            sa.CheckConstraint(
                "school_year LIKE '____-____'", name=op.f("ck_intervention_school_year_format")
            ),
            nullable=False,
            comment="school year, e.g. 2024-2025",
        ),
        sa.Column("kind", sa.String(32), nullable=False, comment="group_counselling, curriculum …"),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("instrument", sa.String(16), nullable=False, comment="outcome measure"),
        sa.Column("scale", sa.String(32), server_default="total", nullable=False),
        sa.Column("sessions_planned", sa.Integer(), nullable=False),
        sa.Column("start_on", sa.Date(), nullable=False),
        sa.Column("end_on", sa.Date(), nullable=False),
        sa.Column(
            "true_effect_d",
            sa.Float(),
            nullable=True,
            comment="synthetic data only: the standardised effect the generator planted",
        ),
        sa.Column(
            "batch_id",
            sa.Integer(),
            nullable=True,
            comment="import batch that last wrote the row (NULL for generated demo data)",
        ),
        sa.PrimaryKeyConstraint("intervention_id", name=op.f("pk_intervention")),
        sa.ForeignKeyConstraint(["school_id"], ["school.school_id"], name=op.f("fk_intervention_school_id")),
        sa.ForeignKeyConstraint(
            ["batch_id"], ["import_batch.batch_id"], name=op.f("fk_intervention_batch_id")
        ),
    )
    op.create_table(
        "enrolment",
        sa.Column(
            "pid",
            sa.String(32),
            nullable=False,
            comment="student pseudonym: HMAC-SHA256(key, 学籍号), 128 bits as hex",
        ),
        sa.Column(
            "school_year",
            sa.String(9),
            sa.CheckConstraint("school_year LIKE '____-____'", name=op.f("ck_enrolment_school_year_format")),
            nullable=False,
            comment="school year, e.g. 2024-2025",
        ),
        sa.Column("school_id", sa.String(16), nullable=False),
        sa.Column(
            "grade",
            sa.SmallInteger(),
            sa.CheckConstraint("grade BETWEEN 1 AND 12", name=op.f("ck_enrolment_grade")),
            nullable=False,
            comment="年级 1-12 (7 = 初一, 10 = 高一)",
        ),
        sa.Column("class_no", sa.SmallInteger(), nullable=False, comment="班级 number within the grade"),
        sa.Column("boarder", sa.Boolean(), nullable=True),
        sa.Column(
            "batch_id",
            sa.Integer(),
            nullable=True,
            comment="import batch that last wrote the row (NULL for generated demo data)",
        ),
        sa.PrimaryKeyConstraint("pid", "school_year", name=op.f("pk_enrolment")),
        sa.ForeignKeyConstraint(["pid"], ["student.pid"], name=op.f("fk_enrolment_pid"), ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["school_id"], ["school.school_id"], name=op.f("fk_enrolment_school_id")),
        sa.ForeignKeyConstraint(["batch_id"], ["import_batch.batch_id"], name=op.f("fk_enrolment_batch_id")),
    )
    op.create_index(
        op.f("ix_enrolment_year_school_grade"),
        "enrolment",
        ["school_year", "school_id", "grade"],
        unique=False,
    )
    op.create_table(
        "consent",
        sa.Column(
            "pid",
            sa.String(32),
            nullable=False,
            comment="student pseudonym: HMAC-SHA256(key, 学籍号), 128 bits as hex",
        ),
        sa.Column("purpose", sa.String(32), nullable=False, comment="screening, research:<project> …"),
        sa.Column("guardian_consent", sa.Boolean(), nullable=False),
        sa.Column("granted_on", sa.Date(), nullable=False),
        sa.Column("scope", sa.Text(), nullable=True),
        sa.Column("withdrawn_on", sa.Date(), nullable=True),
        sa.PrimaryKeyConstraint("pid", "purpose", name=op.f("pk_consent")),
        sa.ForeignKeyConstraint(["pid"], ["student.pid"], name=op.f("fk_consent_pid"), ondelete="CASCADE"),
    )
    op.create_table(
        "response",
        sa.Column("wave_id", sa.String(32), nullable=False),
        sa.Column(
            "pid",
            sa.String(32),
            nullable=False,
            comment="student pseudonym: HMAC-SHA256(key, 学籍号), 128 bits as hex",
        ),
        sa.Column("instrument", sa.String(16), nullable=False),
        sa.Column("instrument_version", sa.String(16), nullable=False),
        sa.Column(
            "items", sa.LargeBinary(), nullable=False, comment="int8 item codes, item 1 first, -1 = missing"
        ),
        sa.Column("seconds", sa.Integer(), nullable=True, comment="作答用时 in seconds"),
        sa.Column(
            "batch_id",
            sa.Integer(),
            nullable=True,
            comment="import batch that last wrote the row (NULL for generated demo data)",
        ),
        sa.PrimaryKeyConstraint("wave_id", "pid", "instrument", name=op.f("pk_response")),
        sa.ForeignKeyConstraint(["wave_id"], ["screening_wave.wave_id"], name=op.f("fk_response_wave_id")),
        sa.ForeignKeyConstraint(["pid"], ["student.pid"], name=op.f("fk_response_pid"), ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["batch_id"], ["import_batch.batch_id"], name=op.f("fk_response_batch_id")),
    )
    op.create_table(
        "score",
        sa.Column("wave_id", sa.String(32), nullable=False),
        sa.Column(
            "pid",
            sa.String(32),
            nullable=False,
            comment="student pseudonym: HMAC-SHA256(key, 学籍号), 128 bits as hex",
        ),
        sa.Column("instrument", sa.String(16), nullable=False),
        sa.Column("scale", sa.String(32), nullable=False, comment="scale code; 'total' for the total"),
        sa.Column("raw", sa.Float(), nullable=True),
        sa.Column("band", sa.String(32), nullable=True),
        sa.Column("band_rank", sa.SmallInteger(), nullable=True, comment="0 = lowest band"),
        sa.Column("spec_version", sa.String(16), nullable=False),
        sa.Column(
            "batch_id",
            sa.Integer(),
            nullable=True,
            comment="import batch that last wrote the row (NULL for generated demo data)",
        ),
        sa.PrimaryKeyConstraint("wave_id", "instrument", "scale", "pid", name=op.f("pk_score")),
        sa.ForeignKeyConstraint(["wave_id"], ["screening_wave.wave_id"], name=op.f("fk_score_wave_id")),
        sa.ForeignKeyConstraint(["pid"], ["student.pid"], name=op.f("fk_score_pid"), ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["batch_id"], ["import_batch.batch_id"], name=op.f("fk_score_batch_id")),
    )
    op.create_table(
        "reported_score",
        sa.Column("wave_id", sa.String(32), nullable=False),
        sa.Column(
            "pid",
            sa.String(32),
            nullable=False,
            comment="student pseudonym: HMAC-SHA256(key, 学籍号), 128 bits as hex",
        ),
        sa.Column("instrument", sa.String(16), nullable=False),
        sa.Column("scale", sa.String(32), nullable=False),
        sa.Column("value", sa.Float(), nullable=False),
        sa.Column(
            "metric",
            sa.String(16),
            sa.CheckConstraint(
                "metric IN ('raw', 'standard', 'unknown')", name=op.f("ck_reported_score_metric")
            ),
            nullable=False,
            comment="what the platform declared: MHT 总分 vs 总分（标准分） are kept apart",
        ),
        sa.Column(
            "batch_id",
            sa.Integer(),
            nullable=True,
            comment="import batch that last wrote the row (NULL for generated demo data)",
        ),
        sa.PrimaryKeyConstraint("wave_id", "pid", "instrument", "scale", name=op.f("pk_reported_score")),
        sa.ForeignKeyConstraint(
            ["wave_id"], ["screening_wave.wave_id"], name=op.f("fk_reported_score_wave_id")
        ),
        sa.ForeignKeyConstraint(
            ["pid"], ["student.pid"], name=op.f("fk_reported_score_pid"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["batch_id"], ["import_batch.batch_id"], name=op.f("fk_reported_score_batch_id")
        ),
    )
    op.create_table(
        "validity",
        sa.Column("wave_id", sa.String(32), nullable=False),
        sa.Column(
            "pid",
            sa.String(32),
            nullable=False,
            comment="student pseudonym: HMAC-SHA256(key, 学籍号), 128 bits as hex",
        ),
        sa.Column("instrument", sa.String(16), nullable=False),
        sa.Column("valid", sa.Boolean(), nullable=False),
        sa.Column("lie_score", sa.Float(), nullable=True),
        sa.Column(
            "platform_flag", sa.SmallInteger(), nullable=True, comment="platform validity: 1 有效, 99 无效"
        ),
        sa.Column(
            "batch_id",
            sa.Integer(),
            nullable=True,
            comment="import batch that last wrote the row (NULL for generated demo data)",
        ),
        sa.PrimaryKeyConstraint("wave_id", "pid", "instrument", name=op.f("pk_validity")),
        sa.ForeignKeyConstraint(["wave_id"], ["screening_wave.wave_id"], name=op.f("fk_validity_wave_id")),
        sa.ForeignKeyConstraint(["pid"], ["student.pid"], name=op.f("fk_validity_pid"), ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["batch_id"], ["import_batch.batch_id"], name=op.f("fk_validity_batch_id")),
    )
    op.create_table(
        "score_flag",
        sa.Column("wave_id", sa.String(32), nullable=False),
        sa.Column(
            "pid",
            sa.String(32),
            nullable=False,
            comment="student pseudonym: HMAC-SHA256(key, 学籍号), 128 bits as hex",
        ),
        sa.Column("instrument", sa.String(16), nullable=False),
        sa.Column("flag", sa.String(48), nullable=False, comment="e.g. item9_positive"),
        sa.Column("value", sa.Boolean(), nullable=True, comment="NULL: undetermined (the item is missing)"),
        sa.Column(
            "batch_id",
            sa.Integer(),
            nullable=True,
            comment="import batch that last wrote the row (NULL for generated demo data)",
        ),
        sa.PrimaryKeyConstraint("wave_id", "pid", "instrument", "flag", name=op.f("pk_score_flag")),
        sa.ForeignKeyConstraint(["wave_id"], ["screening_wave.wave_id"], name=op.f("fk_score_flag_wave_id")),
        sa.ForeignKeyConstraint(["pid"], ["student.pid"], name=op.f("fk_score_flag_pid"), ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["batch_id"], ["import_batch.batch_id"], name=op.f("fk_score_flag_batch_id")),
    )
    op.create_table(
        "participant",
        sa.Column("intervention_id", sa.String(32), nullable=False),
        sa.Column(
            "pid",
            sa.String(32),
            nullable=False,
            comment="student pseudonym: HMAC-SHA256(key, 学籍号), 128 bits as hex",
        ),
        sa.Column(
            "arm",
            sa.String(16),
            sa.CheckConstraint("arm IN ('treatment', 'comparison')", name=op.f("ck_participant_arm")),
            nullable=False,
        ),
        sa.Column("sessions_attended", sa.Integer(), nullable=True),
        sa.Column("pre_score", sa.Float(), nullable=True),
        sa.Column("post_score", sa.Float(), nullable=True),
        sa.Column("pre_on", sa.Date(), nullable=True),
        sa.Column("post_on", sa.Date(), nullable=True),
        sa.Column(
            "batch_id",
            sa.Integer(),
            nullable=True,
            comment="import batch that last wrote the row (NULL for generated demo data)",
        ),
        sa.PrimaryKeyConstraint("intervention_id", "pid", name=op.f("pk_participant")),
        sa.ForeignKeyConstraint(
            ["intervention_id"], ["intervention.intervention_id"], name=op.f("fk_participant_intervention_id")
        ),
        sa.ForeignKeyConstraint(
            ["pid"], ["student.pid"], name=op.f("fk_participant_pid"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["batch_id"], ["import_batch.batch_id"], name=op.f("fk_participant_batch_id")
        ),
    )
    op.create_table(
        "counselling_session",
        sa.Column("session_id", sa.String(32), nullable=False),
        sa.Column(
            "pid",
            sa.String(32),
            nullable=False,
            comment="student pseudonym: HMAC-SHA256(key, 学籍号), 128 bits as hex",
        ),
        sa.Column("school_id", sa.String(16), nullable=False),
        sa.Column("held_on", sa.Date(), nullable=False),
        sa.Column(
            "kind",
            sa.String(16),
            sa.CheckConstraint(
                "kind IN ('individual', 'group', 'referral')", name=op.f("ck_counselling_session_kind")
            ),
            nullable=False,
        ),
        sa.Column("minutes", sa.Integer(), nullable=True),
        sa.Column(
            "batch_id",
            sa.Integer(),
            nullable=True,
            comment="import batch that last wrote the row (NULL for generated demo data)",
        ),
        sa.PrimaryKeyConstraint("session_id", name=op.f("pk_counselling_session")),
        sa.ForeignKeyConstraint(
            ["pid"], ["student.pid"], name=op.f("fk_counselling_session_pid"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["school_id"], ["school.school_id"], name=op.f("fk_counselling_session_school_id")
        ),
        sa.ForeignKeyConstraint(
            ["batch_id"], ["import_batch.batch_id"], name=op.f("fk_counselling_session_batch_id")
        ),
    )
    op.create_table(
        "crisis_case",
        sa.Column("case_id", sa.String(32), nullable=False),
        sa.Column(
            "pid",
            sa.String(32),
            nullable=False,
            comment="student pseudonym: HMAC-SHA256(key, 学籍号), 128 bits as hex",
        ),
        sa.Column("school_id", sa.String(16), nullable=False),
        sa.Column(
            "source",
            sa.String(24),
            sa.CheckConstraint(
                "source IN ('screening', 'observation', 'self_referral', 'parent', 'peer')",
                name=op.f("ck_crisis_case_source"),
            ),
            nullable=False,
        ),
        sa.Column(
            "severity",
            sa.SmallInteger(),
            sa.CheckConstraint("severity BETWEEN 1 AND 3", name=op.f("ck_crisis_case_severity")),
            nullable=False,
            comment="ordinal, 3 = most severe (local labels differ in direction)",
        ),
        sa.Column(
            "local_label", sa.Text(), nullable=True, comment="label as the school uses it, e.g. 二级预警"
        ),
        sa.Column("wave_id", sa.String(32), nullable=True),
        sa.Column(
            "batch_id",
            sa.Integer(),
            nullable=True,
            comment="import batch that last wrote the row (NULL for generated demo data)",
        ),
        sa.PrimaryKeyConstraint("case_id", name=op.f("pk_crisis_case")),
        sa.ForeignKeyConstraint(
            ["pid"], ["student.pid"], name=op.f("fk_crisis_case_pid"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(["school_id"], ["school.school_id"], name=op.f("fk_crisis_case_school_id")),
        sa.ForeignKeyConstraint(["wave_id"], ["screening_wave.wave_id"], name=op.f("fk_crisis_case_wave_id")),
        sa.ForeignKeyConstraint(
            ["batch_id"], ["import_batch.batch_id"], name=op.f("fk_crisis_case_batch_id")
        ),
    )
    op.create_table(
        "archive_category",
        sa.Column(
            "pid",
            sa.String(32),
            nullable=False,
            comment="student pseudonym: HMAC-SHA256(key, 学籍号), 128 bits as hex",
        ),
        sa.Column(
            "school_year",
            sa.String(9),
            sa.CheckConstraint(
                "school_year LIKE '____-____'", name=op.f("ck_archive_category_school_year_format")
            ),
            nullable=False,
            comment="school year, e.g. 2024-2025",
        ),
        sa.Column(
            "category",
            sa.String(16),
            sa.CheckConstraint(
                "category IN ('general', 'attention', 'key', 'crisis')",
                name=op.f("ck_archive_category_category"),
            ),
            nullable=False,
            comment="分类归档: general 一般, attention 关注, key 重点, crisis 危机",
        ),
        sa.Column("assigned_on", sa.Date(), nullable=False),
        sa.Column(
            "batch_id",
            sa.Integer(),
            nullable=True,
            comment="import batch that last wrote the row (NULL for generated demo data)",
        ),
        sa.PrimaryKeyConstraint("pid", "school_year", name=op.f("pk_archive_category")),
        sa.ForeignKeyConstraint(
            ["pid"], ["student.pid"], name=op.f("fk_archive_category_pid"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["batch_id"], ["import_batch.batch_id"], name=op.f("fk_archive_category_batch_id")
        ),
    )
    op.create_table(
        "archive_transfer",
        sa.Column(
            "pid",
            sa.String(32),
            nullable=False,
            comment="student pseudonym: HMAC-SHA256(key, 学籍号), 128 bits as hex",
        ),
        sa.Column("transferred_on", sa.Date(), nullable=False),
        sa.Column("from_school_id", sa.String(16), nullable=False),
        sa.Column("to_school_id", sa.String(16), nullable=False),
        sa.Column("complete", sa.Boolean(), nullable=False, comment="archive received and confirmed"),
        sa.Column(
            "batch_id",
            sa.Integer(),
            nullable=True,
            comment="import batch that last wrote the row (NULL for generated demo data)",
        ),
        sa.PrimaryKeyConstraint("pid", "transferred_on", name=op.f("pk_archive_transfer")),
        sa.ForeignKeyConstraint(
            ["pid"], ["student.pid"], name=op.f("fk_archive_transfer_pid"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["from_school_id"], ["school.school_id"], name=op.f("fk_archive_transfer_from_school_id")
        ),
        sa.ForeignKeyConstraint(
            ["to_school_id"], ["school.school_id"], name=op.f("fk_archive_transfer_to_school_id")
        ),
        sa.ForeignKeyConstraint(
            ["batch_id"], ["import_batch.batch_id"], name=op.f("fk_archive_transfer_batch_id")
        ),
    )
    op.create_table(
        "crisis_event",
        sa.Column("case_id", sa.String(32), nullable=False),
        sa.Column("seq", sa.SmallInteger(), nullable=False),
        sa.Column(
            "stage",
            sa.String(16),
            sa.CheckConstraint(
                "stage IN ('raised', 'confirmed', 'intervention', 'referred', 'closed')",
                name=op.f("ck_crisis_event_stage"),
            ),
            nullable=False,
        ),
        sa.Column(
            "level",
            sa.String(16),
            sa.CheckConstraint("level IN ('class', 'school', 'society')", name=op.f("ck_crisis_event_level")),
            nullable=False,
        ),
        sa.Column("occurred_at", sa.DateTime(), nullable=False),
        sa.Column(
            "batch_id",
            sa.Integer(),
            nullable=True,
            comment="import batch that last wrote the row (NULL for generated demo data)",
        ),
        sa.PrimaryKeyConstraint("case_id", "seq", name=op.f("pk_crisis_event")),
        sa.ForeignKeyConstraint(
            ["case_id"], ["crisis_case.case_id"], name=op.f("fk_crisis_event_case_id"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["batch_id"], ["import_batch.batch_id"], name=op.f("fk_crisis_event_batch_id")
        ),
    )


def downgrade() -> None:
    op.drop_table("crisis_event")
    op.drop_table("archive_transfer")
    op.drop_table("archive_category")
    op.drop_table("crisis_case")
    op.drop_table("counselling_session")
    op.drop_table("participant")
    op.drop_table("score_flag")
    op.drop_table("validity")
    op.drop_table("reported_score")
    op.drop_table("score")
    op.drop_table("response")
    op.drop_table("consent")
    op.drop_table("enrolment")
    op.drop_table("intervention")
    op.drop_table("funding")
    op.drop_table("activity")
    op.drop_table("course_delivery")
    op.drop_table("room")
    op.drop_table("staff")
    op.drop_table("norm")
    op.drop_table("student")
    op.drop_table("school_year_stats")
    op.drop_table("quarantine")
    op.drop_table("audit_log")
    op.drop_table("store_meta")
    op.drop_table("screening_wave")
    op.drop_table("school")
    op.drop_table("import_batch")
