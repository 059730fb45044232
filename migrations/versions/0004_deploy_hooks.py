"""apps can have a generic deploy hook; the delivery log is read per app

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-23 01:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("apps") as batch:
        batch.add_column(sa.Column("deploy_hook_hash", sa.String(length=64), nullable=True))
    with op.batch_alter_table("webhook_deliveries") as batch:
        batch.create_index(batch.f("ix_webhook_deliveries_app_id"), ["app_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("webhook_deliveries") as batch:
        batch.drop_index(batch.f("ix_webhook_deliveries_app_id"))
    with op.batch_alter_table("apps") as batch:
        batch.drop_column("deploy_hook_hash")
