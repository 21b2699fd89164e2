"""Registry behaviour on SQLite and PostgreSQL: operations, idempotency, refusals, verification."""

from __future__ import annotations

import sqlite3

import pytest

from openets.errors import (
    DuplicateOperation,
    HoldingLimitExceeded,
    InputError,
    InsufficientHoldings,
    LedgerError,
    UnknownAccount,
)
from openets.registry import Registry
from openets.registry.ledger import make_move
from tests.registry.helpers import EFFECTIVE, populated


def move(op_id, kind, src, dst, inst, qty, when=EFFECTIVE):
    return make_move(op_id, kind, src, dst, inst, qty, when)


def test_transfer_moves_exactly_and_conserves(db_url):
    with populated(db_url) as reg:
        reg.apply(move("t1", "transfer", "ACME-GEN", "BETA-GEN", "CA:allowance:2015", 250))
        held = {(r.account_id, r.instrument_key): r.quantity for r in reg.balances()}
        assert held[("ACME-GEN", "CA:allowance:2015")] == 999_750
        assert held[("BETA-GEN", "CA:allowance:2015")] == 250
        assert held[("CA-ISSUANCE", "CA:allowance:2015")] == -1_000_000
        report = reg.verify()
        assert report.ok, report.problems
        assert report.issued == report.held + report.retired + report.cancelled == 1_000_000


def test_same_id_same_content_is_applied_once(db_url):
    with populated(db_url) as reg:
        op = move("t1", "transfer", "ACME-GEN", "BETA-GEN", "CA:allowance:2015", 10)
        first = reg.apply(op)
        again = reg.apply(op)
        assert (first.status, again.status) == ("applied", "exists")
        assert first.seq == again.seq and first.entry_hash == again.entry_hash
        assert [r.quantity for r in reg.balances(account_id="BETA-GEN")] == [10]


def test_same_id_other_content_is_refused(db_url):
    with populated(db_url) as reg:
        reg.apply(move("t1", "transfer", "ACME-GEN", "BETA-GEN", "CA:allowance:2015", 10))
        with pytest.raises(DuplicateOperation, match="'t1' was already used for other content"):
            reg.apply(move("t1", "transfer", "ACME-GEN", "BETA-GEN", "CA:allowance:2015", 11))


def test_overdraft_is_refused_and_names_the_holding(db_url):
    with populated(db_url) as reg:
        with pytest.raises(InsufficientHoldings, match="'BETA-GEN' holds 0 of CA:allowance:2015"):
            reg.apply(move("t1", "transfer", "BETA-GEN", "ACME-GEN", "CA:allowance:2015", 1))


def test_batch_is_all_or_nothing(db_url):
    with populated(db_url) as reg:
        before = reg.dump()
        ops = [
            move("b1", "transfer", "ACME-GEN", "BETA-GEN", "CA:allowance:2015", 100),
            move("b2", "transfer", "BETA-GEN", "BETA-CMP", "CA:allowance:2015", 100),
            move("b3", "transfer", "BETA-CMP", "ACME-GEN", "CA:allowance:2015", 101),  # one too many
        ]
        with pytest.raises(InsufficientHoldings, match="'b3'"):
            reg.apply_batch(ops)
        assert reg.dump() == before
        receipts = reg.apply_batch(ops[:2])  # spends within the batch what the batch received
        assert [r.status for r in receipts] == ["applied", "applied"]
        assert reg.verify().ok


def test_surrender_retire_cancel_reach_terminal_accounts(db_url):
    with populated(db_url) as reg:
        reg.apply(move("c1", "transfer", "ACME-GEN", "ACME-CMP", "CA:allowance:2015", 500))
        reg.apply(move("s1", "surrender", "ACME-CMP", "CA-RETIREMENT", "CA:allowance:2015", 300))
        reg.apply(move("r1", "retire", "ACME-GEN", "CA-RETIREMENT", "CA:allowance:2015", 20))
        reg.apply(move("x1", "cancel", "ACME-GEN", "CA-CANCELLATION", "CA:allowance:2015", 7))
        report = reg.verify()
        assert report.ok
        assert (report.issued, report.retired, report.cancelled) == (1_000_000, 320, 7)
        assert report.held == 1_000_000 - 327
        with pytest.raises(LedgerError, match="cannot debit 'CA-RETIREMENT'"):
            reg.apply(move("back", "transfer", "CA-RETIREMENT", "ACME-GEN", "CA:allowance:2015", 1))
        with pytest.raises(LedgerError, match="a surrender cannot debit 'ACME-GEN'"):
            reg.apply(move("s2", "surrender", "ACME-GEN", "CA-RETIREMENT", "CA:allowance:2015", 1))


def test_holding_limit_counts_current_vintages_of_one_owner(db_url):
    # 2015 linked WCI budget: CA 394,500,000 + QC 65,300,000 = 459,800,000 (17 CCR §95841 Table 6-1;
    # QC OIC 1185-2012); limit = 0.1 x 25 M + 0.025 x (459.8 M - 25 M) = 13,370,000 (§95920(c)).
    with populated(db_url, supply=20_000_000) as reg:
        limit = reg.program.holding_limit(2015)
        assert limit == 13_370_000
        reg.apply(move("h1", "transfer", "CA-AUCTION", "BETA-GEN", "CA:allowance:2015", limit - 5))
        with pytest.raises(HoldingLimitExceeded, match="at most 5 more"):
            reg.apply(move("h2", "transfer", "CA-AUCTION", "BETA-CMP", "CA:allowance:2015", 6))
        reg.apply(move("h3", "transfer", "BETA-GEN", "BETA-CMP", "CA:allowance:2015", 1_000))  # same owner
        reg.apply(move("h4", "transfer", "ACME-GEN", "BETA-CMP", "CA:allowance:2015", 5))
        with pytest.raises(HoldingLimitExceeded):  # the same limit binds inside an atomic batch
            reg.apply_batch(
                [
                    move("h5", "transfer", "BETA-CMP", "ACME-GEN", "CA:allowance:2015", 1),
                    move("h6", "transfer", "CA-AUCTION", "BETA-GEN", "CA:allowance:2015", 2),
                ]
            )
        assert reg.verify().ok


def test_unknown_account_and_foreign_instrument_are_refused(db_url):
    with populated(db_url) as reg:
        with pytest.raises(UnknownAccount, match="'NOPE' does not exist"):
            reg.apply(move("u1", "transfer", "ACME-GEN", "NOPE", "CA:allowance:2015", 1))
        with pytest.raises(InputError, match="not part of program 'wci'"):
            reg.apply(move("u2", "transfer", "ACME-GEN", "BETA-GEN", "XX:allowance:2015", 1))
        with pytest.raises(InputError, match="no vintage 2012 allowances"):
            reg.apply(move("u3", "issue", "CA-ISSUANCE", "ACME-GEN", "CA:allowance:2012", 1))
        with pytest.raises(InputError, match="never been issued"):
            reg.apply(move("u4", "transfer", "ACME-GEN", "BETA-GEN", "CA:allowance:2016", 1))


def test_reopen_keeps_everything(db_url):
    with populated(db_url) as reg:
        reg.apply(move("t1", "transfer", "ACME-GEN", "BETA-GEN", "CA:allowance:2015", 10))
        before = reg.dump()
    with Registry.open(db_url) as again:
        assert again.dump() == before
        assert again.apply(move("t1", "transfer", "ACME-GEN", "BETA-GEN", "CA:allowance:2015", 10)).status == "exists"


def test_verify_detects_a_tampered_balance(sqlite_url):
    with populated(sqlite_url) as reg:
        reg.apply(move("t1", "transfer", "ACME-GEN", "BETA-GEN", "CA:allowance:2015", 10))
    conn = sqlite3.connect(sqlite_url)
    conn.execute("UPDATE balances SET quantity = quantity + 1 WHERE account_id = 'BETA-GEN'")
    conn.commit()
    conn.close()
    with Registry.open(sqlite_url) as reg:
        report = reg.verify()
    assert not report.ok
    assert any("BETA-GEN" in p and "stored 11, journal gives 10" in p for p in report.problems)


def test_journal_is_append_only(db_url):
    import sqlalchemy as sa

    with populated(db_url) as reg:
        with pytest.raises(sa.exc.DBAPIError, match="append-only"):
            with reg.engine.begin() as conn:
                conn.execute(sa.text("UPDATE journal SET content = 'x' WHERE seq = 1"))
        with pytest.raises(sa.exc.DBAPIError, match="append-only"):
            with reg.engine.begin() as conn:
                conn.execute(sa.text("DELETE FROM journal"))
        assert reg.verify().ok


def test_verify_detects_a_broken_chain(sqlite_url):
    with populated(sqlite_url) as reg:
        reg.apply(move("t1", "transfer", "ACME-GEN", "BETA-GEN", "CA:allowance:2015", 10))
    conn = sqlite3.connect(sqlite_url)
    conn.execute("DROP TRIGGER journal_no_update")
    conn.execute("UPDATE journal SET recorded_at = '2000-01-01T00:00:00.000000+00:00' WHERE op_id = 'seed-issue'")
    conn.commit()
    conn.close()
    with Registry.open(sqlite_url) as reg:
        report = reg.verify()
    assert any("seed-issue" in p and "entry hash does not match" in p for p in report.problems)


def test_init_is_idempotent_and_refuses_another_program(db_url):
    Registry.create(db_url, "wci").close()
    with Registry.create(db_url, "wci") as reg:
        assert len(reg.accounts()) == 6 * len(reg.program.jurisdictions)
    with pytest.raises(LedgerError, match="already holds program 'wci'"):
        Registry.create(db_url, "rggi")


def test_migrations_go_down_and_up_and_open_refuses_an_old_schema(db_url):
    from openets.registry.store import make_engine, migrate, resolve_url

    with populated(db_url) as reg:
        before = reg.dump()
    engine = make_engine(resolve_url(db_url))
    try:
        migrate(engine, "0001", downgrade=True)
        with pytest.raises(LedgerError, match="schema revision 0001, this openets uses 0002; upgrade it with"):
            Registry.open(db_url)
        with Registry.create(db_url, "wci") as reg:  # init upgrades in place and keeps everything
            assert reg.dump() == before
            assert reg.apply(move("after-upgrade", "transfer", "ACME-GEN", "BETA-GEN", "CA:allowance:2015", 1)).status == "applied"
            assert reg.verify().ok
        migrate(engine, "base", downgrade=True)
        with pytest.raises(LedgerError, match="is not an openets registry"):
            Registry.open(db_url)
    finally:
        engine.dispose()
    with Registry.create(db_url, "wci") as reg:  # an empty schema again, with the standard accounts
        assert reg.verify().ok
        assert len(reg.dump()["journal"]) == 6 * len(reg.program.jurisdictions)


def test_instruments_and_dates_that_could_not_be_read_back_are_refused(sqlite_url):
    # Found in review: such operations were once committed and then broke verify for good.
    from datetime import datetime

    from openets.registry.ledger import InstrumentRef, Move, OpKind
    from openets.rules.kinds import InstrumentKind

    with populated(sqlite_url) as reg:
        before = reg.dump()
        bad = [
            (InstrumentRef("CA", InstrumentKind.OFFSET_CREDIT, 2016, "A:B"), "contains ':'"),
            (InstrumentRef("CA", InstrumentKind.OFFSET_CREDIT, 20160), "not a four-digit year"),
            (InstrumentRef("CA", InstrumentKind.ALLOWANCE, 2015, "FAKE"), "only offset credits carry a series"),
        ]
        for k, (inst, words) in enumerate(bad):
            with pytest.raises(InputError, match=words):
                reg.apply(Move(f"b{k}", OpKind.ISSUE, "CA-ISSUANCE", "CA-AUCTION", inst, 1, EFFECTIVE))
        with pytest.raises(InputError, match="is not a date"):
            reg.apply(make_move("b9", "transfer", "ACME-GEN", "BETA-GEN", "CA:allowance:2015", 1, datetime(2015, 6, 1, 12)))
        assert reg.dump() == before and reg.verify().ok
