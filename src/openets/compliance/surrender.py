"""Surrender against the registry: meet an obligation from an entity's compliance account, in one atomic batch.

What to surrender comes from `obligations.plan_surrender` (offsets up to the limit, then reserve allowances and
price-ceiling units, then eligible allowances, oldest first), applied to what the compliance account holds. Within
a (kind, vintage) the instruments are taken in key order (for example California before Québec allowances of the
same vintage in the linked market). Every move's id starts with the caller's `op_id`, so a rerun of the same
surrender is acknowledged, never applied twice; a rerun that would surrender something else is refused.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from openets.compliance.obligations import (
    Obligation,
    SurrenderPlan,
    UntimelyObligation,
    obligations,
    plan_surrender,
    untimely_surrender,
)
from openets.errors import DuplicateOperation, InputError
from openets.registry import Registry
from openets.registry.ledger import InstrumentRef, Move, OpKind, canonical_json, check_id, op_content
from openets.rules.kinds import AccountKind, InstrumentKind


@dataclass(frozen=True)
class SurrenderResult:
    plan: SurrenderPlan
    moves: tuple[Move, ...]
    statuses: tuple[str, ...]
    untimely: UntimelyObligation | None  # what replaces the shortfall; None without one or without the rule

    @property
    def shortfall(self) -> int:
        return self.plan.shortfall


def surrender(
    registry: Registry,
    account_id: str,
    obligation: Obligation,
    *,
    op_id: str,
    when: date,
    retirement_account: str | None = None,
) -> SurrenderResult:
    """Surrender what `obligation` needs from compliance account `account_id` to the jurisdiction's retirement
    account (or `retirement_account`). A shortfall is reported with the untimely obligation that replaces it; what
    the account holds is surrendered in any case."""
    check_id(op_id, "surrender id")
    if ":" in op_id:
        msg = f"surrender id {op_id!r} contains ':'; use letters, digits and - _ . (e.g. acme-2017-period)"
        raise InputError(msg)
    accounts = {a.account_id: a for a in registry.accounts()}
    account = _compliance_account(accounts, account_id, f"surrender {op_id!r}", "surrender from the entity's compliance account")
    program = registry.program
    jurisdiction = account.jurisdiction if program.is_linkage else None
    target = retirement_account or _retirement_account(accounts.values(), account.jurisdiction)
    if target not in accounts or accounts[target].kind is not AccountKind.RETIREMENT:
        msg = f"surrender {op_id!r}: {target!r} is not a retirement account; give an existing retirement account"
        raise InputError(msg)

    # Judge on the account as it was before this surrender (add back what an earlier run of it moved).
    earlier = [op for op in registry.operations_with_prefix(f"{op_id}:") if isinstance(op, Move)]
    held: dict[str, int] = {}
    for row in registry.balances(account_id=account_id):
        held[row.instrument_key] = held.get(row.instrument_key, 0) + row.quantity
    for op in earlier:
        held[op.instrument.key] = held.get(op.instrument.key, 0) + op.quantity
    instruments = [(InstrumentRef.parse(key), held[key]) for key in sorted(held) if held[key] > 0]
    by_line: dict[tuple[InstrumentKind, int | None], int] = {}
    for ref, quantity in instruments:
        by_line[(ref.kind, ref.vintage)] = by_line.get((ref.kind, ref.vintage), 0) + quantity
    holdings = [(kind, vintage, quantity) for (kind, vintage), quantity in by_line.items()]
    plan = plan_surrender(program, obligation, holdings, jurisdiction=jurisdiction)

    memo = (
        f"surrender for {obligation.program} {obligation.period_id} {obligation.kind} "
        f"{obligation.emissions_years[0]}-{obligation.emissions_years[-1]}"
    )
    moves: list[Move] = []
    for kind, vintage, quantity in plan.surrendered:
        need = quantity
        for ref, available in instruments:
            if need == 0:
                break
            if ref.kind is not kind or ref.vintage != vintage:
                continue
            take = min(need, available)
            need -= take
            moves.append(Move(f"{op_id}:{ref.key}", OpKind.SURRENDER, account_id, target, ref, take, when, memo))
    if earlier and all(m.from_account == account_id and m.to_account == target and m.memo == memo for m in earlier):
        # A retry of this surrender: acknowledge what it did, even if the account has changed since.
        receipts = registry.apply_batch(earlier)
        return SurrenderResult(plan, tuple(earlier), tuple(r.status for r in receipts), _untimely(program, plan, jurisdiction))
    _same_as_before(op_id, earlier, moves)
    untimely = _untimely(program, plan, jurisdiction)  # before writing: nothing is written if it cannot be computed
    receipts = registry.apply_batch(moves) if moves else []
    return SurrenderResult(plan, tuple(moves), tuple(r.status for r in receipts), untimely)


def _untimely(program: object, plan: SurrenderPlan, jurisdiction: str | None) -> UntimelyObligation | None:
    if not plan.shortfall:
        return None
    try:
        return untimely_surrender(program, plan.shortfall, jurisdiction=jurisdiction)  # type: ignore[arg-type]
    except InputError:
        return None  # the rulebook sets no untimely-surrender rule (Québec's s.22 is not in it yet): shortfall only


def _compliance_account(accounts: dict, account_id: str, what: str, fix: str):  # noqa: ANN202
    """The compliance account `account_id`, or an error saying what it is instead."""
    account = accounts.get(account_id)
    if account is None or account.kind is not AccountKind.COMPLIANCE:
        found = "does not exist" if account is None else f"is a {account.kind.value} account"
        msg = f"{what}: {account_id!r} {found}; {fix}"
        raise InputError(msg)
    return account


def _retirement_account(accounts: Sequence | object, jurisdiction: str) -> str:
    found = sorted(a.account_id for a in accounts if a.kind is AccountKind.RETIREMENT and a.jurisdiction == jurisdiction)  # type: ignore[attr-defined]
    if not found:
        msg = f"no retirement account for {jurisdiction}; open one (openets registry open-account ... --kind retirement)"
        raise InputError(msg)
    return found[0]


def _same_as_before(op_id: str, earlier: Sequence[Move], moves: Sequence[Move]) -> None:
    if not earlier:
        return
    before = {m.op_id: canonical_json(op_content(m)) for m in earlier}
    now = {m.op_id: canonical_json(op_content(m)) for m in moves}
    if before != now:
        msg = (
            f"surrender {op_id!r} already ran with other moves ({len(before)} in the journal); rerunning it with other "
            "inputs would surrender twice: give the new surrender a new id"
        )
        raise DuplicateOperation(msg)


def compliance_need(registry: Registry, account_id: str, emissions: dict[int, int], on: date) -> int:
    """What the entity with compliance account `account_id` still lacks for its next obligation due on or after
    `on`, given its covered emissions by year: the shortfall of the surrender that would be planned now from the
    account's eligible holdings. A reserve or price-ceiling sale may sell it at most this (§95913, §95915)."""
    accounts = {a.account_id: a for a in registry.accounts()}
    account = _compliance_account(accounts, account_id, "compliance need", "give the entity's compliance account")
    program = registry.program
    jurisdiction = account.jurisdiction if program.is_linkage else None
    due = [o for o in obligations(program, emissions, jurisdiction=jurisdiction) if o.due >= on]
    if not due:
        msg = (
            f"compliance need of {account_id!r}: no obligation falls due on or after {on.isoformat()} for emissions "
            f"of {min(emissions)}-{max(emissions)}; give the emissions of the period that ends next"
        )
        raise InputError(msg)
    holdings: dict[tuple[InstrumentKind, int | None], int] = {}
    for row in registry.balances(account_id=account_id):
        ref = InstrumentRef.parse(row.instrument_key)
        holdings[(ref.kind, ref.vintage)] = holdings.get((ref.kind, ref.vintage), 0) + row.quantity
    lines = [(kind, vintage, quantity) for (kind, vintage), quantity in holdings.items() if quantity > 0]
    return plan_surrender(program, min(due, key=lambda o: o.due), lines, jurisdiction=jurisdiction).shortfall
