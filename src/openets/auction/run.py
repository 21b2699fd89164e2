"""One auction as one atomic registry event: clear the bids, then move every award in a single batch.

The clearing is `clearing.clear`, the very code the simulator calls. What this module adds is the registry:
offered allowances leave the accounts that hold them (the auction holding account, or a consignor's account),
awards land in the winners' accounts, unsold allowances stay where they are, and the batch carries one
operation id per (winner, offer), so running the same auction again is acknowledged, never applied twice.
Proceeds are computed per offer, hence per consignor and per jurisdiction, and written into each move's memo.
State-owned allowances that stay unsold too long move to the reserve with `move_to_reserve`.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from openets.auction.clearing import AuctionResult, BidArrays, ClearingRules, Tranche, clear
from openets.auction.offers import ReserveTransfer
from openets.errors import DuplicateOperation, InputError
from openets.registry import Registry
from openets.registry.ledger import InstrumentRef, Move, OpKind, canonical_json, check_id, op_content
from openets.rules.kinds import AccountKind, InstrumentKind

#: Accounts an auction may deliver allowances to.
WINNER_KINDS = frozenset({AccountKind.GENERAL_HOLDING, AccountKind.COMPLIANCE})


@dataclass(frozen=True, slots=True)
class Offer:
    """Allowances put up for sale: from `account`, of `instrument`, sold in `order` when undersubscribed.

    `consignor` is who receives the proceeds: the jurisdiction for state-owned allowances, the utility for
    consigned ones.
    """

    category: str
    account: str
    instrument: str
    quantity: int
    order: int = 0
    consignor: str = ""


@dataclass(frozen=True)
class AuctionRun:
    auction_id: str
    result: AuctionResult
    moves: tuple[Move, ...]
    statuses: tuple[str, ...]
    proceeds_cents: dict[str, int]  # by consignor
    proceeds_by_jurisdiction_cents: dict[str, int]

    def as_dict(self) -> dict[str, Any]:
        return {
            "auction_id": self.auction_id,
            **self.result.as_dict(),
            "deliveries": [
                {"op_id": m.op_id, "from": m.from_account, "to": m.to_account, "instrument": m.instrument.key,
                 "quantity": m.quantity, "status": s}
                for m, s in zip(self.moves, self.statuses, strict=True)
            ],
            "proceeds_usd": {k: v / 100 for k, v in self.proceeds_cents.items()},
            "proceeds_by_jurisdiction_usd": {k: v / 100 for k, v in self.proceeds_by_jurisdiction_cents.items()},
        }


def run_auction(
    registry: Registry,
    auction_id: str,
    auction_date: date,
    bids: BidArrays,
    offers: Sequence[Offer],
    rules: ClearingRules,
) -> AuctionRun:
    """Clear `bids` against `offers` and deliver the awards in one atomic batch.

    Everything is checked before anything is written: the offers' accounts and instruments, the winners'
    accounts (each bidder is the id of an account that may receive allowances), and each winner's holding-limit
    room, which the clearing respects. A refused batch leaves the registry unchanged.
    """
    _check_event_id(auction_id, "auction id")
    if not offers:
        msg = f"auction {auction_id!r} offers nothing; give at least one offer"
        raise InputError(msg)
    if len({o.category for o in offers}) != len(offers):
        msg = f"auction {auction_id!r}: each offer needs its own category"
        raise InputError(msg)
    instruments = [InstrumentRef.parse(o.instrument) for o in offers]
    vintages = {i.vintage for i in instruments}
    # One holding-limit class per auction: a current auction sells the current and earlier vintages (unsold
    # allowances offered again) under one limit; an advance auction sells one future vintage under its own.
    classes = {v if v is not None and v > auction_date.year else "current" for v in vintages}
    if any(i.kind is not InstrumentKind.ALLOWANCE or i.vintage is None for i in instruments) or len(classes) != 1:
        msg = (
            f"auction {auction_id!r}: an auction sells allowances of the auction year and earlier vintages, or of "
            f"one future vintage; the offers name {sorted(o.instrument for o in offers)}"
        )
        raise InputError(msg)
    vintage = max(v for v in vintages if v is not None)
    accounts = {a.account_id: a for a in registry.accounts()}
    # Everything is judged on the registry as it was before this auction: if it already ran (its deliveries are
    # in the journal, all of them, since they were one batch), add them back, so a rerun clears identically
    # and is acknowledged instead of applied twice.
    delivered_from: dict[tuple[str, str], int] = {}
    delivered_to: dict[str, int] = {}
    for op in registry.operations_with_prefix(f"{auction_id}:"):
        if isinstance(op, Move):
            key = (op.from_account, op.instrument.key)
            delivered_from[key] = delivered_from.get(key, 0) + op.quantity
            delivered_to[op.to_account] = delivered_to.get(op.to_account, 0) + op.quantity
    for o in offers:
        if o.account not in accounts:
            msg = f"auction {auction_id!r}: offer {o.category!r} comes from account {o.account!r}, which does not exist"
            raise InputError(msg)
        held = sum(r.quantity for r in registry.balances(account_id=o.account) if r.instrument_key == o.instrument)
        held += delivered_from.get((o.account, o.instrument), 0)
        if held < o.quantity:
            msg = (
                f"auction {auction_id!r}: offer {o.category!r} puts up {o.quantity:,} of {o.instrument} but "
                f"{o.account!r} holds {held:,}; offer at most what is held"
            )
            raise InputError(msg)
    room: dict[str, int] = dict(rules.holding_room)
    owners: dict[str, str] = {}
    for name in bids.bidder_names:
        account = accounts.get(name)
        if account is not None and owners.setdefault(account.owner, name) != name:
            msg = (
                f"auction {auction_id!r}: owner {account.owner!r} bids through two accounts ({owners[account.owner]!r} "
                f"and {name!r}); the holding limit is per owner, so bid through one account per auction"
            )
            raise InputError(msg)
    for name in bids.bidder_names:
        account = accounts.get(name)
        if account is None or account.kind not in WINNER_KINDS:
            found = "does not exist" if account is None else f"is a {account.kind.value} account"
            msg = (
                f"auction {auction_id!r}: bidder {name!r} must be the id of a general holding or compliance "
                f"account to deliver to; it {found}"
            )
            raise InputError(msg)
        limit_room = registry.holding_room(account.owner, auction_date.year, vintage)
        if limit_room is not None:
            # What this auction delivered to the owner counts against the limit now, not before it.
            earlier = sum(q for to, q in delivered_to.items() if accounts[to].owner == account.owner)
            limit_room += earlier
            room[name] = min(room.get(name, limit_room), limit_room)

    supply = [Tranche(o.category, o.quantity, o.order) for o in offers]
    rules = dataclasses.replace(rules, holding_room=room)
    result = clear(bids, supply, rules)
    moves = _deliveries(auction_id, auction_date, offers, result)
    _same_as_before(registry, auction_id, "auction", moves)
    receipts = registry.apply_batch(moves) if moves else []
    price = result.settlement_price_cents or 0
    proceeds: dict[str, int] = {}
    by_jurisdiction: dict[str, int] = {}
    for o, inst in zip(offers, instruments, strict=True):
        amount = result.sold_by_category[o.category] * price
        key = o.consignor or f"jurisdiction:{inst.jurisdiction}"
        proceeds[key] = proceeds.get(key, 0) + amount
        by_jurisdiction[inst.jurisdiction] = by_jurisdiction.get(inst.jurisdiction, 0) + amount
    return AuctionRun(auction_id, result, tuple(moves), tuple(r.status for r in receipts), proceeds, by_jurisdiction)


def _check_event_id(value: str, what: str) -> None:
    """An auction or sale id: a registry id without ':', which separates it from the parts of its moves' ids."""
    check_id(value, what)
    if ":" in value:
        msg = f"{what} {value!r} contains ':'; use letters, digits and - _ . (e.g. 2016Q2-current)"
        raise InputError(msg)


def _same_as_before(registry: Registry, event_id: str, what: str, moves: Sequence[Move]) -> None:
    """A rerun must deliver exactly what the first run delivered; anything else is refused, not merged."""
    earlier = {op.op_id: canonical_json(op_content(op)) for op in registry.operations_with_prefix(f"{event_id}:")}
    if not earlier:
        return
    now = {m.op_id: canonical_json(op_content(m)) for m in moves}
    if now != earlier:
        msg = (
            f"{what} {event_id!r} already ran with other results ({len(earlier)} deliveries in the journal); "
            f"rerunning it with other inputs would deliver twice: give the new run a new id"
        )
        raise DuplicateOperation(msg)


def _deliveries(auction_id: str, when: date, offers: Sequence[Offer], result: AuctionResult) -> list[Move]:
    """Moves that deliver the awards: winners (by name) take from the offers in sale order, what each sold."""
    left = {o.category: result.sold_by_category[o.category] for o in offers}
    queue = sorted(offers, key=lambda o: o.order)
    price = result.settlement_price_cents
    moves: list[Move] = []
    for winner, quantity in result.awards.items():
        need = quantity
        for o in queue:
            if need == 0:
                break
            take = min(need, left[o.category])
            if take == 0:
                continue
            left[o.category] -= take
            need -= take
            moves.append(
                Move(
                    f"{auction_id}:{winner}:{o.category}",
                    OpKind.TRANSFER,
                    o.account,
                    winner,
                    InstrumentRef.parse(o.instrument),
                    take,
                    when,
                    f"auction {auction_id} award at {price / 100 if price is not None else 0:.2f} USD; "
                    f"proceeds to {o.consignor or 'the jurisdiction'}",
                )
            )
        if need:  # the clearing sold exactly what it awarded, so this cannot happen
            msg = f"auction {auction_id!r}: awards exceed what sold by {need} for {winner!r}"
            raise InputError(msg)
    return moves


def move_to_reserve(
    registry: Registry,
    transfers: Sequence[ReserveTransfer],
    holding_accounts: Mapping[str, str],
    reserve_accounts: Mapping[str, str],
    when: date,
) -> list[str]:
    """Move state-owned allowances that stayed unsold too long (`OfferSchedule` says which, before an auction)
    from each jurisdiction's auction holding account to its reserve account, in one atomic batch.

    Each move's id is `unsold-to-reserve:QUARTER:JURISDICTION:VINTAGE:SINCE`, so applying the same transfers
    again is acknowledged, never applied twice. Returns the statuses.
    """
    moves: list[Move] = []
    for t in transfers:
        for j, accounts in (("holding", holding_accounts), ("reserve", reserve_accounts)):
            if t.jurisdiction not in accounts:
                msg = f"no {j} account given for {t.jurisdiction}; map each jurisdiction to its account"
                raise InputError(msg)
        moves.append(
            Move(
                f"unsold-to-reserve:{t.quarter}:{t.jurisdiction}:{t.vintage}:{t.unsold_since}",
                OpKind.TRANSFER,
                holding_accounts[t.jurisdiction],
                reserve_accounts[t.jurisdiction],
                InstrumentRef.parse(f"{t.jurisdiction}:allowance:{t.vintage}"),
                t.quantity,
                when,
                f"state-owned allowances unsold since {t.unsold_since} move to the reserve before the {t.quarter} auction",
            )
        )
    return [r.status for r in registry.apply_batch(moves)] if moves else []
