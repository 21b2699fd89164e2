"""PostgreSQL: openets_append(jsonb), the whole of a validated batch in one call and one round trip.

The registry validates a batch in Python (kinds, instruments, ids, quantities) and sends it here with the
conditions only the database can check under its lock: each floored balance must cover the batch's deepest
dip, and each holding-limit bucket must have room. The function takes the registry lock, appends to the hash
chain (same formula as openets.registry.ledger.entry_hash), writes accounts, instruments and balances, and
refuses with check_violation, after which the registry reruns the batch on its careful path to name the
operation at fault. SQLite needs no such function: its statements cost no round trips.

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

FUNCTION = r"""
CREATE FUNCTION openets_append(p jsonb)
RETURNS TABLE (o_first_seq bigint, o_prev_hash text, o_recorded_at text)
LANGUAGE plpgsql AS $$
DECLARE
    v_seq bigint;
    v_prev text;
    v_last text;
    v_at text;
    v_first bigint;
    v_prev0 text;
    v_hash text;
    v_held bigint;
    e record;
BEGIN
    PERFORM pg_advisory_xact_lock(hashtext('openets.registry:' || current_schema()));
    SELECT j.seq, j.entry_hash, j.recorded_at INTO v_seq, v_prev, v_last FROM journal j ORDER BY j.seq DESC LIMIT 1;
    IF NOT FOUND THEN
        v_seq := 0;
        v_prev := repeat('0', 64);
        v_last := '';
    END IF;
    v_at := GREATEST(p->>'now', v_last);
    v_first := v_seq;
    v_prev0 := v_prev;

    FOR e IN SELECT * FROM jsonb_to_recordset(p->'held')
            AS x(owner text, kinds text, jurisdictions text, vmax int, vexact int, threshold bigint) LOOP
        SELECT COALESCE(SUM(b.quantity), 0) INTO v_held
        FROM balances b
        JOIN accounts a ON a.account_id = b.account_id
        JOIN instruments i ON i.instrument_key = b.instrument_key
        WHERE a.owner = e.owner AND a.kind = ANY (string_to_array(e.kinds, ',')) AND i.kind = 'allowance'
          AND i.jurisdiction = ANY (string_to_array(e.jurisdictions, ','))
          AND (e.vexact IS NULL OR i.vintage = e.vexact) AND (e.vmax IS NULL OR i.vintage <= e.vmax);
        IF v_held > e.threshold THEN
            RAISE EXCEPTION 'openets: holding limit of owner % would be exceeded', e.owner
                USING ERRCODE = 'check_violation';
        END IF;
    END LOOP;

    INSERT INTO accounts (account_id, owner, kind, jurisdiction, opened_seq)
    SELECT x.account_id, x.owner, x.kind, x.jurisdiction, v_first + x.idx
    FROM jsonb_to_recordset(p->'accounts') AS x(account_id text, owner text, kind text, jurisdiction text, idx bigint);

    INSERT INTO instruments (instrument_key, jurisdiction, kind, vintage, series)
    SELECT x.instrument_key, x.jurisdiction, x.kind, x.vintage, x.series
    FROM jsonb_to_recordset(p->'instruments')
        AS x(instrument_key text, jurisdiction text, kind text, vintage int, series text)
    ON CONFLICT (instrument_key) DO NOTHING;

    FOR e IN SELECT x.* FROM ROWS FROM (
                jsonb_to_recordset(p->'ops') AS (op_id text, kind text, content text, digest text)
            ) WITH ORDINALITY AS x(op_id, kind, content, digest, n) ORDER BY x.n LOOP
        v_seq := v_seq + 1;
        v_hash := encode(sha256(convert_to(
            v_seq::text || '|' || e.op_id || '|' || e.digest || '|' || v_at || '|' || v_prev, 'UTF8')), 'hex');
        INSERT INTO journal (seq, op_id, kind, content, content_hash, recorded_at, prev_hash, entry_hash)
        VALUES (v_seq, e.op_id, e.kind, e.content, e.digest, v_at, v_prev, v_hash);
        v_prev := v_hash;
    END LOOP;

    FOR e IN SELECT * FROM jsonb_to_recordset(p->'debits')
            AS x(account_id text, instrument_key text, net bigint, dip bigint) LOOP
        UPDATE balances SET quantity = quantity + e.net
        WHERE account_id = e.account_id AND instrument_key = e.instrument_key AND quantity >= e.dip;
        IF NOT FOUND THEN
            RAISE EXCEPTION 'openets: balance of % in % is missing or below %', e.account_id, e.instrument_key, e.dip
                USING ERRCODE = 'check_violation';
        END IF;
    END LOOP;

    INSERT INTO balances (account_id, instrument_key, quantity, may_go_negative)
    SELECT x.account_id, x.instrument_key, x.net, x.neg
    FROM jsonb_to_recordset(p->'credits') AS x(account_id text, instrument_key text, net bigint, neg smallint)
    ON CONFLICT (account_id, instrument_key) DO UPDATE SET quantity = balances.quantity + excluded.quantity;

    RETURN QUERY SELECT v_first, v_prev0, v_at;
END
$$
"""


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(FUNCTION)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP FUNCTION IF EXISTS openets_append(jsonb)")
