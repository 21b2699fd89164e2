"""Durable registry: the ledger of `ledger.py` kept in SQLite (default) or PostgreSQL through SQLAlchemy 2.

How writes stay safe with several processes at once:

- every write transaction first takes the registry's write lock (SQLite: ``BEGIN IMMEDIATE``; PostgreSQL: a
  transaction-scoped advisory lock per schema), so appends to the hash chain, whose head is the last journal entry,
  are serialised and every read after the lock is fresh;
- the floor of every non-issuance balance is also a CHECK constraint and operation ids are UNIQUE, so the
  database itself refuses a double spend or a double application even if a code path forgot to check;
- journal, accounts and instruments are append-only (triggers refuse UPDATE and DELETE).

Writes take a fast path that does not read balances and lets the constraints catch a refusal; when one fires,
the transaction is rolled back and the batch is run again on the careful path, which reads what it needs and
names the operation and the rule that refuses it. Both paths write the same rows.
"""

from __future__ import annotations

import json
import os
import sqlite3
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event

from openets.errors import InputError, LedgerError, OpenETSError
from openets.registry.ledger import (
    GENESIS_HASH,
    Account,
    CachedRules,
    HoldingCheck,
    InstrumentRef,
    Ledger,
    Move,
    OpenAccount,
    Operation,
    OpKind,
    canonical_json,
    check_move,
    check_open_account,
    content_hash,
    duplicate,
    enforce_holding_limit,
    entry_hash,
    holding_check,
    insufficient,
    never_issued,
    make_move,
    op_content,
    operation_from_content,
)
from openets.rules import Program, load_program
from openets.rules.kinds import AccountKind, InstrumentKind

DEFAULT_DB = "openets.db"
#: Put a limit on everything: one atomic batch holds at most this many operations.
BATCH_MAX = 10_000
SCHEMA_REVISION = "0002"
#: The registry's PostgreSQL write lock (the same expression as in migration 0002's openets_append).
PG_LOCK_KEY = "hashtext('openets.registry:' || current_schema())"


def resolve_url(db: str | None = None) -> str:
    """`--db` value, else $OPENETS_DB, else ./openets.db; a plain path means a SQLite file."""
    raw = db or os.environ.get("OPENETS_DB") or DEFAULT_DB
    if "://" not in raw:
        return f"sqlite:///{Path(raw).expanduser().resolve()}"
    if raw.startswith("postgresql://") or raw.startswith("postgres://"):
        return "postgresql+psycopg://" + raw.split("://", 1)[1]
    return raw


def _is_sqlite(url: str) -> bool:
    return url.startswith("sqlite")


def make_engine(url: str) -> sa.Engine:
    """An engine whose connections are set up for durable, serialisable writes."""
    if _is_sqlite(url):
        engine = sa.create_engine(url, poolclass=sa.pool.NullPool)

        @event.listens_for(engine, "connect")
        def _sqlite_setup(dbapi_conn: Any, _record: Any) -> None:
            # We issue BEGIN IMMEDIATE ourselves: the write lock is taken before anything is read.
            dbapi_conn.isolation_level = None
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=FULL")  # durable: the WAL is synced at every commit
            cur.execute("PRAGMA busy_timeout=120000")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.close()

        return engine
    return sa.create_engine(url, poolclass=sa.pool.NullPool)


def migrate(engine: sa.Engine, target: str = "head", downgrade: bool = False) -> None:
    """Bring the schema to an Alembic revision (the newest by default) in one transaction."""
    from alembic import command
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(Path(__file__).parent / "migrations"))
    with engine.connect() as conn:
        if _is_sqlite(str(engine.url)):
            conn.exec_driver_sql("BEGIN IMMEDIATE")
        cfg.attributes["connection"] = conn
        (command.downgrade if downgrade else command.upgrade)(cfg, target)
        conn.commit()


def schema_revision(conn: sa.Connection) -> str | None:
    """The Alembic revision of a registry database, or None if it has none."""
    try:
        return conn.execute(sa.text("SELECT version_num FROM alembic_version")).scalar_one_or_none()
    except (sa.exc.OperationalError, sa.exc.ProgrammingError):
        conn.rollback()
        return None


@dataclass(frozen=True, slots=True)
class Receipt:
    """The registry's answer to one operation: applied now, or already applied earlier (a replay)."""

    op_id: str
    seq: int
    status: str  # "applied" | "exists"
    entry_hash: str


@dataclass(frozen=True, slots=True)
class BalanceRow:
    account_id: str
    owner: str
    account_kind: str
    jurisdiction: str
    instrument_key: str
    instrument_kind: str
    vintage: int | None
    quantity: int


@dataclass(frozen=True, slots=True)
class JournalEntry:
    seq: int
    op_id: str
    kind: str
    content: dict[str, Any]
    recorded_at: str
    entry_hash: str


@dataclass
class VerifyReport:
    """What `verify` recomputed from the journal, and every discrepancy it found."""

    entries: int = 0
    accounts: int = 0
    instruments: int = 0
    issued: int = 0
    held: int = 0
    retired: int = 0
    cancelled: int = 0
    head_hash: str = GENESIS_HASH
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    def as_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "entries": self.entries,
            "accounts": self.accounts,
            "instruments": self.instruments,
            "issued": self.issued,
            "held": self.held,
            "retired": self.retired,
            "cancelled": self.cancelled,
            "head_hash": self.head_hash,
            "problems": self.problems,
        }


@dataclass(frozen=True, slots=True)
class _Prepared:
    op: Operation
    content_json: str
    digest: str


class _Refused(Exception):
    """Internal: the fast path hit a constraint; rerun carefully to name the cause."""


def standard_accounts(program: Program) -> list[OpenAccount]:
    """The accounts every jurisdiction of a program starts with (CITSS/COATS jurisdiction accounts)."""
    kinds = [
        (AccountKind.ISSUANCE, "ISSUANCE"),
        (AccountKind.ALLOCATION_HOLDING, "ALLOCATION"),
        (AccountKind.AUCTION_HOLDING, "AUCTION"),
        (AccountKind.RESERVE, "RESERVE"),
        (AccountKind.RETIREMENT, "RETIREMENT"),
        (AccountKind.CANCELLATION, "CANCELLATION"),
    ]
    ops = []
    for j in program.jurisdictions:
        for kind, suffix in kinds:
            account_id = f"{j}-{suffix}"
            ops.append(OpenAccount(f"open:{account_id}", Account(account_id, f"jurisdiction:{j}", kind, j)))
    return ops


class Registry:
    """A registry database for one program. Use `Registry.create` once, then `Registry.open`."""

    def __init__(self, url: str, engine: sa.Engine, program: Program) -> None:
        self.url = url
        self.engine = engine
        self.program = program
        self.rules = CachedRules(program)
        self.sqlite = _is_sqlite(url)
        self._accounts: dict[str, Account] = {}
        self._instruments: set[str] = set()
        self._raw: Any = None  # DBAPI connection for the write path, opened lazily
        self._held_sql: dict[tuple[Any, ...], tuple[str, tuple[str, ...]]] = {}

    # ---- lifecycle -------------------------------------------------------------------------------
    @classmethod
    def create(cls, db: str | None, program_id: str) -> Registry:
        """Create (or confirm) a registry for `program_id`, with its standard jurisdiction accounts."""
        url = resolve_url(db)
        program = load_program(program_id)
        engine = make_engine(url)
        _check_reachable(engine, url)
        migrate(engine)
        with engine.connect() as conn:
            if _is_sqlite(url):
                conn.exec_driver_sql("BEGIN IMMEDIATE")
            row = conn.execute(sa.text("SELECT value FROM meta WHERE key = 'program'")).first()
            if row is not None and row[0] != program.id:
                conn.rollback()
                msg = (
                    f"registry {_display(url)} already holds program {row[0]!r}, not {program.id!r}; "
                    "use another --db for another program"
                )
                raise LedgerError(msg)
            if row is None:
                conn.execute(sa.text("INSERT INTO meta (key, value) VALUES ('program', :p)"), {"p": program.id})
            conn.commit()
        registry = cls(url, engine, program)
        registry.apply_batch(standard_accounts(program))
        return registry

    @classmethod
    def open(cls, db: str | None = None) -> Registry:
        url = resolve_url(db)
        path = sa.engine.make_url(url).database if _is_sqlite(url) else None
        if path and path != ":memory:" and not Path(path).exists():  # do not leave an empty file behind
            msg = f"there is no registry at {path}; create it with 'openets registry init --program PROGRAM --db {path}'"
            raise LedgerError(msg)
        engine = make_engine(url)
        _check_reachable(engine, url)
        with engine.connect() as conn:
            revision = schema_revision(conn)
            row = None
            if revision is not None:
                row = conn.execute(sa.text("SELECT value FROM meta WHERE key = 'program'")).first()
        if row is None:
            engine.dispose()
            msg = (
                f"{_display(url)} is not an openets registry (no schema or no program); "
                "create it with 'openets registry init --program PROGRAM --db ...'"
            )
            raise LedgerError(msg)
        if revision != SCHEMA_REVISION:
            engine.dispose()
            msg = (
                f"{_display(url)} has registry schema revision {revision}, this openets uses {SCHEMA_REVISION}; "
                f"upgrade it with 'openets registry init --program {row[0]} --db ...' (it migrates in place)"
            )
            raise LedgerError(msg)
        return cls(url, engine, load_program(row[0]))

    def close(self) -> None:
        if self._raw is not None:
            self._raw.close()
            self._raw = None
        self.engine.dispose()

    def __enter__(self) -> Registry:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ---- convenience constructors of operations --------------------------------------------------
    def open_account(
        self, account_id: str, owner: str, kind: AccountKind | str, jurisdiction: str, op_id: str | None = None
    ) -> Receipt:
        try:
            account_kind = AccountKind(kind)
        except ValueError:
            valid = ", ".join(k.value for k in AccountKind)
            msg = f"account kind {kind!r} is unknown; valid kinds: {valid}"
            raise InputError(msg) from None
        op = OpenAccount(op_id or f"open:{account_id}", Account(account_id, owner, account_kind, jurisdiction))
        return self.apply(op)

    def move(
        self,
        op_id: str,
        kind: OpKind | str,
        from_account: str,
        to_account: str,
        instrument: InstrumentRef | str,
        quantity: int,
        effective_date: date | None = None,
        memo: str | None = None,
    ) -> Receipt:
        return self.apply(make_move(op_id, kind, from_account, to_account, instrument, quantity, effective_date, memo))

    def transfer(self, op_id: str, from_account: str, to_account: str, instrument: str, quantity: int) -> Receipt:
        return self.move(op_id, OpKind.TRANSFER, from_account, to_account, instrument, quantity)

    def issuance_account(self, jurisdiction: str) -> str:
        """The issuance account of a jurisdiction (exactly one is expected)."""
        with self.engine.connect() as conn:
            rows = conn.execute(
                sa.text("SELECT account_id FROM accounts WHERE kind = 'issuance' AND jurisdiction = :j"),
                {"j": jurisdiction},
            ).all()
        if len(rows) != 1:
            valid = ", ".join(self.program.jurisdictions)
            msg = (
                f"jurisdiction {jurisdiction!r} has {len(rows)} issuance accounts in this registry, expected 1 "
                f"(program {self.program.id!r} jurisdictions: {valid})"
            )
            raise InputError(msg)
        return str(rows[0][0])

    # ---- writes -----------------------------------------------------------------------------------
    def apply(self, op: Operation) -> Receipt:
        """Apply one operation in its own durable transaction."""
        return self.apply_batch([op])[0]

    def apply_batch(self, ops: Sequence[Operation]) -> list[Receipt]:
        """Apply operations atomically and in order: all are applied or, if one is refused, none is.

        Operations already applied with the same content are acknowledged (status "exists") and skipped.
        """
        if not ops:
            return []
        if len(ops) > BATCH_MAX:
            msg = f"a batch holds at most {BATCH_MAX:,} operations; split these {len(ops):,} into smaller batches"
            raise InputError(msg)
        prepared: list[_Prepared] = []
        seen: dict[str, str] = {}
        for op in ops:
            text = canonical_json(op_content(op))
            digest = content_hash(text)
            if seen.setdefault(op.op_id, digest) != digest:
                msg = f"operation id {op.op_id!r} appears twice in one batch with different content; ids must be unique"
                raise InputError(msg)
            prepared.append(_Prepared(op, text, digest))
        self._load_accounts({a for op in ops if isinstance(op, Move) for a in (op.from_account, op.to_account)})
        fast = all(
            not isinstance(op, Move) or (op.from_account in self._accounts and op.to_account in self._accounts)
            for op in ops
        )
        if fast:
            try:
                return self._run(prepared, careful=False)
            except _Refused:
                pass  # a constraint fired: run again, reading what is needed to say which rule refuses what
        return self._run(prepared, careful=True)

    def _connection(self) -> Any:
        if self._raw is None:
            raw = self.engine.raw_connection()
            if not self.sqlite:
                # Transactions are spelled out (BEGIN ... COMMIT) so that each phase is one message.
                raw.driver_connection.autocommit = True
            self._raw = raw
        return self._raw

    def _drop_connection(self) -> None:
        raw, self._raw = self._raw, None
        if raw is not None:
            try:
                raw.invalidate()
            except Exception:  # noqa: BLE001 - already broken; nothing more to release
                pass

    def _sql(self, text: str) -> str:
        return text if self.sqlite else text.replace("?", "%s")

    def _run(self, prepared: list[_Prepared], careful: bool) -> list[Receipt]:
        raw = self._connection()
        if self.sqlite:
            cur = raw.driver_connection.cursor()
        else:
            import psycopg

            # Client-side binding lets one message carry several statements: a write is two round trips.
            cur = psycopg.ClientCursor(raw.driver_connection)
        try:
            receipts, caches = self._write(cur, prepared, careful)
        except BaseException as exc:
            self._rollback(raw)
            if not careful and isinstance(exc, OpenETSError):
                # The careful path checks in the documented order (a known id before anything else).
                raise _Refused from exc
            if isinstance(exc, _refusals()):
                if careful:
                    msg = f"the database refused the batch ({exc}); nothing was applied"
                    raise LedgerError(msg) from exc
                raise _Refused from exc
            raise
        finally:
            cur.close()
        # Caches learn only what was committed.
        accounts, instruments = caches
        self._accounts.update(accounts)
        self._instruments.update(instruments)
        return receipts

    def _rollback(self, raw: Any) -> None:
        try:
            driver = raw.driver_connection
            if self.sqlite:
                if driver.in_transaction:
                    driver.execute("ROLLBACK")
            elif driver.info.transaction_status != 0:  # not idle: in, or failed inside, our transaction
                driver.execute("ROLLBACK")
        except Exception:  # noqa: BLE001 - a broken connection is dropped; the transaction died with it
            self._drop_connection()

    def _begin(self, cur: Any, held: list[tuple[str, tuple[Any, ...]]]) -> tuple[tuple[Any, ...] | None, list[int]]:
        """Start the write transaction under the registry lock; return the chain head and the held sums."""
        head_sql = "SELECT seq, entry_hash, recorded_at FROM journal ORDER BY seq DESC LIMIT 1"
        if self.sqlite:
            cur.execute("BEGIN IMMEDIATE")  # the database write lock, taken before anything is read
            cur.execute(head_sql)
            head = cur.fetchone()
            sums = []
            for sql, params in held:
                cur.execute(sql, params)
                sums.append(int(cur.fetchone()[0]))
            return head, sums
        # PostgreSQL: a transaction-scoped advisory lock per schema, the same openets_append takes; statements
        # after it read fresh data.
        statements = ["BEGIN", f"SELECT pg_advisory_xact_lock({PG_LOCK_KEY})", head_sql]
        statements += [sql for sql, _ in held]
        cur.execute("; ".join(statements), tuple(p for _, params in held for p in params))
        cur.nextset()  # BEGIN
        cur.nextset()  # the lock
        head = cur.fetchone()
        sums = []
        for _ in held:
            cur.nextset()
            sums.append(int(cur.fetchone()[0]))
        return head, sums

    def _write(
        self, cur: Any, prepared: list[_Prepared], careful: bool
    ) -> tuple[list[Receipt], tuple[dict[str, Account], dict[str, InstrumentRef]]]:
        program = self.rules
        now = datetime.now(UTC)
        now_year = now.year
        # PostgreSQL fast path: no read before the write; one call to openets_append does it all under the lock.
        deferred = not self.sqlite and not careful

        # Phase 1: take the write lock, read the chain head and whatever the holding limits need.
        checks: dict[int, HoldingCheck] = {}
        buckets: dict[tuple[Any, ...], tuple[str, tuple[Any, ...]]] = {}
        bucket_checks: dict[tuple[Any, ...], HoldingCheck] = {}
        if not careful:
            for i, p in enumerate(prepared):
                op = p.op
                if isinstance(op, Move):
                    year = op.effective_date.year if op.effective_date is not None else now_year
                    check = holding_check(op, self._accounts[op.from_account], self._accounts[op.to_account], program, year)
                    if check is not None:
                        checks[i] = check
                        buckets.setdefault(_bucket(check), self._held_query(check))
                        bucket_checks.setdefault(_bucket(check), check)
        head: tuple[int, str, str] = (0, GENESIS_HASH, "")
        held_db: dict[tuple[Any, ...], int] = {}
        if not deferred:
            row, sums = self._begin(cur, list(buckets.values()))
            if row is not None:
                head = (int(row[0]), row[1], row[2])
            held_db = dict(zip(buckets, sums, strict=True))

        existing: dict[str, tuple[int, str, str, str]] = {}
        if careful:
            existing = self._existing_ops(cur, [p.op.op_id for p in prepared])
            self._load_accounts({a for p in prepared if isinstance(p.op, Move) for a in (p.op.from_account, p.op.to_account)}, cur)

        slots: list[Receipt | int] = []  # a receipt, or the index of a new journal entry
        entries: list[_Prepared] = []
        account_rows: list[tuple[Any, ...]] = []  # last field: the entry's 1-based index in this batch
        balance_rows: list[tuple[str, str, int, int]] = []
        new_instruments: dict[str, InstrumentRef] = {}
        batch_accounts: dict[str, Account] = {}
        balances: dict[tuple[str, str], int] = {}  # careful path: balances as this batch leaves them
        counted_overlay: dict[tuple[str, int], int] = {}
        thresholds: dict[tuple[Any, ...], int] = {}  # deferred: most a bucket may hold before the batch
        done: dict[str, int] = {}

        for i, p in enumerate(prepared):
            op = p.op
            if op.op_id in done:  # the same operation twice in one batch: applied once
                slots.append(done[op.op_id])
                continue
            if op.op_id in existing:
                s, stored_json, stored_digest, ehash = existing[op.op_id]
                if stored_digest != p.digest:
                    raise duplicate(op.op_id, stored_json, p.content_json)
                slots.append(Receipt(op.op_id, s, "exists", ehash))
                continue
            if isinstance(op, OpenAccount):
                account = op.account
                known = batch_accounts.get(account.account_id) or self._accounts.get(account.account_id)
                if known is None and careful:
                    known = self._fetch_account(cur, account.account_id)
                check_open_account(op, program, known)
                batch_accounts[account.account_id] = account
                account_rows.append((account.account_id, account.owner, account.kind.value, account.jurisdiction, len(entries) + 1))
            else:
                source = batch_accounts.get(op.from_account) or self._accounts.get(op.from_account)
                target = batch_accounts.get(op.to_account) or self._accounts.get(op.to_account)
                check_move(op, source, target, program)
                assert source is not None and target is not None
                key = op.instrument.key
                if key not in self._instruments and key not in new_instruments:
                    if op.kind is OpKind.ISSUE:
                        new_instruments[key] = op.instrument
                    elif careful and not self._instrument_exists(cur, key):
                        raise never_issued(op)
                if careful:
                    spair, tpair = (source.account_id, key), (target.account_id, key)
                    for pair in (spair, tpair):
                        if pair not in balances:
                            balances[pair] = self._fetch_balance(cur, *pair)
                    if not source.may_go_negative and balances[spair] < op.quantity:
                        raise insufficient(op, source, balances[spair])
                    balances[spair] -= op.quantity
                    balances[tpair] += op.quantity
                    year = op.effective_date.year if op.effective_date is not None else now_year
                    check = holding_check(op, source, target, program, year)
                else:
                    check = checks.get(i)
                if check is not None:
                    bucket = _bucket(check)
                    before = _overlay_sum(counted_overlay, check)
                    if deferred:
                        room = check.limit - check.increase - before
                        thresholds[bucket] = min(thresholds.get(bucket, room), room)
                    else:
                        if bucket not in held_db:
                            sql_held, params = self._held_query(check)
                            cur.execute(sql_held, params)
                            held_db[bucket] = int(cur.fetchone()[0])
                        enforce_holding_limit(op, check, held_db[bucket] + before)
                if counted_overlay or checks or careful:
                    _note_counted(counted_overlay, op, source, target, program)
                balance_rows.append((source.account_id, key, -op.quantity, int(source.may_go_negative)))
                balance_rows.append((target.account_id, key, op.quantity, int(target.may_go_negative)))
            done[op.op_id] = len(entries)
            slots.append(len(entries))
            entries.append(p)

        caches = (batch_accounts, new_instruments)
        if not entries:  # every operation was a replay
            if not deferred:
                cur.execute("COMMIT" if self.sqlite else "ROLLBACK")
            return [s for s in slots if isinstance(s, Receipt)], caches
        debits, credits = _net(balance_rows)
        instruments = list(new_instruments.values())
        if deferred:
            held = [(bucket_checks[b], room) for b, room in thresholds.items()]
            head = self._append(cur, now, entries, account_rows, instruments, debits, credits, held)
            journal, fresh = _chain(entries, head, now)
        else:
            journal, fresh = _chain(entries, head, now)
            first = head[0]
            account_rows = [(*row[:4], first + row[4]) for row in account_rows]
            self._commit(cur, account_rows, instruments, journal, debits, credits)
        receipts = [s if isinstance(s, Receipt) else fresh[s] for s in slots]
        return receipts, caches

    def _append(
        self,
        cur: Any,
        now: datetime,
        entries: list[_Prepared],
        accounts: list[tuple[Any, ...]],
        instruments: list[InstrumentRef],
        debits: list[tuple[str, str, int, int]],
        credits: list[tuple[str, str, int, int]],
        held: list[tuple[HoldingCheck, int]],
    ) -> tuple[int, str, str]:
        """PostgreSQL fast path: the whole batch in one call of openets_append (migration 0002)."""
        payload = {
            "now": now.isoformat(timespec="microseconds"),
            "ops": [{"op_id": p.op.op_id, "kind": p.op.kind.value, "content": p.content_json, "digest": p.digest} for p in entries],
            "accounts": [
                {"account_id": a, "owner": o, "kind": k, "jurisdiction": j, "idx": n} for a, o, k, j, n in accounts
            ],
            "instruments": [
                {"instrument_key": i.key, "jurisdiction": i.jurisdiction, "kind": i.kind.value, "vintage": i.vintage, "series": i.series}
                for i in instruments
            ],
            "debits": [{"account_id": a, "instrument_key": k, "net": net, "dip": dip} for a, k, net, dip in debits],
            "credits": [{"account_id": a, "instrument_key": k, "net": net, "neg": neg} for a, k, net, neg in credits],
            "held": [
                {
                    "owner": c.owner,
                    "kinds": ",".join(sorted(k.value for k in c.kinds)),
                    "jurisdictions": ",".join(c.jurisdictions),
                    "vmax": c.vintage_max,
                    "vexact": c.vintage_exact,
                    "threshold": room,
                }
                for c, room in held
            ],
        }
        cur.execute("SELECT o_first_seq, o_prev_hash, o_recorded_at FROM openets_append(%s::jsonb)", (json.dumps(payload),))
        first, prev, recorded_at = cur.fetchone()
        return int(first), prev, recorded_at

    def _commit(
        self,
        cur: Any,
        accounts: list[tuple[Any, ...]],
        instruments: list[InstrumentRef],
        journal: list[tuple[Any, ...]],
        debits: list[tuple[str, str, int, int]],
        credits: list[tuple[str, str, int, int]],
    ) -> None:
        """Write a batch's rows and commit (SQLite, and PostgreSQL's careful path). See `_net` for balances."""
        instrument_rows = [(i.key, i.jurisdiction, i.kind.value, i.vintage, i.series) for i in instruments]
        insert_accounts = "INSERT INTO accounts (account_id, owner, kind, jurisdiction, opened_seq) VALUES "
        insert_instruments = "INSERT INTO instruments (instrument_key, jurisdiction, kind, vintage, series) VALUES "
        insert_journal = (
            "INSERT INTO journal (seq, op_id, kind, content, content_hash, recorded_at, prev_hash, entry_hash) VALUES "
        )
        upsert_credits = (
            "INSERT INTO balances (account_id, instrument_key, quantity, may_go_negative) VALUES {rows} "
            "ON CONFLICT (account_id, instrument_key) DO UPDATE SET quantity = balances.quantity + excluded.quantity"
        )
        if self.sqlite:
            if accounts:
                cur.executemany(insert_accounts + "(?, ?, ?, ?, ?)", accounts)
            if instrument_rows:
                cur.executemany(insert_instruments + "(?, ?, ?, ?, ?) ON CONFLICT (instrument_key) DO NOTHING", instrument_rows)
            cur.executemany(insert_journal + "(?, ?, ?, ?, ?, ?, ?, ?)", journal)
            if debits:
                cur.executemany(
                    "UPDATE balances SET quantity = quantity + ? WHERE account_id = ? AND instrument_key = ? "
                    "AND quantity >= ?",
                    [(net, a, k, dip) for a, k, net, dip in debits],
                )
                if cur.rowcount != len(debits):
                    raise sqlite3.IntegrityError("a debited balance is missing or too small")
            if credits:
                cur.executemany(upsert_credits.format(rows="(?, ?, ?, ?)"), credits)
            cur.execute("COMMIT")
            return
        # PostgreSQL: every statement and the COMMIT in one message; an error skips the rest, COMMIT included.
        statements: list[str] = []
        params: list[Any] = []

        def add(sql: str, rows: list[tuple[Any, ...]], width: int) -> None:
            statements.append(sql.replace("{rows}", ", ".join(["(" + ", ".join(["%s"] * width) + ")"] * len(rows))))
            params.extend(v for row in rows for v in row)

        if accounts:
            add(insert_accounts + "{rows}", accounts, 5)
        if instrument_rows:
            add(insert_instruments + "{rows} ON CONFLICT (instrument_key) DO NOTHING", instrument_rows, 5)
        add(insert_journal + "{rows}", journal, 8)
        if debits:
            # No rowcount comes back before the COMMIT: a refused debit divides by zero instead.
            add(
                "WITH v (account_id, instrument_key, delta, dip) AS (VALUES {rows}), "
                "d AS (UPDATE balances b SET quantity = b.quantity + v.delta::bigint FROM v "
                "WHERE b.account_id = v.account_id AND b.instrument_key = v.instrument_key "
                "AND b.quantity >= v.dip::bigint RETURNING 1) "
                f"SELECT 1 / (CASE WHEN COUNT(*) = {len(debits)} THEN 1 ELSE 0 END) FROM d",
                debits,
                4,
            )
        if credits:
            add(upsert_credits, credits, 4)
        statements.append("COMMIT")
        cur.execute("; ".join(statements), params)

    def _existing_ops(self, cur: Any, ids: list[str]) -> dict[str, tuple[int, str, str, str]]:
        found: dict[str, tuple[int, str, str, str]] = {}
        unique = list(dict.fromkeys(ids))
        for chunk in _chunks(unique, 500):
            cur.execute(
                self._sql(
                    "SELECT op_id, seq, content, content_hash, entry_hash FROM journal WHERE op_id IN ("
                    + ",".join("?" * len(chunk))
                    + ")"
                ),
                list(chunk),
            )
            for op_id, s, content, digest, ehash in cur.fetchall():
                found[op_id] = (int(s), content, digest, ehash)
        return found

    # ---- reads used by the write path ------------------------------------------------------------
    def _load_accounts(self, ids: Iterable[str], cur: Any = None) -> None:
        missing = [i for i in ids if i not in self._accounts]
        if not missing:
            return
        if cur is None:
            with self.engine.connect() as conn:
                for chunk in _chunks(missing, 500):
                    rows = conn.execute(
                        sa.text("SELECT account_id, owner, kind, jurisdiction FROM accounts WHERE account_id IN :ids").bindparams(
                            sa.bindparam("ids", expanding=True)
                        ),
                        {"ids": chunk},
                    ).all()
                    for row in rows:
                        self._accounts[row[0]] = Account(row[0], row[1], AccountKind(row[2]), row[3])
        else:
            for account_id in missing:
                account = self._fetch_account(cur, account_id)
                if account is not None:
                    self._accounts[account_id] = account

    def _fetch_account(self, cur: Any, account_id: str) -> Account | None:
        cur.execute(
            self._sql("SELECT account_id, owner, kind, jurisdiction FROM accounts WHERE account_id = ?"), (account_id,)
        )
        row = cur.fetchone()
        return None if row is None else Account(row[0], row[1], AccountKind(row[2]), row[3])

    def _fetch_balance(self, cur: Any, account_id: str, key: str) -> int:
        cur.execute(
            self._sql("SELECT quantity FROM balances WHERE account_id = ? AND instrument_key = ?"), (account_id, key)
        )
        row = cur.fetchone()
        return 0 if row is None else int(row[0])

    def _instrument_exists(self, cur: Any, key: str) -> bool:
        cur.execute(self._sql("SELECT 1 FROM instruments WHERE instrument_key = ?"), (key,))
        found = cur.fetchone() is not None
        if found:
            self._instruments.add(key)
        return found

    def _held_query(self, check: HoldingCheck) -> tuple[str, tuple[Any, ...]]:
        """The query of an owner's counted allowances in one bucket, as committed before this batch."""
        exact = check.vintage_exact is not None
        shape = (check.kinds, check.jurisdictions, exact)
        cached = self._held_sql.get(shape)
        if cached is None:
            kinds = tuple(sorted(k.value for k in check.kinds))
            query = (
                "SELECT COALESCE(SUM(b.quantity), 0) FROM balances b "
                "JOIN accounts a ON a.account_id = b.account_id "
                "JOIN instruments i ON i.instrument_key = b.instrument_key "
                f"WHERE a.owner = ? AND a.kind IN ({','.join('?' * len(kinds))}) AND i.kind = 'allowance' "
                f"AND i.jurisdiction IN ({','.join('?' * len(check.jurisdictions))}) "
                f"AND i.vintage {'=' if exact else '<='} ?"
            )
            cached = self._held_sql[shape] = (self._sql(query), (*kinds, *check.jurisdictions))
        vintage = check.vintage_exact if exact else check.vintage_max
        return cached[0], (check.owner, *cached[1], vintage)

    def holding_room(self, owner: str, year: int, vintage: int) -> int | None:
        """How many more allowances of `vintage` the owner may acquire in `year` under the holding limit
        (None if the program sets none). Counts what is committed now; an auction reads it before clearing."""
        future = vintage > year
        limit_year = vintage if future else year
        limit = self.rules.holding_limit(limit_year)
        if limit is None:
            return None
        check = HoldingCheck(
            owner=owner,
            jurisdictions=self.rules.jurisdictions,
            kinds=self.rules.holding_limit_counted_kinds,
            vintage_max=None if future else year,
            vintage_exact=vintage if future else None,
            increase=0,
            limit=limit,
            limit_year=limit_year,
        )
        sql, params = self._held_query(check)
        with self.engine.connect() as conn:
            held = int(conn.exec_driver_sql(sql, params).scalar_one())
        return max(limit - held, 0)

    # ---- reads ------------------------------------------------------------------------------------
    def balances(
        self, account_id: str | None = None, owner: str | None = None, include_zero: bool = False
    ) -> list[BalanceRow]:
        """Holdings by account and instrument; issuance accounts show minus what they issued."""
        query = (
            "SELECT b.account_id, a.owner, a.kind, a.jurisdiction, b.instrument_key, i.kind, i.vintage, b.quantity "
            "FROM balances b JOIN accounts a ON a.account_id = b.account_id "
            "JOIN instruments i ON i.instrument_key = b.instrument_key WHERE 1 = 1"
        )
        params: dict[str, Any] = {}
        if account_id is not None:
            self._require_account(account_id)
            query += " AND b.account_id = :account"
            params["account"] = account_id
        if owner is not None:
            query += " AND a.owner = :owner"
            params["owner"] = owner
        if not include_zero:
            query += " AND b.quantity <> 0"
        query += " ORDER BY b.account_id, i.jurisdiction, i.kind, i.vintage, b.instrument_key"
        with self.engine.connect() as conn:
            rows = conn.execute(sa.text(query), params).all()
        return [BalanceRow(r[0], r[1], r[2], r[3], r[4], r[5], r[6], int(r[7])) for r in rows]

    def accounts(self) -> list[Account]:
        with self.engine.connect() as conn:
            rows = conn.execute(
                sa.text("SELECT account_id, owner, kind, jurisdiction FROM accounts ORDER BY account_id")
            ).all()
        return [Account(r[0], r[1], AccountKind(r[2]), r[3]) for r in rows]

    def _require_account(self, account_id: str) -> None:
        self._load_accounts([account_id])
        if account_id not in self._accounts:
            msg = f"account {account_id!r} does not exist in {_display(self.url)}; 'openets registry balance' lists accounts"
            raise InputError(msg)

    def history(self, account_id: str | None = None, limit: int = 100, after_seq: int = 0) -> list[JournalEntry]:
        """Journal entries in order (optionally those touching one account)."""
        if limit <= 0 or limit > 100_000:
            msg = f"limit {limit} is out of range; give 1 to 100000"
            raise InputError(msg)
        if account_id is not None:
            self._require_account(account_id)
        out: list[JournalEntry] = []
        for seq, op_id, kind, content, recorded_at, ehash in self._journal_rows(after_seq):
            data = json.loads(content)
            if account_id is not None and account_id not in (data.get("from"), data.get("to"), data.get("account")):
                continue
            out.append(JournalEntry(seq, op_id, kind, data, recorded_at, ehash))
            if len(out) >= limit:
                break
        return out

    def _journal_rows(self, after_seq: int = 0) -> Iterator[tuple[int, str, str, str, str, str]]:
        with self.engine.connect() as conn:
            result = conn.execution_options(stream_results=True).execute(
                sa.text(
                    "SELECT seq, op_id, kind, content, recorded_at, entry_hash FROM journal "
                    "WHERE seq > :after ORDER BY seq"
                ),
                {"after": after_seq},
            )
            for row in result:
                yield int(row[0]), row[1], row[2], row[3], row[4], row[5]

    def operations_with_prefix(self, prefix: str) -> list[Operation]:
        """The journaled operations whose id starts with `prefix` (e.g. every delivery of one auction)."""
        with self.engine.connect() as conn:
            rows = conn.execute(
                sa.text("SELECT op_id, content FROM journal WHERE op_id >= :lo AND op_id < :hi ORDER BY seq"),
                {"lo": prefix, "hi": prefix + "\U0010ffff"},
            ).all()
        return [operation_from_content(op_id, json.loads(content)) for op_id, content in rows]

    def operations(self) -> list[Operation]:
        """Every journaled operation, in order (for replays and audits)."""
        return [operation_from_content(op_id, json.loads(content)) for _, op_id, _, content, _, _ in self._journal_rows()]

    def verify(self) -> VerifyReport:
        """Recompute every balance from the journal and check the hash chain and the invariants."""
        report = VerifyReport()
        ledger = Ledger()
        prev = GENESIS_HASH
        expected_seq = 0
        with self.engine.connect() as conn:
            result = conn.execution_options(stream_results=True).execute(
                sa.text(
                    "SELECT seq, op_id, kind, content, content_hash, recorded_at, prev_hash, entry_hash "
                    "FROM journal ORDER BY seq"
                )
            )
            for seq, op_id, kind, content, digest, recorded_at, prev_hash, ehash in result:
                expected_seq += 1
                where = f"journal entry {seq} ({op_id})"
                if seq != expected_seq:
                    report.problems.append(f"{where}: sequence gap, expected {expected_seq}")
                    expected_seq = seq
                if content_hash(content) != digest:
                    report.problems.append(f"{where}: content does not match its hash")
                if prev_hash != prev:
                    report.problems.append(f"{where}: chain broken, prev_hash does not match entry {seq - 1}")
                if entry_hash(seq, op_id, digest, recorded_at, prev_hash) != ehash:
                    report.problems.append(f"{where}: entry hash does not match its fields")
                prev = ehash
                try:
                    op = operation_from_content(op_id, json.loads(content))
                    if op.kind.value != kind:
                        report.problems.append(f"{where}: kind column {kind!r} differs from content")
                    ledger.apply(op)
                except (OpenETSError, ValueError, KeyError) as exc:
                    report.problems.append(f"{where}: cannot be replayed: {exc}")
            report.entries = expected_seq
            stored_accounts = {
                r[0]: Account(r[0], r[1], AccountKind(r[2]), r[3])
                for r in conn.execute(sa.text("SELECT account_id, owner, kind, jurisdiction FROM accounts"))
            }
            stored_balances = {
                (r[0], r[1]): int(r[2])
                for r in conn.execute(sa.text("SELECT account_id, instrument_key, quantity FROM balances"))
                if int(r[2]) != 0
            }
            n_instruments = conn.execute(sa.text("SELECT COUNT(*) FROM instruments")).scalar_one()
        report.head_hash = prev
        if stored_accounts != ledger.accounts:
            extra = sorted(set(stored_accounts) ^ set(ledger.accounts))
            report.problems.append(f"accounts table differs from the journal (e.g. {extra[:5]})")
        recomputed = ledger.nonzero_balances()
        if stored_balances != recomputed:
            diff = sorted(k for k in set(stored_balances) | set(recomputed) if stored_balances.get(k) != recomputed.get(k))
            for k in diff[:20]:
                report.problems.append(
                    f"balance of {k[0]} in {k[1]}: stored {stored_balances.get(k, 0)}, journal gives {recomputed.get(k, 0)}"
                )
        if n_instruments != len(ledger.instruments):
            report.problems.append(f"instruments table has {n_instruments} rows, the journal issued {len(ledger.instruments)}")
        report.problems.extend(ledger.problems())
        report.accounts = len(ledger.accounts)
        report.instruments = len(ledger.instruments)
        for (account_id, _key), qty in recomputed.items():
            kind = ledger.accounts[account_id].kind
            if kind is AccountKind.ISSUANCE:
                report.issued -= qty
            elif kind is AccountKind.RETIREMENT:
                report.retired += qty
            elif kind is AccountKind.CANCELLATION:
                report.cancelled += qty
            else:
                report.held += qty
        return report

    def dump(self) -> dict[str, list[tuple[Any, ...]]]:
        """Every table's rows, sorted: two dumps are equal exactly when the registry is unchanged."""
        tables = {
            "meta": "SELECT key, value FROM meta",
            "accounts": "SELECT account_id, owner, kind, jurisdiction, opened_seq FROM accounts",
            "instruments": "SELECT instrument_key, jurisdiction, kind, vintage, series FROM instruments",
            "balances": "SELECT account_id, instrument_key, quantity FROM balances",
            "journal": "SELECT seq, op_id, kind, content, content_hash, recorded_at, prev_hash, entry_hash FROM journal",
        }
        with self.engine.connect() as conn:
            return {
                name: sorted(tuple(r) for r in conn.execute(sa.text(q)))  # type: ignore[misc]
                for name, q in tables.items()
            }


def _net(rows: list[tuple[str, str, int, int]]) -> tuple[list[tuple[str, str, int, int]], list[tuple[str, str, int, int]]]:
    """A batch's balance changes as one net amount per (account, instrument): (debits, credits).

    Applying the changes in order is the same as applying their sum, provided no intermediate balance of a
    floored account dips below zero, which holds exactly when its balance before the batch is at least the
    deepest dip of the running sum. So each floored pair whose running sum dips becomes a debit
    (account, instrument, net, dip): a conditional UPDATE of a row that must exist and hold at least `dip`.
    The others become credits (account, instrument, net, may_go_negative): upserts, since an upsert cannot
    lower a floored balance (its candidate row would fail the CHECK floor).
    """
    totals: dict[tuple[str, str], list[int]] = {}  # pair -> [net, deepest dip, may go negative]
    for account_id, key, delta, neg in rows:
        entry = totals.get((account_id, key))
        if entry is None:
            entry = totals[(account_id, key)] = [0, 0, neg]
        entry[0] += delta
        if entry[0] < entry[1]:
            entry[1] = entry[0]
    debits = [(a, k, net, -dip) for (a, k), (net, dip, neg) in totals.items() if dip < 0 and not neg]
    credits = [(a, k, net, neg) for (a, k), (net, dip, neg) in totals.items() if (dip == 0 or neg) and net != 0]
    return debits, credits


def _chain(
    entries: list[_Prepared], head: tuple[int, str, str], now: datetime
) -> tuple[list[tuple[Any, ...]], list[Receipt]]:
    """Journal rows and receipts of new entries appended after `head` (seq, entry hash, recorded_at)."""
    seq, prev, last_at = head
    recorded_at = max(now.isoformat(timespec="microseconds"), last_at)  # the ledger's clock never runs back
    rows: list[tuple[Any, ...]] = []
    receipts: list[Receipt] = []
    for p in entries:
        seq += 1
        ehash = entry_hash(seq, p.op.op_id, p.digest, recorded_at, prev)
        rows.append((seq, p.op.op_id, p.op.kind.value, p.content_json, p.digest, recorded_at, prev, ehash))
        receipts.append(Receipt(p.op.op_id, seq, "applied", ehash))
        prev = ehash
    return rows, receipts


def _note_counted(
    overlay: dict[tuple[str, int], int], op: Move, source: Account, target: Account, program: CachedRules
) -> None:
    """Track how a batch changes owners' counted allowances, for later holding-limit checks in the batch."""
    if op.instrument.kind is not InstrumentKind.ALLOWANCE or op.instrument.vintage is None:
        return
    counted = program.holding_limit_counted_kinds
    v = op.instrument.vintage
    if target.kind in counted:
        overlay[(target.owner, v)] = overlay.get((target.owner, v), 0) + op.quantity
    if source.kind in counted:
        overlay[(source.owner, v)] = overlay.get((source.owner, v), 0) - op.quantity


def _overlay_sum(overlay: dict[tuple[str, int], int], check: HoldingCheck) -> int:
    total = 0
    for (owner, v), delta in overlay.items():
        if owner != check.owner:
            continue
        if check.vintage_exact is not None and v == check.vintage_exact:
            total += delta
        elif check.vintage_max is not None and v <= check.vintage_max:
            total += delta
    return total


def _chunks(items: Sequence[Any], size: int) -> Iterator[Sequence[Any]]:
    for i in range(0, len(items), size):
        yield items[i : i + size]


def _refusals() -> tuple[type[BaseException], ...]:
    """Database errors that mean "a constraint refused this batch" (and not "the database is broken")."""
    import psycopg

    return (sqlite3.IntegrityError, psycopg.errors.IntegrityError, psycopg.errors.DivisionByZero)


def _bucket(check: HoldingCheck) -> tuple[Any, ...]:
    return (check.owner, check.vintage_max, check.vintage_exact)


def _display(url: str) -> str:
    return sa.engine.make_url(url).render_as_string(hide_password=True)


def _check_reachable(engine: sa.Engine, url: str) -> None:
    try:
        with engine.connect():
            pass
    except sa.exc.OperationalError as exc:
        reason = str(exc.orig).strip().splitlines()[0] if exc.orig else str(exc)
        msg = f"cannot open database {_display(url)}: {reason}; check the --db value or $OPENETS_DB"
        raise LedgerError(msg) from None
