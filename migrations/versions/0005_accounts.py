"""teams own apps; members have roles; tokens have scopes, a prefix and can be revoked; env vars can be plain

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-23 02:00:00

Existing installs get one team, `main`, that owns every app; every existing user becomes its owner and
every existing token keeps full scopes, so nothing that worked before stops working.
"""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

ALL_SCOPES = ["read", "deploy", "write", "manage", "admin"]


def upgrade() -> None:
    op.create_table(
        "teams",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=40), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_teams")),
        sa.UniqueConstraint("name", name=op.f("uq_teams_name")),
    )
    op.create_table(
        "memberships",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("team_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("role", sa.String(length=10), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["team_id"], ["teams.id"], name=op.f("fk_memberships_team_id_teams"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_memberships_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_memberships")),
        sa.UniqueConstraint("team_id", "user_id", name=op.f("uq_memberships_team_id")),
    )
    op.create_index(op.f("ix_memberships_user_id"), "memberships", ["user_id"], unique=False)

    with op.batch_alter_table("api_tokens") as batch:
        batch.add_column(sa.Column("prefix", sa.String(length=16), nullable=False, server_default=""))
        batch.add_column(sa.Column("scopes", sa.JSON(), nullable=True))
        batch.add_column(sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True))
    with op.batch_alter_table("env_vars") as batch:
        batch.add_column(sa.Column("is_secret", sa.Boolean(), nullable=False, server_default=sa.true()))
    with op.batch_alter_table("apps") as batch:
        batch.add_column(sa.Column("team_id", sa.Integer(), nullable=True))

    bind = op.get_bind()
    tokens = sa.table("api_tokens", sa.column("scopes", sa.JSON()))
    bind.execute(tokens.update().values(scopes=ALL_SCOPES))
    has_users = bind.execute(sa.text("SELECT count(*) FROM users")).scalar()
    has_apps = bind.execute(sa.text("SELECT count(*) FROM apps")).scalar()
    if has_users or has_apps:
        now = datetime.now(UTC)
        teams = sa.table("teams", sa.column("id"), sa.column("name"), sa.column("created_at"))
        bind.execute(teams.insert().values(name="main", created_at=now))
        team_id = bind.execute(sa.text("SELECT id FROM teams WHERE name = 'main'")).scalar()
        bind.execute(sa.text("UPDATE apps SET team_id = :team"), {"team": team_id})
        bind.execute(
            sa.text(
                "INSERT INTO memberships (team_id, user_id, role, created_at) "
                "SELECT :team, id, 'owner', :now FROM users"
            ),
            {"team": team_id, "now": now},
        )

    with op.batch_alter_table("api_tokens") as batch:
        batch.alter_column("prefix", server_default=None)
        batch.alter_column("scopes", existing_type=sa.JSON(), nullable=False)
    with op.batch_alter_table("env_vars") as batch:
        batch.alter_column("is_secret", server_default=None)
    with op.batch_alter_table("apps") as batch:
        batch.alter_column("team_id", existing_type=sa.Integer(), nullable=False)
        batch.create_index(batch.f("ix_apps_team_id"), ["team_id"], unique=False)
        batch.create_foreign_key(batch.f("fk_apps_team_id_teams"), "teams", ["team_id"], ["id"])


def downgrade() -> None:
    with op.batch_alter_table("apps") as batch:
        batch.drop_constraint(batch.f("fk_apps_team_id_teams"), type_="foreignkey")
        batch.drop_index(batch.f("ix_apps_team_id"))
        batch.drop_column("team_id")
    with op.batch_alter_table("env_vars") as batch:
        batch.drop_column("is_secret")
    with op.batch_alter_table("api_tokens") as batch:
        batch.drop_column("revoked_at")
        batch.drop_column("scopes")
        batch.drop_column("prefix")
    op.drop_index(op.f("ix_memberships_user_id"), table_name="memberships")
    op.drop_table("memberships")
    op.drop_table("teams")
