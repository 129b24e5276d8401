"""Crisis sources kept apart (issue #14): head teacher, teacher and 心理委员 get codes of their own.

``crisis_case.source`` accepted five codes, a head teacher's and another teacher's observation both
``observation`` and a 心理委员's report ``peer``. The check now also accepts ``head_teacher``, ``teacher``
and ``class_committee`` (DESIGN.md decision 93). Existing rows are untouched: what an old ``observation``
or ``peer`` was cannot be told afterwards, so they keep their codes (shown as older records).
"""

from __future__ import annotations

from alembic import op

revision = "0006_crisis"
down_revision = "0005_extracts"
branch_labels = None
depends_on = None

_OLD = ("screening", "observation", "self_referral", "parent", "peer")
_NEW = (
    "screening",
    "head_teacher",
    "teacher",
    "class_committee",
    "parent",
    "self_referral",
    "peer",
    "observation",
)


def _check(values: tuple[str, ...]) -> str:
    return "source IN (" + ", ".join(f"'{v}'" for v in values) + ")"


def upgrade() -> None:
    with op.batch_alter_table("crisis_case") as batch:
        batch.drop_constraint(op.f("ck_crisis_case_source"), type_="check")
        batch.create_check_constraint("source", _check(_NEW))


def downgrade() -> None:
    # rows with a new code would break the old check: they go back to the codes they merged into
    op.execute("UPDATE crisis_case SET source = 'observation' WHERE source IN ('head_teacher', 'teacher')")
    op.execute("UPDATE crisis_case SET source = 'peer' WHERE source = 'class_committee'")
    with op.batch_alter_table("crisis_case") as batch:
        batch.drop_constraint(op.f("ck_crisis_case_source"), type_="check")
        batch.create_check_constraint("source", _check(_OLD))
