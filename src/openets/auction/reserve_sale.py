"""California reserve sales and price-ceiling units: fixed-price sales by tier (pure: data in, data out).

Rules implemented (17 CCR §95913 and §95915; RULES.md §1.1, "Price containment"):
- only entities registered in California may buy (§95913(b)-(d): linked-jurisdiction entities are excluded);
- tiers sell in order, each at its fixed price; an entity's purchases are limited to its compliance need
  (the instruments it lacks for the next surrender deadline), which the caller supplies;
- when a tier is oversubscribed its allowances are shared pro rata to the requests, rounded down, and the
  remainder goes one allowance at a time in a seeded random order (Québec's procedure, Q-2 r.46.1 s.61.5;
  the California text was not read: unconfirmed);
- from 2021, once the tiers are exhausted, price-ceiling units are sold at the ceiling price, without limit of
  quantity, to covered entities that still lack instruments, up to their need (§95915(b)-(f));
- a reserve sale is offered when the previous quarter's current auction settled at 60% or more of the lowest
  tier price, and always before the 1 November surrender deadline (§95913(b)-(c)).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import numpy as np

from openets.errors import InputError

#: §95913(b): a reserve sale follows a current auction that settled at or above this share of the lowest tier.
OFFER_TRIGGER_SHARE = Decimal("0.60")


@dataclass(frozen=True, slots=True)
class Tier:
    """One reserve tier: its fixed price and the allowances it holds."""

    name: str
    price_cents: int
    quantity: int


@dataclass(frozen=True, slots=True)
class Request:
    """An entity's request to buy `quantity` reserve allowances in `tier` (a tier name, or "ceiling")."""

    entity: str
    jurisdiction: str
    tier: str
    quantity: int
    covered: bool = True


@dataclass(frozen=True)
class ReserveSaleResult:
    sold: dict[str, dict[str, int]]  # tier -> entity -> allowances (or price-ceiling units for "ceiling")
    unsold: dict[str, int]  # tier -> allowances left in it
    refused: dict[str, str]  # entity -> why it could not buy
    cut_to_need: dict[str, int]  # entity -> allowances requested beyond its compliance need
    proceeds_cents: int
    ceiling_units: int
    seed: int

    def as_dict(self) -> dict[str, Any]:
        return {
            "sold": self.sold,
            "unsold": self.unsold,
            "refused": self.refused,
            "cut_to_need": self.cut_to_need,
            "proceeds_usd": self.proceeds_cents / 100,
            "ceiling_units": self.ceiling_units,
            "seed": self.seed,
        }


def reserve_sale_offered(
    previous_settlement_cents: int | None, lowest_tier_cents: int, before_surrender_deadline: bool
) -> bool:
    """Whether a reserve sale is held this quarter (§95913(b)-(c))."""
    if before_surrender_deadline:
        return True
    if previous_settlement_cents is None:
        return False
    return Decimal(previous_settlement_cents) >= OFFER_TRIGGER_SHARE * lowest_tier_cents


def sell_reserve(
    tiers: Sequence[Tier],
    requests: Sequence[Request],
    need: Mapping[str, int],
    ceiling_price_cents: int | None = None,
    seed: int = 0,
) -> ReserveSaleResult:
    """Sell reserve tiers in order, then (if a ceiling price is given) price-ceiling units, up to each need."""
    names = [t.name for t in tiers]
    if len(set(names)) != len(names) or "ceiling" in names:
        msg = f"tier names must be distinct and not 'ceiling'; found {names}"
        raise InputError(msg)
    for t in tiers:
        if t.quantity < 0 or t.price_cents <= 0:
            msg = f"tier {t.name!r}: quantity {t.quantity} and price {t.price_cents} cents must be >= 0 and > 0"
            raise InputError(msg)
    for k, r in enumerate(requests):
        if r.tier not in names and r.tier != "ceiling":
            msg = f"request {k + 1} ({r.entity}): tier {r.tier!r} is unknown; tiers: {', '.join([*names, 'ceiling'])}"
            raise InputError(msg)
        if r.quantity <= 0:
            msg = f"request {k + 1} ({r.entity}): quantity {r.quantity} is not positive"
            raise InputError(msg)
        if r.tier == "ceiling" and ceiling_price_cents is None:
            msg = f"request {k + 1} ({r.entity}): no price-ceiling sale is held (none before 2021, §95915)"
            raise InputError(msg)

    refused: dict[str, str] = {}
    ceiling_refused: set[str] = set()  # entities that may buy from the tiers but not price-ceiling units
    for r in requests:
        if r.jurisdiction != "CA":
            refused[r.entity] = (
                f"registered in {r.jurisdiction}: only California entities may buy from California's reserve "
                "(§95913(b))"
            )
        elif r.tier == "ceiling" and not r.covered:
            ceiling_refused.add(r.entity)
    for entity in sorted(ceiling_refused - set(refused)):
        refused[f"{entity} (price ceiling)"] = "price-ceiling units are sold only to covered and opt-in entities (§95915(b))"
    left_need = {e: max(int(n), 0) for e, n in need.items()}
    rng = np.random.default_rng(seed)
    sold: dict[str, dict[str, int]] = {}
    unsold: dict[str, int] = {}
    cut: dict[str, int] = {}
    proceeds = 0
    for tier in [*tiers, None]:
        name = "ceiling" if tier is None else tier.name
        wanted: dict[str, int] = {}
        for r in requests:
            if r.tier != name or r.entity in refused or (name == "ceiling" and r.entity in ceiling_refused):
                continue
            wanted[r.entity] = wanted.get(r.entity, 0) + r.quantity
        capped: dict[str, int] = {}
        for entity, q in sorted(wanted.items()):
            room = left_need.get(entity, 0)
            capped[entity] = min(q, room)
            if q > room:
                cut[entity] = cut.get(entity, 0) + q - room
        if tier is None:
            if ceiling_price_cents is None:
                break
            award = {e: q for e, q in capped.items() if q}
            price = ceiling_price_cents
        else:
            award = _share(capped, tier.quantity, rng)
            unsold[name] = tier.quantity - sum(award.values())
            price = tier.price_cents
        for entity, q in award.items():
            left_need[entity] = left_need.get(entity, 0) - q
            proceeds += q * price
        sold[name] = dict(sorted((e, q) for e, q in award.items() if q))
    ceiling_units = sum(sold.get("ceiling", {}).values())
    return ReserveSaleResult(sold, unsold, dict(sorted(refused.items())), dict(sorted(cut.items())), proceeds,
                             ceiling_units, seed)


def _share(wanted: Mapping[str, int], available: int, rng: np.random.Generator) -> dict[str, int]:
    """All requests if they fit; else pro rata, rounded down, the remainder one by one in a random order."""
    total = sum(wanted.values())
    if total <= available:
        return dict(wanted)
    entities = sorted(e for e, q in wanted.items() if q)
    share = {e: wanted[e] * available // total for e in entities}
    left = available - sum(share.values())
    order = [entities[i] for i in rng.permutation(len(entities))]
    while left:
        for e in order:
            if left and share[e] < wanted[e]:
                share[e] += 1
                left -= 1
    return share


@dataclass(frozen=True)
class ReserveSaleRun:
    sale_id: str
    result: ReserveSaleResult
    moves: tuple[Any, ...]
    statuses: tuple[str, ...]

    def as_dict(self) -> dict[str, Any]:
        return {
            "sale_id": self.sale_id,
            **self.result.as_dict(),
            "deliveries": [
                {"op_id": m.op_id, "kind": m.kind.value, "from": m.from_account, "to": m.to_account,
                 "instrument": m.instrument.key, "quantity": m.quantity, "status": s}
                for m, s in zip(self.moves, self.statuses, strict=True)
            ],
        }


def run_reserve_sale(
    registry: Any,
    sale_id: str,
    sale_date: Any,
    tiers: Sequence[Tier],
    requests: Sequence[Request],
    need: Mapping[str, int],
    ceiling_price_cents: int | None = None,
    seed: int = 0,
    jurisdiction: str = "CA",
) -> ReserveSaleRun:
    """A reserve sale as one atomic registry batch: reserve allowances move from the jurisdiction's reserve
    account to the buyers' compliance accounts; price-ceiling units are issued to them.

    Each request's entity is the id of a compliance account; its jurisdiction of registration is the account's
    (not what the request says). Judged on the registry as it was before this sale, so a rerun is acknowledged.
    """
    from openets.auction.run import _check_event_id, _same_as_before
    from openets.registry.ledger import InstrumentRef, Move, OpKind
    from openets.rules.kinds import AccountKind, InstrumentKind

    _check_event_id(sale_id, "sale id")
    accounts = {a.account_id: a for a in registry.accounts()}
    fixed: list[Request] = []
    for k, r in enumerate(requests):
        account = accounts.get(r.entity)
        if account is None or account.kind is not AccountKind.COMPLIANCE:
            found = "does not exist" if account is None else f"is a {account.kind.value} account"
            msg = f"request {k + 1}: {r.entity!r} must be the id of a compliance account to deliver to; it {found}"
            raise InputError(msg)
        fixed.append(Request(r.entity, account.jurisdiction, r.tier, r.quantity, r.covered))
    reserve_account = f"{jurisdiction}-RESERVE"
    reserve_key = InstrumentRef(jurisdiction, InstrumentKind.RESERVE_ALLOWANCE, None).key
    earlier = sum(
        op.quantity
        for op in registry.operations_with_prefix(f"{sale_id}:")
        if isinstance(op, Move) and op.from_account == reserve_account
    )
    held = sum(r.quantity for r in registry.balances(account_id=reserve_account) if r.instrument_key == reserve_key)
    offered = sum(t.quantity for t in tiers)
    if offered > held + earlier:
        msg = f"sale {sale_id!r}: the tiers offer {offered:,} reserve allowances but {reserve_account} holds {held + earlier:,}"
        raise InputError(msg)
    result = sell_reserve(tiers, fixed, need, ceiling_price_cents, seed)
    moves: list[Move] = []
    for tier_name, awards in result.sold.items():
        for entity, q in awards.items():
            if tier_name == "ceiling":
                moves.append(Move(f"{sale_id}:{entity}:ceiling", OpKind.ISSUE, f"{jurisdiction}-ISSUANCE", entity,
                                  InstrumentRef(jurisdiction, InstrumentKind.PRICE_CEILING_UNIT, None), q, sale_date,
                                  f"price-ceiling sale {sale_id} at {ceiling_price_cents / 100:.2f} USD"))
            else:
                price = next(t.price_cents for t in tiers if t.name == tier_name)
                moves.append(Move(f"{sale_id}:{entity}:{tier_name}", OpKind.TRANSFER, reserve_account, entity,
                                  InstrumentRef(jurisdiction, InstrumentKind.RESERVE_ALLOWANCE, None), q, sale_date,
                                  f"reserve sale {sale_id}, {tier_name} at {price / 100:.2f} USD"))
    _same_as_before(registry, sale_id, "sale", moves)
    receipts = registry.apply_batch(moves) if moves else []
    return ReserveSaleRun(sale_id, result, tuple(moves), tuple(r.status for r in receipts))
