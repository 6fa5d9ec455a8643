"""ledger accounts and transfers (+ the PostgreSQL transfer function), invoices, credit

Revision ID: 0006
Revises: 0004
Create Date: 2026-12-02 17:50:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import core.db.types

revision: str = "0006"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The rules of engines/ledger/model.py (decide), in one server-side call: one round trip per
# transfer. Accounts are locked in id order (no deadlocks between two transfers on the same
# pair); a retried id is answered from the stored transfer, before and after the locks.
_MATCHES = """
CREATE OR REPLACE FUNCTION ledger_transfer_matches(
    t ledger_transfers, p_kind text, p_debit uuid, p_credit uuid, p_amount numeric,
    p_currency text, p_pending uuid, p_code text, p_reference text
) RETURNS boolean LANGUAGE sql IMMUTABLE AS $$
    SELECT t.kind = p_kind AND t.code = p_code AND t.reference = p_reference
       AND t.pending_id IS NOT DISTINCT FROM p_pending
       AND CASE
             WHEN p_kind IN ('posted', 'pending') THEN
                  t.debit_account_id = p_debit AND t.credit_account_id = p_credit
                  AND t.amount = p_amount AND t.currency = p_currency
             WHEN p_kind = 'post' THEN p_amount IS NULL OR t.amount = p_amount
             ELSE p_amount IS NULL
           END
$$;
"""

_TRANSFER = """
CREATE OR REPLACE FUNCTION ledger_transfer(
    p_id uuid, p_kind text, p_debit uuid, p_credit uuid, p_amount numeric, p_currency text,
    p_pending uuid, p_code text, p_reference text, p_now timestamptz,
    OUT o_result text, OUT o_debit uuid, OUT o_credit uuid, OUT o_amount numeric,
    OUT o_currency text, OUT o_status text, OUT o_created_at timestamptz
) LANGUAGE plpgsql AS $$
DECLARE
    t ledger_transfers%ROWTYPE;
    pt ledger_transfers%ROWTYPE;
    d ledger_accounts%ROWTYPE;
    c ledger_accounts%ROWTYPE;
    v_amount numeric;
    v_pamount numeric := 0;
    dp numeric := 0;
    dpo numeric := 0;
    cp numeric := 0;
    cpo numeric := 0;
BEGIN
    FOR pass IN 1..2 LOOP
        -- pass 1 answers a retry without locks; pass 2 after the locks (a concurrent twin)
        IF pass = 2 THEN
            IF p_kind IN ('post', 'void') THEN
                SELECT * INTO pt FROM ledger_transfers WHERE id = p_pending;
                IF NOT FOUND OR pt.kind <> 'pending' THEN
                    o_result := 'pending_transfer_not_found'; RETURN;
                END IF;
                p_debit := pt.debit_account_id;
                p_credit := pt.credit_account_id;
            END IF;
            PERFORM 1 FROM ledger_accounts WHERE id IN (p_debit, p_credit)
                ORDER BY id FOR UPDATE;
        END IF;
        SELECT * INTO t FROM ledger_transfers WHERE id = p_id;
        IF FOUND THEN
            IF ledger_transfer_matches(t, p_kind, p_debit, p_credit, p_amount, p_currency,
                                       p_pending, p_code, p_reference) THEN
                o_result := 'exists';
            ELSE
                o_result := 'exists_with_different_fields';
            END IF;
            o_debit := t.debit_account_id; o_credit := t.credit_account_id;
            o_amount := t.amount; o_currency := t.currency; o_status := t.status;
            o_created_at := t.created_at;
            RETURN;
        END IF;
        IF pass = 1 THEN
            IF p_kind IN ('posted', 'pending') THEN
                IF p_amount IS NULL OR p_amount <= 0 THEN
                    o_result := 'amount_must_be_positive'; RETURN;
                END IF;
                IF p_debit IS NULL OR p_credit IS NULL THEN
                    o_result := 'account_not_found'; RETURN;
                END IF;
                IF p_debit = p_credit THEN
                    o_result := 'accounts_must_be_different'; RETURN;
                END IF;
            ELSE
                IF p_pending IS NULL THEN
                    o_result := 'pending_transfer_not_found'; RETURN;
                END IF;
                IF p_kind = 'void' AND p_amount IS NOT NULL THEN
                    o_result := 'exists_with_different_fields'; RETURN;
                END IF;
                IF p_amount IS NOT NULL AND p_amount <= 0 THEN
                    o_result := 'amount_must_be_positive'; RETURN;
                END IF;
            END IF;
        END IF;
    END LOOP;

    SELECT * INTO d FROM ledger_accounts WHERE id = p_debit;
    SELECT * INTO c FROM ledger_accounts WHERE id = p_credit;
    IF d.id IS NULL OR c.id IS NULL THEN
        o_result := 'account_not_found'; RETURN;
    END IF;

    IF p_kind IN ('posted', 'pending') THEN
        IF d.currency <> p_currency OR c.currency <> p_currency THEN
            o_result := 'currency_mismatch'; RETURN;
        END IF;
        v_amount := p_amount;
    ELSE
        SELECT * INTO pt FROM ledger_transfers WHERE id = p_pending FOR UPDATE;
        IF pt.status = 'posted' THEN
            o_result := 'pending_transfer_already_posted'; RETURN;
        END IF;
        IF pt.status = 'voided' THEN
            o_result := 'pending_transfer_already_voided'; RETURN;
        END IF;
        v_pamount := pt.amount;
        IF p_kind = 'void' THEN
            v_amount := pt.amount;
        ELSE
            v_amount := coalesce(p_amount, pt.amount);
            IF p_currency IS NOT NULL AND p_currency <> pt.currency THEN
                o_result := 'currency_mismatch'; RETURN;
            END IF;
            IF v_amount > pt.amount THEN
                o_result := 'exceeds_pending_transfer_amount'; RETURN;
            END IF;
        END IF;
        p_currency := pt.currency;
    END IF;

    IF p_kind = 'posted' THEN
        dpo := v_amount; cpo := v_amount;
    ELSIF p_kind = 'pending' THEN
        dp := v_amount; cp := v_amount;
    ELSIF p_kind = 'post' THEN
        dp := -v_pamount; dpo := v_amount; cp := -v_pamount; cpo := v_amount;
    ELSE
        dp := -v_pamount; cp := -v_pamount;
    END IF;

    IF p_kind IN ('posted', 'pending') THEN
        IF (d.flags & 1) <> 0 AND d.debits_pending + dp + d.debits_posted + dpo
                > d.credits_posted + d.balance_limit THEN
            o_result := 'exceeds_credits'; RETURN;
        END IF;
        IF (d.flags & 2) <> 0 AND d.credits_pending + d.credits_posted
                > d.debits_posted + dpo + d.balance_limit THEN
            o_result := 'exceeds_debits'; RETURN;
        END IF;
        IF (c.flags & 1) <> 0 AND c.debits_pending + c.debits_posted
                > c.credits_posted + cpo + c.balance_limit THEN
            o_result := 'exceeds_credits'; RETURN;
        END IF;
        IF (c.flags & 2) <> 0 AND c.credits_pending + cp + c.credits_posted + cpo
                > c.debits_posted + c.balance_limit THEN
            o_result := 'exceeds_debits'; RETURN;
        END IF;
    END IF;

    o_status := CASE p_kind WHEN 'pending' THEN 'pending' WHEN 'void' THEN 'voided'
                ELSE 'posted' END;
    INSERT INTO ledger_transfers (id, kind, debit_account_id, credit_account_id, amount,
                                  currency, pending_id, status, code, reference, created_at)
    VALUES (p_id, p_kind, p_debit, p_credit, v_amount, p_currency, p_pending, o_status,
            p_code, p_reference, p_now);
    UPDATE ledger_accounts
       SET debits_pending = debits_pending + dp, debits_posted = debits_posted + dpo
     WHERE id = p_debit;
    UPDATE ledger_accounts
       SET credits_pending = credits_pending + cp, credits_posted = credits_posted + cpo
     WHERE id = p_credit;
    IF p_kind IN ('post', 'void') THEN
        UPDATE ledger_transfers SET status = o_status WHERE id = p_pending;
    END IF;
    o_result := 'ok'; o_debit := p_debit; o_credit := p_credit; o_amount := v_amount;
    o_currency := p_currency; o_created_at := p_now;
END
$$;
"""


def upgrade() -> None:
    op.create_table(
        "ledger_accounts",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("code", sa.String(length=160), nullable=False),
        sa.Column("type", sa.String(length=10), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("flags", sa.Integer(), nullable=False),
        sa.Column("balance_limit", core.db.types.DecimalAmount(), nullable=False),
        sa.Column("debits_pending", core.db.types.DecimalAmount(), nullable=False),
        sa.Column("debits_posted", core.db.types.DecimalAmount(), nullable=False),
        sa.Column("credits_pending", core.db.types.DecimalAmount(), nullable=False),
        sa.Column("credits_posted", core.db.types.DecimalAmount(), nullable=False),
        sa.Column("created_at", core.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ledger_accounts")),
        sa.UniqueConstraint("code", name=op.f("uq_ledger_accounts_code")),
    )
    op.create_table(
        "ledger_transfers",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("debit_account_id", sa.Uuid(), nullable=False),
        sa.Column("credit_account_id", sa.Uuid(), nullable=False),
        sa.Column("amount", core.db.types.DecimalAmount(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("pending_id", sa.Uuid(), nullable=True),
        sa.Column("status", sa.String(length=8), nullable=False),
        sa.Column("code", sa.String(length=40), nullable=False),
        sa.Column("reference", sa.String(length=160), nullable=False),
        sa.Column("created_at", core.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["debit_account_id"],
            ["ledger_accounts.id"],
            name=op.f("fk_ledger_transfers_debit_account_id_ledger_accounts"),
        ),
        sa.ForeignKeyConstraint(
            ["credit_account_id"],
            ["ledger_accounts.id"],
            name=op.f("fk_ledger_transfers_credit_account_id_ledger_accounts"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ledger_transfers")),
        sa.UniqueConstraint("pending_id", name=op.f("uq_ledger_transfers_pending_id")),
    )
    for column in ("debit_account_id", "credit_account_id", "created_at"):
        op.create_index(
            op.f(f"ix_ledger_transfers_{column}"), "ledger_transfers", [column], unique=False
        )
    op.create_index(
        "ix_ledger_transfers_reference", "ledger_transfers", ["reference"], unique=False
    )
    op.create_table(
        "invoice_counters",
        sa.Column("prefix", sa.String(length=12), nullable=False),
        sa.Column("last_number", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("prefix", name=op.f("pk_invoice_counters")),
    )
    op.create_table(
        "invoices",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("number", sa.String(length=24), nullable=False),
        sa.Column("region", sa.String(length=20), nullable=False),
        sa.Column("customer", sa.String(length=16), nullable=False),
        sa.Column("order_reference", sa.String(length=12), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("subtotal", core.db.types.DecimalAmount(), nullable=False),
        sa.Column("discount", core.db.types.DecimalAmount(), nullable=False),
        sa.Column("tax", core.db.types.DecimalAmount(), nullable=False),
        sa.Column("total", core.db.types.DecimalAmount(), nullable=False),
        sa.Column("payment_method", sa.String(length=20), nullable=False),
        sa.Column("lines", sa.JSON(), nullable=False),
        sa.Column("vat", sa.JSON(), nullable=False),
        sa.Column("issued_at", core.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("due_on", sa.Date(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_invoices")),
        sa.UniqueConstraint("number", name=op.f("uq_invoices_number")),
        sa.UniqueConstraint("order_reference", name=op.f("uq_invoices_order_reference")),
    )
    op.create_index(op.f("ix_invoices_customer"), "invoices", ["customer"], unique=False)
    op.create_table(
        "credit_accounts",
        sa.Column("customer", sa.String(length=16), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("credit_limit", core.db.types.DecimalAmount(), nullable=False),
        sa.Column("term_days", sa.Integer(), nullable=False),
        sa.Column("reason", sa.String(length=200), nullable=False),
        sa.Column("decided_at", core.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("customer", name=op.f("pk_credit_accounts")),
    )
    op.create_table(
        "credit_orders",
        sa.Column("order_reference", sa.String(length=12), nullable=False),
        sa.Column("customer", sa.String(length=16), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("amount", core.db.types.DecimalAmount(), nullable=False),
        sa.Column("outstanding", core.db.types.DecimalAmount(), nullable=False),
        sa.Column("due_on", sa.Date(), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("late_fee_charged", sa.Boolean(), nullable=False),
        sa.Column("reminded_due_soon", sa.Boolean(), nullable=False),
        sa.Column("reminded_overdue", sa.Boolean(), nullable=False),
        sa.Column("repaid_on", sa.Date(), nullable=True),
        sa.Column("created_at", core.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("order_reference", name=op.f("pk_credit_orders")),
    )
    op.create_index(op.f("ix_credit_orders_customer"), "credit_orders", ["customer"], unique=False)
    op.create_table(
        "credit_repayments",
        sa.Column("transfer_id", sa.Uuid(), nullable=False),
        sa.Column("customer", sa.String(length=16), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("amount", core.db.types.DecimalAmount(), nullable=False),
        sa.Column("rail", sa.String(length=20), nullable=False),
        sa.Column("external_ref", sa.String(length=120), nullable=False),
        sa.Column("created_at", core.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("transfer_id", name=op.f("pk_credit_repayments")),
    )
    op.create_index(
        op.f("ix_credit_repayments_customer"), "credit_repayments", ["customer"], unique=False
    )
    op.create_table(
        "settlement_batches",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("distributor", sa.String(length=40), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("gross", core.db.types.DecimalAmount(), nullable=False),
        sa.Column("fees", core.db.types.DecimalAmount(), nullable=False),
        sa.Column("commission", core.db.types.DecimalAmount(), nullable=False),
        sa.Column("net", core.db.types.DecimalAmount(), nullable=False),
        sa.Column("payments", sa.Integer(), nullable=False),
        sa.Column("created_at", core.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_settlement_batches")),
        sa.UniqueConstraint("distributor", "day", name=op.f("uq_settlement_batches_distributor")),
    )
    op.create_table(
        "atc_retailers",
        sa.Column("retailer", sa.String(length=16), nullable=False),
        sa.Column("agent", sa.String(length=16), nullable=False),
        sa.Column("onboarded_at", core.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("retailer", name=op.f("pk_atc_retailers")),
    )
    op.create_index(op.f("ix_atc_retailers_agent"), "atc_retailers", ["agent"], unique=False)
    if op.get_bind().dialect.name == "postgresql":
        op.execute(_MATCHES)
        op.execute(_TRANSFER)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP FUNCTION IF EXISTS ledger_transfer")
        op.execute("DROP FUNCTION IF EXISTS ledger_transfer_matches")
    op.drop_table("atc_retailers")
    op.drop_table("settlement_batches")
    op.drop_table("credit_repayments")
    op.drop_table("credit_orders")
    op.drop_table("credit_accounts")
    op.drop_table("invoices")
    op.drop_table("invoice_counters")
    op.drop_table("ledger_transfers")
    op.drop_table("ledger_accounts")
