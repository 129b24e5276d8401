"""Demo truth kept apart: ``demo_planted_school`` (issue #11).

The synthetic demo plants schools whose true screen-positive rate is higher or lower than the rest, so
that the funnel plot can be checked against the truth. The truth lives in its own table, which only the
demo writes; a real store keeps it empty. Written by ``alembic revision --autogenerate`` against
PostgreSQL (for the comments), with the CHECK constraint autogenerate does not see added by hand.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002_screening2"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "demo_planted_school",
        sa.Column("school_id", sa.String(16), nullable=False),
        sa.Column(
            "direction",
            sa.String(8),
            sa.CheckConstraint(
                "direction IN ('higher', 'lower')", name=op.f("ck_demo_planted_school_direction")
            ),
            nullable=False,
            comment="synthetic demo only: the planted school's true screen-positive rate is higher or lower",
        ),
        sa.Column(
            "distress_shift",
            sa.Float(),
            nullable=False,
            comment="synthetic demo only: shift of the school's students' latent distress, in SDs",
        ),
        sa.ForeignKeyConstraint(
            ["school_id"], ["school.school_id"], name=op.f("fk_demo_planted_school_school_id")
        ),
        sa.PrimaryKeyConstraint("school_id", name=op.f("pk_demo_planted_school")),
        comment=(
            "synthetic demo only: the schools the demo generator planted with a truly different screen-positive "
            "rate, so that estimators (funnel plots) can be checked against the truth; a real store leaves it empty"
        ),
    )


def downgrade() -> None:
    op.drop_table("demo_planted_school")
