"""The data model: one SQLAlchemy Core ``MetaData`` for SQLite and PostgreSQL.

Every column carries ``info={"sensitivity": ...}`` (one of :data:`SENSITIVITY`) so
that privacy rules can be checked against the schema itself (PIPL Art. 28: every
screening, archive, crisis and counselling value of a minor is *sensitive*).

Keys
----
* Students are keyed by the pseudonym ``pid`` (32 hex characters of
  HMAC-SHA256 over the national student number 学籍号); the number and the
  name never enter these tables.
* ``school_year`` is text such as ``"2024-2025"``; ``cohort`` (届) is the year a
  student entered grade 1 and never changes, while ``grade`` (年级, 1-12)
  changes every school year.

Item responses
--------------
``response.items`` stores one respondent's answers to one instrument as a
byte string of signed 8-bit codes, item 1 first, with ``-1`` (``0xFF``) for a
missing answer. One 100-item MHT sheet is a 100-byte BLOB: a million-student
wave loads about four times faster than a 100-column table and returns to a
NumPy ``int8`` matrix with one ``frombuffer`` call
(see :func:`psychanalytics.store.pack_items`).

Examples
--------
>>> from psychanalytics.store.schema import metadata
>>> "response" in metadata.tables
True
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.schema import CreateTable

SENSITIVITY = ("public", "internal", "personal", "sensitive")
"""Sensitivity classes, least to most protected.

``public``: may appear in published reports (school names, policy targets);
``internal``: operational metadata (batch ids, file hashes);
``personal``: personal information of a student or teacher (pseudonym, gender,
grade); ``sensitive``: health and crisis information (PIPL Art. 28).
"""

metadata = sa.MetaData(
    naming_convention={
        "pk": "pk_%(table_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s",
        "uq": "uq_%(table_name)s_%(column_0_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
        "ix": "ix_%(table_name)s_%(column_0_name)s",
    }
)


# --- SQLite STRICT tables -------------------------------------------------------
# STRICT tables reject 'abc' in an INTEGER column instead of storing it
# (docs/privacy.md §7). They only accept INTEGER, REAL, TEXT, BLOB, ANY as
# declared types, so SQLite DDL spells the generic types that way. Values are
# still processed by SQLAlchemy's own SQLite types (dates as ISO text, booleans
# as 0/1).


# A table keyed by anything but one INTEGER column (a pid, a composite key) is
# created WITHOUT ROWID: the key is stored once, in the table's own B-tree, instead
# of in the table and again in its primary-key index (a million-row wave writes
# about a fifth faster and takes less space). Its rows are small, as SQLite asks.


def _keyed_by_rowid(table: sa.Table) -> bool:
    """True for one INTEGER key (SQLite's rowid) and for a table without a key (a mart's frames)."""
    key = list(table.primary_key.columns)
    return not key or (len(key) == 1 and isinstance(key[0].type, sa.Integer))


@compiles(CreateTable, "sqlite")
def _create_strict_table(element, compiler, **kw):
    stated = element.element.dialect_options["sqlite"]
    if stated.get("strict") or stated.get("with_rowid") is False:
        # a table reflected from the database (a migration rebuilding it) states its own options,
        # and SQLAlchemy >= 2.1 writes them
        return compiler.visit_create_table(element, **kw)
    options = "STRICT" if _keyed_by_rowid(element.element) else "WITHOUT ROWID, STRICT"
    return f"{compiler.visit_create_table(element, **kw).rstrip()} {options}\n\n"


@compiles(sa.String, "sqlite")
@compiles(sa.Text, "sqlite")
@compiles(sa.Date, "sqlite")
@compiles(sa.DateTime, "sqlite")
def _sqlite_text(type_, compiler, **kw):
    return "TEXT"


@compiles(sa.Float, "sqlite")
def _sqlite_real(type_, compiler, **kw):
    return "REAL"


@compiles(sa.Boolean, "sqlite")
@compiles(sa.SmallInteger, "sqlite")
@compiles(sa.BigInteger, "sqlite")
def _sqlite_integer(type_, compiler, **kw):
    return "INTEGER"


@compiles(sa.LargeBinary, "sqlite")
def _sqlite_blob(type_, compiler, **kw):
    return "BLOB"


def _col(name: str, type_, sensitivity: str, *args, doc: str = "", **kw) -> sa.Column:
    if sensitivity not in SENSITIVITY:
        raise ValueError(f"unknown sensitivity {sensitivity!r} for column {name!r}")
    return sa.Column(name, type_, *args, info={"sensitivity": sensitivity}, comment=doc or None, **kw)


def _pid(*, primary_key: bool = False, nullable: bool = False) -> sa.Column:
    return _col(
        "pid",
        sa.String(32),
        "personal",
        sa.ForeignKey("student.pid", ondelete="CASCADE"),
        primary_key=primary_key,
        nullable=nullable,
        doc="student pseudonym: HMAC-SHA256(key, 学籍号), 128 bits as hex",
    )


def _school_id(*, primary_key: bool = False, nullable: bool = False) -> sa.Column:
    return _col(
        "school_id",
        sa.String(16),
        "public",
        sa.ForeignKey("school.school_id"),
        primary_key=primary_key,
        nullable=nullable,
    )


def _school_year(*, primary_key: bool = False, nullable: bool = False) -> sa.Column:
    return _col(
        "school_year",
        sa.String(9),
        "public",
        sa.CheckConstraint("school_year LIKE '____-____'", name="school_year_format"),
        primary_key=primary_key,
        nullable=nullable,
        doc="school year, e.g. 2024-2025",
    )


def _batch_id() -> sa.Column:
    return _col(
        "batch_id",
        sa.Integer,
        "internal",
        sa.ForeignKey("import_batch.batch_id"),
        nullable=True,
        doc="import batch that last wrote the row (NULL for generated demo data)",
    )


def _in(column: str, values: tuple[str, ...], name: str) -> sa.CheckConstraint:
    quoted = ", ".join(f"'{v}'" for v in values)
    return sa.CheckConstraint(f"{column} IN ({quoted})", name=name)


STAGES = ("primary", "junior", "nine_year", "senior", "complete_secondary")
LOCATIONS = ("urban", "township_central", "township")
GENDERS = ("F", "M")
EMPLOYMENT = ("full_time", "part_time")
ARMS = ("treatment", "comparison")
CRISIS_STAGES = ("raised", "confirmed", "intervention", "referred", "closed")
CRISIS_LEVELS = ("class", "school", "society")
CRISIS_SOURCES = (
    "screening",
    "head_teacher",
    "teacher",
    "class_committee",
    "parent",
    "self_referral",
    "peer",
    "observation",
)
"""Who raised a crisis warning (psychanalytics/crisis/conventions.yaml); ``observation`` and ``peer`` as
written before revision 0006 split them (DESIGN.md decision 93)."""
ARCHIVE_CATEGORIES = ("general", "attention", "key", "crisis")
ACTIVITY_KINDS = ("lecture", "parent_class", "carnival", "themed_meeting", "club", "training")

# --- organisation ----------------------------------------------------------------

import_batch = sa.Table(
    "import_batch",
    metadata,
    _col("batch_id", sa.Integer, "internal", primary_key=True, autoincrement=True),
    _col("kind", sa.String(32), "internal", nullable=False, doc="import kind: screening, roster, staff …"),
    _col("source_sha256", sa.String(64), "internal", nullable=False, unique=True),
    _col("source_name", sa.Text, "internal", nullable=False, doc="file name as given (no directory)"),
    _col("params", sa.Text, "internal", nullable=False, doc="JSON of the import options"),
    _col("rows_read", sa.Integer, "internal", nullable=False),
    _col("stored", sa.Integer, "internal", nullable=False),
    _col("quarantined", sa.Integer, "internal", nullable=False),
    _col("duplicates", sa.Integer, "internal", nullable=False),
    _col("imported_at", sa.DateTime, "internal", nullable=False),
    sa.CheckConstraint("rows_read = stored + quarantined + duplicates", name="conservation"),
)

quarantine = sa.Table(
    "quarantine",
    metadata,
    _col("batch_id", sa.Integer, "internal", sa.ForeignKey("import_batch.batch_id"), nullable=False),
    _col("source_sha256", sa.String(64), "internal", primary_key=True),
    _col("line_no", sa.Integer, "internal", primary_key=True, doc="1-based line in the source file"),
    _col("reasons", sa.Text, "internal", nullable=False, doc="JSON list of {column, value, reason}"),
    _col("raw", sa.Text, "sensitive", nullable=False, doc="the refused row as read (may hold names)"),
)

school = sa.Table(
    "school",
    metadata,
    _col("school_id", sa.String(16), "public", primary_key=True),
    _col("name", sa.Text, "public", nullable=False, doc="Chinese name"),
    _col("stage", sa.String(24), "public", _in("stage", STAGES, "stage"), nullable=False),
    _col("location", sa.String(24), "public", _in("location", LOCATIONS, "location"), nullable=False),
    _col("is_synthetic", sa.Boolean, "public", nullable=False, server_default=sa.false()),
)

school_year_stats = sa.Table(
    "school_year_stats",
    metadata,
    _school_id(primary_key=True),
    _school_year(primary_key=True),
    _col("enrolment", sa.Integer, "public", nullable=False),
    _col("n_classes", sa.Integer, "public", nullable=False),
    _col("boarders", sa.Integer, "public", nullable=False, server_default="0"),
    _col("has_leadership_group", sa.Boolean, "public", nullable=True, doc="心理健康教育领导小组"),
    _col("special_meetings", sa.Integer, "public", nullable=True, doc="专题会 held this year"),
    _col("has_three_year_plan", sa.Boolean, "public", nullable=True),
    _col("is_characteristic_school", sa.Boolean, "public", nullable=True, doc="市特色校"),
    _col(
        "n_teachers",
        sa.Integer,
        "public",
        nullable=True,
        doc="teachers on staff (全体教师), mentors' denominator",
    ),
    _col(
        "n_mentors",
        sa.Integer,
        "public",
        nullable=True,
        doc="teachers acting as student mentors (全员导师制)",
    ),
    _col(
        "classes_with_committee",
        sa.Integer,
        "public",
        nullable=True,
        doc="classes with a 心理委员 (of n_classes)",
    ),
)

student = sa.Table(
    "student",
    metadata,
    _col("pid", sa.String(32), "personal", primary_key=True),
    _col("gender", sa.String(1), "personal", _in("gender", GENDERS, "gender"), nullable=True),
    _col("birth_year", sa.Integer, "personal", nullable=True),
    _col("cohort", sa.Integer, "personal", nullable=True, doc="届: year of entry to grade 1"),
    _batch_id(),
)

enrolment = sa.Table(
    "enrolment",
    metadata,
    _pid(primary_key=True),
    _school_year(primary_key=True),
    _school_id(),
    _col(
        "grade",
        sa.SmallInteger,
        "personal",
        sa.CheckConstraint("grade BETWEEN 1 AND 12", name="grade"),
        nullable=False,
        doc="年级 1-12 (7 = 初一, 10 = 高一)",
    ),
    _col("class_no", sa.SmallInteger, "personal", nullable=False, doc="班级 number within the grade"),
    _col("boarder", sa.Boolean, "personal", nullable=True),
    _batch_id(),
    sa.Index("ix_enrolment_year_school_grade", "school_year", "school_id", "grade"),
)

consent = sa.Table(
    "consent",
    metadata,
    _pid(primary_key=True),
    _col("purpose", sa.String(32), "personal", primary_key=True, doc="screening, research:<project> …"),
    _col("guardian_consent", sa.Boolean, "personal", nullable=False),
    _col("granted_on", sa.Date, "personal", nullable=False),
    _col("scope", sa.Text, "personal", nullable=True),
    _col("withdrawn_on", sa.Date, "personal", nullable=True),
)

# --- screening ----------------------------------------------------------------------

screening_wave = sa.Table(
    "screening_wave",
    metadata,
    _col("wave_id", sa.String(32), "public", primary_key=True, doc="e.g. 2024-autumn"),
    _school_year(),
    _col("season", sa.String(8), "public", _in("season", ("autumn", "spring"), "season"), nullable=False),
    _col("window_start", sa.Date, "public", nullable=False),
    _col("window_end", sa.Date, "public", nullable=False),
    _col("label", sa.Text, "public", nullable=False, doc="Chinese label, e.g. 2024年秋季普测"),
)

response = sa.Table(
    "response",
    metadata,
    _col("wave_id", sa.String(32), "public", sa.ForeignKey("screening_wave.wave_id"), primary_key=True),
    _pid(primary_key=True),
    _col("instrument", sa.String(16), "public", primary_key=True),
    _col("instrument_version", sa.String(16), "internal", nullable=False),
    _col(
        "items",
        sa.LargeBinary,
        "sensitive",
        nullable=False,
        doc="int8 item codes, item 1 first, -1 = missing",
    ),
    _col("seconds", sa.Integer, "sensitive", nullable=True, doc="作答用时 in seconds"),
    _batch_id(),
)

score = sa.Table(
    "score",
    metadata,
    _col("wave_id", sa.String(32), "public", sa.ForeignKey("screening_wave.wave_id"), primary_key=True),
    _pid(primary_key=True),
    _col("instrument", sa.String(16), "public", primary_key=True),
    _col("scale", sa.String(32), "public", primary_key=True, doc="scale code; 'total' for the total"),
    _col("raw", sa.Float, "sensitive", nullable=True),
    _col("band", sa.String(32), "sensitive", nullable=True),
    _col("band_rank", sa.SmallInteger, "sensitive", nullable=True, doc="0 = lowest band"),
    _col("spec_version", sa.String(16), "internal", nullable=False),
    _batch_id(),
    # keyed scale first: every query reads one scale of one instrument, which the key then holds
    # together (no second index to keep), and an import writes each scale's rows side by side
    sa.PrimaryKeyConstraint("wave_id", "instrument", "scale", "pid"),
)

reported_score = sa.Table(
    "reported_score",
    metadata,
    _col("wave_id", sa.String(32), "public", sa.ForeignKey("screening_wave.wave_id"), primary_key=True),
    _pid(primary_key=True),
    _col("instrument", sa.String(16), "public", primary_key=True),
    _col("scale", sa.String(32), "public", primary_key=True),
    _col("value", sa.Float, "sensitive", nullable=False),
    _col(
        "metric",
        sa.String(16),
        "internal",
        _in("metric", ("raw", "standard", "unknown"), "metric"),
        nullable=False,
        doc="what the platform declared: MHT 总分 vs 总分（标准分） are kept apart",
    ),
    _batch_id(),
)

validity = sa.Table(
    "validity",
    metadata,
    _col("wave_id", sa.String(32), "public", sa.ForeignKey("screening_wave.wave_id"), primary_key=True),
    _pid(primary_key=True),
    _col("instrument", sa.String(16), "public", primary_key=True),
    _col("valid", sa.Boolean, "sensitive", nullable=False),
    _col("lie_score", sa.Float, "sensitive", nullable=True),
    _col(
        "platform_flag", sa.SmallInteger, "sensitive", nullable=True, doc="platform validity: 1 有效, 99 无效"
    ),
    _batch_id(),
)

score_flag = sa.Table(
    "score_flag",
    metadata,
    _col("wave_id", sa.String(32), "public", sa.ForeignKey("screening_wave.wave_id"), primary_key=True),
    _pid(primary_key=True),
    _col("instrument", sa.String(16), "public", primary_key=True),
    _col("flag", sa.String(48), "public", primary_key=True, doc="e.g. item9_positive"),
    _col("value", sa.Boolean, "sensitive", nullable=True, doc="NULL: undetermined (the item is missing)"),
    _batch_id(),
)

norm = sa.Table(
    "norm",
    metadata,
    _col("instrument", sa.String(16), "public", primary_key=True),
    _col("scale", sa.String(32), "public", primary_key=True),
    _col(
        "reference_wave", sa.String(32), "public", sa.ForeignKey("screening_wave.wave_id"), primary_key=True
    ),
    _col("grade", sa.SmallInteger, "public", primary_key=True),
    _col("gender", sa.String(1), "public", primary_key=True),
    _col("raw", sa.Float, "public", primary_key=True),
    _col("n", sa.Integer, "public", nullable=False),
    _col("percentile", sa.Float, "public", nullable=False),
    _col("t_score", sa.Float, "public", nullable=False),
)

# --- staffing, rooms, courses, activities, funding ------------------------------------

staff = sa.Table(
    "staff",
    metadata,
    _col("staff_id", sa.String(32), "personal", primary_key=True, doc="pseudonymous teacher id"),
    _school_year(primary_key=True),
    _school_id(),
    _col(
        "employment", sa.String(16), "personal", _in("employment", EMPLOYMENT, "employment"), nullable=False
    ),
    _col("psychology_degree", sa.Boolean, "personal", nullable=True),
    _col("certificate", sa.String(32), "personal", nullable=True, doc="e.g. 心理健康教育C证"),
    _col(
        "does_psychology_work", sa.Boolean, "personal", nullable=True, doc="督导: really does psychology work"
    ),
    _col("weekly_hours", sa.Float, "personal", nullable=True),
    _batch_id(),
)

room = sa.Table(
    "room",
    metadata,
    _school_id(primary_key=True),
    _school_year(primary_key=True),
    _col("individual_room", sa.Boolean, "public", nullable=False, doc="个别辅导室"),
    _col("group_room", sa.Boolean, "public", nullable=False, doc="团体活动室"),
    _col("reception_area", sa.Boolean, "public", nullable=False, doc="办公接待区"),
    _col("mailbox", sa.Boolean, "public", nullable=False, doc="心理信箱"),
    _col("area_m2", sa.Float, "public", nullable=True),
    _col("open_hours_week", sa.Float, "public", nullable=True),
    _col("rule_duty", sa.Boolean, "public", nullable=False, doc="值班制度"),
    _col("rule_appointment", sa.Boolean, "public", nullable=False, doc="预约制度"),
    _col("rule_counselling", sa.Boolean, "public", nullable=False, doc="辅导制度"),
    _col("rule_archive", sa.Boolean, "public", nullable=False, doc="档案建设制度"),
    _col("rule_transfer", sa.Boolean, "public", nullable=False, doc="档案移交制度"),
    _col("inspected_on", sa.Date, "public", nullable=True, doc="年检 date"),
    _col("inspection_passed", sa.Boolean, "public", nullable=True),
    _batch_id(),
)

ROOM_REQUIREMENTS = (
    "individual_room",
    "group_room",
    "reception_area",
    "mailbox",
    "rule_duty",
    "rule_appointment",
    "rule_counselling",
    "rule_archive",
    "rule_transfer",
)
"""The yes/no requirements of a standard counselling room (MoE guide 2015; plan item 11), as ``room``
columns; each column's comment is its Chinese name."""

course_delivery = sa.Table(
    "course_delivery",
    metadata,
    _school_id(primary_key=True),
    _school_year(primary_key=True),
    _col(
        "term", sa.SmallInteger, "public", sa.CheckConstraint("term IN (1, 2)", name="term"), primary_key=True
    ),
    _col("grade", sa.SmallInteger, "public", primary_key=True),
    _col("lessons_planned", sa.Integer, "public", nullable=False),
    _col("lessons_delivered", sa.Integer, "public", nullable=False),
    _col("uses_district_materials", sa.Boolean, "public", nullable=True, doc="区本七彩积极品格教材"),
    _batch_id(),
)

activity = sa.Table(
    "activity",
    metadata,
    _col("activity_id", sa.String(32), "public", primary_key=True),
    _col("held_on", sa.Date, "public", nullable=False),
    _col(
        "school_id",
        sa.String(16),
        "public",
        sa.ForeignKey("school.school_id"),
        nullable=True,
        doc="NULL for a district-level activity",
    ),
    _col("kind", sa.String(24), "public", _in("kind", ACTIVITY_KINDS, "kind"), nullable=False),
    _col("title", sa.Text, "public", nullable=False),
    _col("attendance", sa.Integer, "public", nullable=True),
    _batch_id(),
)

funding = sa.Table(
    "funding",
    metadata,
    _school_id(primary_key=True),
    _school_year(primary_key=True),
    _col("budget_yuan", sa.Float, "public", nullable=False),
    _col("spent_yuan", sa.Float, "public", nullable=True),
    _batch_id(),
)

# --- interventions ---------------------------------------------------------------------

intervention = sa.Table(
    "intervention",
    metadata,
    _col("intervention_id", sa.String(32), "public", primary_key=True),
    _school_id(),
    _school_year(),
    _col("kind", sa.String(32), "public", nullable=False, doc="group_counselling, curriculum …"),
    _col("title", sa.Text, "public", nullable=False),
    _col("instrument", sa.String(16), "public", nullable=False, doc="outcome measure"),
    _col("scale", sa.String(32), "public", nullable=False, server_default="total"),
    _col("sessions_planned", sa.Integer, "public", nullable=False),
    _col("start_on", sa.Date, "public", nullable=False),
    _col("end_on", sa.Date, "public", nullable=False),
    _batch_id(),
)

participant = sa.Table(
    "participant",
    metadata,
    _col(
        "intervention_id",
        sa.String(32),
        "public",
        sa.ForeignKey("intervention.intervention_id"),
        primary_key=True,
    ),
    _pid(primary_key=True),
    _col("arm", sa.String(16), "personal", _in("arm", ARMS, "arm"), nullable=False),
    _col("sessions_attended", sa.Integer, "sensitive", nullable=True),
    _col("pre_score", sa.Float, "sensitive", nullable=True),
    _col("post_score", sa.Float, "sensitive", nullable=True),
    _col("pre_on", sa.Date, "personal", nullable=True),
    _col("post_on", sa.Date, "personal", nullable=True),
    _batch_id(),
)

demo_planted_effect = sa.Table(
    "demo_planted_effect",
    metadata,
    _col(
        "intervention_id",
        sa.String(32),
        "internal",
        sa.ForeignKey("intervention.intervention_id", ondelete="CASCADE"),
        primary_key=True,
    ),
    _col(
        "effect_d",
        sa.Float,
        "internal",
        nullable=False,
        doc="planted benefit in SDs of the pre scores: comparison-arm change minus treatment-arm change",
    ),
    _col("sd_pre", sa.Float, "internal", nullable=True, doc="the pre-score SD the effect was scaled by"),
    _col(
        "effect_points",
        sa.Float,
        "internal",
        nullable=True,
        doc="the planted shift of treatment-arm post scores, in scale points (negative: lower scores)",
    ),
    _col("common_change", sa.Float, "internal", nullable=True, doc="mean change of both arms, in points"),
    _col("change_sd", sa.Float, "internal", nullable=True, doc="SD of a student's own change, in points"),
    _col("class_sd", sa.Float, "internal", nullable=True, doc="SD of a class's shared change (0: none)"),
    _col("school_sd", sa.Float, "internal", nullable=True, doc="SD of a school's shared change (0: none)"),
    comment="synthetic demo only: what the generator planted (psychanalytics.synth); never written by imports",
)
"""The synthetic district's truth, kept apart from the tables real data use (empty in a real store)."""

counselling_session = sa.Table(
    "counselling_session",
    metadata,
    _col("session_id", sa.String(32), "internal", primary_key=True),
    _pid(),
    _school_id(),
    _col("held_on", sa.Date, "sensitive", nullable=False),
    _col(
        "kind",
        sa.String(16),
        "sensitive",
        _in("kind", ("individual", "group", "referral"), "kind"),
        nullable=False,
    ),
    _col("minutes", sa.Integer, "sensitive", nullable=True),
    _batch_id(),
)

# --- crisis and archives -----------------------------------------------------------------

crisis_case = sa.Table(
    "crisis_case",
    metadata,
    _col("case_id", sa.String(32), "internal", primary_key=True),
    _pid(),
    _school_id(),
    _col(
        "source",
        sa.String(24),
        "sensitive",
        _in("source", CRISIS_SOURCES, "source"),
        nullable=False,
    ),
    _col(
        "severity",
        sa.SmallInteger,
        "sensitive",
        sa.CheckConstraint("severity BETWEEN 1 AND 3", name="severity"),
        nullable=False,
        doc="ordinal, 3 = most severe (local labels differ in direction)",
    ),
    _col(
        "local_label", sa.Text, "sensitive", nullable=True, doc="label as the school uses it, e.g. 二级预警"
    ),
    _col("wave_id", sa.String(32), "public", sa.ForeignKey("screening_wave.wave_id"), nullable=True),
    _batch_id(),
)

crisis_event = sa.Table(
    "crisis_event",
    metadata,
    _col(
        "case_id",
        sa.String(32),
        "internal",
        sa.ForeignKey("crisis_case.case_id", ondelete="CASCADE"),
        primary_key=True,
    ),
    _col("seq", sa.SmallInteger, "internal", primary_key=True),
    _col("stage", sa.String(16), "sensitive", _in("stage", CRISIS_STAGES, "stage"), nullable=False),
    _col("level", sa.String(16), "sensitive", _in("level", CRISIS_LEVELS, "level"), nullable=False),
    _col("occurred_at", sa.DateTime, "sensitive", nullable=False),
    _batch_id(),
)

archive_category = sa.Table(
    "archive_category",
    metadata,
    _pid(primary_key=True),
    _school_year(primary_key=True),
    _col(
        "category",
        sa.String(16),
        "sensitive",
        _in("category", ARCHIVE_CATEGORIES, "category"),
        nullable=False,
        doc="分类归档: general 一般, attention 关注, key 重点, crisis 危机",
    ),
    _col("assigned_on", sa.Date, "sensitive", nullable=False),
    _batch_id(),
)

archive_transfer = sa.Table(
    "archive_transfer",
    metadata,
    _pid(primary_key=True),
    _col("transferred_on", sa.Date, "personal", primary_key=True),
    _col("from_school_id", sa.String(16), "public", sa.ForeignKey("school.school_id"), nullable=False),
    _col("to_school_id", sa.String(16), "public", sa.ForeignKey("school.school_id"), nullable=False),
    _col("complete", sa.Boolean, "internal", nullable=False, doc="archive received and confirmed"),
    _batch_id(),
)

# --- synthetic demo only ------------------------------------------------------------------

demo_planted_school = sa.Table(
    "demo_planted_school",
    metadata,
    _school_id(primary_key=True),
    _col(
        "direction",
        sa.String(8),
        "internal",
        _in("direction", ("higher", "lower"), "direction"),
        nullable=False,
        doc="synthetic demo only: the planted school's true screen-positive rate is higher or lower",
    ),
    _col(
        "distress_shift",
        sa.Float,
        "internal",
        nullable=False,
        doc="synthetic demo only: shift of the school's students' latent distress, in SDs",
    ),
    comment=(
        "synthetic demo only: the schools the demo generator planted with a truly different screen-positive "
        "rate, so that estimators (funnel plots) can be checked against the truth; a real store leaves it empty"
    ),
)

# --- store metadata --------------------------------------------------------------------

store_meta = sa.Table(
    "store_meta",
    metadata,
    _col("name", sa.String(64), "internal", primary_key=True),
    _col(
        "value",
        sa.Text,
        "internal",
        nullable=False,
        doc="e.g. pseudonym_key_fingerprint: HMAC of a constant under the key, never the key itself",
    ),
)

# --- audit ------------------------------------------------------------------------------

audit_log = sa.Table(
    "audit_log",
    metadata,
    _col("seq", sa.Integer, "internal", primary_key=True, autoincrement=True),
    _col("at", sa.DateTime, "internal", nullable=False),
    _col("actor", sa.String(64), "internal", nullable=False),
    _col("action", sa.String(32), "internal", nullable=False, doc="import, export, delete, login …"),
    _col("resource", sa.Text, "internal", nullable=False),
    _col("detail", sa.Text, "internal", nullable=False, doc="JSON; pids only, never names"),
    _col("prev_hash", sa.String(64), "internal", nullable=False),
    _col("row_hash", sa.String(64), "internal", nullable=False),
)

# --- erasure and releases ---------------------------------------------------------------

erasure = sa.Table(
    "erasure",
    metadata,
    _col(
        "pid",
        sa.String(32),
        "personal",
        primary_key=True,
        doc="tombstone: pseudonym of a student erased at a request; the importer refuses their lines",
    ),
    _col("erased_at", sa.DateTime, "internal", nullable=False),
    _col(
        "audit_seq", sa.Integer, "internal", nullable=False, doc="the audit_log row that records the erasure"
    ),
)

RELEASE_KINDS = ("extract", "mart", "backup")

data_release = sa.Table(
    "data_release",
    metadata,
    _col("release_id", sa.Integer, "internal", primary_key=True, autoincrement=True),
    _col("kind", sa.String(16), "internal", _in("kind", RELEASE_KINDS, "kind"), nullable=False),
    _col("name", sa.Text, "internal", nullable=False, doc="file name, or URL without its password"),
    _col("project", sa.String(32), "internal", nullable=True, doc="research project of an extract"),
    _col("built_at", sa.DateTime, "internal", nullable=False),
    _col("audit_seq", sa.Integer, "internal", nullable=False, doc="the audit_log row that records the build"),
    _col(
        "stale_since",
        sa.DateTime,
        "internal",
        nullable=True,
        doc="set by an erasure after the build: the copy still holds the erased students",
    ),
    _col("stale_reason", sa.Text, "internal", nullable=True),
)
