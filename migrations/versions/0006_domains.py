"""custom domains and their certificates

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-23 02:00:00

One table: the host names apps answer at besides `<name>.<apps domain>`. Caddy keeps the certificates.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "domains",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("app_id", sa.Integer(), nullable=False),
        sa.Column("hostname", sa.String(length=253), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["app_id"], ["apps.id"], name=op.f("fk_domains_app_id_apps"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_domains")),
        sa.UniqueConstraint("hostname", name=op.f("uq_domains_hostname")),
    )
    op.create_index(op.f("ix_domains_app_id"), "domains", ["app_id"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_domains_app_id"), table_name="domains")
    op.drop_table("domains")
