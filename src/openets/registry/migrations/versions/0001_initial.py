"""Initial registry schema: meta, accounts, instruments, balances and the hash-chained journal.

Revision ID: 0001
Revises:
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

ACCOUNT_KINDS = (
    "issuance",
    "allocation_holding",
    "auction_holding",
    "reserve",
    "general_holding",
    "compliance",
    "limited_use",
    "exchange_clearing",
    "retirement",
    "cancellation",
)
APPEND_ONLY_TABLES = ("journal", "accounts", "instruments")


def upgrade() -> None:
    op.create_table(
        "meta",
        sa.Column("key", sa.String(64), primary_key=True),
        sa.Column("value", sa.Text, nullable=False),
    )
    kinds = ", ".join(f"'{k}'" for k in ACCOUNT_KINDS)
    op.create_table(
        "accounts",
        sa.Column("account_id", sa.String(200), primary_key=True),
        sa.Column("owner", sa.String(200), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("jurisdiction", sa.String(32), nullable=False),
        sa.Column("opened_seq", sa.BigInteger, nullable=False),
        sa.CheckConstraint(f"kind IN ({kinds})", name="ck_accounts_kind"),
    )
    op.create_index("ix_accounts_owner", "accounts", ["owner"])
    op.create_table(
        "instruments",
        sa.Column("instrument_key", sa.String(260), primary_key=True),
        sa.Column("jurisdiction", sa.String(32), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("vintage", sa.Integer, nullable=True),
        sa.Column("series", sa.String(200), nullable=True),
    )
    # The floor is a database constraint too, so that no code path can ever double-spend.
    # WITHOUT ROWID keeps a balance in one B-tree in SQLite: fewer pages written per commit.
    op.create_table(
        "balances",
        sa.Column("account_id", sa.String(200), sa.ForeignKey("accounts.account_id"), nullable=False),
        sa.Column("instrument_key", sa.String(260), sa.ForeignKey("instruments.instrument_key"), nullable=False),
        sa.Column("quantity", sa.BigInteger, nullable=False),
        sa.Column("may_go_negative", sa.SmallInteger, nullable=False),
        sa.PrimaryKeyConstraint("account_id", "instrument_key", name="pk_balances"),
        sa.CheckConstraint("quantity >= 0 OR may_go_negative = 1", name="ck_balances_floor"),
        sqlite_with_rowid=False,
    )
    op.create_table(
        "journal",
        # INTEGER PRIMARY KEY is SQLite's rowid: the journal is one B-tree there.
        sa.Column("seq", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), primary_key=True, autoincrement=False),
        sa.Column("op_id", sa.String(200), nullable=False, unique=True),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("content", sa.Text, nullable=False),
        sa.Column("content_hash", sa.String(64), nullable=False),
        sa.Column("recorded_at", sa.String(32), nullable=False),
        sa.Column("prev_hash", sa.String(64), nullable=False),
        sa.Column("entry_hash", sa.String(64), nullable=False),
    )
    dialect = op.get_bind().dialect.name
    if dialect == "postgresql":
        op.execute(
            "CREATE FUNCTION openets_append_only() RETURNS trigger LANGUAGE plpgsql AS $$ "
            "BEGIN RAISE EXCEPTION 'openets: table % is append-only', TG_TABLE_NAME; END $$"
        )
        for table in APPEND_ONLY_TABLES:
            op.execute(
                f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
                "FOR EACH ROW EXECUTE FUNCTION openets_append_only()"
            )
            op.execute(
                f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
                "FOR EACH STATEMENT EXECUTE FUNCTION openets_append_only()"
            )
    else:
        for table in APPEND_ONLY_TABLES:
            for event in ("UPDATE", "DELETE"):
                op.execute(
                    f"CREATE TRIGGER {table}_no_{event.lower()} BEFORE {event} ON {table} "
                    f"BEGIN SELECT RAISE(ABORT, 'openets: table {table} is append-only'); END"
                )


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == "postgresql":
        for table in APPEND_ONLY_TABLES:
            op.execute(f"DROP TRIGGER IF EXISTS {table}_append_only ON {table}")
            op.execute(f"DROP TRIGGER IF EXISTS {table}_no_truncate ON {table}")
        op.execute("DROP FUNCTION IF EXISTS openets_append_only()")
    for table in ("journal", "balances", "instruments", "accounts", "meta"):
        op.drop_table(table)
