"""The watchtower's alerts, incidents and outbox of deliveries (link_ops.store.watch_tables).

Revision 0004, after 0003.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

#: JSON, stored as JSONB on PostgreSQL (as the models declare it).
JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "watch_incidents",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("subject", sa.String(length=128), nullable=False),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("severity", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("alert_count", sa.Integer(), nullable=False),
        sa.Column("first_at", sa.DateTime(), nullable=False),
        sa.Column("last_at", sa.DateTime(), nullable=False),
        sa.Column("opened_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.Column("acknowledged_at", sa.DateTime(), nullable=True),
        sa.Column("acknowledged_by", sa.String(length=128), nullable=True),
        sa.Column("resolved_at", sa.DateTime(), nullable=True),
        sa.Column("resolved_by", sa.String(length=128), nullable=True),
        sa.Column("resolution", sa.Text(), nullable=True),
        sa.CheckConstraint(
            "status IN ('open', 'acknowledged', 'resolved')", name="ck_watch_incidents_status"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("watch_incidents_pkey")),
    )
    with op.batch_alter_table("watch_incidents", schema=None) as batch_op:
        batch_op.create_index("ix_watch_incidents_subject_status", ["subject", "status"], unique=False)

    op.create_table(
        "watch_alerts",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("key", sa.String(length=512), nullable=False),
        sa.Column("rule", sa.String(length=128), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("severity", sa.Integer(), nullable=False),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.Column("chain_id", sa.BigInteger(), nullable=True),
        sa.Column("block_number", sa.BigInteger(), nullable=True),
        sa.Column("tx_hash", sa.String(length=66), nullable=True),
        sa.Column("subject", sa.String(length=128), nullable=True),
        sa.Column("values", JSON, nullable=False),
        sa.Column("action", sa.String(length=64), nullable=True),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("raised_at", sa.DateTime(), nullable=False),
        sa.Column("incident_id", sa.Integer(), nullable=False),
        sa.Column("retracted_at", sa.DateTime(), nullable=True),
        sa.Column("retraction", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["incident_id"], ["watch_incidents.id"], name=op.f("watch_alerts_incident_id_fkey")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("watch_alerts_pkey")),
        sa.UniqueConstraint("key", name="uq_watch_alerts_key"),
    )
    with op.batch_alter_table("watch_alerts", schema=None) as batch_op:
        batch_op.create_index("ix_watch_alerts_at", ["at"], unique=False)
        batch_op.create_index("ix_watch_alerts_chain_block", ["chain_id", "block_number"], unique=False)
        batch_op.create_index(batch_op.f("ix_watch_alerts_incident_id"), ["incident_id"], unique=False)

    op.create_table(
        "watch_deliveries",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("alert_id", sa.Integer(), nullable=False),
        sa.Column("sink", sa.String(length=64), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("enqueued_at", sa.DateTime(), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(), nullable=False),
        sa.Column("last_attempt_at", sa.DateTime(), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("delivered_at", sa.DateTime(), nullable=True),
        sa.CheckConstraint(
            "status IN ('pending', 'delivered', 'failed', 'cancelled')", name="ck_watch_deliveries_status"
        ),
        sa.ForeignKeyConstraint(
            ["alert_id"], ["watch_alerts.id"], name=op.f("watch_deliveries_alert_id_fkey")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("watch_deliveries_pkey")),
        sa.UniqueConstraint("alert_id", "sink", name="uq_watch_deliveries_alert_sink"),
    )
    with op.batch_alter_table("watch_deliveries", schema=None) as batch_op:
        batch_op.create_index("ix_watch_deliveries_due", ["sink", "status", "next_attempt_at"], unique=False)
    op.create_table(
        "watch_judged",
        sa.Column("chain_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("first_block", sa.BigInteger(), nullable=False),
        sa.Column("last_block", sa.BigInteger(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("chain_id", name=op.f("watch_judged_pkey")),
    )


def downgrade() -> None:
    op.drop_table("watch_judged")
    with op.batch_alter_table("watch_deliveries", schema=None) as batch_op:
        batch_op.drop_index("ix_watch_deliveries_due")
    op.drop_table("watch_deliveries")
    with op.batch_alter_table("watch_alerts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_watch_alerts_incident_id"))
        batch_op.drop_index("ix_watch_alerts_chain_block")
        batch_op.drop_index("ix_watch_alerts_at")
    op.drop_table("watch_alerts")
    with op.batch_alter_table("watch_incidents", schema=None) as batch_op:
        batch_op.drop_index("ix_watch_incidents_subject_status")
    op.drop_table("watch_incidents")
