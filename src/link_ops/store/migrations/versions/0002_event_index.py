"""The event index: its events, claims, block hashes (for reorg checks) and per-chain cursors.

Revision 0002, after 0001; written 2026-11-28 20:56:23.651335.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

#: JSON, stored as JSONB on PostgreSQL (as the models declare it).
JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:

    op.create_table(
        "index_blocks",
        sa.Column("chain_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("number", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("hash", sa.String(length=66), nullable=False),
        sa.Column("parent_hash", sa.String(length=66), nullable=False),
        sa.Column("block_time", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("chain_id", "number", name=op.f("index_blocks_pkey")),
    )
    op.create_table(
        "index_claims",
        sa.Column("chain_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("block_number", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("log_index", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("block_hash", sa.String(length=66), nullable=False),
        sa.Column("tx_hash", sa.String(length=66), nullable=False),
        sa.Column("holder", sa.String(length=42), nullable=False),
        sa.Column("amount", sa.String(length=78), nullable=False),
        sa.Column(
            "cube_ids",
            JSON,
            nullable=False,
        ),
        sa.Column("block_time", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("chain_id", "block_number", "log_index", name=op.f("index_claims_pkey")),
    )
    op.create_table(
        "index_cursors",
        sa.Column("chain_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("start_block", sa.BigInteger(), nullable=False),
        sa.Column("last_block", sa.BigInteger(), nullable=False),
        sa.Column("last_hash", sa.String(length=66), nullable=False),
        sa.Column("contracts_json", sa.Text(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("chain_id", name=op.f("index_cursors_pkey")),
    )
    op.create_table(
        "index_events",
        sa.Column("chain_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("block_number", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("log_index", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("block_hash", sa.String(length=66), nullable=False),
        sa.Column("tx_hash", sa.String(length=66), nullable=False),
        sa.Column("address", sa.String(length=42), nullable=False),
        sa.Column("contract", sa.String(length=40), nullable=False),
        sa.Column("event", sa.String(length=40), nullable=False),
        sa.Column(
            "args",
            JSON,
            nullable=False,
        ),
        sa.Column("block_time", sa.BigInteger(), nullable=False),
        sa.Column("from_address", sa.String(length=42), nullable=True),
        sa.Column("to_address", sa.String(length=42), nullable=True),
        sa.Column("token_id", sa.BigInteger(), nullable=True),
        sa.Column("amount", sa.String(length=78), nullable=True),
        sa.Column("transfer_id", sa.String(length=66), nullable=True),
        sa.PrimaryKeyConstraint("chain_id", "block_number", "log_index", name=op.f("index_events_pkey")),
    )
    with op.batch_alter_table("index_events", schema=None) as batch_op:
        batch_op.create_index("ix_index_events_event", ["event", "chain_id"], unique=False)
        batch_op.create_index("ix_index_events_token", ["chain_id", "address", "token_id"], unique=False)
        batch_op.create_index("ix_index_events_transfer_id", ["transfer_id"], unique=False)


def downgrade() -> None:

    with op.batch_alter_table("index_events", schema=None) as batch_op:
        batch_op.drop_index("ix_index_events_transfer_id")
        batch_op.drop_index("ix_index_events_token")
        batch_op.drop_index("ix_index_events_event")

    op.drop_table("index_events")
    op.drop_table("index_cursors")
    op.drop_table("index_claims")
    op.drop_table("index_blocks")
