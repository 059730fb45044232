"""commit author and subject on deployments

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-23 05:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("deployments") as batch:
        batch.add_column(sa.Column("commit_author", sa.String(length=200), nullable=True))
        batch.add_column(sa.Column("commit_message", sa.String(length=500), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("deployments") as batch:
        batch.drop_column("commit_message")
        batch.drop_column("commit_author")
