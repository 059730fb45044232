"""apps keep explicit build settings and can be stopped; deployments keep the build plan; process limits;
volumes for one process

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
        batch.add_column(sa.Column("stopped", sa.Boolean(), nullable=False, server_default=sa.false()))
    with op.batch_alter_table("volumes") as batch:
        batch.add_column(sa.Column("process", sa.String(length=40), nullable=True))
    with op.batch_alter_table("services") as batch:
        batch.add_column(sa.Column("memory", sa.String(length=20), nullable=True))
        batch.add_column(sa.Column("cpus", sa.Float(), nullable=True))
    with op.batch_alter_table("deployments") as batch:
        batch.add_column(sa.Column("plan", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("deployments") as batch:
        batch.drop_column("plan")
    with op.batch_alter_table("volumes") as batch:
        batch.drop_column("process")
    with op.batch_alter_table("services") as batch:
        batch.drop_column("cpus")
        batch.drop_column("memory")
    with op.batch_alter_table("apps") as batch:
        batch.drop_column("stopped")
        batch.drop_column("config")
