"""Surrender against the registry, on SQLite and PostgreSQL: the plan of `obligations.plan_surrender`, one batch.

Rules: 17 CCR §95854 (offset limit 8% to 2020), §95856 (vintages up to the obligation year), §95857 (4x penalty).
"""

from __future__ import annotations

from datetime import date

import pytest

from openets.compliance.obligations import obligations
from openets.compliance.surrender import surrender
from openets.errors import DuplicateOperation, InputError
from openets.registry import Registry
from openets.registry.ledger import make_move

WHEN = date(2018, 11, 1)


def _registry(url: str) -> Registry:
    reg = Registry.create(url, "wci")
    reg.open_account("ACME-C", "acme", "compliance", "CA")
    reg.open_account("ACME-G", "acme", "general_holding", "CA")
    issued = date(2016, 1, 1)
    reg.apply_batch([
        make_move("i1", "issue", "CA-ISSUANCE", "ACME-C", "CA:allowance:2015", 500_000, issued),
        make_move("i2", "issue", "QC-ISSUANCE", "ACME-C", "QC:allowance:2015", 300_000, issued),
        make_move("i3", "issue", "CA-ISSUANCE", "ACME-C", "CA:allowance:2018", 400_000, issued),
        make_move("i4", "issue", "CA-ISSUANCE", "ACME-C", "CA:offset_credit:2014:CAFR5001", 300_000, issued),
    ])
    return reg


def test_a_period_obligation_is_surrendered_offsets_first_within_the_limit(db_url):
    # CP2 (2015-2017), 1,000,000 t a year: annual 300,000 (2016) and 300,000 (2017) were due earlier; this is the
    # period obligation of 2,400,000 (§95856). Offsets at most 8% of the period's emissions: 8% x 2,400,000 =
    # 192,000 of this obligation. Then allowances of vintages <= 2017, oldest first, CA before QC: 500,000 CA
    # and 300,000 QC of 2015. Vintage 2018 is not eligible. Shortfall 2,400,000 - 192,000 - 800,000 = 1,408,000.
    with _registry(db_url) as reg:
        period = obligations(reg.program, {2015: 1_000_000, 2016: 1_000_000, 2017: 1_000_000}, jurisdiction="CA")[-1]
        assert period.kind == "period" and period.quantity == 2_400_000
        result = surrender(reg, "ACME-C", period, op_id="acme-cp2", when=WHEN)
        took = {(m.instrument.key, m.quantity) for m in result.moves}
        assert took == {("CA:offset_credit:2014:CAFR5001", 192_000), ("CA:allowance:2015", 500_000),
                        ("QC:allowance:2015", 300_000)}
        assert result.shortfall == 1_408_000
        assert result.untimely is not None and result.untimely.quantity == 4 * 1_408_000  # §95857(b): 4x
        assert result.untimely.min_allowances == 3 * 1_408_000  # at least three quarters in allowances
        held = {r.instrument_key: r.quantity for r in reg.balances(account_id="ACME-C")}
        assert held == {"CA:allowance:2018": 400_000, "CA:offset_credit:2014:CAFR5001": 108_000}
        retired = {r.instrument_key: r.quantity for r in reg.balances(account_id="CA-RETIREMENT")}
        assert retired == {"CA:offset_credit:2014:CAFR5001": 192_000, "CA:allowance:2015": 500_000,
                           "QC:allowance:2015": 300_000}
        assert reg.verify().ok
        before = reg.dump()
        again = surrender(reg, "ACME-C", period, op_id="acme-cp2", when=WHEN)
        assert set(again.statuses) == {"exists"} and reg.dump() == before


def test_a_rerun_with_another_obligation_is_refused_and_bad_accounts_write_nothing(db_url):
    with _registry(db_url) as reg:
        owed = obligations(reg.program, {2015: 100_000, 2016: 100_000, 2017: 100_000}, jurisdiction="CA")
        surrender(reg, "ACME-C", owed[0], op_id="acme-2016", when=WHEN)
        before = reg.dump()
        with pytest.raises(DuplicateOperation, match="already ran with other moves"):
            surrender(reg, "ACME-C", owed[-1], op_id="acme-2016", when=WHEN)
        with pytest.raises(InputError, match="'ACME-G' is a general_holding account; surrender from the entity's compliance"):
            surrender(reg, "ACME-G", owed[-1], op_id="acme-x", when=WHEN)
        with pytest.raises(InputError, match="'NOPE' does not exist"):
            surrender(reg, "NOPE", owed[-1], op_id="acme-y", when=WHEN)
        with pytest.raises(InputError, match="contains ':'"):
            surrender(reg, "ACME-C", owed[-1], op_id="a:b", when=WHEN)
        assert reg.dump() == before


def test_a_retry_after_the_account_changed_is_acknowledged_not_replanned(db_url):
    with _registry(db_url) as reg:
        period = obligations(reg.program, {2015: 1_000_000, 2016: 1_000_000, 2017: 1_000_000}, jurisdiction="CA")[-1]
        first = surrender(reg, "ACME-C", period, op_id="acme-cp2", when=WHEN)
        reg.apply(make_move("i5", "issue", "CA-ISSUANCE", "ACME-C", "CA:allowance:2016", 100_000, WHEN))
        before = reg.dump()
        again = surrender(reg, "ACME-C", period, op_id="acme-cp2", when=WHEN)
        assert set(again.statuses) == {"exists"} and again.moves == first.moves and reg.dump() == before


def test_a_quebec_shortfall_without_a_penalty_rule_is_reported_and_the_surrender_still_lands(db_url):
    # quebec.toml has no [compliance.untimely_surrender] (s.22 not read): the shortfall is reported, no penalty.
    with _registry(db_url) as reg:
        reg.open_account("QCE-C", "qce", "compliance", "QC")
        reg.apply(make_move("q1", "issue", "QC-ISSUANCE", "QCE-C", "QC:allowance:2015", 500_000, WHEN))
        period = obligations(reg.program, {2015: 1_000_000, 2016: 1_000_000, 2017: 1_000_000}, jurisdiction="QC")[-1]
        result = surrender(reg, "QCE-C", period, op_id="qce-cp2", when=WHEN)
        assert result.shortfall == 3_000_000 - 500_000 and result.untimely is None
        assert {r.instrument_key: r.quantity for r in reg.balances(account_id="QC-RETIREMENT")} == {"QC:allowance:2015": 500_000}
