"""The synthetic district's planted effects move out of ``intervention`` into ``demo_planted_effect``.

``intervention.true_effect_d`` held what the demo generator planted, in a table real data use. It moves to
its own table, which only :mod:`psychanalytics.synth` writes (empty in a real store), with what else the
generator planted (the effect in scale points, the noise SDs) so that estimators can be checked against it
(issue #12, DESIGN.md decision 30). A demo store's planted ``d`` values move with it; a real store has none.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004_outcomes2"
down_revision = "0003_plan"
branch_labels = None
depends_on = None

_TABLE_COMMENT = (
    "synthetic demo only: what the generator planted (psychanalytics.synth); never written by imports"
)


def upgrade() -> None:
    op.create_table(
        "demo_planted_effect",
        sa.Column("intervention_id", sa.String(32), nullable=False),
        sa.Column(
            "effect_d",
            sa.Float(),
            nullable=False,
            comment="planted benefit in SDs of the pre scores: comparison-arm change minus treatment-arm change",
        ),
        sa.Column("sd_pre", sa.Float(), nullable=True, comment="the pre-score SD the effect was scaled by"),
        sa.Column(
            "effect_points",
            sa.Float(),
            nullable=True,
            comment="the planted shift of treatment-arm post scores, in scale points (negative: lower scores)",
        ),
        sa.Column("common_change", sa.Float(), nullable=True, comment="mean change of both arms, in points"),
        sa.Column("change_sd", sa.Float(), nullable=True, comment="SD of a student's own change, in points"),
        sa.Column("class_sd", sa.Float(), nullable=True, comment="SD of a class's shared change (0: none)"),
        sa.Column("school_sd", sa.Float(), nullable=True, comment="SD of a school's shared change (0: none)"),
        sa.PrimaryKeyConstraint("intervention_id", name=op.f("pk_demo_planted_effect")),
        sa.ForeignKeyConstraint(
            ["intervention_id"],
            ["intervention.intervention_id"],
            name=op.f("fk_demo_planted_effect_intervention_id"),
            ondelete="CASCADE",
        ),
        comment=_TABLE_COMMENT,
    )
    op.execute(
        "INSERT INTO demo_planted_effect (intervention_id, effect_d) "
        "SELECT intervention_id, true_effect_d FROM intervention WHERE true_effect_d IS NOT NULL"
    )
    with op.batch_alter_table("intervention") as batch:
        batch.drop_column("true_effect_d")


def downgrade() -> None:
    with op.batch_alter_table("intervention") as batch:
        batch.add_column(
            sa.Column(
                "true_effect_d",
                sa.Float(),
                nullable=True,
                comment="synthetic data only: the standardised effect the generator planted",
            )
        )
    op.execute(
        "UPDATE intervention SET true_effect_d = (SELECT effect_d FROM demo_planted_effect "
        "WHERE demo_planted_effect.intervention_id = intervention.intervention_id)"
    )
    op.drop_table("demo_planted_effect")
