"""Pure registry domain: accounts, instruments, operations and the invariants that bind them (no I/O).

Guarantees (checked by `Ledger.problems` and by `openets registry verify`):

- per instrument, the balances of all accounts sum to zero: what issuance accounts have issued (their
  negative balance) is exactly what is held, retired and cancelled elsewhere;
- no account other than an issuance account ever holds less than zero;
- an operation id is applied at most once: the same id with the same content is acknowledged again,
  the same id with other content is refused;
- the journal is a hash chain: entry n commits to entry n-1, so no entry can be changed or dropped unseen
  (except the newest ones: record the head hash that `verify` prints elsewhere to detect a cut tail).

The store (`store.py`) enforces the same rules against a database and calls the checks defined here, so that
the operator, the simulator and the tests share one implementation of each rule.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum
from typing import Any, Protocol

from openets.errors import (
    DuplicateOperation,
    HoldingLimitExceeded,
    InputError,
    InsufficientHoldings,
    LedgerError,
    UnknownAccount,
)
from openets.rules.kinds import (
    JURISDICTION_ACCOUNT_KINDS,
    TERMINAL_ACCOUNT_KINDS,
    AccountKind,
    InstrumentKind,
)

GENESIS_HASH = "0" * 64
#: Put a limit on everything: no single operation moves more than this many instruments.
QUANTITY_MAX = 10**12
OP_ID_MAX_LENGTH = 200
_ID_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.:@/+=-]*$")


class OpKind(StrEnum):
    """What an operation does; each kind fixes which account kinds it may debit and credit."""

    OPEN_ACCOUNT = "open_account"
    ISSUE = "issue"
    ALLOCATE = "allocate"
    TRANSFER = "transfer"
    SURRENDER = "surrender"
    RETIRE = "retire"
    CANCEL = "cancel"


#: Kinds that hold instruments in circulation: neither the source (issuance) nor a sink (retired, cancelled).
HOLDING_KINDS = frozenset(set(AccountKind) - {AccountKind.ISSUANCE} - TERMINAL_ACCOUNT_KINDS)

#: (kinds that may be debited, kinds that may be credited) for each movement.
MOVE_RULES: dict[OpKind, tuple[frozenset[AccountKind], frozenset[AccountKind]]] = {
    OpKind.ISSUE: (frozenset({AccountKind.ISSUANCE}), HOLDING_KINDS),
    OpKind.ALLOCATE: (
        frozenset({AccountKind.ALLOCATION_HOLDING}),
        frozenset({AccountKind.GENERAL_HOLDING, AccountKind.COMPLIANCE, AccountKind.LIMITED_USE}),
    ),
    OpKind.TRANSFER: (HOLDING_KINDS, HOLDING_KINDS),
    OpKind.SURRENDER: (frozenset({AccountKind.COMPLIANCE}), frozenset({AccountKind.RETIREMENT})),
    OpKind.RETIRE: (HOLDING_KINDS, frozenset({AccountKind.RETIREMENT})),
    OpKind.CANCEL: (HOLDING_KINDS, frozenset({AccountKind.CANCELLATION})),
}
MOVE_KINDS = tuple(MOVE_RULES)


class ProgramRules(Protocol):
    """What the ledger needs to know of a program (implemented by `openets.rules.Program`)."""

    id: str

    @property
    def jurisdictions(self) -> tuple[str, ...]: ...

    @property
    def instrument_kinds(self) -> tuple[InstrumentKind, ...]: ...

    @property
    def holding_limit_counted_kinds(self) -> frozenset[AccountKind]: ...

    def vintages(self, jurisdiction: str | None = None) -> tuple[int, ...]: ...

    def holding_limit(self, year: int) -> int | None: ...

    def may_hold(self, account_kind: AccountKind, instrument_kind: InstrumentKind) -> bool: ...


class CachedRules:
    """A program's answers memoised: rulebooks are immutable, and the registry asks on every operation."""

    def __init__(self, program: ProgramRules) -> None:
        self.program = program
        self.id = program.id
        self.jurisdictions = tuple(program.jurisdictions)
        self.instrument_kinds = tuple(program.instrument_kinds)
        self.holding_limit_counted_kinds = frozenset(program.holding_limit_counted_kinds)
        self._vintages: dict[str | None, tuple[int, ...]] = {}
        self._vintage_sets: dict[str, frozenset[int]] = {}
        self._limits: dict[int, int | None] = {}
        self._may_hold = {
            (a, i): program.may_hold(a, i) for a in AccountKind for i in InstrumentKind
        }

    def vintages(self, jurisdiction: str | None = None) -> tuple[int, ...]:
        if jurisdiction not in self._vintages:
            self._vintages[jurisdiction] = tuple(self.program.vintages(jurisdiction))
        return self._vintages[jurisdiction]

    def has_vintage(self, jurisdiction: str, vintage: int | None) -> bool:
        if jurisdiction not in self._vintage_sets:
            self._vintage_sets[jurisdiction] = frozenset(self.vintages(jurisdiction))
        return vintage in self._vintage_sets[jurisdiction]

    def holding_limit(self, year: int) -> int | None:
        if year not in self._limits:
            self._limits[year] = self.program.holding_limit(year)
        return self._limits[year]

    def may_hold(self, account_kind: AccountKind, instrument_kind: InstrumentKind) -> bool:
        return self._may_hold[(account_kind, instrument_kind)]


def check_id(value: str, what: str) -> str:
    """Validate a client-chosen identifier (operation, account or owner id)."""
    if not isinstance(value, str) or not value:
        msg = f"{what} is empty; give a non-empty id such as 'CA-2013-issue-1'"
        raise InputError(msg)
    if len(value) > OP_ID_MAX_LENGTH:
        msg = f"{what} {value[:40]!r}... is {len(value)} characters long; the limit is {OP_ID_MAX_LENGTH}"
        raise InputError(msg)
    if not _ID_PATTERN.match(value):
        msg = (
            f"{what} {value!r} has characters that are not allowed; use letters, digits and _ . : @ / + = -"
            " (no spaces), starting with a letter or digit"
        )
        raise InputError(msg)
    return value


@dataclass(frozen=True, slots=True)
class Account:
    """A registry account. Accounts are immutable once opened: only balances change, through operations."""

    account_id: str
    owner: str
    kind: AccountKind
    jurisdiction: str

    @property
    def may_go_negative(self) -> bool:
        return self.kind is AccountKind.ISSUANCE


@dataclass(frozen=True, slots=True)
class InstrumentRef:
    """One fungible instrument: jurisdiction, kind and vintage (plus a series, e.g. an offset project id).

    Its text form is its key, e.g. ``CA:allowance:2013``, ``QC:reserve_allowance:-`` or
    ``CA:offset_credit:2016:CAFR5001``.
    """

    jurisdiction: str
    kind: InstrumentKind
    vintage: int | None
    series: str | None = None

    @property
    def key(self) -> str:
        vintage = "-" if self.vintage is None else str(self.vintage)
        base = f"{self.jurisdiction}:{self.kind.value}:{vintage}"
        return base if self.series is None else f"{base}:{self.series}"

    @classmethod
    def parse(cls, key: str) -> InstrumentRef:
        """Read an instrument key; the error shows the expected form."""
        parts = key.split(":") if isinstance(key, str) else []
        hint = "write JURISDICTION:KIND:VINTAGE, e.g. CA:allowance:2013 or QC:reserve_allowance:-"
        if len(parts) not in (3, 4) or not all(parts):
            msg = f"instrument {key!r} is malformed; {hint}"
            raise InputError(msg)
        jurisdiction, kind_text, vintage_text = parts[:3]
        try:
            kind = InstrumentKind(kind_text)
        except ValueError:
            valid = ", ".join(k.value for k in InstrumentKind)
            msg = f"instrument {key!r} has unknown kind {kind_text!r}; valid kinds: {valid}"
            raise InputError(msg) from None
        if vintage_text == "-":
            vintage = None
        elif vintage_text.isascii() and vintage_text.isdigit() and len(vintage_text) == 4:
            vintage = int(vintage_text)
        else:
            msg = f"instrument {key!r} has vintage {vintage_text!r}; expected a four-digit year or '-'; {hint}"
            raise InputError(msg)
        return cls(jurisdiction, kind, vintage, parts[3] if len(parts) == 4 else None)


@dataclass(frozen=True, slots=True)
class OpenAccount:
    """Open an account (journaled like every other change, so that verify can rebuild everything)."""

    op_id: str
    account: Account
    kind: OpKind = field(default=OpKind.OPEN_ACCOUNT, init=False)


@dataclass(frozen=True, slots=True)
class Move:
    """Move `quantity` of one instrument from one account to another: issue, allocate, transfer, surrender,
    retire or cancel, as `kind` says."""

    op_id: str
    kind: OpKind
    from_account: str
    to_account: str
    instrument: InstrumentRef
    quantity: int
    effective_date: date | None = None
    memo: str | None = None


Operation = OpenAccount | Move


def op_content(op: Operation) -> dict[str, Any]:
    """The content that identifies an operation for idempotency (everything the client chose but the id)."""
    if isinstance(op, OpenAccount):
        a = op.account
        return {
            "op": op.kind.value,
            "account": a.account_id,
            "owner": a.owner,
            "account_kind": a.kind.value,
            "jurisdiction": a.jurisdiction,
        }
    content: dict[str, Any] = {
        "op": op.kind.value,
        "from": op.from_account,
        "to": op.to_account,
        "instrument": op.instrument.key,
        "quantity": op.quantity,
    }
    if op.effective_date is not None:
        content["effective_date"] = op.effective_date.isoformat()
    if op.memo is not None:
        content["memo"] = op.memo
    return content


def canonical_json(content: Mapping[str, Any]) -> str:
    return json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def content_hash(content_json: str) -> str:
    return hashlib.sha256(content_json.encode()).hexdigest()


def entry_hash(seq: int, op_id: str, content_digest: str, recorded_at: str, prev_hash: str) -> str:
    """Hash of one journal entry; it commits to the previous entry's hash (the chain)."""
    return hashlib.sha256(f"{seq}|{op_id}|{content_digest}|{recorded_at}|{prev_hash}".encode()).hexdigest()


def operation_from_content(op_id: str, content: Mapping[str, Any]) -> Operation:
    """Rebuild an operation from its journaled content (verify, replay)."""
    kind = OpKind(content["op"])
    if kind is OpKind.OPEN_ACCOUNT:
        account = Account(
            content["account"], content["owner"], AccountKind(content["account_kind"]), content["jurisdiction"]
        )
        return OpenAccount(op_id, account)
    eff = content.get("effective_date")
    return Move(
        op_id,
        kind,
        content["from"],
        content["to"],
        InstrumentRef.parse(content["instrument"]),
        int(content["quantity"]),
        date.fromisoformat(eff) if eff else None,
        content.get("memo"),
    )


def make_move(
    op_id: str,
    kind: OpKind | str,
    from_account: str,
    to_account: str,
    instrument: InstrumentRef | str,
    quantity: int,
    effective_date: date | None = None,
    memo: str | None = None,
) -> Move:
    """Build a Move from loose input, with errors that say what to fix."""
    check_id(op_id, "operation id")
    try:
        op_kind = OpKind(kind)
    except ValueError:
        valid = ", ".join(k.value for k in MOVE_KINDS)
        msg = f"operation kind {kind!r} is unknown; valid kinds: {valid}"
        raise InputError(msg) from None
    if op_kind is OpKind.OPEN_ACCOUNT:
        msg = "open_account is not a movement; use open_account() to open an account"
        raise InputError(msg)
    inst = instrument if isinstance(instrument, InstrumentRef) else InstrumentRef.parse(instrument)
    if isinstance(quantity, bool) or not isinstance(quantity, int):
        msg = f"quantity {quantity!r} of operation {op_id!r} is not a whole number of instruments"
        raise InputError(msg)
    move = Move(op_id, op_kind, from_account, to_account, inst, quantity, effective_date, memo)
    check_fields(move)
    return move


MEMO_MAX_LENGTH = 500


def check_fields(move: Move) -> None:
    """Field types the journal must be able to read back: a date (not a datetime) and a short text memo."""
    d = move.effective_date
    if d is not None and (type(d) is not date):
        msg = f"operation {move.op_id!r}: effective date {d!r} is not a date; give a datetime.date (YYYY-MM-DD)"
        raise InputError(msg)
    if move.memo is not None and (not isinstance(move.memo, str) or len(move.memo) > MEMO_MAX_LENGTH):
        msg = f"operation {move.op_id!r}: the memo must be text of at most {MEMO_MAX_LENGTH} characters"
        raise InputError(msg)


def check_quantity(move: Move) -> None:
    if move.quantity <= 0:
        msg = (
            f"operation {move.op_id!r}: quantity {move.quantity} is not positive; "
            "give a quantity of at least 1 instrument (to reverse a move, make the opposite move)"
        )
        raise InputError(msg)
    if move.quantity > QUANTITY_MAX:
        msg = f"operation {move.op_id!r}: quantity {move.quantity:,} exceeds the per-operation limit {QUANTITY_MAX:,}"
        raise InputError(msg)


def check_open_account(op: OpenAccount, program: ProgramRules, existing: Account | None) -> None:
    """Refuse an account that clashes with an existing one or names a jurisdiction outside the program."""
    a = op.account
    check_id(op.op_id, "operation id")
    check_id(a.account_id, "account id")
    check_id(a.owner, "owner id")
    if a.jurisdiction not in program.jurisdictions:
        valid = ", ".join(program.jurisdictions)
        msg = (
            f"account {a.account_id!r}: jurisdiction {a.jurisdiction!r} is not part of program {program.id!r}; "
            f"valid jurisdictions: {valid}"
        )
        raise InputError(msg)
    if existing is not None:
        msg = (
            f"account {a.account_id!r} already exists (owner {existing.owner!r}, kind {existing.kind.value}); "
            "choose another account id"
        )
        raise LedgerError(msg)


def check_instrument(instrument: InstrumentRef, program: ProgramRules, where: str) -> None:
    """The instrument must belong to the program: jurisdiction, kind and (for allowances) vintage; and its key
    must read back as the same instrument (the journal stores keys)."""
    if instrument.vintage is not None and not 1000 <= instrument.vintage <= 9999:
        msg = f"{where}: vintage {instrument.vintage} is not a four-digit year"
        raise InputError(msg)
    if instrument.series is not None:
        if instrument.kind is not InstrumentKind.OFFSET_CREDIT:
            msg = f"{where}: only offset credits carry a series (a project id); {instrument.key} has one"
            raise InputError(msg)
        check_id(instrument.series, "offset series")
        if ":" in instrument.series:
            msg = f"{where}: offset series {instrument.series!r} contains ':'; use letters, digits and - _ ."
            raise InputError(msg)
    if instrument.jurisdiction not in program.jurisdictions:
        valid = ", ".join(program.jurisdictions)
        msg = (
            f"{where}: instrument {instrument.key} names jurisdiction {instrument.jurisdiction!r}, "
            f"which is not part of program {program.id!r}; valid jurisdictions: {valid}"
        )
        raise InputError(msg)
    if instrument.kind not in program.instrument_kinds:
        valid = ", ".join(k.value for k in program.instrument_kinds)
        msg = f"{where}: program {program.id!r} has no {instrument.kind.value} instruments; valid kinds: {valid}"
        raise InputError(msg)
    if instrument.kind is InstrumentKind.ALLOWANCE:
        known = (
            program.has_vintage(instrument.jurisdiction, instrument.vintage)
            if isinstance(program, CachedRules)
            else instrument.vintage in program.vintages(instrument.jurisdiction)
        )
        if not known:
            vintages = program.vintages(instrument.jurisdiction)
            span = f"{vintages[0]}-{vintages[-1]}" if vintages else "none"
            msg = (
                f"{where}: program {program.id!r} has no vintage {instrument.vintage} allowances for "
                f"{instrument.jurisdiction} (vintages with a budget: {span}); pick a vintage in that range"
            )
            raise InputError(msg)
    elif instrument.kind in (InstrumentKind.RESERVE_ALLOWANCE, InstrumentKind.PRICE_CEILING_UNIT):
        if instrument.vintage is not None:
            msg = f"{where}: {instrument.kind.value} instruments carry no vintage; write {instrument.jurisdiction}:{instrument.kind.value}:-"
            raise InputError(msg)
    elif instrument.vintage is None:
        msg = f"{where}: offset credits carry a vintage (the year of the reduction); write e.g. {instrument.jurisdiction}:offset_credit:2016"
        raise InputError(msg)


def check_move(
    move: Move, source: Account | None, target: Account | None, program: ProgramRules
) -> tuple[Account, Account]:
    """Every check on a movement that needs no balance: ids, quantity, accounts, kinds, instrument, may-hold."""
    check_id(move.op_id, "operation id")
    check_quantity(move)
    check_fields(move)
    if source is None:
        msg = f"operation {move.op_id!r}: debit account {move.from_account!r} does not exist; open it first or check the id"
        raise UnknownAccount(msg)
    if target is None:
        msg = f"operation {move.op_id!r}: credit account {move.to_account!r} does not exist; open it first or check the id"
        raise UnknownAccount(msg)
    if source.account_id == target.account_id:
        msg = f"operation {move.op_id!r}: debit and credit account are the same ({source.account_id!r})"
        raise InputError(msg)
    debit_kinds, credit_kinds = MOVE_RULES[move.kind]
    if source.kind not in debit_kinds:
        valid = ", ".join(sorted(k.value for k in debit_kinds))
        msg = (
            f"operation {move.op_id!r}: a {move.kind.value} cannot debit {source.account_id!r}, "
            f"a {source.kind.value} account; it debits: {valid}"
        )
        raise LedgerError(msg)
    if target.kind not in credit_kinds:
        valid = ", ".join(sorted(k.value for k in credit_kinds))
        msg = (
            f"operation {move.op_id!r}: a {move.kind.value} cannot credit {target.account_id!r}, "
            f"a {target.kind.value} account; it credits: {valid}"
        )
        raise LedgerError(msg)
    check_instrument(move.instrument, program, f"operation {move.op_id!r}")
    if move.kind is OpKind.ISSUE and source.jurisdiction != move.instrument.jurisdiction:
        msg = (
            f"operation {move.op_id!r}: {source.account_id!r} issues {source.jurisdiction} instruments, "
            f"not {move.instrument.key}; issue from the {move.instrument.jurisdiction} issuance account"
        )
        raise LedgerError(msg)
    if not program.may_hold(target.kind, move.instrument.kind):
        msg = (
            f"operation {move.op_id!r}: under program {program.id!r} a {target.kind.value} account "
            f"({target.account_id!r}) may not hold {move.instrument.kind.value} instruments"
        )
        raise LedgerError(msg)
    return source, target


@dataclass(frozen=True, slots=True)
class HoldingCheck:
    """What a holding-limit check needs to read: the owner's counted allowances in one bucket."""

    owner: str
    jurisdictions: tuple[str, ...]
    kinds: frozenset[AccountKind]
    vintage_max: int | None  # current bucket: all vintages up to the year of the operation
    vintage_exact: int | None  # future bucket: one vintage later than the year of the operation
    increase: int
    limit: int
    limit_year: int


def holding_check(
    move: Move, source: Account, target: Account, program: ProgramRules, year: int
) -> HoldingCheck | None:
    """The holding-limit check a movement calls for, or None when the limit cannot be reached by it.

    The limit counts an entity's allowances in the counted account kinds (17 CCR §95920(b); Q-2 r.46.1 s.32):
    current and earlier vintages together against the limit of the current year, each future vintage
    against the limit of its own year.
    """
    counted = program.holding_limit_counted_kinds
    if move.instrument.kind is not InstrumentKind.ALLOWANCE or target.kind not in counted:
        return None
    if target.kind in JURISDICTION_ACCOUNT_KINDS:
        return None
    increase = move.quantity
    if source.owner == target.owner and source.kind in counted:
        increase = 0  # a move between two counted accounts of one entity changes nothing
    if increase <= 0:
        return None
    vintage = move.instrument.vintage
    assert vintage is not None  # allowances always carry a vintage (check_instrument)
    future = vintage > year
    limit_year = vintage if future else year
    limit = program.holding_limit(limit_year)
    if limit is None:
        return None
    return HoldingCheck(
        owner=target.owner,
        jurisdictions=program.jurisdictions,
        kinds=counted,
        vintage_max=None if future else year,
        vintage_exact=vintage if future else None,
        increase=increase,
        limit=limit,
        limit_year=limit_year,
    )


def enforce_holding_limit(move: Move, check: HoldingCheck, held: int) -> None:
    if held + check.increase > check.limit:
        bucket = (
            f"vintage {check.vintage_exact} (future-vintage limit)"
            if check.vintage_exact is not None
            else f"current-and-earlier-vintage (up to {check.vintage_max})"
        )
        room = max(check.limit - held, 0)
        msg = (
            f"operation {move.op_id!r}: owner {check.owner!r} would hold {held + check.increase:,} {bucket} "
            f"allowances, above the {check.limit_year} holding limit of {check.limit:,}; it holds {held:,} now, "
            f"so at most {room:,} more can be credited (or credit an account kind the limit does not count)"
        )
        raise HoldingLimitExceeded(msg)


def never_issued(move: Move) -> InputError:
    msg = (
        f"operation {move.op_id!r}: instrument {move.instrument.key} has never been issued in this registry; "
        "issue it first or check the jurisdiction, kind and vintage"
    )
    return InputError(msg)


def insufficient(move: Move, source: Account, held: int) -> InsufficientHoldings:
    msg = (
        f"operation {move.op_id!r}: account {source.account_id!r} holds {held:,} of {move.instrument.key}, "
        f"fewer than the {move.quantity:,} to move; move at most {held:,}"
    )
    return InsufficientHoldings(msg)


def duplicate(op_id: str, stored_json: str, given_json: str) -> DuplicateOperation:
    msg = (
        f"operation id {op_id!r} was already used for other content (stored: {stored_json}; given: {given_json}); "
        "an id names one operation forever: choose a new id for a new operation"
    )
    return DuplicateOperation(msg)


@dataclass
class Ledger:
    """In-memory ledger state: the reference implementation the store is checked against.

    With a program, `apply` enforces every rule; without one (journal replay in verify) it enforces only
    the structural invariants, since the rulebook in force may have changed since an entry was made.
    """

    accounts: dict[str, Account] = field(default_factory=dict)
    balances: dict[tuple[str, str], int] = field(default_factory=dict)
    instruments: dict[str, InstrumentRef] = field(default_factory=dict)
    op_hashes: dict[str, str] = field(default_factory=dict)

    def apply(self, op: Operation, program: ProgramRules | None = None, year: int | None = None) -> bool:
        """Apply one operation; return False when it is a replay of one already applied."""
        given = canonical_json(op_content(op))
        digest = content_hash(given)
        stored = self.op_hashes.get(op.op_id)
        if stored is not None:
            if stored != digest:
                raise DuplicateOperation(
                    f"operation id {op.op_id!r} was already used for other content; choose a new id"
                )
            return False
        if isinstance(op, OpenAccount):
            if program is not None:
                check_open_account(op, program, self.accounts.get(op.account.account_id))
            elif op.account.account_id in self.accounts:
                msg = f"account {op.account.account_id!r} opened twice"
                raise LedgerError(msg)
            self.accounts[op.account.account_id] = op.account
        else:
            source = self.accounts.get(op.from_account)
            target = self.accounts.get(op.to_account)
            if program is not None:
                check_move(op, source, target, program)
            else:
                check_quantity(op)
                if source is None or target is None:
                    msg = f"operation {op.op_id!r} names an account that was never opened"
                    raise UnknownAccount(msg)
            assert source is not None and target is not None
            key = op.instrument.key
            if op.kind is not OpKind.ISSUE and key not in self.instruments:
                raise never_issued(op)
            held = self.balances.get((source.account_id, key), 0)
            if not source.may_go_negative and held < op.quantity:
                raise insufficient(op, source, held)
            if program is not None:
                check = holding_check(op, source, target, program, year if year is not None else date.today().year)
                if check is not None:
                    enforce_holding_limit(op, check, self.counted(check))
            self.balances[(source.account_id, key)] = held - op.quantity
            self.balances[(target.account_id, key)] = self.balances.get((target.account_id, key), 0) + op.quantity
            self.instruments.setdefault(key, op.instrument)
        self.op_hashes[op.op_id] = digest
        return True

    def counted(self, check: HoldingCheck) -> int:
        total = 0
        for (account_id, key), qty in self.balances.items():
            account = self.accounts[account_id]
            inst = self.instruments[key]
            if account.owner != check.owner or account.kind not in check.kinds:
                continue
            if inst.kind is not InstrumentKind.ALLOWANCE or inst.vintage is None:
                continue
            if check.vintage_exact is not None and inst.vintage != check.vintage_exact:
                continue
            if check.vintage_max is not None and inst.vintage > check.vintage_max:
                continue
            total += qty
        return total

    def balance(self, account_id: str, instrument_key: str) -> int:
        return self.balances.get((account_id, instrument_key), 0)

    def nonzero_balances(self) -> dict[tuple[str, str], int]:
        return {k: v for k, v in self.balances.items() if v != 0}

    def problems(self) -> list[str]:
        """Every invariant violation, as readable lines (empty when the ledger is sound)."""
        out: list[str] = []
        totals: dict[str, int] = {}
        for (account_id, key), qty in self.balances.items():
            totals[key] = totals.get(key, 0) + qty
            if qty < 0 and not self.accounts[account_id].may_go_negative:
                out.append(f"account {account_id} holds {qty} of {key} (below zero)")
        out.extend(f"instrument {key} does not sum to zero over all accounts ({t:+})" for key, t in totals.items() if t)
        return out


def replay(ops: Iterable[Operation], on_error: Callable[[Operation, Exception], None] | None = None) -> Ledger:
    """Replay operations serially into a fresh ledger with the structural checks only."""
    ledger = Ledger()
    for op in ops:
        try:
            ledger.apply(op)
        except LedgerError as exc:
            if on_error is None:
                raise
            on_error(op, exc)
    return ledger
