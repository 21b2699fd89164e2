"""Property tests: random operation sequences on SQLite and PostgreSQL behave exactly like the pure ledger.

Invariants checked after every sequence: no balance below zero outside issuance accounts, conservation per
instrument, idempotent replays, identical outcomes (applied / refused and why) to the reference `Ledger`,
and `verify` passes.
"""

from __future__ import annotations

import copy
import uuid

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from openets.errors import OpenETSError
from openets.registry import Registry
from openets.registry.ledger import Ledger, make_move
from openets.rules import load_program
from tests.registry.helpers import EFFECTIVE, ENTITY_ACCOUNTS

PROGRAM = load_program("wci")
ENTITY_IDS = [a[0] for a in ENTITY_ACCOUNTS]
JURISDICTION_IDS = ["CA-ISSUANCE", "CA-AUCTION", "QC-ISSUANCE", "QC-ALLOCATION", "CA-RETIREMENT", "CA-CANCELLATION"]
ACCOUNTS = ENTITY_IDS + JURISDICTION_IDS + ["CA-ALLOCATION", "NO-SUCH-ACCOUNT"]
INSTRUMENTS = ["CA:allowance:2015", "QC:allowance:2015", "CA:allowance:2016"] * 3 + ["CA:allowance:2012"]
HOLDERS = ENTITY_IDS + ["CA-AUCTION"]
#: For each kind, the accounts it is meant to debit and credit; the strategy strays from them now and then
#: so that refusals are exercised too.
SENSIBLE = {
    "issue": (["CA-ISSUANCE", "QC-ISSUANCE"], HOLDERS + ["CA-ALLOCATION", "QC-ALLOCATION"]),
    "transfer": (HOLDERS, HOLDERS),
    "allocate": (["CA-ALLOCATION", "QC-ALLOCATION"], ENTITY_IDS),
    "surrender": (["ACME-CMP", "BETA-CMP"], ["CA-RETIREMENT"]),
    "retire": (ENTITY_IDS, ["CA-RETIREMENT"]),
    "cancel": (ENTITY_IDS + ["CA-AUCTION"], ["CA-CANCELLATION"]),
}
KINDS = ["issue", "issue", "transfer", "transfer", "transfer", "allocate", "surrender", "retire", "cancel"]

quantities = st.one_of(st.integers(1, 5_000), st.integers(1, 5_000), st.sampled_from([0, -3, 14_000_000]))


@st.composite
def move_specs(draw):
    kind = draw(st.sampled_from(KINDS))
    debits, credits = SENSIBLE[kind]
    stray = draw(st.integers(0, 9)) == 0
    src = draw(st.sampled_from(ACCOUNTS if stray else debits))
    dst = draw(st.sampled_from(ACCOUNTS if stray else [c for c in credits if c != src]))
    inst = draw(st.sampled_from(INSTRUMENTS))
    if kind == "issue" and not stray:
        src = f"{inst.split(':')[0]}-ISSUANCE"
    return (kind, src, dst, inst, draw(quantities))


steps = st.lists(
    st.one_of(
        st.tuples(st.just("one"), move_specs()),
        st.tuples(st.just("batch"), st.lists(move_specs(), min_size=1, max_size=4)),
        st.tuples(st.just("replay"), st.integers(0, 1_000)),
        st.tuples(st.just("conflict"), st.integers(0, 1_000)),
    ),
    min_size=1,
    max_size=30,
)


def _outcome(fn):
    try:
        fn()
    except OpenETSError as exc:
        return type(exc).__name__
    return "ok"


def _model_batch(model: Ledger, ops) -> tuple[Ledger, str]:
    trial = copy.deepcopy(model)
    for op in ops:
        result = _outcome(lambda op=op: trial.apply(op, PROGRAM, EFFECTIVE.year))
        if result != "ok":
            return model, result
    return trial, "ok"


def run_sequence(url: str, sequence) -> None:
    reg = Registry.create(url, "wci")
    model = Ledger()
    try:
        for op in reg.operations():  # the standard jurisdiction accounts
            model.apply(op, PROGRAM, EFFECTIVE.year)
        for account_id, owner, kind, jurisdiction in ENTITY_ACCOUNTS:
            reg.open_account(account_id, owner, kind, jurisdiction)
        for op in reg.operations()[len(model.op_hashes) :]:
            model.apply(op, PROGRAM, EFFECTIVE.year)
        stock = [  # every instrument exists and every holder has some before the random part starts
            ("issue", "CA-ISSUANCE", "CA-AUCTION", "CA:allowance:2015", 400_000),
            ("issue", "QC-ISSUANCE", "QC-ALLOCATION", "QC:allowance:2015", 100_000),
            ("issue", "CA-ISSUANCE", "CA-ALLOCATION", "CA:allowance:2016", 100_000),
            ("transfer", "CA-AUCTION", "ACME-GEN", "CA:allowance:2015", 50_000),
            ("transfer", "CA-AUCTION", "BETA-CMP", "CA:allowance:2015", 50_000),
            ("allocate", "QC-ALLOCATION", "BETA-GEN", "QC:allowance:2015", 20_000),
            ("allocate", "CA-ALLOCATION", "ACME-CMP", "CA:allowance:2016", 20_000),
        ]
        setup = [make_move(f"stock-{i}", *s, effective_date=EFFECTIVE) for i, s in enumerate(stock)]
        reg.apply_batch(setup)
        for op in setup:
            model.apply(op, PROGRAM, EFFECTIVE.year)
        applied = []
        for n, (what, spec) in enumerate(sequence):
            if what in ("one", "batch"):
                specs = [spec] if what == "one" else spec
                ops = [make_move(f"op{n}-{i}", *s, effective_date=EFFECTIVE) for i, s in enumerate(specs)]
            elif not applied:
                continue
            else:
                old = applied[spec % len(applied)]
                if what == "replay":
                    ops = [old]
                else:  # the same id with one more instrument
                    ops = [make_move(old.op_id, old.kind, old.from_account, old.to_account, old.instrument, old.quantity + 1, EFFECTIVE)]
            model, expected = _model_batch(model, ops)
            got = _outcome(lambda ops=ops: reg.apply_batch(ops))
            assert got == expected, f"step {n} {ops}: registry {got}, model {expected}"
            if got == "ok":
                applied.extend(ops)
        stored = {(r.account_id, r.instrument_key): r.quantity for r in reg.balances()}
        assert stored == model.nonzero_balances()
        for (account_id, _), qty in stored.items():
            assert qty >= 0 or account_id.endswith("-ISSUANCE")
        totals: dict[str, int] = {}
        for (_, key), qty in stored.items():
            totals[key] = totals.get(key, 0) + qty
        assert all(t == 0 for t in totals.values()), totals
        report = reg.verify()
        assert report.ok, report.problems
    finally:
        reg.close()


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(sequence=steps)
def test_random_sequences_match_the_model_and_conserve_supply_sqlite(tmp_path, sequence):
    run_sequence(str(tmp_path / f"{uuid.uuid4().hex}.db"), sequence)


@pytest.mark.postgres
@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(sequence=steps)
def test_random_sequences_match_the_model_and_conserve_supply_postgres(pg_url, sequence):
    import psycopg

    base, options = pg_url.split("?options=-csearch_path%3D")
    schema = f"{options}_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(base, autocommit=True) as conn:
        conn.execute(f"CREATE SCHEMA {schema}")
        try:
            run_sequence(f"{base}?options=-csearch_path%3D{schema}", sequence)
        finally:
            conn.execute(f"DROP SCHEMA {schema} CASCADE")
