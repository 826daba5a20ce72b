"""Partner SLAs: the probes of the partners' endpoints, the benefits they applied, their support tickets.

Revision 0003, after 0002; written 2026-11-28 22:34:33.054278.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "sla_benefit_applications",
        sa.Column("chain_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("claim_tx", sa.String(length=66), nullable=False),
        sa.Column("holder", sa.String(length=42), nullable=False),
        sa.Column("partner_id", sa.String(length=32), nullable=False),
        sa.Column("applied_at", sa.DateTime(), nullable=False),
        sa.Column("reported_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["partner_id", "chain_id"],
            ["partners.partner_id", "partners.chain_id"],
            name=op.f("sla_benefit_applications_partner_id_chain_id_fkey"),
        ),
        sa.PrimaryKeyConstraint("chain_id", "claim_tx", "holder", name=op.f("sla_benefit_applications_pkey")),
    )
    op.create_table(
        "sla_probes",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("partner_id", sa.String(length=32), nullable=False),
        sa.Column("chain_id", sa.BigInteger(), nullable=False),
        sa.Column("endpoint", sa.Text(), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("ok", sa.Boolean(), nullable=False),
        sa.Column("status_code", sa.Integer(), nullable=True),
        sa.Column("latency_s", sa.Float(), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["partner_id", "chain_id"],
            ["partners.partner_id", "partners.chain_id"],
            name=op.f("sla_probes_partner_id_chain_id_fkey"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("sla_probes_pkey")),
    )
    with op.batch_alter_table("sla_probes", schema=None) as batch_op:
        batch_op.create_index("ix_sla_probes_partner_at", ["partner_id", "chain_id", "at"], unique=False)

    op.create_table(
        "sla_support_tickets",
        sa.Column("partner_id", sa.String(length=32), nullable=False),
        sa.Column("chain_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("ticket_id", sa.String(length=64), nullable=False),
        sa.Column("opened_at", sa.DateTime(), nullable=False),
        sa.Column("first_response_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["partner_id", "chain_id"],
            ["partners.partner_id", "partners.chain_id"],
            name=op.f("sla_support_tickets_partner_id_chain_id_fkey"),
        ),
        sa.PrimaryKeyConstraint("partner_id", "chain_id", "ticket_id", name=op.f("sla_support_tickets_pkey")),
    )


def downgrade() -> None:
    op.drop_table("sla_support_tickets")
    with op.batch_alter_table("sla_probes", schema=None) as batch_op:
        batch_op.drop_index("ix_sla_probes_partner_at")

    op.drop_table("sla_probes")
    op.drop_table("sla_benefit_applications")
