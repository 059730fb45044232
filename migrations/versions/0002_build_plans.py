"""apps keep explicit build settings; deployments keep the build plan

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22 23:50:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("apps") as batch:
        batch.add_column(sa.Column("config", sa.JSON(), nullable=False, server_default="{}"))
    with op.batch_alter_table("deployments") as batch:
        batch.add_column(sa.Column("plan", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("deployments") as batch:
        batch.drop_column("plan")
    with op.batch_alter_table("apps") as batch:
        batch.drop_column("config")
