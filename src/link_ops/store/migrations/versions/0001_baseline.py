"""Baseline: the partner and relayer tables, as link-ops created them before it had migrations.

A database made then (by ``create_all``, no ``alembic_version``) already holds exactly these tables: it is
checked against :data:`link_ops.store.migrate.MAIN_SCHEMA` and stamped at this revision instead of running
it. Constraint names are written out (they are what PostgreSQL named them by itself, and what
:data:`link_ops.store.engine.NAMING_CONVENTION` gives), so later revisions can alter them by name.

Revision 0001, the first.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "partners",
        sa.Column("partner_id", sa.String(length=32), nullable=False),
        sa.Column("chain_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("contract_address", sa.String(length=42), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("integration_time", sa.DateTime(), nullable=True),
        sa.Column("config_json", sa.Text(), nullable=False),
        sa.Column("failure_reason", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.CheckConstraint("status IN ('onboarding', 'active', 'failed')", name=op.f("ck_partners_status")),
        sa.PrimaryKeyConstraint("partner_id", "chain_id", name=op.f("partners_pkey")),
    )
    op.create_table(
        "onboarding_steps",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("partner_id", sa.String(length=32), nullable=False),
        sa.Column("chain_id", sa.BigInteger(), nullable=False),
        sa.Column("step", sa.String(length=16), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("detail", sa.Text(), nullable=True),
        sa.Column("gas_used", sa.BigInteger(), nullable=True),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.CheckConstraint(
            "step IN ('validate', 'deploy', 'fund', 'monitor')", name=op.f("ck_onboarding_steps_step")
        ),
        sa.CheckConstraint("status IN ('done', 'failed')", name=op.f("ck_onboarding_steps_status")),
        sa.ForeignKeyConstraint(
            ["partner_id", "chain_id"],
            ["partners.partner_id", "partners.chain_id"],
            name=op.f("onboarding_steps_partner_id_chain_id_fkey"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("onboarding_steps_pkey")),
        sa.UniqueConstraint("partner_id", "chain_id", "step", name=op.f("uq_onboarding_steps_step")),
    )
    op.create_table(
        "monitoring",
        sa.Column("partner_id", sa.String(length=32), nullable=False),
        sa.Column("chain_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("endpoints_json", sa.Text(), nullable=False),
        sa.Column("sla_json", sa.Text(), nullable=False),
        sa.Column("registered_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["partner_id", "chain_id"],
            ["partners.partner_id", "partners.chain_id"],
            name=op.f("monitoring_partner_id_chain_id_fkey"),
        ),
        sa.PrimaryKeyConstraint("partner_id", "chain_id", name=op.f("monitoring_pkey")),
    )
    op.create_table(
        "relayer_cursors",
        sa.Column("chain_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("messenger", sa.String(length=42), nullable=False),
        sa.Column("next_block", sa.BigInteger(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("chain_id", "messenger", name=op.f("relayer_cursors_pkey")),
    )
    op.create_table(
        "relayed_messages",
        sa.Column("message_id", sa.String(length=66), nullable=False),
        sa.Column("src_chain_id", sa.BigInteger(), nullable=False),
        sa.Column("src_messenger", sa.String(length=42), nullable=False),
        sa.Column("sender", sa.String(length=42), nullable=False),
        sa.Column("dst_chain_id", sa.BigInteger(), nullable=False),
        sa.Column("receiver", sa.String(length=42), nullable=False),
        sa.Column("nonce", sa.BigInteger(), nullable=False),
        sa.Column("payload_hex", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("tx_hash", sa.String(length=66), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("seen_at", sa.DateTime(), nullable=False),
        sa.Column("delivered_at", sa.DateTime(), nullable=True),
        sa.CheckConstraint("status IN ('pending', 'delivered')", name=op.f("ck_relayed_messages_status")),
        sa.PrimaryKeyConstraint("message_id", name=op.f("relayed_messages_pkey")),
    )


def downgrade() -> None:
    for table in ("relayed_messages", "relayer_cursors", "monitoring", "onboarding_steps", "partners"):
        op.drop_table(table)
