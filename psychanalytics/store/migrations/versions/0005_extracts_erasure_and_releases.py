"""Erasure tombstones and the register of data releases (issue #15).

``erasure`` keeps the pseudonym of each student erased at a request, so a later import of an old file
does not bring the student back; ``data_release`` lists what left the store (research extracts,
published marts, backups) so an erasure can mark those built before it as stale. Two new tables:
existing rows are untouched.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005_extracts"
down_revision = "0004_outcomes2"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "erasure",
        sa.Column(
            "pid",
            sa.String(length=32),
            nullable=False,
            comment="tombstone: pseudonym of a student erased at a request; the importer refuses their lines",
        ),
        sa.Column("erased_at", sa.DateTime(), nullable=False),
        sa.Column(
            "audit_seq", sa.Integer(), nullable=False, comment="the audit_log row that records the erasure"
        ),
        sa.PrimaryKeyConstraint("pid", name=op.f("pk_erasure")),
    )
    op.create_table(
        "data_release",
        sa.Column("release_id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column(
            "kind",
            sa.String(length=16),
            sa.CheckConstraint("kind IN ('extract', 'mart', 'backup')", name=op.f("ck_data_release_kind")),
            nullable=False,
        ),
        sa.Column("name", sa.Text(), nullable=False, comment="file name, or URL without its password"),
        sa.Column("project", sa.String(length=32), nullable=True, comment="research project of an extract"),
        sa.Column("built_at", sa.DateTime(), nullable=False),
        sa.Column(
            "audit_seq", sa.Integer(), nullable=False, comment="the audit_log row that records the build"
        ),
        sa.Column(
            "stale_since",
            sa.DateTime(),
            nullable=True,
            comment="set by an erasure after the build: the copy still holds the erased students",
        ),
        sa.Column("stale_reason", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("release_id", name=op.f("pk_data_release")),
    )


def downgrade() -> None:
    op.drop_table("data_release")
    op.drop_table("erasure")
