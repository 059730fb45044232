"""GitHub App wiring and pull request previews

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-23 02:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("apps") as batch:
        batch.add_column(sa.Column("preview_of_id", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("pr_number", sa.Integer(), nullable=True))
        batch.create_index(batch.f("ix_apps_preview_of_id"), ["preview_of_id"], unique=False)
        batch.create_foreign_key(
            batch.f("fk_apps_preview_of_id_apps"), "apps", ["preview_of_id"], ["id"], ondelete="CASCADE"
        )


def downgrade() -> None:
    with op.batch_alter_table("apps") as batch:
        batch.drop_constraint(batch.f("fk_apps_preview_of_id_apps"), type_="foreignkey")
        batch.drop_index(batch.f("ix_apps_preview_of_id"))
        batch.drop_column("pr_number")
        batch.drop_column("preview_of_id")
