"""Mentors and class psychology committee members in ``school_year_stats`` (issue #13).

Plan item 12 (docs/policy.md §1): every teacher a mentor (全员导师制) and 心理委员 in every class that can
have them. Three nullable counts at the end of ``school_year_stats``: ``n_teachers`` (the mentors'
denominator), ``n_mentors`` and ``classes_with_committee`` (of ``n_classes``). Existing rows keep NULL:
the store does not know them until a school reports them.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003_plan"
down_revision = "0002_screening2"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("school_year_stats", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "n_teachers",
                sa.Integer(),
                nullable=True,
                comment="teachers on staff (全体教师), mentors' denominator",
            )
        )
        batch_op.add_column(
            sa.Column(
                "n_mentors",
                sa.Integer(),
                nullable=True,
                comment="teachers acting as student mentors (全员导师制)",
            )
        )
        batch_op.add_column(
            sa.Column(
                "classes_with_committee",
                sa.Integer(),
                nullable=True,
                comment="classes with a 心理委员 (of n_classes)",
            )
        )


def downgrade() -> None:
    with op.batch_alter_table("school_year_stats", schema=None) as batch_op:
        batch_op.drop_column("classes_with_committee")
        batch_op.drop_column("n_mentors")
        batch_op.drop_column("n_teachers")
